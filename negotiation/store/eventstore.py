"""The append-only event log in SQL, through SQLAlchemy Core.

A small face: append rows in a write transaction, read one negotiation's
stream, read everything after a position. Driver errors become
``NegotiationError``s here and nowhere else.
"""

from __future__ import annotations

import importlib.util
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import groupby
from operator import itemgetter
from typing import Any, cast

import orjson
from sqlalchemy import Connection, Engine, bindparam, create_engine, event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError

from ..domain.aggregate import Negotiation, fold_log, fold_rows, from_snapshot, snapshot
from ..domain.payloads import CORRECTION_TYPES
from ..domain.entries import RecordedEvent
from ..errors import StorageError
from . import fastpath
from .schema import entry_sources, events, heads
from .writers import WriteRace

DEFAULT_URL = "sqlite:///negotiations.db"
URL_VARIABLE = "NEGOTIATION_DB_URL"
BUSY_TIMEOUT_SECONDS = 30.0
SUPPORTED_BACKENDS = ("sqlite", "postgresql")

_COLUMNS = (
    events.c.event_id,
    events.c.negotiation_id,
    events.c.version,
    events.c.position,
    events.c.type,
    events.c.data,
    events.c.occurred_at,
    events.c.recorded_at,
    events.c.sources,
    events.c.hash,
    events.c.schema_version,
    events.c.reported_at,
)


def resolve_url(url: str | None) -> str:
    """The URL given, else ``$NEGOTIATION_DB_URL``, else a SQLite file in the working directory."""
    chosen = url or os.environ.get(URL_VARIABLE) or DEFAULT_URL
    try:
        parsed = make_url(chosen)
    except ArgumentError:
        raise StorageError(f"{chosen!r} is not a database URL; use sqlite:///FILE or "
                           "postgresql+psycopg://USER@HOST/DB") from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3, not psycopg2
    if parsed.get_backend_name() not in SUPPORTED_BACKENDS:
        raise StorageError(f"unsupported database {parsed.get_backend_name()!r}: "
                           "use sqlite:///FILE or postgresql+psycopg://USER@HOST/DB")
    return parsed.render_as_string(hide_password=False)


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


#: What to install for PostgreSQL: the driver is an extra, since the default database is a SQLite file.
POSTGRESQL_EXTRA = "pip install 'negotiation[postgresql]'"


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        if importlib.util.find_spec("psycopg") is None:
            raise StorageError(f"PostgreSQL needs the psycopg driver, which is not installed: {POSTGRESQL_EXTRA}")
        from . import pgpath

        # No pre-ping round trip: a pooled connection is checked on checkout by a look at its socket,
        # and the statements a writing transaction queues are sent before any other.
        pg_engine = create_engine(url, json_serializer=_json_dumps, json_deserializer=orjson.loads)
        event.listen(pg_engine, "checkout", pgpath.check_on_checkout)
        event.listen(pg_engine, "checkin", pgpath.check_on_checkin)
        event.listen(pg_engine, "before_cursor_execute", pgpath.before_statement)
        return pg_engine
    engine = create_engine(url, json_serializer=_json_dumps, json_deserializer=orjson.loads,
                           connect_args={"timeout": BUSY_TIMEOUT_SECONDS})

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN can be IMMEDIATE for writes.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if parsed.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            # Every commit synced to disk before it returns, whatever the build's default.
            cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_SECONDS * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # A writer takes the write lock before reading the state it decides on,
        # so two writers queue (busy timeout) instead of one failing mid-way.
        # A single SELECT is consistent on its own and needs no BEGIN at all.
        kind = conn.get_execution_options().get("transaction", "read")
        if kind != "single":
            # Straight to the driver: this runs once per transaction, on the hot path.
            driver = conn.connection.driver_connection
            driver.execute("BEGIN IMMEDIATE" if kind == "write" else "BEGIN")  # type: ignore[union-attr]

    return engine


