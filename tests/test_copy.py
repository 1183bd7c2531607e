"""Copying the whole log to another database: every entry as stored, states rebuilt, verified there, resumable."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from itertools import pairwise
from pathlib import Path

import psycopg
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from negotiation import Ledger
from negotiation.cli import main
from negotiation.files.loading import load_streams, read_streams
from negotiation.store.copy import CopyRefused, copy_log
from negotiation.store.writers import APPEND_LOCK_KEY

Figure = Callable[[str, str], None]


def rows_of(url: str, table: str = "negotiation_events", order: str = "position") -> list[tuple[object, ...]]:
    """Every row of a table, read behind the ledger's back."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text(f"SELECT * FROM {table} ORDER BY {order}"))]
    finally:
        engine.dispose()


def assert_same_log(source_url: str, target_url: str, every: int = 1) -> None:
    """Every entry equal field by field (ids, versions, positions, the three times, hashes), an intact
    chain and kept states that are what the log gives on the target, the same index of sources, and the
    same histories and states (of every ``every``-th negotiation)."""
    with Ledger.open(source_url, upgrade=False) as source, Ledger.open(target_url, upgrade=False) as target:
        assert target.read_all() == source.read_all()
        report = target.verify()
        assert report.intact, report.broken
        assert target.negotiations() == source.negotiations()
        for negotiation_id in source.negotiations()[::every]:
            assert target.history(negotiation_id) == source.history(negotiation_id)
            assert target.get(negotiation_id) == source.get(negotiation_id)
    assert (rows_of(target_url, "entry_sources", "source, position")
            == rows_of(source_url, "entry_sources", "source, position"))


@pytest.fixture
def seeded(sqlite_url: str, seeds: list[Path]) -> str:
    """The seeds with a late batch, a retraction and a correction on top, in a SQLite file."""
    with Ledger.open(sqlite_url) as ledger:
        load_streams(ledger, read_streams(seeds))
        ledger.record_many("us-japan-2025", [  # learned late, dated before the finalisation: judged as one batch
            {"type": "TermsDisputed", "data": {"point": "rice"}, "occurred_at": "2025-09-01"},
            {"type": "DisputeResolved", "data": {"point": "rice"}, "occurred_at": "2025-09-02"}])
        ledger.correct("us-japan-2025", 3, reason="reported a day late", occurred_at="2025-08-01")
        ledger.retract("us-uk-2025", ledger.version("us-uk-2025"), reason="not confirmed", sources=["GOV.UK"])
    return sqlite_url


def test_the_seeds_copied_to_postgresql_and_back_are_the_same_log_entry_for_entry(
    seeded: str, postgres_url: str, sqlite_directory: Path, tmp_path: Path
) -> None:
    back = f"sqlite:///{tmp_path / 'back.db'}"

    there = copy_log(seeded, postgres_url)
    again = copy_log(postgres_url, back)

    assert there.copied == again.copied == there.entries == len(rows_of(seeded))
    assert_same_log(seeded, postgres_url)
    assert_same_log(postgres_url, back)


@pytest.mark.parametrize("target", ["postgres", "sqlite"])
def test_new_appends_on_the_target_go_on_after_the_highest_copied_position(
    seeded: str, postgres_url: str, tmp_path: Path, target: str
) -> None:
    url = postgres_url if target == "postgres" else f"sqlite:///{tmp_path / 'copy.db'}"
    copy_log(seeded, url)
    with Ledger.open(seeded) as source:
        last = source.read_all()[-1].position


    with Ledger.open(url) as copied:
        amended = copied.record("us-japan-2025", "TermsAmended", {"terms": {"autos": "15%"}})
        opened = copied.record("us-canada-2026", "WorkingLevelTalksOpened", {"parties": ["US", "CA"]})

        assert (amended.position, opened.position) == (last + 1, last + 2)
        assert amended.version == len(copied.history("us-japan-2025"))
        assert copied.verify().intact


