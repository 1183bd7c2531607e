"""PostgreSQL's hot paths (negotiation/store/pgpath.py): round trips counted, rows as Core writes them, guarantees kept."""

from __future__ import annotations

import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from sqlalchemy import Connection, Engine, create_engine, event, make_url, text

from benchmarks.workload import workload
from negotiation import Ledger, StorageError
from negotiation.store import pgpath
from negotiation.store.eventstore import EventStore
from negotiation.store.writers import APPEND_LOCK_KEY, WriteRace
from negotiation.store.schema import entry_sources, events, heads

# -- counting round trips ------------------------------------------------------------------------


class RoundTrips:
    """Counts the round trips of a call on an engine's PostgreSQL connections, from libpq's own trace.

    A round trip is a run of messages from the client answered by the server
    (the trace's F and B lines); messages sent and never answered (closing a
    connection) are not one.
    """

    def __init__(self, engine: Engine) -> None:
        self.file = tempfile.TemporaryFile("a+")  # noqa: SIM115 (closed by close())
        self.connections: list[Any] = []
        event.listen(engine, "connect", self._connected)
        engine.dispose()  # connections made from now on are known

    def _connected(self, dbapi_connection: Any, _record: Any) -> None:
        self.connections.append(dbapi_connection.pgconn)
        self._trace(dbapi_connection.pgconn)

    def _trace(self, pgconn: Any) -> None:
        pgconn.trace(self.file.fileno())
        pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS | psycopg.pq.Trace.REGRESS_MODE)

    def _untrace(self) -> None:
        for pgconn in self.connections:
            if pgconn.status == psycopg.pq.ConnStatus.OK:
                pgconn.untrace()  # flushes what libpq buffered

    def count(self, call: Callable[[], object]) -> tuple[int, list[str]]:
        """The round trips ``call`` makes, and the trace's lines of it."""
        self._untrace()
        self.file.seek(0, os.SEEK_END)
        start = self.file.tell()
        for pgconn in self.connections:
            if pgconn.status == psycopg.pq.ConnStatus.OK:
                self._trace(pgconn)
        call()
        self._untrace()
        self.file.seek(start)
        lines = self.file.read().splitlines()
        directions = [line.split("\t", 1)[0] for line in lines]
        # A run of F lines counts when a B line follows it.
        trips, sent = 0, False
        for direction in directions:
            if direction == "F":
                sent = True
            elif direction == "B" and sent:
                trips, sent = trips + 1, False
        return trips, lines

    def close(self) -> None:
        self._untrace()
        self.file.close()


def test_get_takes_one_round_trip_and_a_ten_event_append_two(postgres_url: str) -> None:
    with Ledger.open(postgres_url) as ledger:
        trips = RoundTrips(ledger.store.engine)
        work = list(workload(8, 10, seed=1))
        try:
            for negotiation_id, items in work[:6]:  # the driver prepares its statements on the fifth use
                ledger.record_many(negotiation_id, items)
                ledger.get(negotiation_id)
            (appended, append_trace), (read, read_trace) = (
                trips.count(lambda: ledger.record_many(*work[6])), trips.count(lambda: ledger.get(work[6][0])))
            first, first_trace = trips.count(lambda: ledger.record_many(*work[7]))
        finally:
            trips.close()

        assert read == 1, "\n".join(read_trace)
        assert appended == 2, "\n".join(append_trace)  # BEGIN, lock and the head; the inserts and COMMIT
        assert first == 2, "\n".join(first_trace)
        assert ledger.get(work[7][0]).version == 10


def test_a_connection_whose_backend_ended_while_pooled_is_replaced_without_an_error(
        postgres_url: str, postgres_admin: str) -> None:
    with Ledger.open(postgres_url) as ledger:
        ledger.record("us-japan-2025", "AgreedInPrinciple", {"parties": ["US", "JP"]})
        database = postgres_url.rsplit("/", 1)[1]
        with psycopg.connect(postgres_admin, autocommit=True) as admin:
            pids = [pid for (pid,) in admin.execute("SELECT pid FROM pg_stat_activity "
                                                    "WHERE datname = %s AND pid <> pg_backend_pid()", (database,))]
            assert pids, "the ledger's pooled connection must be there to end"
            admin.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", (pids,))
            # pg_terminate_backend only signals: wait until the backends have ended (and said so on their sockets).
            deadline = time.monotonic() + 10
            while admin.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", (pids,)).fetchone()[0]:
                assert time.monotonic() < deadline, "the backends did not end"
                time.sleep(0.01)

        assert ledger.get("us-japan-2025").version == 1
        assert ledger.record("us-japan-2025", "TermsDisputed", {"point": "beef"}).version == 2


