"""Argument checks shared by the CLI (argparse ``type=``) and the Python API (config classes), so a
bad value gets the same one-line explanation either way. Each check returns the parsed value or
raises ``MotiveError`` with a message that does not name the argument; callers add the name.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from motive.errors import MotiveError


def positive_int(value: Any) -> int:
    return _require(_integer(value), lambda n: n >= 1, "a positive integer", value)


def nonnegative_int(value: Any) -> int:
    return _require(_integer(value), lambda n: n >= 0, "an integer >= 0", value)


def at_most(check: Callable[[Any], Any], high: float, why: str) -> Callable[[Any], Any]:
    """``check`` with an upper bound, so a typo such as 1e9 is refused before any work (``why``
    says what the bound protects)."""

    def bounded(value: Any):
        number = check(value)
        if number > high:
            raise MotiveError(f"must be at most {high:,}, got {value!r} ({why})")
        return number

    bounded.__name__ = check.__name__
    return bounded


SEED_MAX = 2**32 - 1  # numpy's and torch's seeds both take it; larger ones overflow torch's
seed = at_most(nonnegative_int, SEED_MAX, "a 32-bit seed")
MODEL_SIZES = {"hidden": 16_384, "layers": 64, "heads": 64, "num_layers": 64}  # beyond: memory, not a model


def model_kwargs(value: Any) -> dict:
    """A model's keyword arguments as a JSON object; the usual size arguments bounded above."""
    kwargs = json_object(value)
    for name, high in MODEL_SIZES.items():  # the model checks the rest of its arguments itself
        size = kwargs.get(name)
        if isinstance(size, int | float) and not isinstance(size, bool) and size > high:
            raise MotiveError(
                f"{name}: must be at most {high:,}, got {size!r} (a model that size does not fit in memory)"
            )
    return kwargs


def positive_float(value: Any) -> float:
    return _require(_real(value), lambda x: x > 0, "a positive number", value)


def nonnegative_float(value: Any) -> float:
    return _require(_real(value), lambda x: x >= 0, "a number >= 0", value)


def fraction(value: Any) -> float:
    number = _real(value)
    if not 0 <= number <= 1:
        raise MotiveError(f"must be within [0, 1], got {value!r}")
    return number


def boolean(value: Any) -> bool:
    """True or false (a config file's ``yes`` / ``true``; text ``"true"`` / ``"false"``)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise MotiveError(f"must be true or false, got {value!r}")


def fanout(value: Any) -> int:
    """Neighbours sampled per node and hop: an integer >= 1, or -1 for all."""
    return _require(_integer(value), lambda n: n >= 1 or n == -1, "an integer >= 1 or -1 (all)", value)


def fanouts(value: Any) -> tuple[int, ...]:
    """One ``fanout`` per hop."""
    values = list(value) if isinstance(value, list | tuple) else [value]
    if not values:
        raise MotiveError(f"must name at least one hop, got {value!r}")
    return tuple(fanout(v) for v in values)


def _require(number, holds: Callable[[Any], bool], what: str, value: Any):
    if not holds(number):
        raise MotiveError(f"must be {what}, got {value!r}")
    return number


def json_object(value: Any, example: str = '{"hidden": 128}') -> dict:
    """A JSON object given as text (CLI) or already as a dict (API); ``example`` is shown when not."""
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as error:
        raise MotiveError(
            f"is not valid JSON ({error.msg} at line {error.lineno} column {error.colno}); example: '{example}'"
        ) from None
    if not isinstance(parsed, dict):
        raise MotiveError(f"must be a JSON object such as '{example}', got {value!r}")
    return parsed


def existing_dir(value: Any) -> Path:
    path = Path(value)
    if not path.is_dir():
        raise MotiveError(
            f"{value}: folder not found" if not path.exists() else f"{value}: is a file, expected a folder"
        )
    return path


def existing_path(value: Any) -> Path:
    path = Path(value)
    if not path.exists():
        raise MotiveError(f"{value}: not found; check the path")
    return path


def named(name: str, check: Callable[[Any], Any], value: Any) -> Any:
    """Run ``check`` for the API, naming the argument in the error."""
    try:
        return check(value)
    except MotiveError as error:
        raise MotiveError(f"{name}: {error}") from None


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise MotiveError(f"must be an integer, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        return int(str(value).strip())
    except ValueError:
        raise MotiveError(f"must be an integer, got {value!r}") from None


def _real(value: Any) -> float:
    if isinstance(value, bool):
        raise MotiveError(f"must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise MotiveError(f"must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise MotiveError(f"must be a finite number, got {value!r}")
    return number


SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")
MAX_NAME = 100  # characters; motive's temp prefixes and hash suffixes still fit a 255-byte file name


def safe_name(value: Any) -> str:
    """A user-given name that becomes a file or folder name (a model label, a study name): letters,
    digits and ``. _ + -``, not starting with a dot, no ``..``, at most ``MAX_NAME`` characters. No
    separator, no parent reference, nothing a database URL or a shell would read specially."""
    if not isinstance(value, str) or not SAFE_NAME.fullmatch(value) or ".." in value or len(value) > MAX_NAME:
        raise MotiveError(
            "must be a name of letters, digits and . _ + - (starting with a letter or digit, no '..', at most "
            f"{MAX_NAME} characters), got {value!r}"
        )
    return value
