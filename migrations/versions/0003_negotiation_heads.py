"""A state projection per negotiation, kept in the same transaction as its events.

Existing negotiations are folded from their logs to fill it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from itertools import groupby

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from negotiation.aggregate import fold, snapshot
from negotiation.events import RecordedEvent
from negotiation.schema import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# The log as revision 0002 left it, read through the ledger's own types.
EVENTS_AT_0002 = sa.Table(
    "negotiation_events",
    sa.MetaData(),
    sa.Column("position", POSITION),
    sa.Column("event_id", sa.Uuid(as_uuid=False)),
    sa.Column("negotiation_id", sa.String(64)),
    sa.Column("version", sa.Integer()),
    sa.Column("type", sa.String(64)),
    sa.Column("data", JSON),
    sa.Column("schema_version", sa.SmallInteger()),
    sa.Column("occurred_at", UTCDateTime()),
    sa.Column("recorded_at", UTCDateTime()),
    sa.Column("sources", JSON),
    sa.Column("hash", sa.String(64)),
)


def upgrade() -> None:
    heads = op.create_table(
        "negotiation_heads",
        sa.Column("negotiation_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("snapshot", JSON, nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.Column("opened_at_position", POSITION, nullable=False),
        sa.PrimaryKeyConstraint("negotiation_id", name="pk_negotiation_heads"),
    )
    op.create_index("ix_negotiation_heads_opened_at_position", "negotiation_heads", ["opened_at_position"])
    table = EVENTS_AT_0002
    rows = op.get_bind().execute(sa.select(table).order_by(table.c.negotiation_id, table.c.version))
    for negotiation_id, stream in groupby(rows, key=lambda row: row.negotiation_id):
        events = [RecordedEvent(**row._mapping) for row in stream]
        negotiation = fold(negotiation_id, events)
        op.get_bind().execute(heads.insert().values(
            negotiation_id=negotiation_id, version=negotiation.version, state=negotiation.state,
            snapshot=snapshot(negotiation), last_hash=events[-1].hash, opened_at_position=events[0].position,
        ))


def downgrade() -> None:
    op.drop_index("ix_negotiation_heads_opened_at_position", "negotiation_heads")
    op.drop_table("negotiation_heads")
