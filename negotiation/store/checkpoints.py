"""Where each projection has read the log up to: ``projection_checkpoints``, one row per projection.

A projection's runner reads the checkpoint, applies the entries after it and
moves it, all in one transaction (``transaction``), so a crash never applies
an entry twice or loses one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, select, text

from .eventstore import EventStore
from .schema import checkpoints


@contextmanager
def transaction(store: EventStore, name: str) -> Iterator[Connection]:
    """A write transaction for projection ``name``: one runner of it at a time, appenders not held up.

    SQLite has one writer at a time anyway (``BEGIN IMMEDIATE``). On PostgreSQL
    a transaction-level advisory lock on the projection's name queues a second
    runner of the same projection; the log's append lock is not taken, so
    writers go on meanwhile. (Read committed: the checkpoint read after the
    lock is granted is the one the previous runner committed.)
    """
    with (store.translating_errors(),
          store.engine.connect().execution_options(transaction="write") as conn,
          conn.begin()):
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"projection:{name}"})
        yield conn


def position(conn: Connection, name: str) -> int | None:
    """The position of the last entry projection ``name`` applied; None if it has applied none."""
    found: int | None = conn.scalar(select(checkpoints.c.position).where(checkpoints.c.name == name))
    return found


def save(conn: Connection, name: str, at: int, *, exists: bool) -> None:
    """Move the checkpoint of ``name`` to ``at`` (``exists``: whether it has a row yet)."""
    if exists:
        conn.execute(checkpoints.update().where(checkpoints.c.name == name).values(position=at))
    else:
        conn.execute(checkpoints.insert().values(name=name, position=at))


def forget(conn: Connection, name: str) -> None:
    """Remove the checkpoint: the projection starts again from the beginning of the log."""
    conn.execute(checkpoints.delete().where(checkpoints.c.name == name))