def test_a_copy_that_stopped_is_completed_by_running_it_again_without_duplicates(
    seeded: str, postgres_url: str
) -> None:
    def stop_after_two_chunks(done: int, _total: int) -> None:
        if done >= 20:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        copy_log(seeded, postgres_url, chunk=10, progress=stop_after_two_chunks)
    with Ledger.open(postgres_url, upgrade=False) as halfway, Ledger.open(seeded, upgrade=False) as source:
        kept, everything = halfway.read_all(), source.read_all()
        assert halfway.verify().intact  # the states kept are those after the chunks committed

    resumed = copy_log(seeded, postgres_url, chunk=10)

    assert 20 <= len(kept) < len(everything)
    assert kept == everything[:len(kept)]

    assert (resumed.already_there, resumed.copied) == (len(kept), len(rows_of(seeded)) - len(kept))
    assert_same_log(seeded, postgres_url)


def test_a_chunk_never_splits_what_the_source_wrote_in_one_transaction(seeded: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'copy.db'}"
    sizes: list[int] = []

    copy_log(seeded, url, chunk=1, progress=lambda done, _total: sizes.append(done))

    steps = [later - earlier for earlier, later in pairwise(sizes)]
    assert 2 in steps  # the late batch of two went in together: alone, its dispute breaks the story
    assert_same_log(seeded, url)


def test_a_target_holding_other_entries_is_refused_and_left_as_it_was(seeded: str, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'other.db'}"
    with Ledger.open(url) as other:
        other.record("us-canada-2026", "WorkingLevelTalksOpened", {"parties": ["US", "CA"]})
    before = rows_of(url)

    with pytest.raises(CopyRefused) as refused:
        copy_log(seeded, url)

    assert str(refused.value) == (
        f"{url} already holds 1 entries that are not the first entries of {seeded} (position 1 differs): copy to "
        "an empty database, or run again a copy that stopped to complete it; nothing was written")
    assert rows_of(url) == before


def test_a_database_is_not_copied_onto_itself_however_its_path_is_written(seeded: str) -> None:
    path = Path(seeded.removeprefix("sqlite:///"))
    before = rows_of(seeded)

    with pytest.raises(CopyRefused, match="is the database being copied: copy to another one"):
        copy_log(seeded, f"sqlite:///{path.parent}/./{path.name}")

    assert rows_of(seeded) == before


# -- the command ---------------------------------------------------------------------------------------------


def test_the_copy_command_copies_verifies_and_says_so(seeded: str, postgres_url: str) -> None:
    result = CliRunner().invoke(main, ["--url", seeded, "copy", "--to", postgres_url])

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    entries = len(rows_of(seeded))
    with Ledger.open(seeded) as source:
        negotiations = len(source.negotiations())
    assert lines[0].startswith(f"copied {entries} entries from {seeded} to {postgres_url} (")
    assert lines[1] == f"verified on the target: {entries} entries in {negotiations} negotiations, intact"
    assert_same_log(seeded, postgres_url)


def test_the_copy_command_refuses_a_missing_source_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--url", f"sqlite:///{tmp_path / 'none.db'}", "copy", "--to",
                                       f"sqlite:///{tmp_path / 'target.db'}"])

    assert result.exit_code == 1
    missing = tmp_path / "none.db"
    assert result.stderr.splitlines() == [
        f"Error: no database at {missing}: record or load events first, or check --url"]


    assert not (tmp_path / "target.db").exists()


@pytest.mark.slow
def test_of_two_copies_to_one_postgresql_target_at_once_the_loser_says_so_in_one_line_and_leaves_the_copy_whole(
    seeded: str, postgres_url: str
) -> None:
    command = [sys.executable, "-m", "negotiation.cli", "--url", seeded, "copy", "--to", postgres_url]
    with psycopg.connect(postgres_url.replace("postgresql+psycopg", "postgresql"), autocommit=True) as holder:
        # The log's append lock held: both copies read the empty target, then queue for their first chunk.
        holder.execute("SELECT pg_advisory_lock(%s)", (APPEND_LOCK_KEY,))
        copies = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                  for _ in range(2)]
        deadline = time.monotonic() + 60
        while holder.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                             "AND objid = %s AND database = (SELECT oid FROM pg_database WHERE datname = "
                             "current_database())", (APPEND_LOCK_KEY,)).fetchone() != (2,):
            assert time.monotonic() < deadline and all(copy.poll() is None for copy in copies)
            time.sleep(0.01)
        holder.execute("SELECT pg_advisory_unlock(%s)", (APPEND_LOCK_KEY,))
        outcomes = [(copy.wait(timeout=120), *copy.communicate()) for copy in copies]

    [winner] = [outcome for outcome in outcomes if outcome[0] == 0]
    [(status, _out, error)] = [outcome for outcome in outcomes if outcome[0] != 0]
    assert status == 1
    assert len(error.splitlines()) == 1, error
    assert error.startswith("Error: ") and "was written to by another writer while this copy ran" in error
    assert winner[1].splitlines()[1].endswith("intact")
    assert_same_log(seeded, postgres_url)