@dataclass(frozen=True, slots=True)
class Head:
    """A negotiation's current state and the hash its next event chains to."""

    negotiation: Negotiation
    last_hash: str


_INSERT = events.insert().values({c: bindparam(c.key) for c in events.c if c.key != "position"})
_APPEND = _INSERT.returning(events.c.position, sort_by_parameter_order=True)
_REBUILD = (select(events.c.negotiation_id, events.c.version, events.c.type, events.c.data, events.c.occurred_at)
            .order_by(events.c.negotiation_id, events.c.version))


def _is_own_story(rows: Sequence[tuple[int, str, Any, Any]]) -> bool:
    """Whether (version, type, data, occurred_at) rows, in version order, are already the story.

    True when no entry is a retraction or correction and no event is dated
    before the one recorded before it; then folding the rows as they come is
    folding the story. (SQLite hands the times over as stored text, which
    sorts as the times do.)
    """
    return all(row[1] not in CORRECTION_TYPES for row in rows) and all(
        earlier[3] <= later[3] for earlier, later in zip(rows, rows[1:]))


def _times_parsed(negotiation: Negotiation, **changes: Any) -> Negotiation:
    """A negotiation folded from SQLite's rows as stored, its times (kept as stored text) parsed."""
    parse, deal = fastpath.read_utc, negotiation.deal_announced_at
    return replace(negotiation, opened_at=parse(cast(str, negotiation.opened_at)),
                   updated_at=parse(cast(str, negotiation.updated_at)),
                   deal_announced_at=None if deal is None else parse(cast(str, deal)), **changes)


def _record(row: Any) -> RecordedEvent:
    return RecordedEvent(
        event_id=row.event_id,
        negotiation_id=row.negotiation_id,
        version=row.version,
        position=row.position,
        type=row.type,
        data=row.data,
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
        sources=tuple(row.sources),
        hash=row.hash,
        schema_version=row.schema_version,
        reported_at=row.reported_at,
    )


def _describe(error: DBAPIError) -> str:
    return str(error.orig).strip().splitlines()[0] if error.orig is not None else str(error)


