"""The log on PostgreSQL: a recorder that owns its connections and its transactions, on psycopg 3.

The log's reads and writes go through a ``psycopg_pool.ConnectionPool`` of
connections in autocommit; the recorder sends ``BEGIN`` and ``COMMIT``
itself, in psycopg's pipeline mode, so it decides what travels together. A
SQLAlchemy ``Engine`` on the same database (``engine``) is kept for what uses
Core: Alembic's migrations and the projections' own tables.

On a local server a round trip costs more than the statements themselves,
so the hot paths count them:

* ``current_head`` (the read of ``Ledger.get``): one. The prepared SELECT
  runs in autocommit: no BEGIN, no COMMIT.
* an append (``writing()``, ``head``, ``append``, ``save_head``, commit):
  two. (1) ``BEGIN``, the append lock (``pg_advisory_xact_lock``), the
  position sequence's state and the first read (the head) go together;
  (2) the events, their ``entry_sources`` rows, the head's write and
  ``COMMIT`` go together. The positions are known before the inserts are
  sent: the lock is held, so the sequence hands out the next ones in order,
  and the insert checks every one it draws against the one expected (a
  writer that did not take the lock makes the append fail, never store a
  wrong position).
* a read in a writing transaction after writes were queued first sends the
  queue (it sees the writes); ``reading()`` takes one REPEATABLE READ
  snapshot, its BEGIN sent with its first statement.

Errors: every driver error becomes ``StorageError``, a unique violation
``WriteRace``. A connection that broke, or that is not idle when its
transaction ends, is closed, so the pool never hands it out again; a pooled
one is looked at on checkout (its socket must have nothing to read) without
a round trip. When the connection is lost after COMMIT was sent and before
its answer came, the outcome is asked on another connection, after taking the
append lock (so the lost transaction has ended): a batch that is stored is a
success, one that is not raises ``StorageError``. So every write that
returned is in the log and every write that raised is not.

Values are sent as Core sends them for the column types of ``schema.py``:
JSON as ``orjson`` writes it, cast to ``jsonb``; times in UTC (a naive one is
refused); event ids as text read by ``uuid``. Rows are read back as Core
reads them: event ids as text, times aware in UTC, JSON decoded by ``orjson``.
"""

from __future__ import annotations

import itertools
import select
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import orjson
import psycopg
import psycopg.errors
from psycopg.pq import TransactionStatus
from psycopg.rows import TupleRow
from psycopg.types.json import set_json_loads
from psycopg_pool import ConnectionPool
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError

from ..domain.aggregate import Negotiation, snapshot
from ..domain.entries import RecordedEvent, recorded_event
from ..domain.sources import outlets, read_sources, stored_outlets, stored_sources
from ..errors import StorageError
from . import migrate
from .core import CoreReads
from .recorder import EventRow, Head, SourceCount, StoryRow
from .schema import CORRECTIONS_ONLY
from .waiting import NotificationWaiter, Waiter
from .writers import APPEND_LOCK_KEY, WriteRace

Conn = psycopg.Connection[TupleRow]

#: The sequence behind ``negotiation_events.position`` (a ``BIGSERIAL``, migration 0001).
POSITION_SEQUENCE = "negotiation_events_position_seq"
#: Rows a streamed read fetches at a time.
PAGE = 5000
#: How long the look-up after a lost COMMIT waits for the append lock, at most.
SETTLE_LOCK_TIMEOUT = "30s"

BEGIN_WRITE = "BEGIN"
BEGIN_READ = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
LOCK = "SELECT pg_advisory_xact_lock(%s)"
SEQUENCE_STATE = f"SELECT last_value, is_called FROM {POSITION_SEQUENCE}"

#: The columns of an entry, in the order of ``RecordedEvent``'s fields.
COLUMNS = ("event_id::text, negotiation_id, version, position, type, data, occurred_at, recorded_at, sources, "
           "hash, schema_version, reported_at, commit_id")