# -- ten thousand entries -------------------------------------------------------------------------------------

NEGOTIATIONS, EACH = 990, 10


@pytest.fixture
def ten_thousand(sqlite_url: str) -> Iterator[str]:
    """10,000 entries: 990 negotiations of 10 events, then 50 corrections, 30 retractions and 20 late events."""
    with Ledger.open(sqlite_url) as ledger:
        for n in range(NEGOTIATIONS):
            ledger.record_many(f"talks-{n}", [
                {"type": "AgreedInPrinciple", "data": {"parties": ["US", "JP"], "terms": {"n": n}},
                 "occurred_at": "2025-01-01", "sources": ["Reuters"]},
                *({"type": "TermsAmended", "data": {"terms": {f"t{k}": k}}, "occurred_at": f"2025-02-{k + 10:02d}",
                   "sources": ["Kyodo", "NHK"][: k % 3]} for k in range(EACH - 1))])
        for n in range(50):
            ledger.correct(f"talks-{n}", 3, reason="misdated", occurred_at="2025-03-01")
        for n in range(50, 80):
            ledger.retract(f"talks-{n}", 5, reason="not reported again")
        for n in range(80, 100):
            ledger.record(f"talks-{n}", "TermsDisputed", {"point": "rice"}, occurred_at="2025-01-15")
        assert len(ledger.read_all()) == 10_000
    yield sqlite_url


@pytest.mark.slow
def test_ten_thousand_entries_copy_to_postgresql_and_back_intact(
    ten_thousand: str, postgres_url: str, tmp_path: Path, report_figure: Figure
) -> None:
    back = f"sqlite:///{tmp_path / 'back.db'}"

    started = time.perf_counter()
    there = copy_log(ten_thousand, postgres_url)
    again = copy_log(postgres_url, back)
    took = time.perf_counter() - started

    assert (there.copied, again.copied) == (10_000, 10_000)
    assert took < 30
    assert_same_log(ten_thousand, postgres_url, every=9)  # the corrected, retracted and late ones among them
    assert_same_log(postgres_url, back, every=9)

    report_figure("copy of 10,000 entries, SQLite to PostgreSQL", f"{there.per_second:,.0f} entries/s")
    report_figure("copy of 10,000 entries, PostgreSQL to SQLite", f"{again.per_second:,.0f} entries/s")


def test_a_copy_stopped_at_any_chunk_holds_only_a_state_the_source_held(sqlite_url: str, tmp_path: Path) -> None:
    with Ledger.open(sqlite_url) as source:
        source.record_together([  # one transaction across three negotiations
            (negotiation_id, [{"type": "AgreedInPrinciple", "data": {"parties": ["US", party]}}], 0)
            for negotiation_id, party in (("us-japan-2025", "JP"), ("us-korea-2025", "KR"), ("us-uk-2025", "GB"))])
        source.record("us-korea-2025", "TermsDisputed", {"point": "investment fund"})
        source.record_together([
            ("us-japan-2025", [{"type": "TermsDisputed", "data": {"point": "autos"}}], 1),
            ("us-uk-2025", [{"type": "TermsDisputed", "data": {"point": "steel"}}], 1)])
        log = source.read_all()
    # What the source held after each of its transactions: each negotiation's version.
    held, versions = [], {}
    for entry in log:
        versions[entry.negotiation_id] = entry.version
        if entry is log[-1] or log[log.index(entry) + 1].commit_id != entry.commit_id:
            held.append(dict(versions))
    target = f"sqlite:///{tmp_path / 'copy.db'}"
    seen: list[dict[str, int]] = []

    def look(_done: int, _total: int) -> None:  # after each committed chunk: where a kill would leave it
        with Ledger.open(target, upgrade=False) as copy:
            seen.append({negotiation_id: copy.version(negotiation_id) for negotiation_id in copy.negotiations()})

    copy_log(sqlite_url, target, chunk=1, progress=look)

    assert len({entry.commit_id for entry in log}) == 3
    assert seen[1:] == held  # the first look is before anything is copied
    assert_same_log(sqlite_url, target)