# -- the rows are the rows Core writes -----------------------------------------------------------

TOKYO = ZoneInfo("Asia/Tokyo")
HALF_HOUR_WEST = timezone(timedelta(hours=-4, minutes=-30))

FIRST: dict[str, Any] = {
    "event_id": "0F8FAD5B-D9CB-469F-A165-70867728950E",  # hyphens and capitals, as a caller may give it
    "negotiation_id": "us-japan-2025",
    "version": 1,
    "type": "AgreedInPrinciple",
    "data": {"parties": ["US", "JP"], "note": "日本 — accord signé 🤝 \"quoted\" \\ back {a,b} NULL", "tariff": 15.5,
             "quota": None, "final": False, "big": 12345678901234567890, "nested": {"ключ": [1, 2.0, 3e-7]}},
    "schema_version": 1,
    "occurred_at": datetime(2025, 7, 22, 9, 30, 15, 123456, tzinfo=TOKYO),  # the day before in UTC
    "recorded_at": datetime(2025, 7, 22, 0, 0, tzinfo=UTC),
    "sources": ("https://example.org/é", "note", "note"),  # a source named twice is indexed once
    "hash": "a" * 64,
    "reported_at": datetime(2025, 7, 23, 18, 45, 0, 250000, tzinfo=HALF_HOUR_WEST),
}
SECOND: dict[str, Any] = {
    **FIRST,
    "event_id": "8e7a3c1d2f4b4a6e9d0c1b2a3f4e5d6c",  # hex without hyphens
    "version": 2,
    "type": "TermsAmended",
    "data": {"terms": {"tariff": "10 %", "note": "\u00e9\u0301 \u2028 \"}\" ,"}},
    "occurred_at": datetime(999, 6, 1, 12, 0, 0, 1, tzinfo=HALF_HOUR_WEST),
    "recorded_at": datetime(2025, 7, 23, 1, 2, 3, 999999, tzinfo=timezone(timedelta(hours=5, minutes=45))),
    "sources": [],
    "hash": "b" * 64,
    "reported_at": datetime(2025, 7, 23, 1, 2, 3, 999999, tzinfo=UTC),
}
THIRD: dict[str, Any] = {**SECOND, "event_id": "e3b0c442-98fc-1c14-9afb-f4c8996fb924", "version": 3, "sources": ["Reuters", "AP"],
         "data": {}, "hash": "c" * 64}
OPENED: dict[str, Any] = {"version": 1, "state": "AgreedInPrinciple", "last_hash": "a" * 64,
          "snapshot": {"parties": ["US", "JP"], "terms": {"note": "合意"}, "opened_at": "2025-07-22T00:30:15+00:00"}}
AMENDED: dict[str, Any] = {"version": 3, "state": "TermsAmended", "last_hash": "c" * 64,
           "snapshot": {"parties": ["US", "JP"], "terms": {"tariff": "10 %", "ü": None}, "opened_at": None}}


@contextmanager
def migrated_database(admin: str) -> Iterator[str]:
    name = f"negotiation_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
        Ledger.open(url).close()
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def write_with_core(engine: Engine) -> None:
    for batch, head, opened in (([FIRST], OPENED, 1), ([SECOND, THIRD], AMENDED, None)):
        with engine.begin() as conn:
            positions = [conn.execute(events.insert().returning(events.c.position), row).scalar_one()
                         for row in batch]
            named = [{"source": source, "position": position, "negotiation_id": row["negotiation_id"]}
                     for position, row in zip(positions, batch) for source in dict.fromkeys(row["sources"])]
            if named:
                conn.execute(entry_sources.insert(), named)
            if opened is None:
                conn.execute(heads.update().where(heads.c.negotiation_id == FIRST["negotiation_id"]).values(head))
            else:
                conn.execute(heads.insert(), {"negotiation_id": FIRST["negotiation_id"], "opened_at_position": opened,
                                              **head})


def write_with_fast_path(store: EventStore) -> None:
    for batch, head, opened in (([FIRST], OPENED, True), ([SECOND, THIRD], AMENDED, False)):
        with store.writing() as conn:
            positions = EventStore.append(conn, batch)
            pgpath.save_head(conn, FIRST["negotiation_id"], head["version"], head["state"], head["snapshot"],
                             head["last_hash"], positions[0] if opened else None)


