"""Tamper evidence: a hash chaining each event to the previous one of its negotiation.

Existing events are backfilled in version order. The append-only triggers are
lifted only inside this migration's transaction, to write the new column.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SQLITE_GUARDS = {
    "negotiation_events_no_update": "UPDATE",
    "negotiation_events_no_delete": "DELETE",
}


def _sqlite_guard(name: str, operation: str) -> str:
    return (f"CREATE TRIGGER {name} BEFORE {operation} ON negotiation_events "
            f"BEGIN SELECT RAISE(ABORT, 'negotiation_events is append-only: {operation} refused'); END")


# The hash as the ledger defined it at this revision, carried here so that
# upgrading an old database never depends on the code installed today.
GENESIS = "0" * 64


def _utc(moment: datetime) -> str:
    # SQLite hands back the naive UTC text it stored; PostgreSQL an aware timestamptz.
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
    return aware.astimezone(UTC).isoformat(timespec="microseconds")


def event_hash(previous: str, row: Any) -> str:
    """SHA-256 over the previous hash and the event's canonical JSON form."""
    content = orjson.dumps(
        {
            "event_id": row.event_id,
            "negotiation_id": row.negotiation_id,
            "version": row.version,
            "type": row.type,
            "data": row.data,
            "occurred_at": _utc(row.occurred_at),
            "recorded_at": _utc(row.recorded_at),
            "sources": list(row.sources),
            "schema_version": row.schema_version,
        },
        option=orjson.OPT_SORT_KEYS,
    )
    return hashlib.sha256(previous.encode() + content).hexdigest()


# The table as revision 0001 left it.
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
EVENTS_AT_0001 = sa.Table(
    "negotiation_events",
    sa.MetaData(),
    sa.Column("position", sa.BigInteger()),
    sa.Column("event_id", sa.Uuid(as_uuid=False)),
    sa.Column("negotiation_id", sa.String(64)),
    sa.Column("version", sa.Integer()),
    sa.Column("type", sa.String(64)),
    sa.Column("data", JSON),
    sa.Column("schema_version", sa.SmallInteger()),
    sa.Column("occurred_at", sa.DateTime(timezone=True)),
    sa.Column("recorded_at", sa.DateTime(timezone=True)),
    sa.Column("sources", JSON),
)


def _rows(bind: sa.Connection) -> Iterator[Any]:
    table = EVENTS_AT_0001
    query = sa.select(table).order_by(table.c.negotiation_id, table.c.version)
    yield from bind.execute(query)


def _backfill(bind: sa.Connection) -> None:
    previous: dict[str, str] = {}
    update = sa.text("UPDATE negotiation_events SET hash = :hash WHERE position = :position")
    for row in _rows(bind):
        digest = event_hash(previous.get(row.negotiation_id, GENESIS), row)
        previous[row.negotiation_id] = digest
        bind.execute(update, {"hash": digest, "position": row.position})


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE negotiation_events DISABLE TRIGGER negotiation_events_no_rewrite")
        op.add_column("negotiation_events", sa.Column("hash", sa.String(64), nullable=True))
        _backfill(bind)
        op.alter_column("negotiation_events", "hash", nullable=False)
        op.execute("ALTER TABLE negotiation_events ENABLE TRIGGER negotiation_events_no_rewrite")
        return
    for name in SQLITE_GUARDS:
        op.execute(f"DROP TRIGGER {name}")
    op.add_column("negotiation_events", sa.Column("hash", sa.String(64), nullable=True))
    _backfill(bind)
    # SQLite cannot add NOT NULL to a column in place; the batch copies the table.
    with op.batch_alter_table("negotiation_events", recreate="always") as batch:
        batch.alter_column("hash", existing_type=sa.String(64), nullable=False)
    for name, operation in SQLITE_GUARDS.items():
        op.execute(_sqlite_guard(name, operation))


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.drop_column("negotiation_events", "hash")
        return
    for name in SQLITE_GUARDS:
        op.execute(f"DROP TRIGGER {name}")
    with op.batch_alter_table("negotiation_events", recreate="always") as batch:
        batch.drop_column("hash")
    for name, operation in SQLITE_GUARDS.items():
        op.execute(_sqlite_guard(name, operation))
