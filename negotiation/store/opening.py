"""Which recorder a URL names, and the one place that chooses between them.

``sqlite:///FILE`` (the default: ``negotiations.db`` in the working directory),
a plain file path (``talks.db``, ``./data/talks.sqlite``: the SQLite file
there), ``postgresql://USER@HOST/DB`` (psycopg 3, an extra) or ``memory://``
(a log in this process, gone when it ends).

The recorders, and SQLAlchemy, are imported only once a URL is resolved or
opened: a program that never opens a log does not load them.
"""

from __future__ import annotations

import importlib.util
import os
import re
from typing import TYPE_CHECKING

from ..errors import StorageError

if TYPE_CHECKING:
    from .recorder import Recorder

DEFAULT_URL = "sqlite:///negotiations.db"
URL_VARIABLE = "NEGOTIATION_DB_URL"
#: The URL that opens a new, empty log in memory (``negotiation.store.memory`` names it the same).
MEMORY_URL = "memory://"
SUPPORTED_BACKENDS = ("sqlite", "postgresql")
#: What to install for PostgreSQL: the driver is an extra, since the default database is a SQLite file.
POSTGRESQL_EXTRA = "pip install -e '.[postgresql]' (in a clone of the project)"
_SUPPORTED = "use sqlite:///FILE, a file path, postgresql+psycopg://USER@HOST/DB or memory://"
#: A Windows path that starts with a drive: ``C:\talks.db``, ``D:/data/talks.db``.
_DRIVE = re.compile(r"[A-Za-z]:[\\/]")


def is_file_path(text: str) -> bool:
    """Whether ``text`` is a plain file path rather than a URL: no ``scheme://``, and no colon
    other than a Windows drive's (``sqlite:talks.db`` is a mistyped URL, not a file)."""
    return "://" not in text and (":" not in text or _DRIVE.match(text) is not None)


def resolve_url(url: str | None) -> str:
    """The URL given, else ``$NEGOTIATION_DB_URL``, else a SQLite file in the working directory.

    A plain file path (``talks.db``, ``./data/talks.sqlite``, ``/var/lib/talks.db``) is the
    SQLite file at that path.
    """
    chosen = url or os.environ.get(URL_VARIABLE) or DEFAULT_URL
    if chosen == MEMORY_URL:
        return chosen
    if is_file_path(chosen):
        chosen = f"sqlite:///{os.path.expanduser(chosen)}"
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(chosen)
    except ArgumentError:
        raise StorageError(f"{chosen!r} is not a database URL; {_SUPPORTED}") from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3, not psycopg2
    if parsed.get_backend_name() not in SUPPORTED_BACKENDS:
        raise StorageError(f"unsupported database {parsed.get_backend_name()!r}: {_SUPPORTED}")
    return parsed.render_as_string(hide_password=False)


def open_recorder(url: str | None, *, upgrade: bool = True) -> Recorder:
    """The recorder of the log at ``url`` (see ``resolve_url``), its schema at the latest migration.

    With ``upgrade=False`` a database not already there is refused (StorageError) instead.
    """
    resolved = resolve_url(url)
    if resolved == MEMORY_URL:
        from .memory import MemoryRecorder

        return MemoryRecorder()
    if resolved.startswith("postgresql"):
        if importlib.util.find_spec("psycopg") is None:
            raise StorageError(f"PostgreSQL needs the psycopg driver, which is not installed: {POSTGRESQL_EXTRA}")
        from .postgres import PostgresRecorder

        return PostgresRecorder.open(resolved, upgrade=upgrade)
    from .sqlite import SqliteRecorder

    return SqliteRecorder.open(resolved, upgrade=upgrade)
