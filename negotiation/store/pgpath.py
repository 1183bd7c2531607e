"""The hot statements on PostgreSQL, as plain SQL on psycopg's connection, with few round trips.

On a local server a round trip costs tens of microseconds: more than the
statement itself. So the log's hot paths count them:

* reading a negotiation's head (``Ledger.get``): one round trip. The one
  SELECT runs in autocommit (no BEGIN, no COMMIT), prepared, on the driver's
  connection of the SQLAlchemy connection (``Connection.connection.driver_connection``).
* an append: three. (1) ``BEGIN``, the advisory lock and the position
  sequence's state go together in psycopg's pipeline mode; (2) the head is
  read; (3) the events, their ``entry_sources`` rows, the head's new state
  and ``COMMIT`` go together in pipeline mode. The positions are known
  before the inserts are sent: the lock is held, so the sequence hands out
  the next ones in order, and the insert checks every one it draws against
  the one expected (a writer that did not take the lock would make the
  append fail, never store a wrong position).
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
from .eventstore import APPEND_LOCK_KEY, WriteRace

#: The sequence behind ``negotiation_events.position`` (a ``BIGSERIAL``, migration 0001).
POSITION_SEQUENCE = "negotiation_events_position_seq"

LOCK = "SELECT pg_advisory_xact_lock(%s)"
SEQUENCE_STATE = f"SELECT last_value, is_called FROM {POSITION_SEQUENCE}"
SELECT_HEAD = "SELECT version, state, snapshot, last_hash FROM negotiation_heads WHERE negotiation_id = %s"
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

#: Where a writing transaction keeps its state in ``Connection.info`` while it runs.
_WRITE = "negotiation.pgpath.write"
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


# -- reading ---------------------------------------------------------------------------------


def head(conn: Connection, negotiation_id: str) -> tuple[int, str, Any, str] | None:
    """A negotiation's head row (version, state, snapshot decoded, last hash), or None: one round trip."""
    with translated(conn):
        row = _driver(conn).execute(SELECT_HEAD, (negotiation_id,), prepare=True).fetchone()
    return None if row is None else (row[0], row[1], row[2], row[3])


# -- writing ---------------------------------------------------------------------------------


@dataclass
class _Write:
    """A writing transaction in progress: the next position it will hand out and its open pipeline."""

    next_position: int
    pending: ExitStack = field(default_factory=ExitStack)
    pipelined: bool = False


def _state(conn: Connection) -> _Write | None:
    return cast("_Write | None", conn.info.get(_WRITE))


@contextmanager
def write_transaction(conn: Connection) -> Iterator[None]:
    """Begin, take the append lock (one round trip) and, on success, commit what was queued with it.

    The connection is in autocommit (``isolation_level="AUTOCOMMIT"``, reset
    when it goes back to the pool), so the driver sends no BEGIN of its own
    (psycopg waits for that one's answer even in pipeline mode); this sends
    it, in the same round trip as the lock. Run inside SQLAlchemy's
    transaction (``conn.begin()``): its COMMIT or ROLLBACK goes to the driver,
    which sends it only if the transaction is still open (a COMMIT queued
    with the appends has already ended it).
    """
    driver = _driver(conn)
    if not driver.autocommit:
        raise StorageError("a writing transaction on PostgreSQL needs a connection in autocommit: "
                           "it sends its own BEGIN")
    with translated(conn):
        with driver.pipeline():
            driver.execute("BEGIN")
            driver.execute(LOCK, (APPEND_LOCK_KEY,), prepare=True)
            sequence = driver.execute(SEQUENCE_STATE, prepare=True)
        last_value, is_called = cast("tuple[int, bool]", sequence.fetchone())
    state = _Write(last_value + 1 if is_called else last_value)
    info = conn.info  # kept: an invalidated connection no longer gives it
    info[_WRITE] = state
    try:
        yield
    except BaseException as e:
        info.pop(_WRITE, None)
        if state.pipelined and not conn.invalidated and not driver.broken:
            # Send what was queued and leave the transaction to SQLAlchemy's rollback.
            state.pending.__exit__(type(e), e, e.__traceback__)
        raise
    info.pop(_WRITE, None)
    if state.pipelined:
        with translated(conn), state.pending:
            driver.execute("COMMIT")


def _pipeline(conn: Connection, state: _Write) -> psycopg.Connection[Any]:
    driver = _driver(conn)
    if not state.pipelined:
        state.pending.enter_context(driver.pipeline())
        state.pipelined = True
    return driver


def append(conn: Connection, rows: Sequence[dict[str, Any]]) -> list[int] | None:
    """Queue the INSERTs of event rows and of their sources; return their positions.

    None outside a writing transaction of this module (the caller then
    inserts through Core).
    """
    state = _state(conn)
    if state is None:
        return None
    first = state.next_position
    positions = list(range(first, first + len(rows)))
    batch: list[dict[str, Any]] = []
    named: list[tuple[str, int, str]] = []
    for position, row in zip(positions, rows):
        batch.append({**row, "position": position, "occurred_at": utc(row["occurred_at"]),
                      "recorded_at": utc(row["recorded_at"]), "reported_at": utc(row["reported_at"])})
        named.extend((source, position, row["negotiation_id"]) for source in dict.fromkeys(row["sources"]))
    driver = _pipeline(conn, state)
    # Through SQLAlchemy, so the engine's events see the log's writes; queued in the pipeline like the rest.
    conn.exec_driver_sql(INSERT_EVENTS, (json_text(batch),), execution_options={PIPELINED: True})
    if named:
        with translated(conn):
            driver.execute(INSERT_SOURCES, (json_text(named),), prepare=True)
    state.next_position = first + len(rows)
    return positions


def before_statement(conn: Connection, _cursor: Any, _statement: str, _parameters: Any, context: Any,
                     _executemany: bool) -> None:
    """Send what a writing transaction has queued before any other statement through SQLAlchemy.

    Core reads results as soon as it executes, which pipeline mode does not
    give; so the pipeline is closed first (its statements run, in the same
    transaction) and the transaction commits as usual.
    """
    state = _state(conn)
    if state is None or not state.pipelined or context.execution_options.get(PIPELINED):
        return
    state.pipelined = False
    with translated(conn):
        state.pending.close()


def save_head(conn: Connection, negotiation_id: str, version: int, state_name: str, snapshot: Any,
              last_hash: str, opened_at_position: int | None) -> None:
    """Insert a new negotiation's head (``opened_at_position`` given) or update an existing one.

    Queued with the append's INSERTs when there are some, else sent at once.
    """
    state = _state(conn)
    driver = _pipeline(conn, state) if state is not None else _driver(conn)
    data = json_text(snapshot)
    with translated(conn):
        if opened_at_position is None:
            driver.execute(UPDATE_HEAD, (version, state_name, data, last_hash, negotiation_id), prepare=True)
        else:
            driver.execute(INSERT_HEAD, (negotiation_id, version, state_name, data, last_hash, opened_at_position),
                           prepare=True)
