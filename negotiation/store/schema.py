"""The event log's tables: one ``MetaData``, owned by Alembic's migrations.

Nothing here creates tables; ``migrations/`` does, and a test checks that the
two agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Dialect,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UTCDateTime(TypeDecorator[datetime]):
    """A point in time stored in UTC and always read back time-zone aware.

    SQLite keeps no offset, so values are written as naive UTC there and
    given their zone back on read; PostgreSQL stores ``timestamptz``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment = cast(datetime, value)
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


Json = JSON().with_variant(JSONB(), "postgresql")
Position = BigInteger().with_variant(Integer(), "sqlite")  # SQLite's rowid must be INTEGER

events = Table(
    "negotiation_events",
    metadata,
    # Global order across all negotiations; consumers follow it with read_all(after=...).
    Column("position", Position, primary_key=True, autoincrement=True),
    Column("event_id", Uuid(as_uuid=False), nullable=False, unique=True),
    Column("negotiation_id", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("type", String(64), nullable=False),
    Column("data", Json, nullable=False),
    Column("schema_version", SmallInteger, nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("sources", Json, nullable=False),
    # SHA-256 chaining the event to the previous one of its negotiation (see chain.py).
    Column("hash", String(64), nullable=False),
    # When the entry became known (the report's date); its recorded_at unless the caller gave one.
    Column("reported_at", UTCDateTime, nullable=False),
    # A lost race between two writers becomes an error here, never a lost event.
    UniqueConstraint("negotiation_id", "version"),
    CheckConstraint("version >= 1", name="version_positive"),
    # "As known at" questions read a negotiation's entries by when they were reported.
    Index(None, "negotiation_id", "reported_at"),
)

# The state each negotiation's log folds to, written in the same transaction as
# its events: a writer or a reader gets the current state from one row instead
# of replaying the whole history. It is derived data (rebuilt from the log by
# migration 0003 and checked against it by ``Ledger.verify``), so it may change.
heads = Table(
    "negotiation_heads",
    metadata,
    Column("negotiation_id", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("state", String(32), nullable=False),
    Column("snapshot", Json, nullable=False),
    Column("last_hash", String(64), nullable=False),
    # Where the negotiation's first event sits in the log, to list them in opening order.
    Column("opened_at_position", Position, nullable=False, index=True),
)