ENTRIES = f"SELECT {COLUMNS} FROM negotiation_events"
SELECT_HEAD = "SELECT version, state, snapshot, last_hash FROM negotiation_heads WHERE negotiation_id = %s"
SELECT_VERSION = "SELECT version FROM negotiation_heads WHERE negotiation_id = %s"
END_OF_LOG = "SELECT coalesce(max(position), 0) FROM negotiation_events"
COUNT = "SELECT count(*) FROM negotiation_events"
#: Two processes migrating one fresh database queue on it: a Core transaction takes no append lock.
MIGRATION_LOCK = "SELECT pg_advisory_xact_lock(hashtext('negotiation-migrations'))"
#: A projection's runners queue on a lock of their own; the log's append lock is not taken.
PROJECTION_LOCK = "SELECT pg_advisory_xact_lock(hashtext(:key))"
STREAM = f"{ENTRIES} WHERE negotiation_id = %s ORDER BY version"
STREAM_UNTIL = f"{ENTRIES} WHERE negotiation_id = %s AND version <= %s ORDER BY version"
STORY_ROWS = "SELECT version, type, data, occurred_at FROM negotiation_events WHERE negotiation_id = %s ORDER BY version"
EVERY_STORY_ROW = ("SELECT negotiation_id, version, type, data, occurred_at FROM negotiation_events "
                   "ORDER BY negotiation_id, version")
BY_IDS = f"{ENTRIES} WHERE event_id = ANY(%s::uuid[])"
ALL_AFTER = f"{ENTRIES} WHERE position > %s ORDER BY position LIMIT %s"
BY_SOURCE = (f"{ENTRIES} WHERE position IN (SELECT position FROM entry_sources WHERE source = %s) "
             "ORDER BY position")
BY_SOURCE_IN = (f"{ENTRIES} WHERE position IN (SELECT position FROM entry_sources WHERE source = %s "
                "AND negotiation_id = %s) ORDER BY position")
SOURCE_COUNTS = "SELECT source, count(*), count(DISTINCT negotiation_id) FROM entry_sources GROUP BY source"
CORRECTIONS = f"SELECT type, data FROM negotiation_events WHERE {CORRECTIONS_ONLY}"
TITLES = "SELECT negotiation_id, title FROM negotiation_titles"
SAVE_TITLE = ("INSERT INTO negotiation_titles (negotiation_id, title) VALUES (%s, %s) "
              "ON CONFLICT (negotiation_id) DO UPDATE SET title = EXCLUDED.title")
EVERY_STREAM = f"{ENTRIES} ORDER BY negotiation_id, version"
IN_LOG_ORDER = f"{ENTRIES} ORDER BY position"
INDEXED_SOURCES = "SELECT position, source, negotiation_id FROM entry_sources ORDER BY position, source"
NEGOTIATION_IDS = "SELECT negotiation_id FROM negotiation_heads ORDER BY opened_at_position"

# The rows go as one JSON document (one parameter, unpacked by the server's C code). Each position drawn
# from the sequence is checked against the one expected; a mismatch makes the cast of the message to bigint
# fail, so the transaction is refused with the message, never stored with another position.
INSERT_EVENTS = (
    "INSERT INTO negotiation_events (position, event_id, negotiation_id, version, type, data, schema_version, "
    "occurred_at, recorded_at, sources, hash, reported_at, commit_id) "
    f"SELECT CASE WHEN nextval('{POSITION_SEQUENCE}') = e.position THEN e.position "
    "ELSE ('position ' || e.position || ' was taken by a writer that did not hold the append lock')::bigint END, "
    "e.event_id, e.negotiation_id, e.version, e.type, e.data, e.schema_version, e.occurred_at, e.recorded_at, "
    "e.sources, e.hash, e.reported_at, e.commit_id "
    "FROM jsonb_to_recordset(%s::jsonb) AS e(position bigint, event_id uuid, negotiation_id varchar, "
    "version integer, type varchar, data jsonb, schema_version smallint, occurred_at timestamptz, "
    "recorded_at timestamptz, sources jsonb, hash varchar, reported_at timestamptz, commit_id bigint)"
)
INSERT_SOURCES = (
    "INSERT INTO entry_sources (source, position, negotiation_id) "
    "SELECT s->>0, (s->>1)::bigint, s->>2 FROM jsonb_array_elements(%s::jsonb) AS s"
)
INSERT_HEAD = (
    "INSERT INTO negotiation_heads (negotiation_id, version, state, snapshot, last_hash, opened_at_position) "
    "VALUES (%s, %s, %s, %s::jsonb, %s, %s)"
)
UPDATE_HEAD = (
    "UPDATE negotiation_heads SET version = %s, state = %s, snapshot = %s::jsonb, last_hash = %s "
    "WHERE negotiation_id = %s"
)
MOVE_SEQUENCE = f"SELECT setval('{POSITION_SEQUENCE}', %s)"
COPY_EVENTS = ("COPY negotiation_events (position, event_id, negotiation_id, version, type, data, schema_version, "
               "occurred_at, recorded_at, sources, hash, reported_at, commit_id) FROM STDIN")
