"""URLs motive builds from paths or prints: a path stays a path inside a URL, a password never
reaches a terminal or a file. Used by tune (its study database) and the trackers (MLflow's)."""

from __future__ import annotations

import re
from pathlib import Path


def sqlite_url(path: str | Path) -> str:
    """The SQLAlchemy URL of a SQLite file: the path is escaped, so every character of it (``?``,
    ``#``, ``%``, ``;``, spaces, unicode) names the file and none of it becomes URL syntax."""
    from sqlalchemy.engine import URL

    return URL.create("sqlite", database=str(Path(path).resolve())).render_as_string(hide_password=False)


def masked(storage: str) -> str:
    """A storage URL as it may be printed: its password replaced by ***."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(storage).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy reads: hide whatever sits between :// and @
        return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", storage)
