"""The log in a SQLite file: the default recorder.

Writers are serialised by ``BEGIN IMMEDIATE``: a writing transaction takes
the file's write lock before it reads the state it decides on, so two
writers queue (the busy timeout) instead of one failing half-way, and
positions (the rowid) are handed out in commit order. Every commit is synced
to disk before it returns (WAL, ``synchronous=FULL``). The hot statements run
on the sqlite3 connection of the same Core connection and transaction
(``fastpath``); everything else goes through Core (``core``).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError

from ..domain.aggregate import Negotiation, snapshot
from ..domain.entries import RecordedEvent, recorded_event
from ..domain.sources import outlets, stored_sources
from ..errors import StorageError
from . import fastpath, migrate
from .core import CoreReads
from .recorder import EventRow, Head, StoryRow
from .schema import entry_sources, events, titles
from .waiting import DataVersionWaiter, ProbeWaiter, Waiter
from .writers import WriteRace

BUSY_TIMEOUT_SECONDS = 30.0


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


def _describe(error: DBAPIError) -> str:
    return str(error.orig).strip().splitlines()[0] if error.orig is not None else str(error)


@contextmanager
def translating_errors() -> Iterator[None]:
    """Driver errors as the ledger's: a broken uniqueness is a lost race, anything else StorageError."""
    try:
        yield
    except IntegrityError as e:
        # Only a concurrent writer can break uniqueness here: every id and
        # version was checked inside the same transaction before appending.
        raise WriteRace(_describe(e)) from e
    except DBAPIError as e:
        raise StorageError(f"database error: {_describe(e)}") from e
    except fastpath.UniqueViolation as e:
        raise WriteRace(str(e)) from e
    except sqlite3.Error as e:  # from statements sent to the driver directly (BEGIN, the fast path)
        raise StorageError(f"database error: {e}") from e


def make_engine(url: str) -> Engine:
    """A Core engine on the SQLite file at ``url``: WAL, every commit synced, writers queued."""
    parsed = make_url(url)
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
        # The driver starts no transaction of its own (isolation_level None above): this is the one BEGIN.
        driver = conn.connection.driver_connection
        kind = conn.get_execution_options().get("transaction", "read")
        driver.execute("BEGIN IMMEDIATE" if kind == "write" else "BEGIN")  # type: ignore[union-attr]

    return engine


class SqliteSession(CoreReads):
    """A transaction on the file: the ``Reader`` and, in a writing one, the ``Writer``."""

    def __init__(self, conn: Connection) -> None:
        super().__init__(conn)
        self.commit_id: int | None = None

    def head(self, negotiation_id: str) -> Head | None:
        row = fastpath.head(self.conn, negotiation_id)
        return None if row is None else Head.of(negotiation_id, *row)

    def stream(self, negotiation_id: str, until_version: int | None = None) -> list[RecordedEvent]:
        return [recorded_event(*fields) for fields in fastpath.stream(self.conn, negotiation_id, until_version)]

    def story_rows(self, negotiation_id: str) -> list[StoryRow]:
        parse = _moments()
        return [(version, kind, data, parse(occurred_at))
                for version, kind, data, occurred_at in fastpath.story_rows(self.conn, negotiation_id)]

    def every_story_row(self) -> Iterator[tuple[str, StoryRow]]:
        decode = fastpath.read_json
        for page in fastpath.event_pages(self.conn):
            # Times parsed once per page, not per scan: a whole log's distinct times kept would grow with it.
            parse = _moments()
            for negotiation_id, version, kind, data, occurred_at in page:
                yield negotiation_id, (version, kind, decode(data), parse(occurred_at))

    def by_ids(self, event_ids: Sequence[str], chunk: int = 1000) -> dict[str, RecordedEvent]:
        # Every append of given ids, and every chunk of a load, asks first which are stored: through Core,
        # the statement's thousand parameters cost more than SQLite's look-ups.
        found = (recorded_event(*fields) for fields in fastpath.by_ids(self.conn, event_ids, chunk))
        return {entry.event_id: entry for entry in found}

    def following(self, after: int, limit: int, *, negotiation_id: str | None = None,
                  types: Sequence[str] | None = None) -> tuple[list[RecordedEvent], int]:
        end = self.end_of_log()
        if end <= after:
            return [], after
        # The rows straight from the driver: the hot loop of a projection.
        found = [recorded_event(*fields)
                 for fields in fastpath.entries(self.conn, after, end, limit, negotiation_id, types)]
        return found, found[-1].position if len(found) == limit else end

    def append(self, rows: Sequence[EventRow]) -> list[int]:
        # SQLite gives an INTEGER PRIMARY KEY the next rowid and this writer holds
        # the only write lock, so the rows get consecutive positions ending at the
        # last one inserted; RETURNING would cost more than it tells.
        if self.commit_id is None:
            self.commit_id = fastpath.next_position(self.conn)
        last = fastpath.append(self.conn, rows, self.commit_id)
        return list(range(last - len(rows) + 1, last + 1))

    def save_head(self, negotiation: Negotiation, last_hash: str, opened_at_position: int | None) -> None:
        fastpath.save_head(self.conn, negotiation.id, negotiation.version, negotiation.state, snapshot(negotiation),
                           last_hash, opened_at_position)

    def save_title(self, negotiation_id: str, title: str) -> None:
        upsert = sqlite_insert(titles).values(negotiation_id=negotiation_id, title=title)
        self.conn.execute(upsert.on_conflict_do_update(index_elements=[titles.c.negotiation_id],
                                                       set_={"title": upsert.excluded.title}))

    def insert_as_stored(self, entries: Sequence[RecordedEvent]) -> None:
        if not entries:
            return
        self.conn.execute(events.insert(), [
            {"position": entry.position, "event_id": entry.event_id, "negotiation_id": entry.negotiation_id,
             "version": entry.version, "type": entry.type, "data": entry.data,
             "schema_version": entry.schema_version, "occurred_at": entry.occurred_at,
             "recorded_at": entry.recorded_at, "sources": stored_sources(entry.sources), "hash": entry.hash,
             "reported_at": entry.reported_at, "commit_id": entry.commit_id} for entry in entries])
        named = [{"source": source, "position": entry.position, "negotiation_id": entry.negotiation_id}
                 for entry in entries for source in outlets(entry.sources)]
        if named:
            self.conn.execute(entry_sources.insert(), named)