COPY_SOURCES = "COPY entry_sources (source, position, negotiation_id) FROM STDIN"
STORED_IDS = "SELECT event_id::text, position FROM negotiation_events WHERE event_id = ANY(%s::uuid[])"
STORED_HEADS = ("SELECT negotiation_id, version, last_hash FROM negotiation_heads "
                "WHERE negotiation_id = ANY(%s::varchar[])")


def json_text(value: Any) -> str:
    """A JSON column's value as Core's engine writes it (``orjson``)."""
    return orjson.dumps(value).decode()


def utc(moment: datetime) -> datetime:
    """A ``UTCDateTime`` value as Core binds it on PostgreSQL: aware, in UTC."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return moment.astimezone(UTC)


def describe(error: BaseException) -> str:
    """An error's first line, or its type's name when it has no message."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


@contextmanager
def translated() -> Iterator[None]:
    """psycopg's errors as the ledger reports them: a unique violation is a ``WriteRace``."""
    try:
        yield
    except psycopg.errors.UniqueViolation as e:
        raise WriteRace(describe(e)) from e
    except psycopg.Error as e:
        raise StorageError(f"database error: {describe(e)}") from e


def _has_input(fileno: int) -> bool:
    """Whether the socket has something to read (or an error, or a hang-up), without waiting."""
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fileno, select.POLLIN | select.POLLERR | select.POLLHUP)
        return bool(poller.poll(0))
    readable, _, broken = select.select([fileno], [], [fileno], 0)  # no poll() on Windows
    return bool(readable or broken)


def check_idle(conn: Conn) -> None:
    """The pool's check on checkout: refuse a connection that is closed or whose server has spoken.

    An idle connection of the log (never in LISTEN) has nothing to read
    unless its backend is gone: the server then sends the reason and closes
    the socket. The check costs a system call, not a round trip.
    """
    if conn.closed or conn.broken:
        raise psycopg.OperationalError("the connection is closed")
    try:
        waiting = _has_input(conn.fileno())
    except (OSError, ValueError) as e:
        conn.close()
        raise psycopg.OperationalError(str(e)) from e
    if waiting:
        conn.close()  # so that the pool discards it and makes another, never hands it out again
        raise psycopg.OperationalError("the server closed the connection or ended its backend")


def _configure(conn: Conn) -> None:
    """A new connection: JSON decoded by orjson (its times are read in UTC: see ``_conninfo``)."""
    set_json_loads(orjson.loads, conn)


def _conninfo(url: URL) -> str:
    """libpq's connection string for a SQLAlchemy URL: its parts, and its query as libpq's parameters.

    The session's time zone is UTC from its start (no round trip of its own),
    so times are read back aware in UTC, as Core's ``UTCDateTime`` reads them.
    """
    parts: dict[str, str | int] = {key: value for key, value in (
        ("host", url.host), ("port", url.port), ("dbname", url.database), ("user", url.username),
        ("password", url.password)) if value is not None}
    for key, given in url.query.items():
        parts[key] = given if isinstance(given, str) else given[-1]
    parts["options"] = f"-c TimeZone=UTC {parts.get('options', '')}".strip()
    return psycopg.conninfo.make_conninfo("", **parts)


def _entry(row: TupleRow) -> RecordedEvent:
    return recorded_event(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], read_sources(row[8]),
                          row[9], row[10], row[11], row[12])


def _head(negotiation_id: str, row: TupleRow | None) -> Head | None:
    if row is None:
        return None
    return Head.of(negotiation_id, row[0], row[1], row[2], row[3])


def _usable(conn: Conn) -> bool:
    return not conn.closed and not conn.broken


#: How the log's connections are made: in autocommit, preparing only the statements marked.
CONNECTION_OPTIONS: dict[str, Any] = {"autocommit": True, "prepare_threshold": None}
#: The look-up after a lost COMMIT connects this many times at most, waiting longer each time.
SETTLE_ATTEMPTS = 6

#: The classes of SQLSTATE that say the connection, not the statement, failed.
LOST = ("08", "57")


