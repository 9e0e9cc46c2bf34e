"""The one rule for writing outputs: build in a fresh temp sibling, move into place when complete,
and never delete or replace anything motive did not make.

A folder output carries a marker file (``motive.json``: kind, version and the list of files it
wrote). An existing target is replaced only when it is an empty folder, or a motive output of
the same kind holding nothing but files motive wrote, and then only with ``overwrite=True``. The
swap is one atomic ``renameat2(RENAME_EXCHANGE)`` where the file system has it, so a crash at any
point leaves the old or the new output at the path, never neither. Single-file outputs are
replaced only with ``overwrite=True`` and only when motive recognises the file as its own.
Finished outputs get the permissions a plain ``mkdir``/``open`` would under the user's umask.
This module owns every deletion motive makes (``rmtree`` appears nowhere else).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from motive.errors import MotiveError
from motive.marks import recognised, version

log = logging.getLogger(__name__)

MARKER = "motive.json"
TEMP_TAG = ".motive-tmp-"  # in every temp sibling's name
# The file motive writes into every temp folder it makes: a leftover of a killed run is a folder
# with TEMP_TAG in its name *and* this token inside, so a user's file named like one is never taken.
TEMP_TOKEN = ".motive-temp-token"
# Motive outputs that may sit inside another output and go with it when it is replaced: a
# dataset's graph folders and stored splits. Any other nested output (a run saved inside a dataset) blocks it.
DERIVED = {"dataset": ("graph", "split", "split_tables"), "graph": ("split", "split_tables")}


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def read_marker(folder: Path) -> dict | None:
    """The marker of a folder motive wrote, or None."""
    try:
        marker = json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) and "kind" in marker else None


def _written_files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if not p.is_dir())


def is_temp_leftover(path: Path) -> bool:
    """Whether ``path`` is a temp folder motive made (its name and its token), e.g. one a killed
    run left behind."""
    return TEMP_TAG in path.name and path.is_dir() and not path.is_symlink() and (path / TEMP_TOKEN).is_file()


def foreign_files(folder: Path, kind: str | None = None) -> list[str]:
    """What under ``folder`` a replacement of it would delete without motive having made it:
    files no motive marker lists, symlinks (never followed), and nested motive outputs other than
    the ``DERIVED`` kinds of ``kind`` (named with their kind). Motive's temp leftovers do not count."""
    found: list[str] = []

    def visit(directory: Path, owner: Path, listed: set[str]) -> None:
        for entry in sorted(os.scandir(directory), key=lambda e: e.name):
            path = Path(entry.path)
            shown = str(path.relative_to(folder))
            if entry.is_symlink():
                found.append(f"{shown} (a symlink)")
            elif entry.is_dir(follow_symlinks=False):
                nested = read_marker(path)
                if is_temp_leftover(path):
                    continue
                if nested is None:
                    visit(path, owner, listed)
                elif nested["kind"] in DERIVED.get(kind or "", ()):
                    visit(path, path, set(nested.get("files", [])))
                else:
                    found.append(f"{shown} (a motive {nested['kind']})")
            elif str(path.relative_to(owner)) not in listed and path != owner / MARKER:
                found.append(shown)

    top = read_marker(folder) or {}
    visit(folder, folder, set(top.get("files", [])))
    return found


# The longest name motive derives from an output's name: ".NAME.motive-work-" + a 16-character key
# (temp siblings ".NAME.motive-tmp-" + 8 characters, or "old-" + a pid, are shorter). Every one
# must fit the file system's 255 bytes.
MAX_OUTPUT_NAME = 255 - len(".") - len(".motive-work-") - 16


def _check_writable_parent(final: Path) -> None:
    """``final``'s name leaves room for motive's temp and work names, and the nearest existing
    folder above it is one the user may write into."""
    if len(os.fsencode(final.name)) > MAX_OUTPUT_NAME:
        raise MotiveError(
            f"{final.name[:40]}...: output name too long ({len(os.fsencode(final.name))} bytes; at most "
            f"{MAX_OUTPUT_NAME}, so motive's temp names still fit); choose a shorter one"
        )
    ancestor = final.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise MotiveError(f"{final}: cannot create it, {ancestor} is a file; choose another path")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise MotiveError(f"{final}: cannot write there ({ancestor} is not writable for you); choose another path")


