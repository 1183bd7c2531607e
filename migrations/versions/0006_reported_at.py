"""A third time per entry: ``reported_at``, when it became known.

News arrives late: an event is recorded when the ledger learns of it, but it
was reported (became known) at a time the caller gives, which questions "as
known at" ask about. Every entry stored before this revision was known when
it was recorded, so it gets its ``recorded_at``. The column is not hashed for
those entries (the chain hashes ``reported_at`` only where it differs from
``recorded_at``), so no stored hash changes.

The append-only triggers are lifted only inside this migration's transaction,
to fill the new column.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

SQLITE_GUARDS = {
    "negotiation_events_no_update": "UPDATE",
    "negotiation_events_no_delete": "DELETE",
}
REPORTED_AT = sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True)


def _sqlite_guard(name: str, operation: str) -> str:
    return (f"CREATE TRIGGER {name} BEFORE {operation} ON negotiation_events "
            f"BEGIN SELECT RAISE(ABORT, 'negotiation_events is append-only: {operation} refused'); END")


def upgrade() -> None:
    bind = op.get_bind()
    fill = "UPDATE negotiation_events SET reported_at = recorded_at"
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE negotiation_events DISABLE TRIGGER negotiation_events_no_rewrite")
        op.add_column("negotiation_events", REPORTED_AT)
        op.execute(fill)
        op.alter_column("negotiation_events", "reported_at", nullable=False)
        op.execute("ALTER TABLE negotiation_events ENABLE TRIGGER negotiation_events_no_rewrite")
    else:
        for name in SQLITE_GUARDS:
            op.execute(f"DROP TRIGGER {name}")
        op.execute("DROP TRIGGER negotiation_events_no_replace")
        op.add_column("negotiation_events", REPORTED_AT)
        op.execute(fill)
        # SQLite cannot add NOT NULL to a column in place; the batch copies the table.
        with op.batch_alter_table("negotiation_events", recreate="always") as batch:
            batch.alter_column("reported_at", existing_type=sa.DateTime(timezone=True), nullable=False)
        for name, operation in SQLITE_GUARDS.items():
            op.execute(_sqlite_guard(name, operation))
        op.execute(NO_REPLACE)
    # "As known at" reads a negotiation's entries by the time they were reported.
    op.create_index("ix_negotiation_events_negotiation_id_reported_at", "negotiation_events",
                    ["negotiation_id", "reported_at"])


NO_REPLACE = """
    CREATE TRIGGER negotiation_events_no_replace BEFORE INSERT ON negotiation_events
    WHEN EXISTS (SELECT 1 FROM negotiation_events WHERE event_id = NEW.event_id)
      OR EXISTS (SELECT 1 FROM negotiation_events
                 WHERE negotiation_id = NEW.negotiation_id AND version = NEW.version)
      OR EXISTS (SELECT 1 FROM negotiation_events WHERE position = NEW.position)
    BEGIN SELECT RAISE(ABORT, 'negotiation_events is append-only: an insert may not replace an event'); END
"""


def downgrade() -> None:
    op.drop_index("ix_negotiation_events_negotiation_id_reported_at", "negotiation_events")
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.drop_column("negotiation_events", "reported_at")
        return
    for name in SQLITE_GUARDS:
        op.execute(f"DROP TRIGGER {name}")
    op.execute("DROP TRIGGER negotiation_events_no_replace")
    with op.batch_alter_table("negotiation_events", recreate="always") as batch:
        batch.drop_column("reported_at")
    for name, operation in SQLITE_GUARDS.items():
        op.execute(_sqlite_guard(name, operation))
    op.execute(NO_REPLACE)
