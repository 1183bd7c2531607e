"""The PostgreSQL recorder (negotiation/store/postgres.py): round trips counted, rows as Core writes them,
the lock first, and nothing but StorageError when the server goes away, with every answer true."""

from __future__ import annotations

import random
import re
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from sqlalchemy import create_engine, text

from negotiation.domain.aggregate import Negotiation, snapshot
from negotiation.errors import StorageError
from negotiation.store.postgres import PostgresRecorder, json_text
from negotiation.store.recorder import EventRow
from negotiation.store.schema import entry_sources, events, heads
from negotiation.store.writers import APPEND_LOCK_KEY, WriteRace
from recorders import append, postgres_database_url, postgres_recorder, postgres_recorders, row, rows, state_after

__all__ = ["postgres_recorder", "postgres_recorders"]  # fixtures, used by name

# -- counting round trips ------------------------------------------------------------------------


def round_trips(recorder: PostgresRecorder, call: Callable[[], object]) -> tuple[int, list[str]]:
    """The round trips ``call`` makes on the recorder's one pooled connection, from libpq's own trace.

    A round trip is a run of messages from the client answered by the server (the trace's F and B lines).
    """
    conn = recorder.pool.getconn()
    pgconn = conn.pgconn
    recorder.pool.putconn(conn)
    with tempfile.TemporaryFile("w+") as trace:
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS | psycopg.pq.Trace.REGRESS_MODE)
        try:
            call()
        finally:
            pgconn.untrace()  # flushes what libpq buffered
        trace.seek(0)
        lines = trace.read().splitlines()
    trips, sent = 0, False
    for direction in (line.split("\t", 1)[0] for line in lines):
        if direction == "F":
            sent = True
        elif direction == "B" and sent:
            trips, sent = trips + 1, False
    return trips, lines


def statements(lines: list[str]) -> list[str]:
    """The SQL the client sent, in order, from the trace's Parse and Query messages."""
    sent = []
    for line in lines:
        fields = line.split("\t")
        if fields[0] == "F" and len(fields) > 3 and fields[2] in ("Parse", "Query"):
            quoted = re.findall(r'"((?:[^"]|"")*)"', fields[3])  # Parse: the statement's name, then its SQL
            sent.append(quoted[-1])
    return sent


@pytest.fixture
def one_connection(postgres_at_head: Any) -> Iterator[PostgresRecorder]:
    """A recorder whose pool holds a single connection, so that one trace sees all it sends."""
    name = postgres_at_head.take()
    recorder = PostgresRecorder.open(postgres_database_url(name), min_size=1, max_size=1)
    try:
        yield recorder
    finally:
        recorder.close()
        postgres_at_head.give_back(name)


def write(recorder: PostgresRecorder, batch: list[EventRow]) -> list[int]:
    with recorder.writing() as writer:
        return append(writer, batch)


def test_an_append_takes_two_round_trips_a_head_one_and_the_lock_goes_first(
        one_connection: PostgresRecorder) -> None:
    recorder = one_connection
    first, first_trace = round_trips(recorder, lambda: write(recorder, rows("us-japan", 1, 10, sources=("AP",))))
    for version in range(11, 31, 10):  # the connection has prepared every statement by now
        write(recorder, rows("us-japan", version, 10, sources=("AP", "Reuters")))
        recorder.current_head("us-japan")
        recorder.end_of_log()
    appended, append_trace = round_trips(recorder, lambda: write(recorder, rows("us-japan", 31, 10)))
    opened, opened_trace = round_trips(recorder, lambda: write(recorder, rows("eu-china", 1, 1)))
    read, read_trace = round_trips(recorder, lambda: recorder.current_head("us-japan"))
    end, _ = round_trips(recorder, recorder.end_of_log)

    def in_a_snapshot() -> None:
        with recorder.reading() as reader:
            reader.head("us-japan")

    snapshot_read, snapshot_trace = round_trips(recorder, in_a_snapshot)

    assert first == 2, "\n".join(first_trace)  # preparing the statements costs no round trip of its own
    assert statements(first_trace)[:3] == [
        "BEGIN", "SELECT pg_advisory_xact_lock($1)", "SELECT last_value, is_called FROM negotiation_events_position_seq"]
    assert appended == 2, "\n".join(append_trace)
    assert opened == 2, "\n".join(opened_trace)
    assert read == 1, "\n".join(read_trace)
    assert end == 1
    assert snapshot_read == 2, "\n".join(snapshot_trace)  # BEGIN with the SELECT, then COMMIT
    assert recorder.current_head("us-japan").negotiation.version == 40  # type: ignore[union-attr]