class EventStore:
    """Reads and appends rows of ``negotiation_events``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def translating_errors(self) -> Iterator[None]:
        """Turn driver errors into ``NegotiationError``s with a one-line message."""
        try:
            yield
        except IntegrityError as e:
            # Only a concurrent writer can break uniqueness here: every id and
            # version was checked inside the same transaction before appending.
            raise WriteRace(_describe(e)) from e
        except DBAPIError as e:
            raise StorageError(f"database error: {_describe(e)}") from e
        except sqlite3.Error as e:  # from statements sent to the driver directly (BEGIN, the fast path)
            raise StorageError(f"database error: {e}") from e

    @contextmanager
    def reading(self, *, single_statement: bool = False) -> Iterator[Connection]:
        """A read transaction: one consistent view of the log.

        With ``single_statement`` the caller promises to run one SELECT, which
        is consistent by itself, and the BEGIN and COMMIT are skipped: SQLite
        sends none, PostgreSQL runs the statement in autocommit (one round trip).
        """
        kind = "single" if single_statement else "read"
        options: dict[str, Any] = {"transaction": kind}
        if self.engine.dialect.name == "postgresql":
            if single_statement:
                # No BEGIN, no COMMIT: the one statement is the only round trip.
                with (self.translating_errors(),
                      self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn):
                    yield conn
                return
            # One snapshot for the whole transaction; READ COMMITTED takes one per statement.
            options["isolation_level"] = "REPEATABLE READ"
        with (self.translating_errors(),
              self.engine.connect().execution_options(**options) as conn,
              conn.begin()):
            yield conn

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """A write transaction: everything in it is stored, or nothing is.

        Writers are serialised for the whole transaction: SQLite by ``BEGIN
        IMMEDIATE``, PostgreSQL by a transaction-level advisory lock taken first.
        So positions are handed out in commit order and a reader following
        ``read_all(after=...)`` can never see position n+1 before position n
        commits; the price is one appending transaction at a time per database.
        On PostgreSQL, ``negotiation/store/pgpath.py`` sends BEGIN and the lock
        with the transaction's first statement (the head's SELECT, for an
        append) and queues the appends with the COMMIT: two round trips.
        """
        if self.engine.dialect.name == "postgresql":
            from . import pgpath

            # BEGIN and the lock go with the first statement, the appends with COMMIT: two round trips.
            with (self.translating_errors(),
                  self.engine.connect().execution_options(transaction="write") as conn,
                  conn.begin(),
                  pgpath.write_transaction(conn)):
                yield conn
            return
        with (self.translating_errors(),
              self.engine.connect().execution_options(transaction="write") as conn,
              conn.begin()):
            yield conn

    @staticmethod
    def stream(conn: Connection, negotiation_id: str, until_version: int | None = None) -> list[RecordedEvent]:
        """One negotiation's entries in version order (up to ``until_version``)."""
        if conn.dialect.name == "sqlite":  # straight from the driver: late events, corrections and as_of read it all
            return [RecordedEvent(*fields) for fields in fastpath.stream(conn, negotiation_id, until_version)]
        query = select(*_COLUMNS).where(events.c.negotiation_id == negotiation_id)
        if until_version is not None:
            query = query.where(events.c.version <= until_version)
        return [_record(row) for row in conn.execute(query.order_by(events.c.version))]

    @staticmethod
    def head(conn: Connection, negotiation_id: str) -> Head | None:
        """The negotiation's state as kept beside its log; None when it has no events."""
        if conn.dialect.name == "sqlite":
            row = fastpath.head(conn, negotiation_id)
        else:
            from . import pgpath

            row = pgpath.head(conn, negotiation_id)
        if row is None:
            return None
        version, state, data, last_hash = row
        return Head(from_snapshot(negotiation_id, state, version, data), last_hash)

    def current_head(self, negotiation_id: str) -> Head | None:
        """The negotiation's head as one statement reads it now, in a transaction of its own.

        The read of ``Ledger.get``: on SQLite it goes straight to a pooled
        driver connection, skipping the Core connection and its transaction
        (which cost more than the read); one SELECT is consistent by itself.
        """
        if self.engine.dialect.name != "sqlite":
            with self.reading(single_statement=True) as conn:
                return EventStore.head(conn, negotiation_id)
        with self.translating_errors():
            row = fastpath.read_head(self.engine, negotiation_id)
        if row is None:
            return None
        version, state, data, last_hash = row
        return Head(from_snapshot(negotiation_id, state, version, data), last_hash)

    @staticmethod
    def save_head(conn: Connection, negotiation: Negotiation, last_hash: str, opened_at_position: int | None) -> None:
        """Write the state after an append; ``opened_at_position`` is given for a new negotiation only."""
        values = {"version": negotiation.version, "state": negotiation.state,
                  "snapshot": snapshot(negotiation), "last_hash": last_hash}
        if conn.dialect.name == "sqlite":
            try:
                fastpath.save_head(conn, negotiation.id, negotiation.version, negotiation.state, values["snapshot"],
                                   last_hash, opened_at_position)
            except fastpath.UniqueViolation as e:  # a head already there: another writer opened it first
                raise WriteRace(str(e)) from e
            return
        from . import pgpath

        pgpath.save_head(conn, negotiation.id, negotiation.version, negotiation.state, values["snapshot"], last_hash,
                         opened_at_position)

    @staticmethod
    def told_as_of(conn: Connection, negotiation_id: str, as_of: datetime) -> Negotiation | None:
        """The negotiation as of ``as_of`` when its log is its own story and had opened by then; else None.

        The usual log (no retraction or correction, dates in recording order)
        is its own story: on SQLite it is then folded from bare rows, up to
        ``as_of``, its times compared as stored text (which sorts as the times
        do) and only the kept ones parsed. None sends the caller to the whole
        entries, which tell any other story (and name what had not happened).
        """
        if conn.dialect.name != "sqlite":
            return None
        rows = fastpath.story_rows(conn, negotiation_id)
        if not rows or not _is_own_story(rows):
            return None
        moment = fastpath.utc_text(as_of)
        kept = [row for row in rows if row[3] <= moment]
        if not kept:
            return None
        return _times_parsed(fold_rows(negotiation_id, kept), version=rows[-1][0])

    @staticmethod
    def version(conn: Connection, negotiation_id: str) -> int:
        """The negotiation's latest version; 0 when it has no events."""
        query = select(heads.c.version).where(heads.c.negotiation_id == negotiation_id)
        return conn.scalar(query) or 0

    @staticmethod
    def by_ids(conn: Connection, event_ids: Sequence[str], chunk: int = 1000) -> dict[str, RecordedEvent]:
        """The stored events among ``event_ids``, looked up a chunk at a time (drivers cap parameters)."""
        found: dict[str, RecordedEvent] = {}
        for start in range(0, len(event_ids), chunk):
            query = select(*_COLUMNS).where(events.c.event_id.in_(event_ids[start:start + chunk]))
            found.update((row.event_id, _record(row)) for row in conn.execute(query))
        return found

    @staticmethod
    def append(conn: Connection, rows: Sequence[dict[str, Any]]) -> list[int]:
        """Insert event rows in order and return the global positions the database gave them.

        Each row's sources go to ``entry_sources`` in the same transaction.
        """
        if conn.dialect.name != "sqlite":
            from . import pgpath

            queued = pgpath.append(conn, rows)
            if queued is not None:  # in a writing transaction: queued with its COMMIT
                return queued
            positions = list(conn.scalars(_APPEND, rows))
            named = [{"source": source, "position": position, "negotiation_id": row["negotiation_id"]}
                     for position, row in zip(positions, rows) for source in dict.fromkeys(row["sources"])]
            if named:
                conn.execute(entry_sources.insert(), named)
            return positions
        # SQLite gives an INTEGER PRIMARY KEY the next rowid and this writer holds
        # the only write lock, so the rows get consecutive positions ending at the
        # last one inserted; RETURNING would cost more than it tells.
        try:
            last = fastpath.append(conn, rows)
        except fastpath.UniqueViolation as e:
            raise WriteRace(str(e)) from e
        return list(range(last - len(rows) + 1, last + 1))

    @staticmethod
    def all_after(conn: Connection, after: int, limit: int | None) -> list[RecordedEvent]:
        query = select(*_COLUMNS).where(events.c.position > after).order_by(events.c.position)
        if limit is not None:
            query = query.limit(limit)
        return [_record(row) for row in conn.execute(query)]

    @staticmethod
    def following(conn: Connection, after: int, limit: int, *, negotiation_id: str | None = None,
                  types: Sequence[str] | None = None) -> tuple[list[RecordedEvent], int]:
        """The entries after ``after`` that match, in position order (at most ``limit``), and how far
        the log was read: the last one's position if ``limit`` were found, else the log's end.

        Positions are handed out in commit order (see ``writing``), so a reader that
        goes on from the position returned never skips an entry nor sees one twice.
        Run it in one read transaction: the end and the entries are of one moment.
        """
        end = EventStore.end_of_log(conn)
        if end <= after:
            return [], after
        if conn.dialect.name == "sqlite":  # the rows straight from the driver: the hot loop of a projection
            found = [RecordedEvent(*fields) for fields in fastpath.entries(conn, after, end, limit, negotiation_id,
                                                                           types)]
            return found, found[-1].position if len(found) == limit else end
        query = select(*_COLUMNS).where(events.c.position > after, events.c.position <= end)
        if negotiation_id is not None:
            query = query.where(events.c.negotiation_id == negotiation_id)
        if types is not None:
            query = query.where(events.c.type.in_(types))
        found = [_record(row) for row in conn.execute(query.order_by(events.c.position).limit(limit))]
        return found, found[-1].position if len(found) == limit else end

    @staticmethod
    def end_of_log(conn: Connection) -> int:
        """The position of the log's last entry; 0 for an empty log."""
        return conn.scalar(select(func.max(events.c.position))) or 0

    @staticmethod
    def by_source(conn: Connection, source: str, negotiation_id: str | None = None) -> list[RecordedEvent]:
        """The entries that name ``source``, in position order, found by its index (``entry_sources``)."""
        named = select(entry_sources.c.position).where(entry_sources.c.source == source)
        if negotiation_id is not None:
            named = named.where(entry_sources.c.negotiation_id == negotiation_id)
        query = select(*_COLUMNS).where(events.c.position.in_(named)).order_by(events.c.position)
        return [_record(row) for row in conn.execute(query)]

    @staticmethod
    def every_stream(conn: Connection, page: int = 5000) -> Iterator[RecordedEvent]:
        """Every event, grouped by negotiation in version order, streamed rather than loaded whole."""
        query = select(*_COLUMNS).order_by(events.c.negotiation_id, events.c.version)
        for row in conn.execution_options(yield_per=page).execute(query):
            yield _record(row)

    @staticmethod
    def in_log_order(conn: Connection, page: int = 5000) -> Iterator[RecordedEvent]:
        """Every entry in position order, streamed rather than loaded whole."""
        query = select(*_COLUMNS).order_by(events.c.position)
        for row in conn.execution_options(yield_per=page).execute(query):
            yield _record(row)

    @staticmethod
    def indexed_sources(conn: Connection, page: int = 5000) -> Iterator[tuple[int, str, str]]:
        """Every row of the index of sources as (position, source, negotiation_id), in position order."""
        query = select(entry_sources.c.position, entry_sources.c.source, entry_sources.c.negotiation_id
                       ).order_by(entry_sources.c.position)
        for position, source, negotiation_id in conn.execution_options(yield_per=page).execute(query):
            yield position, source, negotiation_id

    @staticmethod
    def rebuild_all(conn: Connection) -> Iterator[Negotiation]:
        """Every negotiation folded from its whole log, one at a time, the log streamed in pages."""
        if conn.dialect.name != "sqlite":
            rows = conn.execution_options(yield_per=5000).execute(_REBUILD)
            for negotiation_id, stream in groupby(rows, key=itemgetter(0)):
                folded = [tuple(row)[1:] for row in stream]
                if _is_own_story(folded):
                    yield fold_rows(negotiation_id, folded)
                else:
                    yield fold_log(negotiation_id, EventStore.stream(conn, negotiation_id))
            return
        # The hot loop of a full rebuild: rows straight from the driver, JSON
        # decoded as the column stores it, times parsed only for the few the
        # fold keeps (the first event's, the last one's and the deal's).
        decode = fastpath.read_json

        def finish(negotiation_id: str, rows: list[tuple[int, str, Any, Any]]) -> Negotiation:
            if not _is_own_story(rows):  # late events or corrections: the story is not the log's order
                return fold_log(negotiation_id, EventStore.stream(conn, negotiation_id))
            return _times_parsed(fold_rows(negotiation_id, rows))

        current, folded = "", cast(list[tuple[int, str, Any, Any]], [])
        for page in fastpath.event_pages(conn):
            for negotiation_id, version, event_type, data, occurred_at in page:
                if negotiation_id != current:
                    if folded:
                        yield finish(current, folded)
                    current, folded = negotiation_id, []
                folded.append((version, event_type, decode(data), occurred_at))
        if folded:
            yield finish(current, folded)

    @staticmethod
    def negotiation_ids(conn: Connection) -> list[str]:
        return list(conn.scalars(select(heads.c.negotiation_id).order_by(heads.c.opened_at_position)))
