"""A state projection per negotiation, kept in the same transaction as its events.

Existing negotiations are folded from their logs to fill it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from itertools import groupby
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

# The log as revision 0002 left it.
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
    sa.Column("occurred_at", sa.DateTime(timezone=True)),
    sa.Column("recorded_at", sa.DateTime(timezone=True)),
    sa.Column("sources", JSON),
    sa.Column("hash", sa.String(64)),
)


# The machine as it stood at this revision: (state, event) -> next state, where
# "stay" keeps the state. Only the three guarded cells look at open points.
# The log being upgraded was checked by this same table when it was written.
STAY = "stay"
TABLE_AT_0003: dict[tuple[str, str], str] = {
    ("not_opened", "AgreedInPrinciple"): "agreed_in_principle",
    ("agreed_in_principle", "TermsDisputed"): "disputed_terms",
    ("agreed_in_principle", "VisitCancelled"): "visit_cancelled",
    ("agreed_in_principle", "WorkingLevelTalksOpened"): "working_level_talks",
    ("agreed_in_principle", "AgreementFinalised"): "finalised",
    ("agreed_in_principle", "TermsAmended"): STAY,
    ("disputed_terms", "TermsDisputed"): STAY,
    ("disputed_terms", "DisputeResolved"): STAY,  # or back to agreed_in_principle: see _next
    ("disputed_terms", "VisitCancelled"): "visit_cancelled",
    ("disputed_terms", "WorkingLevelTalksOpened"): "working_level_talks",
    ("disputed_terms", "TermsAmended"): STAY,
    ("visit_cancelled", "TermsDisputed"): "disputed_terms",
    ("visit_cancelled", "DisputeResolved"): STAY,
    ("visit_cancelled", "WorkingLevelTalksOpened"): "working_level_talks",
    ("visit_cancelled", "TermsAmended"): STAY,
    ("working_level_talks", "TermsDisputed"): "disputed_terms",
    ("working_level_talks", "DisputeResolved"): STAY,
    ("working_level_talks", "VisitCancelled"): "visit_cancelled",
    ("working_level_talks", "AgreementFinalised"): "finalised",
    ("working_level_talks", "TermsAmended"): STAY,
}


def _iso(moment: datetime) -> str:
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return aware.astimezone(UTC).isoformat()


def _next(state: str, event_type: str, open_points: list[str]) -> str:
    dest = TABLE_AT_0003.get((state, event_type))
    if dest is None:
        raise RuntimeError(f"cannot upgrade: {event_type} in state {state} is not a step of the machine")
    if state == "disputed_terms" and event_type == "DisputeResolved" and len(open_points) == 1:
        return "agreed_in_principle"
    return state if dest == STAY else dest


def fold(rows: Iterable[Any]) -> tuple[int, str, dict[str, Any]]:
    """The version, state and snapshot the rows of one negotiation give, as the ledger kept them then."""
    state, version = "not_opened", 0
    parties: list[str] = []
    terms: dict[str, Any] = {}
    open_points: list[str] = []
    instruments: list[str] = []
    opened_at: str | None = None
    updated_at: str | None = None
    for row in rows:
        data = row.data
        state = _next(state, row.type, open_points)
        if row.type == "AgreedInPrinciple":
            parties, opened_at = list(data["parties"]), _iso(row.occurred_at)
        elif row.type == "TermsDisputed":
            open_points.append(data["point"])
        elif row.type == "DisputeResolved":
            open_points.remove(data["point"])
        elif row.type == "AgreementFinalised":
            instruments = list(data["instruments"])
        terms.update(data.get("terms", {}))
        updated_at, version = _iso(row.occurred_at), row.version
    snapshot = {"parties": parties, "terms": terms, "open_disputes": open_points,
                "instruments": instruments, "opened_at": opened_at, "updated_at": updated_at}
    return version, state, snapshot


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
        events = list(stream)
        version, state, snapshot = fold(events)
        op.get_bind().execute(heads.insert().values(
            negotiation_id=negotiation_id, version=version, state=state, snapshot=snapshot,
            last_hash=events[-1].hash, opened_at_position=events[0].position,
        ))


def downgrade() -> None:
    op.drop_index("ix_negotiation_heads_opened_at_position", "negotiation_heads")
    op.drop_table("negotiation_heads")