def lock_holders(admin: str, database: str) -> int:
    """How many sessions hold the append lock on ``database`` now."""
    with psycopg.connect(admin, autocommit=True) as conn:
        found = conn.execute("SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                             "WHERE l.locktype = 'advisory' AND l.granted AND l.objid = %s AND d.datname = %s",
                             (APPEND_LOCK_KEY & 0xFFFFFFFF, database)).fetchone()
    return int(found[0]) if found else 0


@pytest.mark.parametrize("first", ["head", "append", "by_ids", "insert_as_stored", "stream"])
def test_whatever_runs_first_in_a_writing_transaction_runs_after_the_lock(
        postgres_recorder: PostgresRecorder, postgres_admin: str, first: str) -> None:
    entry = row("us-japan", 1)
    with postgres_recorder.writing() as writer:
        assert lock_holders(postgres_admin, database_of(postgres_recorder)) == 0  # nothing sent yet
        if first == "insert_as_stored":
            from negotiation.domain.entries import RecordedEvent

            writer.insert_as_stored([RecordedEvent(position=7, **entry)])
        elif first == "append":
            writer.append([entry])
        elif first == "stream":
            assert next(iter(writer.in_log_order()), None) is None
        else:
            getattr(writer, first)(["0f8fad5b-d9cb-469f-a165-70867728950e"] if first == "by_ids" else "x")
        assert lock_holders(postgres_admin, database_of(postgres_recorder)) == 1
    assert lock_holders(postgres_admin, database_of(postgres_recorder)) == 0


def test_a_position_taken_without_the_lock_refuses_the_append_and_stores_nothing(
        postgres_recorder: PostgresRecorder) -> None:
    write(postgres_recorder, [row("us-japan", 1)])
    rogue = psycopg.connect(postgres_recorder.engine.url.render_as_string(hide_password=False)
                            .replace("postgresql+psycopg", "postgresql"), autocommit=True)
    with closing(rogue), pytest.raises(StorageError, match="did not hold the append lock"), \
            postgres_recorder.writing() as writer:
        writer.head("us-japan")
        rogue.execute("SELECT nextval('negotiation_events_position_seq')")  # a writer without the lock
        append(writer, [row("us-japan", 2)])

    with postgres_recorder.reading() as reader:
        assert [e.version for e in reader.all_after(0)] == [1]
    assert write(postgres_recorder, [row("us-japan", 2)]) == [4]  # 2 by the other, 3 by the refused append


def test_a_duplicate_rolls_back_and_the_connection_goes_on(one_connection: PostgresRecorder) -> None:
    stored = write(one_connection, [row("us-japan", 1)])
    for _ in range(3):
        with pytest.raises(WriteRace, match="duplicate key"):
            write(one_connection, [row("us-japan", 1)])
        with pytest.raises(RuntimeError), one_connection.writing() as writer:
            writer.head("us-japan")
            raise RuntimeError("stopped half-way")
    conn = one_connection.pool.getconn()
    try:
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE and conn.autocommit
    finally:
        one_connection.pool.putconn(conn)
    assert write(one_connection, [row("us-japan", 2)])[0] > stored[0]


