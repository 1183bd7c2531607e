"""Crashes and lost connections leave whole transactions only, and a re-run completes the work."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from negotiation import Ledger, StorageError
from negotiation.cli import main
from negotiation.files import loading
from negotiation.files.loading import CHUNK, LoadStopped, load_streams, read_streams
from seams import fail_after_rows

# About how the storage behaves: on every backend. Slow: seconds a test.
pytestmark = [pytest.mark.every_backend, pytest.mark.slow]

TESTS = Path(__file__).parent


def child(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    return subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)


def stored_count(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(text("SELECT count(*) FROM negotiation_events")) or 0)
    finally:
        engine.dispose()


def integrity_ok(url: str) -> bool:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                return conn.scalar(text("PRAGMA integrity_check")) == "ok"
            return conn.scalar(text("SELECT count(*) FROM negotiation_events")) is not None
    finally:
        engine.dispose()


def settled(url: str, seconds: float = 30) -> None:
    """On PostgreSQL, wait until no other session of the database is inside a statement or a transaction.

    A killed client's backend may still be running a COMMIT the client sent just before it died (or
    have one waiting in its socket): what it stored is known once that backend is done.
    """
    if not url.startswith("postgresql"):
        return
    deadline = time.monotonic() + seconds
    with psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as conn:
        while conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                           "AND pid <> pg_backend_pid() AND backend_type = 'client backend' "
                           "AND state IN ('active', 'idle in transaction', 'idle in transaction (aborted)')"
                           ).fetchone() != (0,):
            assert time.monotonic() < deadline, "a killed client's session is still at work on the server"
            time.sleep(0.01)


def long_story(path: Path, events: int) -> Path:
    lines = ["negotiation: long-talks-2025", "events:",
             "  - type: AgreedInPrinciple", "    occurred_at: 2025-07-22", "    data: {parties: [US, JP]}"]
    for i in range(events - 1):
        lines += ["  - type: TermsAmended", f"    data: {{terms: {{round: {i}}}}}"]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_load_killed_midway_keeps_whole_chunks_and_a_rerun_completes_it(
    ledger: Ledger, database_url: str, tmp_path: Path, report_figure: Callable[[str, str], None]
) -> None:
    # Killed once its first chunk is stored: ten chunks leave the poll below seconds to see it and kill the
    # load before its end even on a loaded machine, and most of them for the re-run.
    total = 10 * CHUNK
    story = long_story(tmp_path / "long.yaml", total)
    loader = child("-m", "negotiation.cli", "--url", database_url, "load", str(story))
    deadline = time.monotonic() + 120
    while stored_count(database_url) == 0 and loader.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)

    loader.send_signal(signal.SIGKILL)
    loader.wait(timeout=30)
    settled(database_url)
    survived = stored_count(database_url)

    assert 0 < survived < total, "the load must be killed while it is writing"
    assert survived % CHUNK == 0  # only whole transactions
    assert integrity_ok(database_url)
    assert ledger.verify().intact
    rerun = CliRunner().invoke(main, ["--url", database_url, "load", str(story)])  # in this process, killed by nothing
    assert rerun.exit_code == 0, rerun.output
    assert f"{total - survived} events recorded, {survived} already stored" in rerun.stdout
    history = ledger.history("long-talks-2025")
    assert [e.version for e in history] == list(range(1, total + 1))
    assert len({e.event_id for e in history}) == total
    backend = database_url.split(":", 1)[0].split("+")[0]
    report_figure(f"crash {backend}", f"load of {total} events killed with {survived} stored "
                  f"({survived // CHUNK} whole chunks); re-run added {total - survived}, duplicates 0")


def test_a_writer_killed_before_commit_leaves_nothing(ledger: Ledger, database_url: str) -> None:
    writer = child("-c", f"import workers; workers.stall_inside_a_write({database_url!r}, 'killed-talks', 500)")
    assert writer.stdout is not None
    announced = writer.stdout.readline().strip()

    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)

    assert announced == "inserted, not committed", writer.stderr.read() if writer.stderr else ""
    assert stored_count(database_url) == 0
    assert integrity_ok(database_url)
    assert ledger.negotiations() == []
    ledger.record("killed-talks", "AgreedInPrinciple", {"parties": ["US", "JP"]})  # the lock was released
    assert ledger.version("killed-talks") == 1


def kill_backend_of(postgres_url: str) -> Callable[[Any], None]:
    """What ends the server's backend of a writing transaction, from another connection, before it commits."""
    def kill(transaction: Any) -> None:
        pid = transaction.conn.info.backend_pid
        with psycopg.connect(postgres_url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))

    return kill


def test_a_connection_lost_mid_write_is_a_clear_error_and_writes_nothing(postgres_url: str) -> None:
    with Ledger.open(postgres_url) as ledger:
        ledger.record("us-japan-2025", "AgreedInPrinciple", {"parties": ["US", "JP"]})
        kill = kill_backend_of(postgres_url)
        fail_after_rows(ledger.recorder, kill)  # the rows and head are queued; the backend ends before COMMIT

        with pytest.raises(StorageError) as lost:
            ledger.record_many("us-japan-2025", [{"type": "TermsDisputed", "data": {"point": "beef"}},
                                                 {"type": "VisitCancelled", "data": {"envoy": "Akazawa"}}])

    with Ledger.open(postgres_url) as ledger:
        assert str(lost.value).startswith("database error:") and "\n" not in str(lost.value)
        assert [e.type for e in ledger.history("us-japan-2025")] == ["AgreedInPrinciple"]
        assert ledger.record("us-japan-2025", "TermsDisputed", {"point": "beef"}).version == 2


def test_a_connection_lost_midway_through_a_load_stops_it_naming_what_was_written(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loading, "CHUNK", 2)
    story = long_story(tmp_path / "long.yaml", 5)
    with Ledger.open(postgres_url) as ledger:
        kill = kill_backend_of(postgres_url)
        writes: list[object] = []

        def kill_the_second_chunk(transaction: Any) -> None:
            writes.append(transaction)
            if len(writes) == 2:
                kill(transaction)

        fail_after_rows(ledger.recorder, kill_the_second_chunk)
        with pytest.raises(LoadStopped) as stopped:
            load_streams(ledger, read_streams([story]))
    with Ledger.open(postgres_url) as ledger:
        kept = [e.version for e in ledger.history("long-talks-2025")]
        rerun = load_streams(ledger, read_streams([story]))

        assert kept == [1, 2]
        assert isinstance(stopped.value.__cause__, StorageError)
        assert str(stopped.value).startswith(f"{story}: long-talks-2025: load stopped at events 3-4: ")
        assert ("; written: long-talks-2025 events 1-2 (2 events recorded, 0 already stored); "
                "not written: long-talks-2025 events 3-5; re-run the load to complete it") in str(stopped.value)
        assert "\n" not in str(stopped.value)
        assert (rerun.recorded, rerun.already_stored) == (3, 2)
        assert [e.version for e in ledger.history("long-talks-2025")] == [1, 2, 3, 4, 5]
