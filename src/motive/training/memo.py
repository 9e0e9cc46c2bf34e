"""What one process keeps between runs: results of pure functions of files, keyed by the files'
bytes, so a grid reads and builds its graph, split and stage graphs once per worker and a changed
file is never served from memory.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from pathlib import Path
from typing import Any

_FILE_DIGESTS: dict[tuple, bytes] = {}  # (path, inode, size, mtime, ctime) -> sha256 of the bytes


def file_digest(path: Path) -> bytes:
    """sha256 of a file's bytes; hashed again whenever its inode, size, mtime or ctime changed
    (any write changes the ctime, which no program can set back)."""
    info = path.stat()
    key = (str(path.resolve()), info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    if key not in _FILE_DIGESTS:
        if len(_FILE_DIGESTS) > 4096:
            _FILE_DIGESTS.clear()
        with path.open("rb") as handle:
            _FILE_DIGESTS[key] = hashlib.file_digest(handle, "sha256").digest()
    return _FILE_DIGESTS[key]


def files_digest(paths: Iterable[Path], root: Path) -> str:
    """sha256 over the names (relative to ``root``) and bytes of ``paths``, in name order."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(str(path.relative_to(root)).encode() + b"\0" + file_digest(path))
    return digest.hexdigest()


def folder_files(folder: Path) -> list[Path]:
    """Every file under ``folder`` (recursively), hidden ones (temporaries) excepted."""
    return [
        path
        for path in folder.rglob("*")
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    ]


class Memo:
    """The ``size`` most recently used values by key; ``get(key, make)`` computes on a miss."""

    def __init__(self, size: int):
        self.size = size
        self.items: OrderedDict[Hashable, Any] = OrderedDict()

    def get(self, key: Hashable, make: Callable[[], Any]) -> Any:
        if key in self.items:
            self.items.move_to_end(key)
            return self.items[key]
        value = make()
        self.items[key] = value
        while len(self.items) > self.size:
            self.items.popitem(last=False)
        return value