def test_a_read_after_its_transaction_ended_is_refused(postgres_recorder: PostgresRecorder) -> None:
    write(postgres_recorder, rows("us-japan", 1, 2))
    with postgres_recorder.reading() as reader:
        pending = reader.in_log_order()
        next(pending)
    with pytest.raises(StorageError, match="transaction has ended"):
        list(pending)
    with pytest.raises(StorageError, match="transaction has ended"):
        reader.end_of_log()


def test_a_connection_whose_backend_ended_while_pooled_is_replaced_without_an_error(
        postgres_recorder: PostgresRecorder, postgres_admin: str) -> None:
    write(postgres_recorder, [row("us-japan", 1)])
    terminate(postgres_admin, database_of(postgres_recorder), wait=True)

    assert postgres_recorder.current_head("us-japan").negotiation.version == 1  # type: ignore[union-attr]
    assert len(write(postgres_recorder, [row("us-japan", 2)])) == 1


def test_an_unreachable_server_is_a_storage_error() -> None:
    with pytest.raises(StorageError, match="database error"):
        PostgresRecorder.open("postgresql+psycopg://postgres@127.0.0.1:1/nowhere")


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
    "sources": (),
    "hash": "b" * 64,
    "reported_at": datetime(2025, 7, 23, 1, 2, 3, 999999, tzinfo=UTC),
}
THIRD: dict[str, Any] = {**SECOND, "event_id": "e3b0c442-98fc-1c14-9afb-f4c8996fb924", "version": 3,
                         "sources": ("Reuters", "AP"), "data": {}, "hash": "c" * 64}
OPENED = Negotiation(id="us-japan-2025", state="AgreedInPrinciple", version=1, parties=("US", "JP"),
                     terms={"note": "合意"}, opened_at=datetime(2025, 7, 22, 0, 30, 15, tzinfo=UTC))
AMENDED = Negotiation(id="us-japan-2025", state="TermsAmended", version=3, parties=("US", "JP"),
                      terms={"tariff": "10 %", "ü": None}, opened_at=datetime(2025, 7, 22, 0, 30, 15, tzinfo=UTC),
                      updated_at=datetime(2025, 7, 23, tzinfo=TOKYO))
WRITES = (([FIRST], OPENED, True), ([SECOND, THIRD], AMENDED, False))


def write_with_core(url: str) -> None:
    engine = create_engine(url, json_serializer=json_text)
    try:
        for batch, negotiation, opened in WRITES:
            with engine.begin() as conn:
                # The transaction is named by its first entry's position: the next one, the log having no gaps.
                commit_id = conn.scalar(text("SELECT coalesce(max(position), 0) + 1 FROM negotiation_events"))
                positions = [conn.execute(events.insert().returning(events.c.position),
                                          {**row, "commit_id": commit_id}).scalar_one() for row in batch]
                named = [{"source": source, "position": position, "negotiation_id": row["negotiation_id"]}
                         for position, row in zip(positions, batch) for source in dict.fromkeys(row["sources"])]
                if named:
                    conn.execute(entry_sources.insert(), named)
                head = {"version": negotiation.version, "state": negotiation.state,
                        "snapshot": snapshot(negotiation), "last_hash": batch[-1]["hash"]}
                if opened:
                    conn.execute(heads.insert(), {"negotiation_id": negotiation.id,
                                                  "opened_at_position": positions[0], **head})
                else:
                    conn.execute(heads.update().where(heads.c.negotiation_id == negotiation.id).values(head))
    finally:
        engine.dispose()


def write_with_recorder(recorder: PostgresRecorder) -> None:
    for batch, negotiation, opened in WRITES:
        with recorder.writing() as writer:
            positions = writer.append([EventRow(**row) for row in batch])  # type: ignore[typeddict-item]
            writer.save_head(negotiation, batch[-1]["hash"], positions[0] if opened else None)


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


