"""Alembic environment for the negotiation ledger.

The ledger's migration runner passes an open ``Connection`` (or an ``Engine``,
as Alembic's cookbook and pytest-alembic do) in ``config.attributes["connection"]``
and the ledger's ``MetaData`` in ``config.attributes["target_metadata"]``; the
``alembic`` command line may instead give ``sqlalchemy.url``. Nothing here or in
``versions/`` imports the package: each revision carries what it needs as it
stood when it was written.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, Engine, create_engine

config = context.config
target_metadata = config.attributes.get("target_metadata")


def run_on(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations() -> None:
    given = config.attributes.get("connection")
    if isinstance(given, Connection):
        run_on(given)
        return
    engine = given if isinstance(given, Engine) else create_engine(
        config.get_main_option("sqlalchemy.url") or "sqlite:///negotiations.db")
    with engine.begin() as conn:
        run_on(conn)


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations()
