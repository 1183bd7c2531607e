"""Drop the index on ``negotiation_heads.opened_at_position``: the one query that orders by it reads every head.

Listing the negotiations in the order they opened reads the whole table and
sorts it: one sort of a column of integers, as fast without the index as
with it. The index only cost every append that opens a negotiation: a page
more written and synced at its commit (13.1 to 12.0 WAL frames per 10-event
append that opens one, on SQLite).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

INDEX = "ix_negotiation_heads_opened_at_position"


def upgrade() -> None:
    op.drop_index(INDEX, "negotiation_heads")


def downgrade() -> None:
    op.create_index(INDEX, "negotiation_heads", ["opened_at_position"])
