"""The hot statements on PostgreSQL, as plain SQL on psycopg's connection, with few round trips.

On a local server a round trip costs tens of microseconds: more than the
statement itself. So the log's hot paths count them:

* reading a negotiation's head (``Ledger.get``): one round trip. The one
  SELECT runs in autocommit (no BEGIN, no COMMIT), prepared, on the driver's
  connection of the SQLAlchemy connection (``Connection.connection.driver_connection``).
* an append: two. (1) ``BEGIN``, the advisory lock, the position
  sequence's state and the head's SELECT go together in psycopg's pipeline
  mode; (2) the events, the head's new state with the ``entry_sources``
  rows (one statement) and ``COMMIT`` go together in pipeline mode. A writing transaction sends
  nothing until its first statement, which then follows the lock on the
  wire whatever sends it: this module, SQLAlchemy (an engine event) or the
  driver's cursors (a cursor factory set for the transaction, so the COPY
  of ``negotiation copy`` too). BEGIN is sent in the pipeline with the
  driver in autocommit (psycopg waits for the answer to a BEGIN of its own),
  put back when the transaction ends. The positions are known before the
  inserts are sent: the lock is held, so the sequence hands out the next
  ones in order, and the insert checks every one it draws against the one
  expected (a writer that did not take the lock would make the append
  fail, never store a wrong position).
* a pooled connection is checked on checkout without a round trip (its
  socket must have nothing to read: a server that closed it, or killed its
  backend, has said so there), instead of SQLAlchemy's pre-ping ``SELECT``.

The rows of an append go as one JSON document that the server unpacks
(``jsonb_to_recordset``): one parameter to bind instead of one per value.
Values are sent as Core sends them for the column types of ``schema.py``
(a test compares the rows): JSON as the engine's serialiser writes it, cast
to ``jsonb``; times in UTC (a naive one is refused, as Core refuses it), read
by ``timestamptz``; event ids as text read by ``uuid``. The events' INSERT
goes through SQLAlchemy (``exec_driver_sql``), so the engine's statement
events still see every write of the log.
"""

from __future__ import annotations

import select
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import orjson
import psycopg
from sqlalchemy import Connection
from sqlalchemy.exc import DisconnectionError

from ..errors import StorageError
from .writers import APPEND_LOCK_KEY, WriteRace

#: The sequence behind ``negotiation_events.position`` (a ``BIGSERIAL``, migration 0001).
POSITION_SEQUENCE = "negotiation_events_position_seq"

