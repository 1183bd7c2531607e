"""The few hot statements on SQLite, as plain SQL on the driver's connection.

Executing a statement through Core costs 10–20 µs of Python per execution
(and per row of an executemany): more than SQLite needs to run it. Appending
events, reading and writing a negotiation's head, reading entries (a
negotiation's, those after a position, those of given ids) and the scan of a
full rebuild are therefore written here as SQL strings and run on the sqlite3
connection of the same SQLAlchemy connection and transaction
(``Connection.connection.driver_connection``). Everything else goes through
Core as usual.

Values are converted by the small functions below, which write exactly what
Core writes for the column types of ``schema.py`` on SQLite (a test compares
the stored bytes) and read back what Core reads:

* ``UTCDateTime``: the moment in UTC, naive, as ``YYYY-MM-DD HH:MM:SS.ffffff``
  (six digits of microseconds always), the format of SQLite's ``DATETIME``;
  read back with ``datetime.fromisoformat`` and given UTC as its zone.
* ``JSON``: compact JSON text from orjson, unicode unescaped (the serialiser
  ``make_engine`` gives Core); read back with ``orjson.loads``.
* ``Uuid(as_uuid=False)``: the string with its hyphens removed, case kept.
* ``String`` and the integer types: the Python value as it is.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import orjson
from sqlalchemy import Connection, Engine

from ..domain.sources import Source, read_sources, stored_outlets
from ..domain.times import hashed
from ..errors import StorageError

T = TypeVar("T")

EventRow = tuple[str, int, str, Any, str]  # negotiation_id, version, type, data (JSON text), occurred_at (text)

INSERT_EVENT = (
    "INSERT INTO negotiation_events (event_id, negotiation_id, version, type, data, schema_version, "
    "occurred_at, recorded_at, sources, hash, reported_at, commit_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_SOURCE = "INSERT INTO entry_sources (source, position, negotiation_id) VALUES (?, ?, ?)"
SELECT_HEAD = "SELECT version, state, snapshot, last_hash FROM negotiation_heads WHERE negotiation_id = ?"
INSERT_HEAD = (
    "INSERT INTO negotiation_heads (negotiation_id, version, state, snapshot, last_hash, opened_at_position) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
UPDATE_HEAD = "UPDATE negotiation_heads SET version = ?, state = ?, snapshot = ?, last_hash = ? WHERE negotiation_id = ?"
STORY_ROWS = "SELECT version, type, data, occurred_at FROM negotiation_events WHERE negotiation_id = ? ORDER BY version"
SCAN_EVENTS = (
    "SELECT negotiation_id, version, type, data, occurred_at FROM negotiation_events "
    "ORDER BY negotiation_id, version"
)

ENTRY_COLUMNS = ("event_id, negotiation_id, version, position, type, data, occurred_at, recorded_at, sources, hash, "
                 "schema_version, reported_at, commit_id")
#: The position the next entry will be given: SQLite gives an INTEGER PRIMARY KEY one more than the largest.
NEXT_POSITION = "SELECT COALESCE(MAX(position), 0) + 1 FROM negotiation_events"
SELECT_ENTRIES = f"SELECT {ENTRY_COLUMNS} FROM negotiation_events WHERE position > ? AND position <= ?"
SELECT_STREAM = f"SELECT {ENTRY_COLUMNS} FROM negotiation_events WHERE negotiation_id = ?"
SELECT_BY_IDS = f"SELECT {ENTRY_COLUMNS} FROM negotiation_events WHERE event_id IN "


class UniqueViolation(Exception):
    """A unique constraint refused a row; the store turns it into its own error."""


# -- values ---------------------------------------------------------------------------------


def utc_text(moment: datetime) -> str:
    """A ``UTCDateTime`` value as SQLite stores it: naive UTC, microseconds always written."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    # The same digits the hash chain covers (UTC, microseconds), without the "T" and the offset: the
    # chain has just written them for each moment of an append, and a cached text costs a sixth of a
    # new one.
    hashed_text = hashed(moment)
    return f"{hashed_text[:10]} {hashed_text[11:26]}"


