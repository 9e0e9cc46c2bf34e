"""The ``motive`` command: a thin layer over the library functions.

Usage:
  motive data fetch l1000 --mirror ../shared/data/raw      # verified copy into the cache
  motive data build l1000 --mirror ../shared/data/raw --out runs/l1000
  motive data build-inputs path/to/inputs --out runs/official [--gene-type orf]
  motive data synth --out runs/synthetic --scale 1 --seed 0
  motive data stats runs/l1000 [--out stats.md]
  motive split make runs/l1000 --graph st_expanded --split cold_source --seed 0 [--export-official DIR]
  motive split audit runs/l1000/data/st_expanded/orf      # every split under a graph folder
  motive train --data runs/l1000 --graph st_expanded --split cold_source --model gin_cp --seed 0 --out runs/gin
  motive train --data DIR --split-dir DIR/data/st_expanded/orf/source --model gin_cp --ranking-eval --out RUN
  motive evaluate runs/gin
  motive experiment paper --data runs/l1000 --hits-k 25 --out runs/paper   # a preset, or a YAML file
  motive report runs/paper --out runs/paper-report
  motive tune --data runs/l1000 --split cold_source --model gin_cp --trials 20 --out runs/tune-gin [--storage URL]

Errors in the input are one line on stderr and exit status 2. Outputs are written atomically
and never replace anything motive did not make; replacing an earlier motive output of the same
kind needs --overwrite (see motive/outputs.py).
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import re
import sys

from motive.cli.parsers import parser
from motive.errors import MotiveError

__all__ = ["main", "parser"]


STORAGE_ERRORS = {
    errno.ENOSPC: "no space left on the device (free some, or write elsewhere)",
    errno.EDQUOT: "disk quota exceeded (free some space, or write elsewhere)",
    errno.EROFS: "read-only file system (write elsewhere)",
    errno.EACCES: "permission denied (write elsewhere, or ask for access)",
    errno.EPERM: "operation not permitted (write elsewhere)",
    errno.EFBIG: "file too large for this file system",
}


def storage_problem(error: OSError, out: str | None = None) -> str | None:
    """One line for an OSError that is the storage's doing (full, read-only, forbidden), else None
    (a bug: the traceback stays). pyarrow's errors carry the text but no errno; ``out``: the
    output the command was writing, named when the error names no file."""
    code = error.errno
    if code is None:
        text = str(error)
        code = next((c for c, words in STORAGE_TEXT.items() if words in text), None)
    if code not in STORAGE_ERRORS:
        return None
    where = error.filename or next(iter(re.findall(r"'(/[^']+)'", str(error))), None) or out
    return f"{where}: {STORAGE_ERRORS[code]}" if where else STORAGE_ERRORS[code]


STORAGE_TEXT = {
    errno.ENOSPC: "No space left",
    errno.EDQUOT: "Disk quota exceeded",
    errno.EROFS: "Read-only file system",
    errno.EACCES: "Permission denied",
}


LIBRARY_LOGGERS = ("distributed", "dask", "tornado", "bokeh", "urllib3", "alembic", "mlflow")


def quiet_libraries(verbose: bool) -> None:
    """Other libraries' INFO logs (Dask's scheduler, nanny and worker lines) only with -v; their
    warnings always. Dask's worker processes read the level from the environment they inherit."""

    level = logging.INFO if verbose else logging.WARNING
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(level)
    os.environ["DASK_LOGGING__DISTRIBUTED"] = logging.getLevelName(level).lower()


def _command_of(top: argparse.ArgumentParser, run) -> argparse.ArgumentParser:
    """The (sub)command whose handler is ``run``."""
    for action in top._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found = sub if sub.get_default("run") is run else _command_of(sub, run)
                if found is not None:
                    return found
    return None


def _flag(strings: list[str]) -> str:
    """An option's name as a message shows it: the long form, not its --no- negation."""
    return next((s for s in strings if s.startswith("--") and not s.startswith("--no-")), strings[-1])


def with_flags(message: str, command: argparse.ArgumentParser | None) -> str:
    """A library error as the command line says it: a parameter named `like_this` becomes the
    command's option (--like-this) when the command has one."""
    if command is None:
        return message
    flags = {action.dest: _flag(action.option_strings) for action in command._actions if action.option_strings}
    return re.sub(r"`([a-z_]+)`", lambda match: flags.get(match.group(1), match.group(0)), message)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    top = parser()
    try:
        args = top.parse_args(argv)
    except SystemExit as exit_:  # argparse: --help (0) or a bad argument (2, already printed)
        return int(exit_.code or 0)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="%(asctime)s %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
        force=True,
    )
    quiet_libraries(verbose=args.verbose)
    try:
        code = args.run(args)
    except MotiveError as error:
        print(f"motive: error: {with_flags(str(error), _command_of(top, args.run))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("motive: interrupted; outputs not finished were not written", file=sys.stderr)
        return 130
    except OSError as error:  # the machine, not motive: a full disk, a read-only or forbidden folder
        reason = storage_problem(error, getattr(args, "out", None))
        if reason is None:
            raise
        print(f"motive: error: {reason}; outputs not finished were not written", file=sys.stderr)
        return 2
    return code or 0


if __name__ == "__main__":
    sys.exit(main())
