"""Drop the index on (negotiation_id, reported_at): no query reads through it.

"As known at" questions read one negotiation's entries through the unique
(negotiation_id, version) index and judge their report times in Python, and
a whole-log rebuild scans the log in (negotiation_id, version) order. The
index only cost every append: two or three more pages written and synced at
each commit.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

INDEX = "ix_negotiation_events_negotiation_id_reported_at"


def upgrade() -> None:
    op.drop_index(INDEX, "negotiation_events")


def downgrade() -> None:
    op.create_index(INDEX, "negotiation_events", ["negotiation_id", "reported_at"])