def test_the_rows_written_are_the_rows_core_writes_and_read_back_as_core_reads_them(
        postgres_recorders: Callable[[], PostgresRecorder]) -> None:
    core, ours = postgres_recorders(), postgres_recorders()
    core_url = core.engine.url.render_as_string(hide_password=False)
    write_with_core(core_url)
    write_with_recorder(ours)
    with ours.reading() as reader:
        read = reader.stream("us-japan-2025")
    with core.reading() as reader:
        read_from_core = reader.stream("us-japan-2025")
    engine = create_engine(core_url)
    try:
        with engine.connect() as conn:
            through_core = [tuple(row) for row in conn.execute(events.select().order_by(events.c.position))]
    finally:
        engine.dispose()

    assert stored(ours.engine.url.render_as_string(hide_password=False)) == stored(core_url)
    assert read == read_from_core
    assert [(e.position, e.event_id, e.negotiation_id, e.version, e.type, e.data, e.schema_version, e.occurred_at,
             e.recorded_at, list(e.sources), e.hash, e.reported_at, e.commit_id) for e in read] == through_core
    assert [e.event_id for e in read] == [FIRST["event_id"].lower(), str(uuid.UUID(SECOND["event_id"])),
                                          THIRD["event_id"]]
    assert all(moment.tzinfo is UTC for e in read for moment in (e.occurred_at, e.recorded_at, e.reported_at))
    assert ours.current_head("us-japan-2025").negotiation == AMENDED  # type: ignore[union-attr]


# -- the server goes away --------------------------------------------------------------------------


def database_of(recorder: PostgresRecorder) -> str:
    return str(recorder.engine.url.database)


def terminate(admin: str, database: str, *, wait: bool = False, busy_only: bool = False) -> int:
    """End every backend on ``database`` (but this one), or only those running a statement or a transaction;
    with ``wait``, until they have ended."""
    busy = " AND state IN ('active', 'idle in transaction', 'idle in transaction (aborted)')" if busy_only else ""
    with psycopg.connect(admin, autocommit=True) as conn:
        pids = [pid for (pid,) in conn.execute("SELECT pid FROM pg_stat_activity "
                                               f"WHERE datname = %s AND pid <> pg_backend_pid(){busy}", (database,))]
        conn.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", (pids,))
        deadline = time.monotonic() + 10
        while wait and conn.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)",
                                    (pids,)).fetchone()[0]:  # type: ignore[index]
            assert time.monotonic() < deadline, "the backends did not end"
            time.sleep(0.01)
    return len(pids)


def test_under_killed_backends_only_storage_errors_escape_and_every_answer_is_true(
        postgres_recorder: PostgresRecorder, postgres_admin: str, report_figure: Callable[[str, str], None],
        monkeypatch: pytest.MonkeyPatch) -> None:
    recorder, database = postgres_recorder, database_of(postgres_recorder)
    settled: list[bool] = []
    settle = recorder._settle

    def counted(session: Any, error: BaseException) -> None:
        try:
            settle(session, error)
        except StorageError:
            settled.append(False)
            raise
        settled.append(True)

    monkeypatch.setattr(recorder, "_settle", counted)
    stop = threading.Event()
    killed: list[int] = []

    def kill() -> None:
        chance = random.Random(7)
        while not stop.is_set():
            time.sleep(chance.uniform(0.005, 0.05))
            # Mid-write: a backend ended while it starts up only sends the pool into its back-off.
            killed.append(terminate(postgres_admin, database, busy_only=True))

    succeeded: dict[str, int] = {}
    failed: list[str] = []
    other: list[BaseException] = []
    killer = threading.Thread(target=kill)
    killer.start()
    try:
        deadline = time.monotonic() + 6
        batch_number = 0
        while time.monotonic() < deadline:
            batch_number += 1
            negotiation_id = f"n{batch_number % 3}"
            batch: list[EventRow] = []
            try:
                with recorder.writing() as writer:
                    head = writer.head(negotiation_id)
                    version = head.negotiation.version if head else 0
                    batch = rows(negotiation_id, version + 1, 1 + batch_number % 3, sources=("AP",))
                    positions = writer.append(batch)
                    writer.save_head(state_after(negotiation_id, batch[-1]["version"]), batch[-1]["hash"],
                                     positions[0] if head is None else None)
            except StorageError:
                failed.extend(r["event_id"] for r in batch)
            except BaseException as e:  # noqa: BLE001 (reported by the test)
                other.append(e)
            else:
                succeeded.update(zip((r["event_id"] for r in batch), positions))
    finally:
        stop.set()
        killer.join()

    with recorder.reading() as reader:
        log = {e.event_id: e.position for e in reader.all_after(0)}
        heads_now = {n: reader.head(n) for n in ("n0", "n1", "n2")}
        streams = {n: reader.stream(n) for n in heads_now}
    report_figure("postgres recorder under killed backends",
                  f"{batch_number} writes, {len(succeeded)} entries stored, {len(failed)} refused, "
                  f"{sum(killed)} backends killed, {settled.count(True)} lost COMMIT answers found stored, "
                  f"{settled.count(False)} found not stored")

    assert other == []
    assert failed, "no write was interrupted: the test proves nothing"
    assert succeeded and log == succeeded  # every success stored where it said; nothing else stored
    assert not set(failed) & set(log)
    for negotiation_id, head in heads_now.items():  # the heads went with their entries
        stream = streams[negotiation_id]
        assert [e.version for e in stream] == list(range(1, len(stream) + 1))
        assert (head.negotiation.version if head else 0) == len(stream)