def _answer_lost(conn: Conn, error: psycopg.Error) -> bool:
    """Whether ``error`` may hide the outcome of a COMMIT sent: the connection ended, or the server did."""
    return not _usable(conn) or error.sqlstate is None or error.sqlstate[:2] in LOST


class _Session:
    """One transaction on one connection of the pool: the reads every transaction offers.

    It begins with its first statement, which goes with its BEGIN (and, when
    writing, the lock). Once it has ended, nothing more is sent on it: an
    iterator left half-read refuses to go on.
    """

    def __init__(self, conn: Conn) -> None:
        self.conn = conn
        self.live = True
        self.begun = False
        self.cursor_names = itertools.count(1)

    # -- what each kind of transaction does before a statement ------------------------------------

    def _first(self, query: str, params: Sequence[Any]) -> psycopg.Cursor[TupleRow]:
        """Begin the transaction and run ``query`` in the same round trip; its cursor, results fetched."""
        raise NotImplementedError

    def _ready(self) -> None:
        """Make the connection ready for a statement that is not pipelined (begun, nothing queued)."""
        raise NotImplementedError

    def _check_live(self) -> None:
        if not self.live:
            raise StorageError("the transaction has ended: read the log inside it")

    # -- statements ------------------------------------------------------------------------------

    def _execute(self, query: str, params: Sequence[Any] = ()) -> psycopg.Cursor[TupleRow]:
        self._check_live()
        with translated():
            if not self.begun:
                return self._first(query, params)
            self._ready()
            return self.conn.execute(query, params, prepare=True)

    def _all(self, query: str, params: Sequence[Any] = ()) -> list[TupleRow]:
        cursor = self._execute(query, params)
        with translated():
            return cursor.fetchall()

    def _one(self, query: str, params: Sequence[Any] = ()) -> TupleRow | None:
        cursor = self._execute(query, params)
        with translated():
            return cursor.fetchone()

    def _streamed(self, query: str, page: int = PAGE) -> Iterator[TupleRow]:
        """The rows of ``query`` a page at a time, from a cursor on the server, in this transaction."""
        self._check_live()
        with translated():
            if not self.begun:
                self._first("", ())
            self._ready()
            cursor = self.conn.cursor(name=f"negotiation_stream_{next(self.cursor_names)}")
        try:
            with translated():
                cursor.execute(query)
            while True:
                self._check_live()
                with translated():
                    self._ready()  # a writer's queued writes go first
                    rows = cursor.fetchmany(page)
                if not rows:
                    return
                yield from rows
        finally:
            if self.live and _usable(self.conn):  # after the transaction, the server closed it itself
                with translated():
                    cursor.close()

    # -- Reader ----------------------------------------------------------------------------------

    def head(self, negotiation_id: str) -> Head | None:
        return _head(negotiation_id, self._one(SELECT_HEAD, (negotiation_id,)))

    def version(self, negotiation_id: str) -> int:
        row = self._one(SELECT_VERSION, (negotiation_id,))
        return int(row[0]) if row is not None else 0

    def stream(self, negotiation_id: str, until_version: int | None = None) -> list[RecordedEvent]:
        if until_version is None:
            return [_entry(row) for row in self._all(STREAM, (negotiation_id,))]
        return [_entry(row) for row in self._all(STREAM_UNTIL, (negotiation_id, until_version))]

    def story_rows(self, negotiation_id: str) -> list[StoryRow]:
        return [(row[0], row[1], row[2], row[3]) for row in self._all(STORY_ROWS, (negotiation_id,))]

    def every_story_row(self) -> Iterator[tuple[str, StoryRow]]:
        for row in self._streamed(EVERY_STORY_ROW):
            yield row[0], (row[1], row[2], row[3], row[4])

    def by_ids(self, event_ids: Sequence[str]) -> dict[str, RecordedEvent]:
        if not event_ids:
            return {}
        return {entry.event_id: entry for entry in map(_entry, self._all(BY_IDS, (list(event_ids),)))}

    def all_after(self, after: int, limit: int | None = None) -> list[RecordedEvent]:
        return [_entry(row) for row in self._all(ALL_AFTER, (after, limit))]

    def following(self, after: int, limit: int, *, negotiation_id: str | None = None,
                  types: Sequence[str] | None = None) -> tuple[list[RecordedEvent], int]:
        end = self.end_of_log()
        if end <= after:
            return [], after
        query = f"{ENTRIES} WHERE position > %s AND position <= %s"
        params: list[Any] = [after, end]
        if negotiation_id is not None:
            query, params = f"{query} AND negotiation_id = %s", [*params, negotiation_id]
        if types is not None:
            query, params = f"{query} AND type = ANY(%s::varchar[])", [*params, list(types)]
        found = [_entry(row) for row in self._all(f"{query} ORDER BY position LIMIT %s", [*params, limit])]
        return found, found[-1].position if len(found) == limit else end

    def end_of_log(self) -> int:
        row = self._one(END_OF_LOG)
        return int(row[0]) if row is not None else 0

    def count(self) -> int:
        row = self._one(COUNT)
        return int(row[0]) if row is not None else 0

    def by_source(self, source: str, negotiation_id: str | None = None) -> list[RecordedEvent]:
        if negotiation_id is None:
            return [_entry(row) for row in self._all(BY_SOURCE, (source,))]
        return [_entry(row) for row in self._all(BY_SOURCE_IN, (source, negotiation_id))]

    def source_counts(self) -> list[SourceCount]:
        return [SourceCount(row[0], row[1], row[2]) for row in self._all(SOURCE_COUNTS)]

    def corrections(self) -> list[tuple[str, Any]]:
        return [(row[0], row[1]) for row in self._all(CORRECTIONS)]

    def titles(self) -> dict[str, str]:
        return {row[0]: row[1] for row in self._all(TITLES)}

    def every_stream(self) -> Iterator[RecordedEvent]:
        return map(_entry, self._streamed(EVERY_STREAM))

    def in_log_order(self) -> Iterator[RecordedEvent]:
        return map(_entry, self._streamed(IN_LOG_ORDER))

    def indexed_sources(self) -> Iterator[tuple[int, str, str]]:
        for row in self._streamed(INDEXED_SOURCES):
            yield row[0], row[1], row[2]

    def negotiation_ids(self) -> list[str]:
        return [row[0] for row in self._all(NEGOTIATION_IDS)]