def _moments() -> Any:
    """A parser of stored times that parses each distinct text once (a batch shares its times)."""
    seen: dict[str, datetime] = {}

    def parse(text: str) -> datetime:
        moment = seen.get(text)
        if moment is None:
            moment = seen[text] = fastpath.read_utc(text)
        return moment

    return parse


class SqliteRecorder:
    """The log in a SQLite file (or an in-process SQLite database: ``sqlite://``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.url = engine.url.render_as_string(hide_password=True)
        self.revisions: tuple[str | None, str | None] = (None, None)
        # One Core connection kept for writes to a file: the file takes one writer at a time anyway,
        # and a pool checkout and return per write (its reset, its queue) costs more than the BEGIN
        # and COMMIT of the write itself. An in-process database keeps none: its pool gives each
        # thread a database of its own, which a shared connection would cross.
        self._keeps_writer = not _in_process(engine)
        self._writer: Connection | None = None
        self._writer_lock = threading.Lock()

    @classmethod
    def open(cls, url: str, *, upgrade: bool = True) -> SqliteRecorder:
        """The recorder on ``url``, its schema brought to the latest migration (or required to be there)."""
        recorder = cls(make_engine(url))
        try:
            with translating_errors():
                if upgrade:
                    recorder.revisions = migrate.upgrade(recorder.engine)
                else:
                    migrate.require_head(recorder.engine)
                    recorder.revisions = (migrate.head_revision(), migrate.head_revision())
        except BaseException:
            recorder.close()
            raise
        return recorder

    @contextmanager
    def reading(self) -> Iterator[SqliteSession]:
        with (translating_errors(),
              self.engine.connect().execution_options(transaction="read") as conn,
              conn.begin()):
            yield SqliteSession(conn)

    @contextmanager
    def writing(self) -> Iterator[SqliteSession]:
        if not self._keeps_writer or not self._writer_lock.acquire(blocking=False):
            # An in-process database, or another thread's write holding the kept connection: a pooled
            # connection, queued behind the other writer by BEGIN IMMEDIATE.
            with (translating_errors(),
                  self.engine.connect().execution_options(transaction="write") as conn,
                  conn.begin()):
                yield SqliteSession(conn)
            return
        try:
            with translating_errors():
                if self._writer is None or self._writer.closed or self._writer.invalidated:
                    self._writer = self.engine.connect().execution_options(transaction="write")
                with self._writer.begin():
                    yield SqliteSession(self._writer)
        finally:
            if self._writer is not None and self._writer.invalidated:  # lost in the write: a new one next time
                self._writer.close()
                self._writer = None
            self._writer_lock.release()

    @contextmanager
    def projection_transaction(self, name: str) -> Iterator[SqliteSession]:
        """A write transaction for projection ``name``; SQLite has one writer at a time anyway."""
        with self.writing() as session:
            yield session

    def current_head(self, negotiation_id: str) -> Head | None:
        # Straight to a pooled driver connection, skipping the Core connection and its
        # transaction (which cost more than the read); one SELECT is consistent by itself.
        with translating_errors():
            row = fastpath.read_head(self.engine, negotiation_id)
        return None if row is None else Head.of(negotiation_id, *row)

    def end_of_log(self) -> int:
        with self.reading() as session:
            return session.end_of_log()

    def waiter(self) -> Waiter:
        if _in_process(self.engine):
            return ProbeWaiter(self.end_of_log)  # no second connection can see an in-process database
        return DataVersionWaiter(self.engine.url.database or "")

    def close(self) -> None:
        with self._writer_lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None
        self.engine.dispose()


def _in_process(engine: Engine) -> bool:
    """Whether ``engine`` is on an in-process database (``sqlite://``), not a file."""
    return engine.url.database in (None, "", ":memory:") or engine.url.query.get("mode") == "memory"
