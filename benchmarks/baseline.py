"""The benchmark's baseline: the same rows stored and read with nothing but ``sqlite3`` and ``orjson``.

It is what the ledger would cost with no checks, no state machine and no
SQLAlchemy: the same columns, one ``BEGIN IMMEDIATE`` transaction per
negotiation with its events inserted by one ``executemany``, a unique 16-byte
event id (the caller's, or one made time-ordered as the ledger makes them), JSON encoded on write and decoded on read, WAL journal as the ledger
uses. When the ledger's events table has a ``hash`` column (the tamper-evidence
chain), the baseline stores one of the same width too: a SHA-256 of the row's
encoded data, not the ledger's chained hash, so the rows weigh the same while
the baseline still does next to no work. The ratios the bench reports are the
ledger measured against this.
"""

from __future__ import annotations

import hashlib
import sqlite3
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import uuid_utils

from negotiation import Ledger
from negotiation.store import fastpath
from negotiation.store.schema import events as _ledger_events

#: Whether the ledger stores a 64-character hash per event, so the baseline does too.
HASHED = "hash" in _ledger_events.c

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    position INTEGER PRIMARY KEY,
    event_id BLOB NOT NULL UNIQUE,
    negotiation_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    occurred_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    sources TEXT NOT NULL,{hash}
    UNIQUE (negotiation_id, version)
)
""".format(hash="\n    hash TEXT NOT NULL," if HASHED else "")
_INSERT = ("INSERT INTO events (event_id, negotiation_id, version, type, data, schema_version, "
           "occurred_at, recorded_at, sources" + (", hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" if HASHED
                                                 else ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"))
_COLUMNS = ("event_id, negotiation_id, version, position, type, data, occurred_at, recorded_at, "
            "sources, schema_version" + (", hash" if HASHED else ""))
_STREAM = f"SELECT {_COLUMNS} FROM events WHERE negotiation_id = ? ORDER BY version"
_SCAN = f"SELECT {_COLUMNS} FROM events ORDER BY position"

def event_id(item: Mapping[str, Any]) -> uuid.UUID | uuid_utils.UUID:
    """The item's event id, or, when it gives none, a time-ordered one (UUIDv7), as the ledger makes."""
    given = item.get("event_id")
    return uuid_utils.uuid7() if given is None else uuid.UUID(given)


#: A decoded row: the columns of ``_COLUMNS`` with ``data`` and ``sources`` parsed.
Row = tuple[Any, ...]


def _decode(row: Sequence[Any]) -> Row:
    return (*row[:5], orjson.loads(row[5]), row[6], row[7], orjson.loads(row[8]), *row[9:])


class PlainStore:
    """An append-only events table in one SQLite file, driven by the standard library alone."""

    def __init__(self, path: Path) -> None:
        # isolation_level=None: we issue BEGIN IMMEDIATE ourselves, as the ledger does for writes.
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=30.0)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")  # the ledger's durability: every commit synced
        self.conn.execute("PRAGMA busy_timeout=30000")
        self.conn.execute(_SCHEMA)

    def close(self) -> None:
        self.conn.close()

    def append(self, negotiation_id: str, items: Sequence[Mapping[str, Any]], first_version: int = 1) -> None:
        """Insert one negotiation's events in one transaction, versions counting from ``first_version``."""
        now = datetime.now(UTC).isoformat()
        rows = []
        for i, item in enumerate(items):
            # Stored as text, as the ledger's JSON columns are.
            data = orjson.dumps(item["data"])
            row = (event_id(item).bytes, negotiation_id, first_version + i, item["type"],
                   data.decode(), 1, item["occurred_at"].isoformat(), now,
                   orjson.dumps(item["sources"]).decode())
            rows.append((*row, hashlib.sha256(data).hexdigest()) if HASHED else row)
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            self.conn.executemany(_INSERT, rows)
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def stream(self, negotiation_id: str) -> list[Row]:
        """One negotiation's events in version order, JSON decoded."""
        return [_decode(row) for row in self.conn.execute(_STREAM, (negotiation_id,))]

    def scan(self) -> Iterator[Row]:
        """Every event in position order, decoded one row at a time (the cursor streams)."""
        for row in self.conn.execute(_SCAN):
            yield _decode(row)

    def count(self) -> int:
        (count,) = self.conn.execute("SELECT count(*) FROM events").fetchone()
        return int(count)


class LedgerTablesStore:
    """The ledger's own rows written to the ledger's own tables by plain SQL: what its database work costs.

    The file is made by the ledger's migrations (same tables, indexes and
    append-only triggers); then ``sqlite3`` alone, WAL and ``synchronous=FULL``
    as the ledger runs, inserts one negotiation's events, their sources and
    its head row in one ``BEGIN IMMEDIATE`` transaction, the statements the
    ledger itself sends. No validation, machine or hash chain: the ledger's
    append over this one is what its Python costs; this one over plain sqlite3
    is what its extra tables and indexes cost.
    """

    def __init__(self, path: Path) -> None:
        Ledger.open(f"sqlite:///{path}").close()  # the schema, by the migrations
        self.sql = fastpath
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=30.0)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")

    def close(self) -> None:
        self.conn.close()

    def append(self, negotiation_id: str, items: Sequence[Mapping[str, Any]]) -> None:
        """One new negotiation's events, sources and head in one transaction."""
        sql = self.sql
        now = sql.utc_text(datetime.now(UTC))
        rows, previous = [], "0" * 64
        self.conn.execute("BEGIN IMMEDIATE")
        (commit_id,) = self.conn.execute(sql.NEXT_POSITION).fetchone()  # as the ledger names its transaction
        for version, item in enumerate(items, start=1):
            data = orjson.dumps(item["data"])
            previous = hashlib.sha256(previous.encode() + data).hexdigest()
            rows.append((event_id(item).hex, negotiation_id, version, item["type"], data.decode(), 1,
                         sql.utc_text(item["occurred_at"]), now, orjson.dumps(item["sources"]).decode(), previous,
                         now, commit_id))
        # The head's snapshot is about the size of the ledger's: the opening's data stands in for it.
        snapshot = orjson.dumps(items[0]["data"]).decode()
        try:
            self.conn.executemany(sql.INSERT_EVENT, rows)
            (last,) = self.conn.execute("SELECT last_insert_rowid()").fetchone()
            first = last - len(rows) + 1
            self.conn.executemany(sql.INSERT_SOURCE, [(source, first + offset, negotiation_id)
                                                      for offset, item in enumerate(items)
                                                      for source in dict.fromkeys(item["sources"])])
            self.conn.execute(sql.INSERT_HEAD, (negotiation_id, len(rows), "agreed", snapshot, previous, first))
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def head(self, negotiation_id: str) -> tuple[Any, ...]:
        """The negotiation's head row, its snapshot decoded (what the ledger's ``get`` reads)."""
        version, state, snapshot, last_hash = self.conn.execute(self.sql.SELECT_HEAD, (negotiation_id,)).fetchone()
        return version, state, orjson.loads(snapshot), last_hash

    def scan(self) -> Iterator[Row]:
        """Every event in negotiation and version order, decoded (what the ledger's rebuild reads)."""
        for row in self.conn.execute(self.sql.SCAN_EVENTS):
            yield (*row[:3], orjson.loads(row[3]), row[4])