class PostgresReading(_Session):
    """A read transaction: one REPEATABLE READ snapshot, its BEGIN sent with its first statement."""

    def _first(self, query: str, params: Sequence[Any]) -> psycopg.Cursor[TupleRow]:
        self.begun = True
        with self.conn.pipeline():
            self.conn.execute(BEGIN_READ)
            cursor = self.conn.execute(query, params, prepare=True) if query else None
        return cast("psycopg.Cursor[TupleRow]", cursor)

    def _ready(self) -> None:
        pass

    def end(self) -> None:
        """End the snapshot's transaction, if it began.

        Nothing was written, so its outcome does not matter: a connection that
        cannot end it is closed, and what was read stands.
        """
        live, self.live = self.live, False
        if live and self.begun and _usable(self.conn):
            try:
                self.conn.execute("COMMIT")
            except psycopg.Error:
                self.conn.close()


class PostgresWriting(_Session):
    """A writing transaction: it holds the append lock from its first statement to its commit.

    Its writes are queued in a pipeline and go with the COMMIT, or with the
    next read (which then sees them).
    """

    def __init__(self, conn: Conn) -> None:
        super().__init__(conn)
        self.next_position = 0
        self.commit_id: int | None = None
        #: The pipeline holding the writes queued and not sent yet (``conn.pipeline()``, entered).
        self.pipeline: AbstractContextManager[psycopg.Pipeline] | None = None
        #: What this transaction wrote, to look for if the answer to its COMMIT is lost.
        self.event_ids: list[str] = []
        self.heads: dict[str, tuple[int, str]] = {}

    def _first(self, query: str, params: Sequence[Any]) -> psycopg.Cursor[TupleRow]:
        """BEGIN, the lock, the sequence's state and ``query``: one round trip."""
        self.begun = True
        with self.conn.pipeline():
            self.conn.execute(BEGIN_WRITE)
            self.conn.execute(LOCK, (APPEND_LOCK_KEY,), prepare=True)
            sequence = self.conn.execute(SEQUENCE_STATE, prepare=True)
            cursor = self.conn.execute(query, params, prepare=True) if query else None
        state = sequence.fetchone()
        assert state is not None
        self.next_position = state[0] + 1 if state[1] else state[0]
        return cast("psycopg.Cursor[TupleRow]", cursor)

    def _open(self) -> None:
        """Begin and take the lock, if not done yet."""
        self._check_live()
        if not self.begun:
            with translated():
                self._first("", ())

    def _ready(self) -> None:
        self._flush()

    def _flush(self) -> None:
        """Send what is queued and wait for the answers; a refused statement raises here."""
        pipeline, self.pipeline = self.pipeline, None
        if pipeline is not None:
            with translated():
                pipeline.__exit__(None, None, None)

    def _queue(self, query: str, params: Sequence[Any] = ()) -> None:
        """Queue a statement whose result is not read: it goes with the next round trip."""
        with translated():
            if self.pipeline is None:
                self.pipeline = self.conn.pipeline()
                self.pipeline.__enter__()
            self.conn.execute(query, params, prepare=True)

    # -- Writer ----------------------------------------------------------------------------------

    def append(self, rows: Sequence[EventRow]) -> list[int]:
        if not rows:
            return []
        self._open()
        first = self.next_position
        if self.commit_id is None:
            self.commit_id = first
        positions = list(range(first, first + len(rows)))
        batch: list[dict[str, Any]] = []
        named: list[tuple[str, int, str]] = []
        for position, row in zip(positions, rows):
            batch.append({**row, "position": position, "commit_id": self.commit_id, "occurred_at": utc(row["occurred_at"]),
                          "recorded_at": utc(row["recorded_at"]), "reported_at": utc(row["reported_at"])})
            named.extend((source, position, row["negotiation_id"]) for source in stored_outlets(row["sources"]))
        self._queue(INSERT_EVENTS, (json_text(batch),))
        if named:
            self._queue(INSERT_SOURCES, (json_text(named),))
        self.next_position = first + len(rows)
        self.event_ids.extend(row["event_id"] for row in rows)
        return positions

    def save_head(self, negotiation: Negotiation, last_hash: str, opened_at_position: int | None) -> None:
        self._open()
        data = json_text(snapshot(negotiation))
        if opened_at_position is None:
            self._queue(UPDATE_HEAD, (negotiation.version, negotiation.state, data, last_hash, negotiation.id))
        else:
            self._queue(INSERT_HEAD, (negotiation.id, negotiation.version, negotiation.state, data, last_hash,
                                      opened_at_position))
        self.heads[negotiation.id] = (negotiation.version, last_hash)

    def save_title(self, negotiation_id: str, title: str) -> None:
        self._open()
        self._queue(SAVE_TITLE, (negotiation_id, title))

    def insert_as_stored(self, entries: Sequence[RecordedEvent]) -> None:
        if not entries:
            return
        self._open()
        self._flush()  # COPY does not run in a pipeline
        with translated(), self.conn.cursor() as cursor:
            with cursor.copy(COPY_EVENTS) as copy:
                for entry in entries:
                    copy.write_row((entry.position, entry.event_id, entry.negotiation_id, entry.version,
                                    entry.type, json_text(entry.data), entry.schema_version, utc(entry.occurred_at),
                                    utc(entry.recorded_at), json_text(stored_sources(entry.sources)), entry.hash,
                                    utc(entry.reported_at), entry.commit_id))
            with cursor.copy(COPY_SOURCES) as copy:
                for entry in entries:
                    for source in outlets(entry.sources):
                        copy.write_row((source, entry.position, entry.negotiation_id))
        highest = max(entry.position for entry in entries)
        if highest >= self.next_position:
            self._queue(MOVE_SEQUENCE, (highest,))
            self.next_position = highest + 1
        self.event_ids.extend(entry.event_id for entry in entries)

    # -- the end ---------------------------------------------------------------------------------

    def commit(self, settle: Callable[[PostgresWriting, BaseException], None]) -> None:
        """COMMIT with whatever is queued; ``settle`` decides the outcome when the answer is lost."""
        self._check_live()
        self.live = False
        if not self.begun:
            return
        try:
            if self.pipeline is None:
                self.pipeline = self.conn.pipeline()
                self.pipeline.__enter__()
            self.conn.execute("COMMIT")
            pipeline, self.pipeline = self.pipeline, None
            pipeline.__exit__(None, None, None)
        except psycopg.Error as e:
            if _answer_lost(self.conn, e):  # the COMMIT may have been carried out: ask
                self.conn.close()  # and end the transaction, if the server still runs it
                settle(self, e)
                return
            self._roll_back()
            with translated():
                raise e
        except BaseException:
            if _usable(self.conn):
                self.conn.close()  # stopped half-way: never handed out again
            raise

    def abort(self) -> None:
        """Roll back: the queued writes go with the ROLLBACK, in one round trip."""
        self.live = False
        if not self.begun or not _usable(self.conn):
            return
        try:
            if self.pipeline is None:
                self.conn.execute("ROLLBACK")
                return
            self.conn.execute("ROLLBACK")
            pipeline, self.pipeline = self.pipeline, None
            try:
                pipeline.__exit__(None, None, None)
            except psycopg.Error:
                pass  # a queued write refused: the ROLLBACK was skipped, sent again below
            self._roll_back()
        except psycopg.Error:
            self.conn.close()

    def _roll_back(self) -> None:
        """End a transaction a refused statement left open; a connection that cannot is closed."""
        if not _usable(self.conn):
            return
        try:
            if self.conn.info.transaction_status != TransactionStatus.IDLE:
                self.conn.execute("ROLLBACK")
        except psycopg.Error:
            self.conn.close()


