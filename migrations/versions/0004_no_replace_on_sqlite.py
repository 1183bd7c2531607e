"""SQLite: refuse INSERT OR REPLACE on the event log.

SQLite resolves a REPLACE conflict by deleting the old row without firing
DELETE triggers (unless a connection turns on recursive_triggers), so the
append-only triggers of 0001 let ``INSERT OR REPLACE`` rewrite an event. This
trigger refuses any insert that would collide with a stored event; a plain
INSERT is refused all the same, as the unique constraints did before.
PostgreSQL has no REPLACE, and its ON CONFLICT DO UPDATE fires the UPDATE guard.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        """
        CREATE TRIGGER negotiation_events_no_replace BEFORE INSERT ON negotiation_events
        WHEN EXISTS (SELECT 1 FROM negotiation_events WHERE event_id = NEW.event_id)
          OR EXISTS (SELECT 1 FROM negotiation_events
                     WHERE negotiation_id = NEW.negotiation_id AND version = NEW.version)
          OR EXISTS (SELECT 1 FROM negotiation_events WHERE position = NEW.position)
        BEGIN SELECT RAISE(ABORT, 'negotiation_events is append-only: an insert may not replace an event'); END
        """
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER negotiation_events_no_replace")
