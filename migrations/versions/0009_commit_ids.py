"""Each entry names the transaction that wrote it: ``commit_id``, the position of that transaction's first entry.

What a write stored together is judged together (a batch's story is checked
whole), so replay, projections and copies must know which entries were
written together. They used to take entries sharing a recording time for one
transaction, which a write to several negotiations at once does not keep (each
got its own). The column is not hashed: no stored hash changes.

Entries stored before this revision are given the first position among the
entries recorded at the same moment, which is what they were taken to share
until now.

The append-only triggers are lifted only inside this migration's transaction,
to fill the new column.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
COMMIT_ID = sa.Column("commit_id", POSITION, nullable=True)

FILL = """
    UPDATE negotiation_events SET commit_id = firsts.first
      FROM (SELECT recorded_at, MIN(position) AS first FROM negotiation_events GROUP BY recorded_at) AS firsts
     WHERE firsts.recorded_at = negotiation_events.recorded_at
"""

SQLITE_GUARDS = {
    "negotiation_events_no_update": "UPDATE",
    "negotiation_events_no_delete": "DELETE",
}
NO_REPLACE = """
    CREATE TRIGGER negotiation_events_no_replace BEFORE INSERT ON negotiation_events
    WHEN EXISTS (SELECT 1 FROM negotiation_events WHERE event_id = NEW.event_id)
      OR EXISTS (SELECT 1 FROM negotiation_events
                 WHERE negotiation_id = NEW.negotiation_id AND version = NEW.version)
      OR EXISTS (SELECT 1 FROM negotiation_events WHERE position = NEW.position)
    BEGIN SELECT RAISE(ABORT, 'negotiation_events is append-only: an insert may not replace an event'); END
"""
CORRECTIONS_INDEX = "ix_negotiation_events_corrections"
CORRECTIONS_ONLY = "type IN ('EventRetracted', 'EventCorrected')"


def _sqlite_guard(name: str, operation: str) -> str:
    return (f"CREATE TRIGGER {name} BEFORE {operation} ON negotiation_events "
            f"BEGIN SELECT RAISE(ABORT, 'negotiation_events is append-only: {operation} refused'); END")


def _rebuild_on_sqlite(change: sa.Column | str) -> None:
    """Add or drop the column on SQLite, which rebuilds the table: its triggers and partial index with it."""
    for name in SQLITE_GUARDS:
        op.execute(f"DROP TRIGGER {name}")
    op.execute("DROP TRIGGER negotiation_events_no_replace")
    op.drop_index(CORRECTIONS_INDEX, "negotiation_events")
    if isinstance(change, sa.Column):
        op.add_column("negotiation_events", change)
        op.execute(FILL)
        # SQLite cannot add NOT NULL to a column in place; the batch copies the table.
        with op.batch_alter_table("negotiation_events", recreate="always") as batch:
            batch.alter_column("commit_id", existing_type=POSITION, nullable=False)
    else:
        with op.batch_alter_table("negotiation_events", recreate="always") as batch:
            batch.drop_column(change)
    for name, operation in SQLITE_GUARDS.items():
        op.execute(_sqlite_guard(name, operation))
    op.execute(NO_REPLACE)
    op.create_index(CORRECTIONS_INDEX, "negotiation_events", ["type"], sqlite_where=sa.text(CORRECTIONS_ONLY))


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE negotiation_events DISABLE TRIGGER negotiation_events_no_rewrite")
        op.add_column("negotiation_events", COMMIT_ID)
        op.execute(FILL)
        op.alter_column("negotiation_events", "commit_id", nullable=False)
        op.execute("ALTER TABLE negotiation_events ENABLE TRIGGER negotiation_events_no_rewrite")
        return
    _rebuild_on_sqlite(sa.Column("commit_id", POSITION, nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_column("negotiation_events", "commit_id")
        return
    _rebuild_on_sqlite("commit_id")
