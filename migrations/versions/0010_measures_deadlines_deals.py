"""The kept state learns what goes on beside the phase; negotiations keep the title their event file gives.

The third revision of the domain keeps, beside the phase, every deal (each
``AgreedInPrinciple`` and ``AgreementFinalised`` of the story), the talks'
suspensions, meetings, measures, deadlines, third-party acts and each party's
statements of the terms. Logs written before it hold no event of the new
kinds, so those start empty; the deals are read from each negotiation's story
(retracted events left out, corrections applied, in world order), as the
fold makes them.

A new table, ``negotiation_titles``, keeps the title an event file gives a
negotiation ("US–Japan tariffs for a $550 billion investment package").

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import groupby
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

# The tables as revision 0009 left them, with only the columns this revision reads or writes.
EVENTS = sa.Table(
    "negotiation_events",
    sa.MetaData(),
    sa.Column("event_id", sa.String(36)),
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

#: What the kept state holds beside the phase, empty for a log of the second revision's events.
EMPTY: dict[str, Any] = {"statements": {}, "suspensions": [], "meetings": [], "measures": {}, "deadlines": {},
                         "third_party_acts": []}


def _utc(moment: datetime | str) -> datetime:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _deals(rows: Any) -> list[dict[str, Any]]:
    """The deals of a negotiation's story: its log (in version order) with retractions and corrections applied."""
    told: dict[str, tuple[datetime, int, str, dict[str, Any]]] = {}
    for row in rows:
        if row.type == "EventRetracted":
            told.pop(row.data["target"], None)
        elif row.type == "EventCorrected":
            if row.data["target"] in told:
                moment, version, kind, data = told[row.data["target"]]
                told[row.data["target"]] = (_utc(row.data.get("occurred_at") or moment), version, kind,
                                            row.data.get("data", data))
        else:
            told[str(row.event_id)] = (_utc(row.occurred_at), row.version, row.type, row.data)
    deals = []
    for moment, version, kind, data in sorted(told.values(), key=lambda event: event[:2]):
        if kind == "AgreedInPrinciple":
            deals.append({"on": moment.date().isoformat(), "version": version, "kind": "in principle"})
        elif kind == "AgreementFinalised":
            deals.append({"on": moment.date().isoformat(), "version": version, "kind": "finalised",
                          "instruments": list(data["instruments"])})
    return deals


def upgrade() -> None:
    bind = op.get_bind()
    snapshots = {row.negotiation_id: row.snapshot for row in bind.execute(sa.select(HEADS))}
    query = sa.select(EVENTS).order_by(EVENTS.c.negotiation_id, EVENTS.c.version)
    for negotiation_id, rows in groupby(bind.execute(query), key=lambda row: row.negotiation_id):
        snapshot = {**snapshots[negotiation_id], **EMPTY, "deals": _deals(rows)}
        bind.execute(HEADS.update().where(HEADS.c.negotiation_id == negotiation_id).values(snapshot=snapshot))
    op.create_table(
        "negotiation_titles",
        sa.Column("negotiation_id", sa.String(64), primary_key=True),
        sa.Column("title", sa.String(400), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("negotiation_titles")
    bind = op.get_bind()
    for row in bind.execute(sa.select(HEADS)).all():
        kept = {key: value for key, value in row.snapshot.items() if key not in (*EMPTY, "deals")}
        bind.execute(HEADS.update().where(HEADS.c.negotiation_id == row.negotiation_id).values(snapshot=kept))
