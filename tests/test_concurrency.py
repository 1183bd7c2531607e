"""Several processes appending at once: nothing lost, nothing twice, no gaps, every race reported."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor, wait
from pathlib import Path

import pytest
import workers

from negotiation import Ledger

# About how the storage behaves: on every backend. Slow: seconds a test.
pytestmark = [pytest.mark.every_backend, pytest.mark.slow]

WRITERS = 4
EVENTS_PER_WRITER = 40
NEGOTIATIONS = ["us-japan-2025", "india-japan-2025", "korea-japan-2025"]


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessPoolExecutor]:
    """The writers and the follower: processes started once, each with the package already imported.

    Every test then sets all of them going at the same moment, so that they really race.
    """
    started = workers.pool(WRITERS + 1)
    wait([started.submit(exec, "import workers") for _ in range(WRITERS + 1)], timeout=180)
    yield started
    started.shutdown(wait=False)  # idle: they exit on their own while the next tests run


@pytest.mark.parametrize("check_version", [False, True], ids=["no version check", "expected version"])
def test_concurrent_writers_store_every_accepted_event_exactly_once(
    ledger: Ledger, database_url: str, check_version: bool, report_figure: Callable[[str, str], None],
    pool: ProcessPoolExecutor,
) -> None:
    for negotiation_id in NEGOTIATIONS:
        ledger.record(negotiation_id, "AgreedInPrinciple", {"parties": ["US", "JP"]})
    opened = len(NEGOTIATIONS)
    total = WRITERS * EVENTS_PER_WRITER

    reader = pool.submit(workers.follow, database_url, opened + total, 120.0)
    results = [pool.submit(workers.append, database_url, w, NEGOTIATIONS, EVENTS_PER_WRITER, check_version)
               for w in range(WRITERS)]
    outcomes = [r.result(timeout=180) for r in results]
    seen = reader.result(timeout=180)

    accepted_ids = [event_id for outcome in outcomes for event_id in outcome["ids"]]
    conflicts = sum(outcome["conflicts"] for outcome in outcomes)
    stored = ledger.read_all()
    stored_ids = [event.event_id for event in stored]
    lost = len(set(accepted_ids) - set(stored_ids))
    duplicated = len(stored_ids) - len(set(stored_ids))
    assert sum(outcome["accepted"] for outcome in outcomes) == total
    assert len(stored) == opened + total
    assert (lost, duplicated) == (0, 0)
    for negotiation_id in NEGOTIATIONS:
        assert [e.version for e in ledger.history(negotiation_id)] == list(range(1, ledger.version(negotiation_id) + 1))
    assert [event_id for _, event_id in seen] == stored_ids  # the follower saw each event once, in order
    assert ledger.verify().intact
    if not check_version:
        assert conflicts == 0  # writers queue for the lock instead of failing
    backend = database_url.split(":", 1)[0].split("+")[0]
    mode = "expected version" if check_version else "no version check"
    report_figure(f"concurrency {backend} {mode}",
                  f"{WRITERS} writers, {total} events accepted, {conflicts} conflicts retried, "
                  f"{len(seen)} seen by the follower, lost {lost}, duplicated {duplicated}")


def test_two_loads_of_one_file_at_once_each_report_what_they_recorded_and_together_what_is_stored(
    ledger: Ledger, database_url: str, tmp_path: Path, pool: ProcessPoolExecutor,
) -> None:
    events = 21_001  # 22 chunks: the loads meet in the check, in the writing, or one after the other
    lines = ["negotiation: long-talks-2025", "events:",
             ("  - {type: AgreedInPrinciple, occurred_at: 2025-07-22, reported_at: 2025-07-22, "
              "data: {parties: [US, JP]}}")]
    lines += [f"  - {{type: TermsAmended, data: {{terms: {{round: {i}}}}}}}" for i in range(events - 1)]
    path = tmp_path / "long-talks.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    loads = [pool.submit(workers.load, database_url, str(path)) for _ in range(2)]
    reports = [load.result(timeout=180) for load in loads]

    stored = ledger.read_all()
    assert len(stored) == len({event.event_id for event in stored}) == events
    assert sum(recorded for recorded, _ in reports) == events
    assert all(recorded + already == events for recorded, already in reports)


def test_threads_sharing_one_ledger_each_have_every_write_stored_once(ledger: Ledger) -> None:
    """One ledger, many threads writing at once: they share what the ledger keeps for writing (on SQLite,
    one connection; a thread finding it busy takes another), and nothing is lost, doubled or mixed."""
    threads, writes = 6, 15
    ledger.record("shared-talks-2025", "AgreedInPrinciple", {"parties": ["US", "JP"]})

    def write(thread: int) -> None:
        ledger.record(f"talks-{thread}-2025", "AgreedInPrinciple", {"parties": ["US", "JP"]})
        for round_ in range(writes):
            ledger.record(f"talks-{thread}-2025", "TermsAmended", {"terms": {"round": round_}})
            ledger.record("shared-talks-2025", "TermsAmended", {"terms": {f"thread_{thread}": round_}})

    with ThreadPoolExecutor(threads) as running:
        list(running.map(write, range(threads)))  # re-raises what a thread raised

    for thread in range(threads):
        assert [e.data["terms"]["round"] for e in ledger.history(f"talks-{thread}-2025")[1:]] == list(range(writes))
        assert ledger.get(f"talks-{thread}-2025").terms == {"round": writes - 1}
    shared = ledger.history("shared-talks-2025")
    assert [e.version for e in shared] == list(range(1, threads * writes + 2))
    assert len(ledger.read_all()) == threads * (writes + 1) + 1 + threads * writes
    assert ledger.verify().intact
