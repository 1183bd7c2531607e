"""Following the log and questioning the sources.

* ``entry_sources``: one row per (source, entry), written in the same
  transaction as each append, so the entries of a source are read by its
  index instead of a scan of the log. Filled here from the stored entries
  (a source named twice by one entry counts once).
* ``projection_checkpoints``: how far each projection has read the log,
  written in the same transaction as the projection's own rows.
* ``negotiation_states``: the read model of the one projection shipped,
  every negotiation's state, parties, open points and last event. It starts
  empty with no checkpoint; the projection's runner fills it from the log.
* A partial index of the log's retractions and corrections, so that the
  questions about sources find them without reading every entry.
* On PostgreSQL, a trigger that sends ``NOTIFY negotiation_events`` after
  every insert into the log, so subscribers wake when a transaction that
  appended commits, whoever wrote it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

CORRECTIONS_ONLY = "type IN ('EventRetracted', 'EventCorrected')"

NOTIFY_FUNCTION = """
    CREATE FUNCTION negotiation_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('negotiation_events', '');
        RETURN NULL;
    END $$
"""
# Once per statement: a batch of appended rows wakes subscribers once, when it commits.
NOTIFY_TRIGGER = """
    CREATE TRIGGER negotiation_events_notify AFTER INSERT ON negotiation_events
    FOR EACH STATEMENT EXECUTE FUNCTION negotiation_events_notify()
"""

BACKFILL = {
    "sqlite": """
        INSERT INTO entry_sources (source, position, negotiation_id)
        SELECT DISTINCT named.value, e.position, e.negotiation_id
          FROM negotiation_events e, json_each(e.sources) named
    """,
    "postgresql": """
        INSERT INTO entry_sources (source, position, negotiation_id)
        SELECT DISTINCT named, e.position, e.negotiation_id
          FROM negotiation_events e, jsonb_array_elements_text(e.sources) named
    """,
}


def upgrade() -> None:
    op.create_table(
        "entry_sources",
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("position", POSITION, nullable=False, autoincrement=False),
        sa.Column("negotiation_id", sa.String(64), nullable=False),
        # The key leads with the source: it is the index that reads a source's entries.
        sa.PrimaryKeyConstraint("source", "position", name="pk_entry_sources"),
    )
    op.create_table(
        "projection_checkpoints",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("position", POSITION, nullable=False, autoincrement=False),
        sa.PrimaryKeyConstraint("name", name="pk_projection_checkpoints"),
    )
    op.create_table(
        "negotiation_states",
        sa.Column("negotiation_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("parties", JSON, nullable=False),
        sa.Column("open_points", JSON, nullable=False),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_position", POSITION, nullable=False, autoincrement=False),
        sa.PrimaryKeyConstraint("negotiation_id", name="pk_negotiation_states"),
    )
    # The few retractions and corrections, found without a scan of the log.
    where = sa.text(CORRECTIONS_ONLY)
    op.create_index("ix_negotiation_events_corrections", "negotiation_events", ["type"],
                    sqlite_where=where, postgresql_where=where)
    bind = op.get_bind()
    op.execute(BACKFILL[bind.dialect.name])
    if bind.dialect.name == "postgresql":
        op.execute(NOTIFY_FUNCTION)
        op.execute(NOTIFY_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER negotiation_events_notify ON negotiation_events")
        op.execute("DROP FUNCTION negotiation_events_notify()")
    op.drop_index("ix_negotiation_events_corrections", "negotiation_events")
    op.drop_table("negotiation_states")
    op.drop_table("projection_checkpoints")
    op.drop_table("entry_sources")