def read_utc(text: str) -> datetime:
    """A stored ``UTCDateTime`` value back as an aware UTC datetime."""
    try:
        # Stored naive UTC: parsed with its offset written on, one C call instead of a parse and a replace
        # (a fifth of the time), which a story's thousands of rows repeat.
        return datetime.fromisoformat(text + "+00:00")
    except ValueError:  # a value written with an offset of its own
        pass
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def json_text(value: Any) -> str:
    """A JSON column's value as stored: orjson's compact text."""
    return orjson.dumps(value).decode()


read_json: Callable[[str | bytes], Any] = orjson.loads


def read_uuid(text: str) -> str:
    """A stored ``Uuid(as_uuid=False)`` value back as Core reads it: the canonical hyphenated text."""
    if len(text) == 32:  # as stored: hex digits without hyphens, so only their case and hyphens are missing
        text = text.lower()
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
    return str(uuid.UUID(text))


def uuid_text(value: str) -> str:
    """A ``Uuid(as_uuid=False)`` value as stored on SQLite: the hex digits without hyphens."""
    return value.replace("-", "")


# -- statements -----------------------------------------------------------------------------


def _driver(conn: Connection) -> sqlite3.Connection:
    return conn.connection.driver_connection  # type: ignore[return-value]


def _translated(run: Callable[[], T]) -> T:
    try:
        return run()
    except sqlite3.IntegrityError as e:
        raise UniqueViolation(str(e)) from e
    except sqlite3.Error as e:
        raise StorageError(f"database error: {e}") from e


def head(conn: Connection, negotiation_id: str) -> tuple[int, str, Any, str] | None:
    """A negotiation's head row (version, state, snapshot decoded, last hash), or None."""
    row = _translated(lambda: _driver(conn).execute(SELECT_HEAD, (negotiation_id,)).fetchone())
    if row is None:
        return None
    version, state, data, last_hash = row
    return version, state, read_json(data), last_hash


def read_head(engine: Engine, negotiation_id: str) -> tuple[int, str, Any, str] | None:
    """``head`` on a pooled driver connection of its own, outside any transaction (autocommit)."""
    connection = engine.raw_connection()
    try:
        driver = cast(sqlite3.Connection, connection.driver_connection)
        row = _translated(lambda: driver.execute(SELECT_HEAD, (negotiation_id,)).fetchone())
    finally:
        connection.close()
    if row is None:
        return None
    version, state, data, last_hash = row
    return version, state, read_json(data), last_hash


def save_head(conn: Connection, negotiation_id: str, version: int, state: str, snapshot: Any,
              last_hash: str, opened_at_position: int | None) -> None:
    """Insert a new negotiation's head (``opened_at_position`` given) or update an existing one."""
    data = json_text(snapshot)
    values: tuple[Any, ...]
    if opened_at_position is None:
        sql, values = UPDATE_HEAD, (version, state, data, last_hash, negotiation_id)
    else:
        sql, values = INSERT_HEAD, (negotiation_id, version, state, data, last_hash, opened_at_position)
    _translated(lambda: _driver(conn).execute(sql, values))


def next_position(conn: Connection) -> int:
    """The position the next entry inserted will be given (the caller holds the write lock)."""
    return int(_translated(lambda: _driver(conn).execute(NEXT_POSITION).fetchone()[0]))


def append(conn: Connection, rows: Sequence[Mapping[str, Any]], commit_id: int) -> int:
    """Insert event rows in one executemany, then their sources in another (``entry_sources``);
    returns the rowid (position) of the last one. ``commit_id`` names the transaction."""
    # The rows of one append share their recording time and often their report
    # time and the day things happened: convert each moment once per call.
    moments: dict[datetime, str] = {}
    values = []
    for row in rows:
        occurred, recorded, reported = row["occurred_at"], row["recorded_at"], row["reported_at"]
        for moment in (occurred, recorded, reported):
            if moment not in moments:
                moments[moment] = utc_text(moment)
        values.append((row["event_id"].replace("-", ""), row["negotiation_id"], row["version"], row["type"],
                       orjson.dumps(row["data"]).decode(), row["schema_version"], moments[occurred],
                       moments[recorded], orjson.dumps(row["sources"]).decode(), row["hash"], moments[reported],
                       commit_id))

    def run() -> int:
        driver = _driver(conn)
        driver.executemany(INSERT_EVENT, values)
        last = int(driver.execute("SELECT last_insert_rowid()").fetchone()[0])
        # The writer holds the only write lock: the rows got consecutive positions ending at ``last``.
        first = last - len(rows) + 1
        named = [(source, first + offset, row["negotiation_id"]) for offset, row in enumerate(rows)
                 for source in stored_outlets(row["sources"])]
        if named:
            driver.executemany(INSERT_SOURCE, named)
        return last

    return _translated(run)


