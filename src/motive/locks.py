"""Locks that keep two motive processes from making the same output at once: the kernel's ``flock``
on a file, released when its process dies, so a crash never leaves a stale lock."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from motive.errors import MotiveError


@contextlib.contextmanager
def held(path: str | os.PathLike, flags: int, busy: str) -> Iterator[None]:
    """The kernel's exclusive lock (``flock``) on ``path`` (opened with ``flags``) for the block;
    ``busy`` is the one-line error when another process holds it. It dies with its process."""
    import fcntl

    descriptor = os.open(path, flags, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise MotiveError(busy) from None
        yield
    finally:
        os.close(descriptor)


@contextlib.contextmanager
def claimed(final: str | os.PathLike, what: str) -> Iterator[None]:
    """Hold ``final`` for this process while it makes it: a second motive process making the same
    output is refused at once, not after its work. The lock file is motive's own, in the system's
    temp folder, named by the output's absolute path: nothing is put beside the output."""
    import hashlib

    key = hashlib.sha256(str(Path(final).resolve()).encode()).hexdigest()[:32]
    folder = Path(tempfile.gettempdir()) / f"motive-locks-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    busy = f"{final}: another motive process is making this {what} right now; wait for it, or choose another path"
    with held(folder / key, os.O_RDWR | os.O_CREAT, busy):
        yield