class PostgresRecorder:
    """The log on PostgreSQL (see the module's docstring)."""

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 10, timeout: float = 30.0) -> None:
        """A recorder on ``url`` (``postgresql://`` or ``postgresql+psycopg://``); the schema is not touched."""
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise StorageError(f"{url!r} is not a database URL; use postgresql+psycopg://USER@HOST/DB") from None
        if parsed.get_backend_name() != "postgresql" or parsed.get_driver_name() not in ("psycopg", "psycopg2"):
            raise StorageError(f"{parsed.render_as_string(hide_password=True)} is not a PostgreSQL URL; "
                               "use postgresql+psycopg://USER@HOST/DB")
        parsed = parsed.set(drivername="postgresql+psycopg")
        self.url = parsed.render_as_string(hide_password=True)
        self.revisions: tuple[str | None, str | None] = (None, None)
        self.engine: Engine = create_engine(parsed, json_serializer=json_text, json_deserializer=orjson.loads,
                                            pool_pre_ping=True)
        self.conninfo = _conninfo(parsed)
        self.pool: ConnectionPool[Conn] = ConnectionPool(
            # Only the statements marked are prepared, each with its first run: never a round trip of its own.
            self.conninfo, kwargs=CONNECTION_OPTIONS, min_size=min_size,
            max_size=max_size, timeout=timeout, configure=_configure, check=check_idle, open=False,
            name="negotiation-log")
        self.pool.open(wait=False)

    @classmethod
    def open(cls, url: str, *, upgrade: bool = True, **pool: Any) -> PostgresRecorder:
        """A recorder on ``url``, its schema brought to the latest revision (``upgrade``) or required there."""
        recorder = cls(url, **pool)
        try:
            try:
                if upgrade:
                    recorder.revisions = migrate.upgrade(recorder.engine, lock=MIGRATION_LOCK)
                else:
                    migrate.require_head(recorder.engine)
                    recorder.revisions = (migrate.head_revision(), migrate.head_revision())
            except DBAPIError as e:
                raise StorageError(f"database error: {describe(e.orig or e)}") from e
        except BaseException:
            recorder.close()
            raise
        return recorder

    def __enter__(self) -> PostgresRecorder:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- connections -------------------------------------------------------------------------------

    def _take(self) -> Conn:
        with translated():
            return self.pool.getconn()

    def _give_back(self, conn: Conn) -> None:
        """Back to the pool, or closed first (the pool then replaces it) when broken or not idle."""
        if _usable(conn) and conn.info.transaction_status != TransactionStatus.IDLE:
            conn.close()
        self.pool.putconn(conn)

    # -- transactions ------------------------------------------------------------------------------

    @contextmanager
    def _reading(self) -> Iterator[PostgresReading]:
        conn = self._take()
        session = PostgresReading(conn)
        try:
            yield session
        finally:
            try:
                session.end()
            finally:
                self._give_back(conn)

    def reading(self) -> AbstractContextManager[PostgresReading]:
        """A read transaction: one REPEATABLE READ snapshot of the log."""
        return self._reading()

    @contextmanager
    def _writing(self) -> Iterator[PostgresWriting]:
        conn = self._take()
        session = PostgresWriting(conn)
        try:
            try:
                yield session
            except BaseException:
                session.abort()
                raise
            session.commit(self._settle)
        finally:
            session.live = False
            self._give_back(conn)

    def writing(self) -> AbstractContextManager[PostgresWriting]:
        """A writing transaction holding the append lock from its first statement to its commit."""
        return self._writing()

    def _settle(self, session: PostgresWriting, error: BaseException) -> None:
        """The connection was lost while the COMMIT was on its way: return if it was stored, else raise.

        Asked on another connection after taking the append lock, so the lost
        transaction has ended, committed or not; what it wrote is all there or
        none of it is.
        """
        lost = f"database error: {describe(error)}"
        try:
            stored, heads = self._stored(session.event_ids, list(session.heads))
        except psycopg.Error as e:
            raise StorageError(f"{lost}; whether the write was stored is unknown ({describe(e)})") from error
        if session.event_ids:
            if set(stored) != set(session.event_ids):
                if stored:  # cannot be: a transaction is stored whole
                    raise StorageError(f"{lost}; part of the write was found stored") from error
                raise StorageError(lost) from error
            return
        if session.heads and any(heads.get(key) != value for key, value in session.heads.items()):
            raise StorageError(lost) from error

    def _stored(self, event_ids: Sequence[str],
                negotiation_ids: Sequence[str]) -> tuple[dict[str, int], dict[str, tuple[int, str]]]:
        """The stored positions of ``event_ids`` and heads of ``negotiation_ids``, read under the append lock.

        On a connection of its own, outside the pool (which may be waiting to
        reconnect), tried a few times over a few seconds.
        """
        for attempt in itertools.count():
            try:
                with psycopg.connect(self.conninfo, **CONNECTION_OPTIONS) as conn:
                    with conn.pipeline():
                        conn.execute(BEGIN_WRITE)
                        conn.execute(f"SET LOCAL lock_timeout = '{SETTLE_LOCK_TIMEOUT}'")
                        conn.execute(LOCK, (APPEND_LOCK_KEY,))
                        ids = conn.execute(STORED_IDS, (list(event_ids),))
                        heads = conn.execute(STORED_HEADS, (list(negotiation_ids),))
                        conn.execute("COMMIT")
                    return ({str(row[0]): int(row[1]) for row in ids.fetchall()},
                            {str(row[0]): (int(row[1]), str(row[2])) for row in heads.fetchall()})
            except psycopg.Error:
                if attempt + 1 >= SETTLE_ATTEMPTS:
                    raise
                time.sleep(0.05 * 2 ** attempt)
        raise AssertionError("unreachable")

    # -- single reads ------------------------------------------------------------------------------

    def _single(self, query: str, params: Sequence[Any] = ()) -> TupleRow | None:
        """One statement in autocommit: no BEGIN, no COMMIT, one round trip."""
        conn = self._take()
        try:
            with translated():
                with conn.pipeline():  # prepared with its first run, in the same round trip
                    cursor = conn.execute(query, params, prepare=True)
                return cursor.fetchone()
        finally:
            self._give_back(conn)

    def current_head(self, negotiation_id: str) -> Head | None:
        """The negotiation's head as one prepared SELECT reads it now, in autocommit: one round trip."""
        return _head(negotiation_id, self._single(SELECT_HEAD, (negotiation_id,)))

    def end_of_log(self) -> int:
        row = self._single(END_OF_LOG)
        return int(row[0]) if row is not None else 0

    def waiter(self) -> Waiter:
        """``LISTEN negotiation_events`` on a connection of its own (``waiting.NotificationWaiter``)."""
        return NotificationWaiter(self.engine)

    @contextmanager
    def projection_transaction(self, name: str) -> Iterator[CoreReads]:
        """A write transaction for projection ``name`` on a Core connection: its tables and its checkpoint.

        A transaction-level advisory lock on the projection's name queues a
        second runner of it; the log's append lock is not taken, so writers go
        on meanwhile. (Read committed: the checkpoint read after the lock is
        granted is the one the previous runner committed.)
        """
        try:
            with self.engine.begin() as conn:
                conn.execute(text(PROJECTION_LOCK), {"key": f"projection:{name}"})
                yield CoreReads(conn)
        except IntegrityError as e:
            raise WriteRace(describe(e.orig or e)) from e
        except DBAPIError as e:
            raise StorageError(f"database error: {describe(e.orig or e)}") from e

    def close(self) -> None:
        """Close the pool's connections and dispose of the engine."""
        self.pool.close()
        self.engine.dispose()


if TYPE_CHECKING:
    from .recorder import Recorder, Writer

    def _implements(recorder: PostgresRecorder, writing: PostgresWriting) -> tuple[Recorder, Writer]:
        return recorder, writing
