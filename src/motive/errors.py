"""The one error type users see: a single line naming the file, column or value and what to do.

The CLI turns a MotiveError into that line on stderr and exit status 2; anything else is a bug.
"""


class MotiveError(Exception):
    """Bad input or environment, explained in one line for the user."""


def require(module: str, extra: str, what: str):
    """Import an optional dependency, or refuse in one line naming the extra that installs it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MotiveError(
            f'{what} needs the {module.split(".")[0]} package, which is not installed: pip install "motive[{extra}]"'
        ) from None