def check_target(final: str | os.PathLike, kind: str, overwrite: bool = False) -> None:
    """Raise MotiveError unless a folder output of ``kind`` may be written to ``final``.

    Call it before long work so a run fails in a second instead of after an hour; the writer
    calls it again before moving its output into place.
    """
    final = Path(final)
    _check_writable_parent(final)
    if not final.exists() and not final.is_symlink():
        return
    if final.is_symlink() or not final.is_dir():
        raise MotiveError(
            f"{final}: exists and is not a folder; motive never replaces a file with a folder, choose another path"
        )
    if _empty(final):
        return
    marker = read_marker(final)
    if marker is None:
        raise MotiveError(
            f"{final}: folder exists and was not made by motive (no {MARKER}); choose another path, motive never "
            "deletes it"
        )
    if marker["kind"] != kind:
        raise MotiveError(f"{final}: holds a motive {marker['kind']}, not a {kind}; choose another path")
    foreign = foreign_files(final, kind)
    if foreign:
        raise MotiveError(
            f"{final}: holds files motive did not write ({foreign[0]}{' and more' if len(foreign) > 1 else ''}); move "
            "them out or choose another path"
        )
    if not overwrite:
        raise MotiveError(
            f"{final}: a motive {kind} already exists here; pass `overwrite` to replace it, or choose another path"
        )


def _empty(folder: Path) -> bool:
    """Nothing in it, or only the token of a temp folder motive made (a writer may write a nested
    output straight into its own temp folder)."""
    names = [entry.name for entry in folder.iterdir()]
    return not names or (names == [TEMP_TOKEN] and is_temp_leftover(folder))


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2); False where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(a))


def _make_temp(final: Path) -> Path:
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}{TEMP_TAG}", dir=final.parent))
    try:
        tmp.chmod(0o777 & ~_umask())  # mkdtemp makes 0700; outputs are shared like any folder
        (tmp / TEMP_TOKEN).write_text(f"motive temp folder for {final.name}\n")
    except BaseException:  # Ctrl-C while the temp folder is being made: it goes too
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return tmp


@contextlib.contextmanager
def output_dir(final: str | os.PathLike, kind: str, overwrite: bool = False, **meta) -> Iterator[Path]:
    """Yield an empty temp folder; when the block succeeds, mark it and move it onto ``final``.

    ``final`` may not exist, may be an empty folder, or (with ``overwrite``) an earlier motive
    output of the same kind; anything else is refused before the block runs.
    """
    final = Path(final)
    check_target(final, kind, overwrite)
    tmp = _make_temp(final)
    try:
        yield tmp
        (tmp / TEMP_TOKEN).unlink(missing_ok=True)  # the output it becomes holds only what the writer wrote
        marker = {"kind": kind, "motive_version": version(), **meta}  # no timestamp: same output, same bytes
        marker["files"] = _written_files(tmp)
        (tmp / MARKER).write_text(json.dumps(marker, indent=2) + "\n")
        check_target(final, kind, overwrite)  # again: the path may have changed during the work
        if final.exists() and not _empty(final):
            if not _exchange(tmp, final):
                # No atomic swap here: the old output stays under a hidden name until the new one is in place.
                old = final.with_name(f".{final.name}{TEMP_TAG}old-{os.getpid()}")
                final.rename(old)
                (old / TEMP_TOKEN).write_text(f"motive's replaced {final.name}\n")  # a leftover motive may remove
                try:
                    tmp.rename(final)
                except OSError:
                    (old / TEMP_TOKEN).unlink()
                    old.rename(final)  # put the old output back rather than leave neither
                    raise
                tmp = old
        else:  # onto a missing path or an empty folder (a writer's own temp folder keeps its token)
            in_temp = final.exists() and is_temp_leftover(final)  # _empty: then it holds only the token
            if in_temp:
                (final / TEMP_TOKEN).unlink()
            tmp.rename(final)
            if in_temp:
                (final / TEMP_TOKEN).write_text("motive temp folder\n")
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)  # only ever our temp folder, or the old output it replaced


def check_file_target(final: str | os.PathLike, kind: str, overwrite: bool = False) -> None:
    final = Path(final)
    _check_writable_parent(final)
    if not final.exists() and not final.is_symlink():
        return
    if final.is_dir() or final.is_symlink():
        raise MotiveError(f"{final}: exists and is not a plain file; motive never replaces it, choose another path")
    if not recognised(final, kind):
        raise MotiveError(
            f"{final}: file exists and is not a motive {kind}; choose another path, motive never replaces it"
        )
    if not overwrite:
        raise MotiveError(
            f"{final}: a motive {kind} already exists here; pass `overwrite` to replace it, or choose another path"
        )


@contextlib.contextmanager
def _replacing_file(final: Path, check=None) -> Iterator[Path]:
    """Yield a temp path beside ``final``; when the block succeeds, run ``check`` and rename the
    temp file onto ``final``."""
    tmp = _make_temp(final)
    try:
        yield tmp / final.name
        if check is not None:
            check()
        os.replace(tmp / final.name, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)  # only ever our temp folder


