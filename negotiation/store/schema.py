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
    text,
)
from sqlalchemy.types import TypeDecorator, TypeEngine

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
        # In UTC on both: PostgreSQL stores the instant, SQLite's DATETIME writes its digits without an offset.
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment = cast(datetime, value)
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


class _Jsonb(TypeDecorator[Any]):
    """PostgreSQL's ``jsonb``, its dialect's type loaded only when a column meets PostgreSQL.

    So a process that only ever talks to SQLite never loads SQLAlchemy's
    PostgreSQL dialect (a noticeable part of the command line's start-up).
    """

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        from sqlalchemy.dialects.postgresql import JSONB  # asked for on PostgreSQL only: the variant below

        return dialect.type_descriptor(JSONB())


#: JSON, stored as ``jsonb`` on PostgreSQL.
Json = JSON().with_variant(_Jsonb(), "postgresql")
Position = BigInteger().with_variant(Integer(), "sqlite")  # SQLite's rowid must be INTEGER

#: The retractions and corrections of the log, as SQL (the entry types of ``domain/story.py``).
CORRECTIONS_ONLY = "type IN ('EventRetracted', 'EventCorrected')"

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
    # The transaction that wrote it: the position of that transaction's first entry (not hashed).
    Column("commit_id", Position, nullable=False),
    # A lost race between two writers becomes an error here, never a lost event.
    UniqueConstraint("negotiation_id", "version"),
    CheckConstraint("version >= 1", name="version_positive"),
    # The few retractions and corrections, found without a scan of the log (``Ledger.sources``).
    # Partial on both databases (migration 0007); only SQLite's condition is written here, since
    # naming PostgreSQL's would load its dialect in every process, and Alembic compares neither.
    Index("ix_negotiation_events_corrections", "type", sqlite_where=text(CORRECTIONS_ONLY)),
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
    # Where the negotiation's first event sits in the log, to list them in opening order. Not indexed
    # (migration 0012): the listing reads every head anyway, and the index cost each opening a page.
    Column("opened_at_position", Position, nullable=False),
)

# The title an event file gives a negotiation: what it is called in reports and exports.
# Not part of the log (it is no event of the negotiation); loading a file sets it again.
titles = Table(
    "negotiation_titles",
    metadata,
    Column("negotiation_id", String(64), primary_key=True),
    Column("title", String(400), nullable=False),
)

# Which entries each source reported: one row per (source, entry), written in the
# same transaction as the entry (a source named twice by one entry counts once).
# The key leads with the source, so a source's entries are read by index, never
# by a scan of the log. Derived data, filled from the log by migration 0007.
entry_sources = Table(
    "entry_sources",
    metadata,
    Column("source", String(200), primary_key=True),
    Column("position", Position, primary_key=True, autoincrement=False),
    Column("negotiation_id", String(64), nullable=False),
    # Found only by its key: on SQLite the key is the table (no rowid table beside it to write too).
    sqlite_with_rowid=False,
)

# How far each projection (``negotiation/projections.py``) has read the log:
# written in the same transaction as the projection's own rows.
checkpoints = Table(
    "projection_checkpoints",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("position", Position, nullable=False, autoincrement=False),
)

# The read model of the ``negotiation_states`` projection: every negotiation's
# state, parties, open points and last event, as of the entry at ``last_position``.
negotiation_states = Table(
    "negotiation_states",
    metadata,
    Column("negotiation_id", String(64), primary_key=True),
    Column("state", String(32), nullable=False),
    Column("version", Integer, nullable=False),
    Column("parties", Json, nullable=False),
    Column("open_points", Json, nullable=False),
    Column("last_event_at", UTCDateTime),  # None while its story is empty (every event retracted)
    Column("last_position", Position, nullable=False, autoincrement=False),
)