LOCK = "SELECT pg_advisory_xact_lock(%s)"
SEQUENCE_STATE = f"SELECT last_value, is_called FROM {POSITION_SEQUENCE}"
SELECT_HEAD = "SELECT version, state, snapshot, last_hash FROM negotiation_heads WHERE negotiation_id = %s"
#: The sequence's state and a negotiation's head (all NULL when it has none), after the lock: one statement.
SEQUENCE_AND_HEAD = (
    f"SELECT s.last_value, s.is_called, h.version, h.state, h.snapshot, h.last_hash FROM {POSITION_SEQUENCE} AS s "
    "LEFT JOIN negotiation_heads AS h ON h.negotiation_id = %s"
)
# The rows go as one JSON document (one parameter, read by the server's C code): binding a dozen arrays
# costs psycopg several times more. Each position drawn from the sequence is checked against the one
# expected; a mismatch makes the cast of the message to bigint fail, so the transaction is refused with
# the message, never stored with another position.
INSERT_EVENTS = (
    "INSERT INTO negotiation_events (position, event_id, negotiation_id, version, type, data, schema_version, "
    "occurred_at, recorded_at, sources, hash, reported_at) "
    f"SELECT CASE WHEN nextval('{POSITION_SEQUENCE}') = e.position THEN e.position "
    "ELSE ('position ' || e.position || ' was taken by a writer that did not hold the append lock')::bigint END, "
    "e.event_id, e.negotiation_id, e.version, e.type, e.data, e.schema_version, e.occurred_at, e.recorded_at, "
    "e.sources, e.hash, e.reported_at "
    "FROM jsonb_to_recordset(%s::jsonb) AS e(position bigint, event_id uuid, negotiation_id varchar, "
    "version integer, type varchar, data jsonb, schema_version smallint, occurred_at timestamptz, "
    "recorded_at timestamptz, sources jsonb, hash varchar, reported_at timestamptz)"
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
# An append's sources ride with the head's write, one statement fewer: a data-modifying WITH runs whole.
WITH_SOURCES = f"WITH sources AS ({INSERT_SOURCES}) "

#: The execution option that marks a statement queued in a writing transaction's pipeline.
PIPELINED = "negotiation_pipelined"


def json_text(value: Any) -> str:
    """A JSON column's value as the engine's serialiser writes it (``make_engine``)."""
    return orjson.dumps(value).decode()


def utc(moment: datetime) -> datetime:
    """A ``UTCDateTime`` value as Core binds it on PostgreSQL: aware, in UTC."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return moment.astimezone(UTC)


def _driver(conn: Connection) -> psycopg.Connection[Any]:
    return cast("psycopg.Connection[Any]", conn.connection.driver_connection)


def _describe(error: psycopg.Error) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


@contextmanager
def translated(conn: Connection) -> Iterator[None]:
    """psycopg's errors from statements sent to the driver directly, as the store reports Core's.

    A lost connection is invalidated, so the pool never hands it out again.
    """
    try:
        yield
    except psycopg.IntegrityError as e:
        raise WriteRace(_describe(e)) from e
    except psycopg.Error as e:
        if not conn.invalidated:
            driver = conn.connection.driver_connection
            if driver is None or driver.closed or driver.broken:  # lost: never handed out again
                conn.invalidate(e)
        raise StorageError(f"database error: {_describe(e)}") from e


# -- connections from the pool ---------------------------------------------------------------


def _has_input(fileno: int) -> bool:
    """Whether the socket has something to read (or an error, or a hang-up), without waiting."""
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fileno, select.POLLIN | select.POLLERR | select.POLLHUP)
        return bool(poller.poll(0))
    readable, _, broken = select.select([fileno], [], [fileno], 0)  # no poll() on Windows
    return bool(readable or broken)


def check_on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Refuse a pooled connection that is closed or whose server has spoken since it was returned.

    An idle connection of the pool (never in LISTEN) has nothing to read
    unless its backend is gone: the server then sends the reason and closes
    the socket. Raising ``DisconnectionError`` makes the pool replace it.
    The check costs a system call, not a round trip.
    """
    driver = cast("psycopg.Connection[Any]", dbapi_connection)
    if driver.closed or driver.broken:
        raise DisconnectionError("the connection is closed")
    try:
        if _has_input(driver.fileno()):
            raise DisconnectionError("the server closed the connection or ended its backend")
    except (OSError, ValueError, psycopg.Error) as e:
        raise DisconnectionError(str(e)) from e


# -- writing ---------------------------------------------------------------------------------


@dataclass
class _Write:
    """A writing transaction in progress: whether it has sent its lock, its next position, its pipeline."""

    conn: Connection
    driver: psycopg.Connection[Any]
    factory: Any  # the driver's cursor factory, put back once the lock is sent
    opened: bool = False  # BEGIN (or the driver's own) and the lock sent
    began: bool = False  # BEGIN sent here, the driver in autocommit until the transaction ends
    next_position: int = 0
    quiet: Any = None  # a cursor for the statements whose results are not read
    sources: list[tuple[str, int, str]] = field(default_factory=list)  # entry_sources rows not sent yet
    pending: ExitStack = field(default_factory=ExitStack)
    pipelined: bool = False


#: The writing transactions in progress, by the ``id`` of their driver connection.
_WRITES: dict[int, _Write] = {}


def _state(conn: Connection) -> _Write | None:
    return _WRITES.get(id(conn.connection.driver_connection))


class _LockFirst(psycopg.Cursor[Any]):
    """The driver's cursors while a writing transaction has not sent its lock: a statement sends it first.

    So code that uses the driver directly in a writing transaction (the
    COPY of ``negotiation copy``) still runs after the lock.
    """

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        _open_for(self.connection)
        return super().execute(*args, **kwargs)

    def executemany(self, *args: Any, **kwargs: Any) -> None:
        _open_for(self.connection)
        super().executemany(*args, **kwargs)

    def stream(self, *args: Any, **kwargs: Any) -> Any:
        _open_for(self.connection)
        return super().stream(*args, **kwargs)

    def copy(self, *args: Any, **kwargs: Any) -> Any:
        _open_for(self.connection)
        return super().copy(*args, **kwargs)


def _open_for(driver: psycopg.Connection[Any]) -> None:
    state = _WRITES.get(id(driver))
    if state is not None and not state.opened:
        _open(state)


def _open(state: _Write, head_of: str | None = None) -> tuple[Any, ...] | None:
    """Send BEGIN, the lock and the sequence's state (with ``head_of``'s head row): one round trip.

    psycopg waits for the answer to a BEGIN of its own even in pipeline mode,
    so BEGIN is sent here, in the same pipeline, with the driver in
    autocommit until the transaction ends. Returns the head row asked for
    (its values all None when there is none).
    """
    driver, state.opened = state.driver, True
    driver.cursor_factory = state.factory
    quiet = state.quiet = driver.cursor()
    with translated(state.conn):
        if driver.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
            driver.autocommit = state.began = True
        with driver.pipeline():
            if state.began:
                quiet.execute("BEGIN")
            quiet.execute(LOCK, (APPEND_LOCK_KEY,), prepare=True)
            if head_of is None:
                found = driver.execute(SEQUENCE_STATE, prepare=True)
            else:
                found = driver.execute(SEQUENCE_AND_HEAD, (head_of,), prepare=True)
        row = cast("tuple[Any, ...]", found.fetchone())
    state.next_position = row[0] + 1 if row[1] else row[0]
    return row[2:] if head_of is not None else None


def _usable(state: _Write) -> bool:
    return not state.conn.invalidated and not state.driver.closed and not state.driver.broken


@contextmanager
def write_transaction(conn: Connection) -> Iterator[None]:
    """A writing transaction that sends its lock with its first statement and its COMMIT with its last writes.

    BEGIN, the append lock and the first statement (the head's SELECT, for
    an append) go in one round trip; the appends, the head's new state and
    COMMIT in another. Whatever runs first in the transaction, through
    SQLAlchemy, this module or the driver's cursors, runs after the lock.
    Run inside SQLAlchemy's transaction (``conn.begin()``), which then finds
    it ended and sends nothing.
    """
    driver = _driver(conn)
    key = id(driver)
    state = _Write(conn, driver, driver.cursor_factory)
    _WRITES[key] = state
    driver.cursor_factory = _LockFirst
    try:
        yield
    except BaseException as e:
        _WRITES.pop(key, None)
        driver.cursor_factory = state.factory
        if _usable(state):
            try:
                if state.pipelined:  # send what was queued, then roll it back
                    state.pending.__exit__(type(e), e, e.__traceback__)
                if state.began:
                    driver.rollback()
                    driver.autocommit = False
            except psycopg.Error:
                conn.invalidate()  # never handed out again half-way
        raise
    _WRITES.pop(key, None)
    driver.cursor_factory = state.factory
    if not state.began:  # nothing sent, or a transaction the driver began: SQLAlchemy commits it
        if state.pipelined:
            with translated(conn), state.pending:
                _send_sources(state)
        return
    try:
        with translated(conn):
            if state.pipelined:
                with state.pending:
                    _send_sources(state)
                    state.quiet.execute("COMMIT")
            else:
                driver.commit()
    except BaseException:
        if _usable(state):
            try:
                driver.rollback()
            except psycopg.Error:
                conn.invalidate()
                raise
        raise
    finally:
        if _usable(state) and driver.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
            driver.autocommit = False


def _pipeline(state: _Write) -> psycopg.Connection[Any]:
    if not state.opened:
        _open(state)
    if not state.pipelined:
        state.pending.enter_context(state.driver.pipeline())
        state.pipelined = True
    return state.driver


def head(conn: Connection, negotiation_id: str) -> tuple[int, str, Any, str] | None:
    """A negotiation's head row (version, state, snapshot decoded, last hash), or None: one round trip.

    The first statement of a writing transaction: it goes with BEGIN and the lock.
    """
    state = _WRITES.get(id(conn.connection.driver_connection))
    with translated(conn):
        if state is not None and not state.opened:
            row = _open(state, negotiation_id)
        else:
            row = _driver(conn).execute(SELECT_HEAD, (negotiation_id,), prepare=True).fetchone()
    return None if row is None or row[0] is None else (row[0], row[1], row[2], row[3])


def append(conn: Connection, rows: Sequence[dict[str, Any]]) -> list[int] | None:
    """Queue the INSERTs of event rows and of their sources; return their positions.

    None outside a writing transaction of this module (the caller then
    inserts through Core).
    """
    state = _state(conn)
    if state is None:
        return None
    _pipeline(state)
    first = state.next_position
    positions = list(range(first, first + len(rows)))
    batch: list[dict[str, Any]] = []
    named: list[tuple[str, int, str]] = []
    for position, row in zip(positions, rows):
        batch.append({**row, "position": position, "occurred_at": utc(row["occurred_at"]),
                      "recorded_at": utc(row["recorded_at"]), "reported_at": utc(row["reported_at"])})
        named.extend((source, position, row["negotiation_id"]) for source in dict.fromkeys(row["sources"]))
    # Through SQLAlchemy, so the engine's events see the log's writes; queued in the pipeline like the rest.
    conn.exec_driver_sql(INSERT_EVENTS, (json_text(batch),), execution_options={PIPELINED: True})
    state.sources.extend(named)  # sent with the head's write, or before anything else
    state.next_position = first + len(rows)
    return positions


def _send_sources(state: _Write) -> None:
    """Queue the entry_sources rows of the appends that no head's write took along."""
    if state.sources:
        with translated(state.conn):
            state.quiet.execute(INSERT_SOURCES, (json_text(state.sources),), prepare=True)
        state.sources = []


def save_head(conn: Connection, negotiation_id: str, version: int, state_name: str, snapshot: Any,
              last_hash: str, opened_at_position: int | None) -> None:
    """Insert a new negotiation's head (``opened_at_position`` given) or update an existing one.

    Queued with the append's INSERTs in a writing transaction, else sent at once.
    """
    state = _state(conn)
    prefix, before = "", cast("tuple[str, ...]", ())
    if state is not None:
        _pipeline(state)
        cursor = state.quiet
        if state.sources:
            prefix, before = WITH_SOURCES, (json_text(state.sources),)
            state.sources = []
    else:
        cursor = _driver(conn).cursor()
    data = json_text(snapshot)
    with translated(conn):
        if opened_at_position is None:
            cursor.execute(prefix + UPDATE_HEAD, (*before, version, state_name, data, last_hash, negotiation_id),
                           prepare=True)
        else:
            cursor.execute(prefix + INSERT_HEAD,
                           (*before, negotiation_id, version, state_name, data, last_hash, opened_at_position),
                           prepare=True)


def before_statement(conn: Connection, cursor: Any, _statement: str, _parameters: Any, context: Any,
                     _executemany: bool) -> None:
    """Before a statement through SQLAlchemy in a writing transaction: the lock first, the queue sent.

    Core reads results as soon as it executes, which pipeline mode does not
    give; so a pipeline holding queued writes is closed first (they run, in
    the same transaction) and the transaction commits as usual.
    """
    state = _WRITES.get(id(cursor.connection))
    if state is None:
        return
    if not state.opened:
        _open(state)
    elif state.pipelined and not context.execution_options.get(PIPELINED):
        _send_sources(state)
        state.pipelined = False
        with translated(conn):
            state.pending.close()


def check_on_checkin(dbapi_connection: Any, _record: Any) -> None:
    """A connection goes back to the pool as SQLAlchemy expects it: out of autocommit when idle.

    A writing transaction puts the driver in autocommit and takes it out at
    its end; should anything have stopped it half-way, this puts it right.
    """
    driver = cast("psycopg.Connection[Any] | None", dbapi_connection)
    if (driver is not None and not driver.closed and driver.autocommit
            and driver.info.transaction_status == psycopg.pq.TransactionStatus.IDLE):
        driver.autocommit = False
