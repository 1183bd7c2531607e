"""Where each projection has read the log up to: ``projection_checkpoints``, one row per projection.

A projection's runner reads the checkpoint, applies the entries after it and
moves it, all in one transaction (the recorder's ``projection_transaction``),
so a crash never applies an entry twice or loses one.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from .schema import checkpoints


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
