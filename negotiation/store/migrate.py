"""Bring a database's schema to Alembic's head, from a checkout or an installed wheel.

Alembic is imported only when a schema is created or upgraded: commands that
only read check the stored revision with one query against ``HEAD_REVISION``
(a test keeps it equal to the head of the shipped migrations), so they start
without loading it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

from ..bundled import bundled
from ..errors import StorageError
from .schema import metadata

if TYPE_CHECKING:
    from alembic.config import Config

#: The latest revision of ``migrations/``; a new revision updates it (a test compares it with Alembic's head).
HEAD_REVISION = "0012"


def migrations_dir() -> Path:
    """Where the migrations are: shipped inside the wheel, or beside the package in a checkout."""
    return bundled("migrations")


def alembic_config(connection: Connection | Engine | None = None) -> Config:
    """Alembic's configuration for the shipped migrations, run on ``connection`` when given."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["target_metadata"] = metadata
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    return HEAD_REVISION


def current_revision(connection: Connection) -> str | None:
    """The revision stored in the database's ``alembic_version`` table; None for an empty database."""
    if not inspect(connection).has_table("alembic_version"):
        return None
    revision: str | None = connection.scalar(text("SELECT version_num FROM alembic_version"))
    return revision


def upgrade(engine: Engine, *, lock: str | None = None) -> tuple[str | None, str | None]:
    """Upgrade to head; returns the revisions before and after.

    Two processes opening a fresh database at once must not both create the
    tables: the transaction is a writer's (SQLite's BEGIN IMMEDIATE waits out
    the busy timeout) and runs ``lock`` first, the statement a recorder gives
    to queue migrations where a writer's transaction does not (PostgreSQL's
    advisory lock).
    """
    head = head_revision()
    with engine.connect().execution_options(transaction="write") as conn, conn.begin():
        if lock is not None:
            conn.execute(text(lock))
        before = current_revision(conn)
        if before != head:
            from alembic.script import ScriptDirectory

            known = {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
            if before is not None and before not in known:
                raise StorageError(f"the database's schema is at revision {before}, newer than this version "
                                   f"of negotiation knows (latest {head}): upgrade the package")
            from alembic import command

            command.upgrade(alembic_config(conn), "head")
    return before, head


def require_head(engine: Engine) -> None:
    """Refuse a database whose schema is not at the latest revision, naming the fix."""
    head = head_revision()
    with engine.connect() as conn:
        current = current_revision(conn)
    if current != head:
        where = engine.url.render_as_string(hide_password=True)
        state = "has no negotiation schema" if current is None else f"is at schema revision {current}"
        raise StorageError(f"{where} {state}, not {head}: run `negotiation db upgrade`")