def story_rows(conn: Connection, negotiation_id: str) -> list[tuple[int, str, Any, str]]:
    """One negotiation's (version, type, data decoded, occurred_at as stored) in version order."""
    rows = _translated(lambda: _driver(conn).execute(STORY_ROWS, (negotiation_id,)).fetchall())
    return [(version, kind, read_json(data), occurred_at) for version, kind, data, occurred_at in rows]


def event_pages(conn: Connection, size: int = 5000) -> Iterator[list[EventRow]]:
    """Every event as (negotiation_id, version, type, data, occurred_at) in negotiation and
    version order, a page at a time, as stored: decode with ``read_json`` and ``read_utc``."""
    cursor = _translated(lambda: _driver(conn).execute(SCAN_EVENTS))
    while page := _translated(lambda: cursor.fetchmany(size)):
        yield page


def entries(conn: Connection, after: int, end: int, limit: int, negotiation_id: str | None = None,
            types: Sequence[str] | None = None) -> list[tuple[Any, ...]]:
    """The entries with ``after < position <= end`` (of one negotiation, of some types) in position order,
    at most ``limit``, each as the fields of ``RecordedEvent`` in order, values as Core reads them."""
    sql = SELECT_ENTRIES
    parameters: list[Any] = [after, end]
    if negotiation_id is not None:
        sql += " AND negotiation_id = ?"
        parameters.append(negotiation_id)
    if types is not None:
        sql += f" AND type IN ({', '.join('?' * len(types))})"
        parameters.extend(types)
    sql += " ORDER BY position LIMIT ?"
    parameters.append(limit)
    return _decoded(_translated(lambda: _driver(conn).execute(sql, parameters).fetchall()))


def stream(conn: Connection, negotiation_id: str, until_version: int | None = None) -> list[tuple[Any, ...]]:
    """One negotiation's entries in version order (up to ``until_version``), as ``entries`` gives them."""
    sql = SELECT_STREAM + " ORDER BY version"
    parameters: list[Any] = [negotiation_id]
    if until_version is not None:
        sql = SELECT_STREAM + " AND version <= ? ORDER BY version"
        parameters.append(until_version)
    return _decoded(_translated(lambda: _driver(conn).execute(sql, parameters).fetchall()))


def by_ids(conn: Connection, event_ids: Sequence[str], chunk: int) -> list[tuple[Any, ...]]:
    """The entries stored with any of ``event_ids`` (in no order), as ``entries`` gives them, asked
    ``chunk`` ids a statement."""
    driver = _driver(conn)
    found: list[tuple[Any, ...]] = []
    for start in range(0, len(event_ids), chunk):
        part = [uuid_text(event_id) for event_id in event_ids[start:start + chunk]]
        sql = f"{SELECT_BY_IDS}({', '.join('?' * len(part))})"
        found.extend(_decoded(_translated(lambda: driver.execute(sql, part).fetchall())))  # noqa: B023
    return found


def _decoded(rows: Sequence[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    # Moments repeat (a batch shares its recording time, a report its day), and so do lists of sources
    # (a story told by the same few outlets): each distinct text is parsed once. Both parse to values
    # nothing changes (datetimes, tuples of names and frozen records), so entries may share them.
    moments: dict[str, datetime] = {}
    named: dict[str, tuple[Source, ...]] = {}

    def moment(text: str) -> datetime:
        parsed = moments.get(text)
        if parsed is None:
            parsed = moments[text] = read_utc(text)
        return parsed

    def sources_of(text: str) -> tuple[Source, ...]:
        parsed = named.get(text)
        if parsed is None:
            parsed = named[text] = read_sources(read_json(text))
        return parsed

    return [(read_uuid(event_id), negotiation, version, position, kind, read_json(data), moment(occurred_at),
             moment(recorded_at), sources_of(sources), digest, schema_version, moment(reported_at), commit_id)
            for (event_id, negotiation, version, position, kind, data, occurred_at, recorded_at, sources, digest,
                 schema_version, reported_at, commit_id) in rows]
