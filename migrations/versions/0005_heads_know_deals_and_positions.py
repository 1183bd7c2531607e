"""Each negotiation's kept state learns whether a deal exists and the parties' positions.

Talks or a cancelled visit may now open a negotiation before any deal, so
the state kept beside the log records when the deal in principle was
announced (``deal_announced_at``, null without one), and, per open point, the
latest stance of each party (``positions``: a restated dispute updates them).
Both are read from the log: the ``AgreedInPrinciple`` event's day, and the
``positions`` of ``TermsDisputed`` events on points still open.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import groupby
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

# The two tables as revision 0004 left them, with only the columns this revision reads or writes.
EVENTS = sa.Table(
    "negotiation_events",
    sa.MetaData(),
    sa.Column("negotiation_id", sa.String(64)),
    sa.Column("version", sa.Integer()),
    sa.Column("type", sa.String(64)),
    sa.Column("data", JSON),
    sa.Column("occurred_at", sa.DateTime(timezone=True)),
)
HEADS = sa.Table(
    "negotiation_heads",
    sa.MetaData(),
    sa.Column("negotiation_id", sa.String(64)),
    sa.Column("snapshot", JSON),
)


def _iso(moment: datetime) -> str:
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return aware.astimezone(UTC).isoformat()


def _deal_and_positions(rows: Any) -> tuple[str | None, dict[str, dict[str, str]]]:
    deal: str | None = None
    positions: dict[str, dict[str, str]] = {}
    for row in rows:
        if row.type == "AgreedInPrinciple":
            deal = _iso(row.occurred_at)
        elif row.type == "TermsDisputed":
            point = row.data["point"]
            positions[point] = {**positions.get(point, {}), **row.data.get("positions", {})}
        elif row.type == "DisputeResolved":
            positions.pop(row.data["point"], None)
    return deal, positions


def upgrade() -> None:
    bind = op.get_bind()
    snapshots = {row.negotiation_id: row.snapshot for row in bind.execute(sa.select(HEADS))}
    query = sa.select(EVENTS).order_by(EVENTS.c.negotiation_id, EVENTS.c.version)
    for negotiation_id, rows in groupby(bind.execute(query), key=lambda row: row.negotiation_id):
        deal, positions = _deal_and_positions(rows)
        snapshot = {**snapshots[negotiation_id], "deal_announced_at": deal, "positions": positions}
        bind.execute(HEADS.update().where(HEADS.c.negotiation_id == negotiation_id).values(snapshot=snapshot))


def downgrade() -> None:
    bind = op.get_bind()
    for row in bind.execute(sa.select(HEADS)).all():
        kept = {key: value for key, value in row.snapshot.items() if key not in ("deal_announced_at", "positions")}
        bind.execute(HEADS.update().where(HEADS.c.negotiation_id == row.negotiation_id).values(snapshot=kept))