@contextlib.contextmanager
def output_file(final: str | os.PathLike, kind: str, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temp path beside ``final``; rename it onto ``final`` when the block succeeds.

    The writer must make the file recognisable (``parquet_metadata(kind)`` or
    ``markdown_header(kind)``) for a later ``--overwrite`` to accept it.
    """
    final = Path(final)
    check_file_target(final, kind, overwrite)
    with _replacing_file(final, lambda: check_file_target(final, kind, overwrite)) as tmp:
        yield tmp


def reopen_dir(final: str | os.PathLike, kind: str, files: list[str], **meta) -> Path:
    """A folder motive fills over several invocations (an experiment's results): created with its
    marker when missing or empty, reopened when it is motive's folder of the same ``kind``;
    anything else is refused as ``check_target`` refuses it. ``files`` are the names motive
    writes directly in it (nested outputs carry their own markers)."""
    final = Path(final)
    _check_writable_parent(final)
    if final.is_symlink() or (final.exists() and not final.is_dir()):
        raise MotiveError(
            f"{final}: exists and is not a folder; motive never replaces a file with a folder, choose another path"
        )
    if final.exists() and any(final.iterdir()):
        marker = read_marker(final)
        if marker is None:
            raise MotiveError(
                f"{final}: folder exists and was not made by motive (no {MARKER}); choose another path, motive never "
                "deletes it"
            )
        if marker["kind"] != kind:
            raise MotiveError(f"{final}: holds a motive {marker['kind']}, not a {kind}; choose another path")
        return final
    final.mkdir(parents=True, exist_ok=True)
    with own_file(final / MARKER) as tmp:
        tmp.write_text(
            json.dumps({"kind": kind, "motive_version": version(), **meta, "files": sorted(files)}, indent=2) + "\n"
        )
    return final


@contextlib.contextmanager
def own_file(final: str | os.PathLike) -> Iterator[Path]:
    """Write (or rewrite) a file inside a folder motive owns (checked by its caller, e.g.
    ``reopen_dir``): temp beside it, then rename, so a reader never sees half a file."""
    with _replacing_file(Path(final)) as tmp:
        yield tmp


@contextlib.contextmanager
def cache_file(final: str | os.PathLike) -> Iterator[Path]:
    """Write one file of motive's own cache: temp beside it, then rename (a corrupt cached copy
    is replaced; the cache holds nothing else)."""
    final = Path(final)
    if final.is_dir():
        raise MotiveError(f"{final}: is a folder where the cache expects a file; move it out of the cache")
    with _replacing_file(final) as tmp:
        yield tmp


def work_dir(final: str | os.PathLike, key: str) -> Path:
    """A persistent, marked folder beside ``final`` for resumable work: the same ``key`` (a hash
    of everything the work depends on) finds the same folder again after a crash."""
    final = Path(final)
    _check_writable_parent(final)
    path = final.parent / f".{final.name}.motive-work-{key}"
    if path.exists():
        marker = read_marker(path)
        if marker is None or marker.get("kind") != "work" or marker.get("key") != key:
            raise MotiveError(f"{path}: exists but is not motive's work folder for this job; move it away")
        return path
    path.mkdir(parents=True)
    (path / MARKER).write_text(
        json.dumps({"kind": "work", "key": key, "motive_version": version(), "for": str(final)}, indent=2) + "\n"
    )
    return path


def remove_work_dir(path: Path, names: Iterable[str]) -> bool:
    """Delete a finished work folder made by ``work_dir``: the files motive wrote in it
    (``names``), the leftovers of its interrupted temp writes, then the marker and the folder.
    Anything else found there keeps the folder in place (returns False, with a warning)."""
    marker = read_marker(path)
    if marker is None or marker.get("kind") != "work":
        raise MotiveError(f"{path}: not a motive work folder; left in place")
    for name in names:
        (path / name).unlink(missing_ok=True)
    for temp in path.glob(f".*{TEMP_TAG}*"):  # a crashed temp write: ".NAME.motive-tmp-XXXX/NAME" + token
        if is_temp_leftover(temp):
            (temp / temp.name[1:].split(TEMP_TAG)[0]).unlink(missing_ok=True)
            (temp / TEMP_TOKEN).unlink(missing_ok=True)
            with contextlib.suppress(OSError):  # not empty: not only ours
                temp.rmdir()
    others = sorted(p.name for p in path.iterdir() if p.name != MARKER)
    if others:
        log.warning("%s: left in place, it holds files motive did not write there (%s)", path, ", ".join(others[:3]))
        return False
    (path / MARKER).unlink()
    path.rmdir()
    return True
