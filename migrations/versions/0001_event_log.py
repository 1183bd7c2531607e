"""The append-only event log.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
# Times are stored in UTC: timestamptz on PostgreSQL, naive UTC text on SQLite.
UTC_TIME = sa.DateTime(timezone=True)

SQLITE_GUARDS = [
    """
    CREATE TRIGGER negotiation_events_no_update BEFORE UPDATE ON negotiation_events
    BEGIN SELECT RAISE(ABORT, 'negotiation_events is append-only: UPDATE refused'); END
    """,
    """
    CREATE TRIGGER negotiation_events_no_delete BEFORE DELETE ON negotiation_events
    BEGIN SELECT RAISE(ABORT, 'negotiation_events is append-only: DELETE refused'); END
    """,
]

POSTGRES_GUARDS = [
    """
    CREATE FUNCTION negotiation_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'negotiation_events is append-only: % refused', TG_OP
            USING ERRCODE = 'restrict_violation';
    END $$
    """,
    """
    CREATE TRIGGER negotiation_events_no_rewrite BEFORE UPDATE OR DELETE ON negotiation_events
    FOR EACH ROW EXECUTE FUNCTION negotiation_events_append_only()
    """,
    """
    CREATE TRIGGER negotiation_events_no_truncate BEFORE TRUNCATE ON negotiation_events
    FOR EACH STATEMENT EXECUTE FUNCTION negotiation_events_append_only()
    """,
]


def upgrade() -> None:
    op.create_table(
        "negotiation_events",
        sa.Column("position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
                  primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.Uuid(as_uuid=False), nullable=False),
        sa.Column("negotiation_id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.Column("schema_version", sa.SmallInteger(), nullable=False),
        sa.Column("occurred_at", UTC_TIME, nullable=False),
        sa.Column("recorded_at", UTC_TIME, nullable=False),
        sa.Column("sources", JSON, nullable=False),
        sa.PrimaryKeyConstraint("position", name="pk_negotiation_events"),
        sa.UniqueConstraint("event_id", name="uq_negotiation_events_event_id"),
        sa.UniqueConstraint("negotiation_id", "version", name="uq_negotiation_events_negotiation_id_version"),
        sa.CheckConstraint("version >= 1", name=op.f("ck_negotiation_events_version_positive")),
    )
    guards = POSTGRES_GUARDS if op.get_bind().dialect.name == "postgresql" else SQLITE_GUARDS
    for statement in guards:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS negotiation_events_no_truncate ON negotiation_events")
        op.execute("DROP TRIGGER IF EXISTS negotiation_events_no_rewrite ON negotiation_events")
        op.execute("DROP FUNCTION IF EXISTS negotiation_events_append_only()")
    op.drop_table("negotiation_events")