def stored(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the three tables, each value as PostgreSQL's text of it, with its type's name."""
    tables = {"negotiation_events": "position", "entry_sources": "position, source",
              "negotiation_heads": "negotiation_id"}
    found: dict[str, list[tuple[Any, ...]]] = {}
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        for table, order in tables.items():
            columns = [name for (name,) in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
                (table,))]
            listed = ", ".join(f'"{c}"::text, pg_typeof("{c}")::text' for c in columns)
            found[table] = [tuple(row) for row in conn.execute(f"SELECT {listed} FROM {table} ORDER BY {order}")]
    return found


def test_rows_written_through_the_fast_path_are_the_rows_core_writes(postgres_url: str, postgres_admin: str) -> None:
    Ledger.open(postgres_url).close()  # migrated
    core_engine = create_engine(postgres_url, json_serializer=pgpath.json_text)
    try:
        write_with_core(core_engine)
    finally:
        core_engine.dispose()
    with migrated_database(postgres_admin) as fast_url, Ledger.open(fast_url) as ledger:
        write_with_fast_path(ledger.store)
        fast = stored(fast_url)
        history = ledger.history(FIRST["negotiation_id"])
    core = stored(postgres_url)

    assert fast == core
    assert [row[0] for row in core["negotiation_events"]] == ["1", "2", "3"]
    assert core["negotiation_events"][0][3] == "uuid" and core["negotiation_events"][0][2] == FIRST["event_id"].lower()
    assert [(row[0], row[2]) for row in core["entry_sources"]] == [
        ("https://example.org/é", "1"), ("note", "1"), ("AP", "3"), ("Reuters", "3")]
    assert [entry.event_id for entry in history] == [FIRST["event_id"].lower(), str(uuid.UUID(SECOND["event_id"])),
                                                     THIRD["event_id"]]
    assert history[0].data == FIRST["data"] and history[1].occurred_at == SECOND["occurred_at"]


# -- the guarantees ------------------------------------------------------------------------------


def test_a_position_taken_without_the_lock_refuses_the_append_and_stores_nothing(postgres_url: str) -> None:
    with Ledger.open(postgres_url) as ledger:
        ledger.record("us-japan-2025", "AgreedInPrinciple", {"parties": ["US", "JP"]})
        engine = ledger.store.engine
        rogue = create_engine(postgres_url)

        def draw_a_position(conn: object, cursor: object, statement: str, *args: object) -> None:
            if statement.startswith("INSERT INTO negotiation_events"):
                with rogue.connect() as other:  # a writer that does not take the append lock
                    other.execute(text("SELECT nextval('negotiation_events_position_seq')"))

        event.listen(engine, "before_cursor_execute", draw_a_position)
        try:
            with pytest.raises(StorageError, match="did not hold the append lock"):
                ledger.record("us-japan-2025", "TermsDisputed", {"point": "beef"})
        finally:
            event.remove(engine, "before_cursor_execute", draw_a_position)
            rogue.dispose()

        assert [entry.version for entry in ledger.history("us-japan-2025")] == [1]
        assert ledger.get("us-japan-2025").version == 1
        # Positions drawn are never given back (2 by the other writer, 3 by the refused append), as with Core.
        assert ledger.record("us-japan-2025", "TermsDisputed", {"point": "beef"}).position == 4


def test_a_statement_through_core_after_an_append_sends_the_queued_writes_first(postgres_url: str) -> None:
    with Ledger.open(postgres_url) as ledger:
        ledger.record("us-japan-2025", "AgreedInPrinciple", {"parties": ["US", "JP"]})
        row = {**SECOND, "event_id": str(uuid.uuid4()), "sources": ["AP"], "negotiation_id": "us-japan-2025"}
        later = {**row, "event_id": str(uuid.uuid4()), "version": 3, "sources": ["Reuters"]}
        with ledger.store.writing() as conn:
            EventStore.append(conn, [row])
            assert EventStore.end_of_log(conn) == 2  # Core, in the same transaction: it sees the insert
            assert conn.execute(text("SELECT count(*) FROM entry_sources")).scalar_one() == 1  # and its sources
            EventStore.append(conn, [later])  # queued again, sent with COMMIT

        assert [entry.version for entry in ledger.history("us-japan-2025")] == [1, 2, 3]
        assert [entry.version for entry in ledger.reported_by("Reuters")] == [3]


def test_a_duplicate_in_the_pipeline_is_a_write_race_and_the_transaction_is_rolled_back(postgres_url: str) -> None:
    with Ledger.open(postgres_url) as ledger:
        first = ledger.record("us-japan-2025", "AgreedInPrinciple", {"parties": ["US", "JP"]})
        row = {**SECOND, "event_id": first.event_id, "negotiation_id": "us-japan-2025"}
        with pytest.raises(WriteRace), ledger.store.writing() as conn:
            EventStore.append(conn, [row])

        assert [entry.version for entry in ledger.history("us-japan-2025")] == [1]
        assert ledger.record("us-japan-2025", "TermsDisputed", {"point": "beef"}).version == 2


def test_writers_on_many_threads_get_positions_in_commit_order(postgres_url: str) -> None:
    with Ledger.open(postgres_url) as ledger:
        errors: list[BaseException] = []

        def write(index: int) -> None:
            try:
                for negotiation_id, items in workload(5, 4, seed=index, start=index * 5):
                    ledger.record_many(negotiation_id, items)
            except BaseException as e:  # noqa: BLE001 (reported by the test)
                errors.append(e)

        threads = [threading.Thread(target=write, args=(index,)) for index in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        log = ledger.read_all()

        assert errors == []
        assert [entry.position for entry in log] == list(range(1, 81))
        assert ledger.verify().intact


def lock_holders(admin: str, url: str) -> int:
    """How many sessions hold the append lock of the database at ``url`` now (tests running beside
    this one hold the locks of their own databases)."""
    with psycopg.connect(admin, autocommit=True) as conn:
        found = conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                             "AND objid = %s AND database = (SELECT oid FROM pg_database WHERE datname = %s)",
                             (APPEND_LOCK_KEY & 0xFFFFFFFF, make_url(url).database)).fetchone()
    return int(found[0]) if found else 0


def first_through_the_driver(conn: Connection, position: int) -> None:
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor() as cursor, cursor.copy("COPY entry_sources (source, position, negotiation_id) FROM STDIN") \
            as copy:
        copy.write_row(("AP", position, "us-japan-2025"))


def first_through_core(conn: Connection, position: int) -> None:
    conn.execute(entry_sources.insert(), {"source": "AP", "position": position, "negotiation_id": "us-japan-2025"})


def first_through_the_store(conn: Connection, position: int) -> None:
    assert EventStore.head(conn, "us-japan-2025") is None
    first_through_core(conn, position)


@pytest.mark.parametrize("first", [first_through_the_driver, first_through_core, first_through_the_store],
                         ids=["driver", "core", "store"])
def test_whatever_runs_first_in_a_writing_transaction_runs_after_the_lock_and_inside_the_transaction(
        postgres_url: str, postgres_admin: str, first: Callable[[Connection, int], None]) -> None:
    with Ledger.open(postgres_url) as ledger:
        store = ledger.store
        with store.writing() as conn:
            assert lock_holders(postgres_admin, postgres_url) == 0  # nothing sent yet
            first(conn, 1)
            assert lock_holders(postgres_admin, postgres_url) == 1
        assert lock_holders(postgres_admin, postgres_url) == 0
        with pytest.raises(RuntimeError, match="changed my mind"), store.writing() as conn:
            first(conn, 2)
            raise RuntimeError("changed my mind")
        with store.reading() as conn:
            kept = conn.execute(text("SELECT count(*) FROM entry_sources")).scalar_one()

        assert kept == 1  # the first transaction's row; the second's was rolled back with it


def test_a_failed_write_leaves_no_pooled_connection_in_autocommit(postgres_url: str) -> None:
    with Ledger.open(postgres_url) as ledger:
        first = ledger.record("us-japan-2025", "AgreedInPrinciple", {"parties": ["US", "JP"]})
        row = {**SECOND, "event_id": first.event_id, "negotiation_id": "us-japan-2025"}
        for _ in range(3):
            with pytest.raises(WriteRace), ledger.store.writing() as conn:
                EventStore.append(conn, [row])
            with pytest.raises(RuntimeError), ledger.store.writing() as conn:
                EventStore.head(conn, "us-japan-2025")
                raise RuntimeError("stopped half-way")
        engine = ledger.store.engine
        with engine.connect() as conn:
            assert conn.connection.driver_connection.autocommit is False  # type: ignore[union-attr]
            with conn.begin():
                conn.execute(entry_sources.insert(), {"source": "AP", "position": 1, "negotiation_id": "x"})
                conn.rollback()
            assert conn.execute(text("SELECT count(*) FROM entry_sources WHERE negotiation_id = 'x'")).scalar() == 0
