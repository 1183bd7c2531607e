"""Bring a database's schema to Alembic's head, from a checkout or an installed wheel."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from ..bundled import bundled
from ..errors import StorageError
from .schema import metadata


def migrations_dir() -> Path:
    """Where the migrations are: shipped inside the wheel, or beside the package in a checkout."""
    return bundled("migrations")


def alembic_config(connection: Connection | Engine | None = None) -> Config:
    """Alembic's configuration for the shipped migrations, run on ``connection`` when given."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["target_metadata"] = metadata
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@cache  # the migrations shipped with the package do not change while it runs
def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> tuple[str | None, str | None]:
    """Upgrade to head; returns the revisions before and after."""
    head = head_revision()
    # Two processes opening a fresh database at once must not both create the
    # tables: SQLite takes the write lock first (a writer's BEGIN IMMEDIATE,
    # waiting out the busy timeout), PostgreSQL an advisory lock.
    with engine.connect().execution_options(transaction="write") as conn, conn.begin():
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext('negotiation-migrations'))"))
        before = current_revision(conn)
        if before != head:
            known = {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
            if before is not None and before not in known:
                raise StorageError(f"the database's schema is at revision {before}, newer than this version "
                                   f"of negotiation knows (latest {head}): upgrade the package")
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