class Proxy:
    """A TCP proxy to the server that can lose, once, what one side sends next (and close both sides)."""

    def __init__(self, port: int = 5432) -> None:
        self.target = ("127.0.0.1", port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.lose_answer = threading.Event()
        self.lose_request = threading.Event()
        self.lost = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            threading.Thread(target=self.pump, args=(client, server, self.lose_request), daemon=True).start()
            threading.Thread(target=self.pump, args=(server, client, self.lose_answer), daemon=True).start()

    def pump(self, source: socket.socket, sink: socket.socket, lose: threading.Event) -> None:
        try:
            while data := source.recv(65536):
                if lose.is_set():
                    lose.clear()
                    self.lost.set()
                    break
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            end.close()

    def close(self) -> None:
        self.listener.close()


@contextmanager
def through_a_proxy(postgres_at_head: Any) -> Iterator[tuple[PostgresRecorder, Proxy]]:
    name = postgres_at_head.take()
    proxy = Proxy()
    recorder = PostgresRecorder.open(f"postgresql+psycopg://postgres@127.0.0.1:{proxy.port}/{name}",
                                     min_size=1, max_size=2)
    try:
        yield recorder, proxy
    finally:
        recorder.close()
        proxy.close()
        postgres_at_head.give_back(name)


def test_a_commit_whose_answer_is_lost_is_looked_up_and_reported_stored(postgres_at_head: Any) -> None:
    with through_a_proxy(postgres_at_head) as (recorder, proxy):
        write(recorder, [row("us-japan", 1)])
        batch = rows("us-japan", 2, 2)
        with recorder.writing() as writer:
            positions = append(writer, batch)
            proxy.lose_answer.set()  # the server's answer to the writes and COMMIT never arrives

        assert proxy.lost.is_set()
        with recorder.reading() as reader:
            assert [(e.event_id, e.position) for e in reader.all_after(1)] == [
                (r["event_id"], p) for r, p in zip(batch, positions)]


def test_a_commit_that_never_arrived_is_looked_up_and_reported_failed(postgres_at_head: Any) -> None:
    with through_a_proxy(postgres_at_head) as (recorder, proxy):
        write(recorder, [row("us-japan", 1)])
        with pytest.raises(StorageError, match="database error"), recorder.writing() as writer:
            append(writer, rows("us-japan", 2, 2))
            proxy.lose_request.set()  # what is still to be sent never reaches the server

        assert proxy.lost.is_set()
        with recorder.reading() as reader:
            assert [e.version for e in reader.all_after(0)] == [1]
        assert recorder.current_head("us-japan").negotiation.version == 1  # type: ignore[union-attr]
