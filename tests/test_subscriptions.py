"""Following the log: a subscription catches up, then takes each committed entry once, in position order,
waiting without spinning; and ``negotiation watch`` prints them as they land."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, wait
from datetime import UTC, datetime
from pathlib import Path

import pytest
import workers
from click.testing import CliRunner

from negotiation import InvalidEvent, Ledger, RecordedEvent
from negotiation.cli import main
from negotiation.domain.chain import GENESIS
from negotiation.store.schema import events
from negotiation.subscriptions import Subscription

# About how the storage behaves: on every backend.
pytestmark = pytest.mark.every_backend

WRITERS = 8
EVENTS_PER_WRITER = 25
NEGOTIATIONS = ["us-japan-2025", "india-japan-2025", "korea-japan-2025"]
ROOT = Path(__file__).resolve().parent.parent
#: A subscriber left waiting on an idle ledger, measured in a process of its own: long enough for the
#: waits to reach their longest back-off (0.2 s) many times over.
IDLE_SECONDS = 2.5
IDLE_CPU_LIMIT = 0.02


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessPoolExecutor]:
    """The writers: processes started once, each with the package already imported, so that they race."""
    with workers.pool(WRITERS) as started:
        wait([started.submit(exec, "import workers") for _ in range(WRITERS)], timeout=300)
        yield started


def positions(entries: list[RecordedEvent]) -> list[int]:
    return [entry.position for entry in entries]


def open_three(ledger: Ledger) -> None:
    for negotiation_id in NEGOTIATIONS:
        ledger.record(negotiation_id, "AgreedInPrinciple", {"parties": ["US", "JP"]})


class Collector(threading.Thread):
    """A subscriber in a thread of its own, collecting entries until it has ``wanted`` or is closed."""

    def __init__(self, subscription: Subscription, wanted: int) -> None:
        super().__init__(daemon=True)
        self.subscription, self.wanted = subscription, wanted
        self.seen: list[RecordedEvent] = []
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with self.subscription:
                for entry in self.subscription:
                    self.seen.append(entry)
                    if len(self.seen) == self.wanted:
                        break
        except BaseException as e:  # handed to the test
            self.error = e


@pytest.mark.slow
def test_a_subscriber_started_before_eight_writers_receives_every_committed_entry_once_in_order(
    ledger: Ledger, database_url: str, pool: ProcessPoolExecutor, report_figure: Callable[[str, str], None]
) -> None:
    open_three(ledger)
    total = len(NEGOTIATIONS) + WRITERS * EVENTS_PER_WRITER
    early = Collector(ledger.subscribe(after=0, timeout=120), total)
    early.start()

    writes = [pool.submit(workers.append, database_url, w, NEGOTIATIONS, EVENTS_PER_WRITER, False)
              for w in range(WRITERS)]
    accepted = sum(write.result(timeout=300)["accepted"] for write in writes)
    early.join(timeout=180)
    with ledger.subscribe(after=0, timeout=0) as late:
        caught_up = list(late)
    stored = ledger.read_all()

    assert early.error is None and not early.is_alive()
    assert accepted == WRITERS * EVENTS_PER_WRITER
    assert positions(early.seen) == positions(stored)  # every committed entry, once, in position order
    assert [e.event_id for e in early.seen] == [e.event_id for e in stored]
    assert len({e.event_id for e in early.seen}) == total
    assert caught_up == early.seen
    backend = database_url.split(":", 1)[0].split("+")[0]
    report_figure(f"subscription {backend} {WRITERS} concurrent writers",
                  f"{accepted} events written, {len(early.seen)} entries received by the subscriber started "
                  f"before them, {len(caught_up)} by one started after; none skipped or repeated")


IDLE_SCRIPT = """
import json, resource, sys, time
from negotiation import Ledger
with Ledger.open(sys.argv[1], upgrade=False) as ledger:
    with ledger.subscribe(after=0, timeout=0) as catching_up:
        last = max([entry.position for entry in catching_up], default=0)
    subscription = ledger.subscribe(after=last, timeout=float(sys.argv[2]))
    wall, cpu = time.monotonic(), time.process_time()
    before = resource.getrusage(resource.RUSAGE_SELF)
    received = list(subscription)
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
print(json.dumps({"received": len(received), "cpu": cpu, "wall": wall,
                  "rusage": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)}))
"""


@pytest.mark.slow
def test_a_subscriber_waiting_on_an_idle_ledger_uses_under_two_percent_of_a_core(
    ledger: Ledger, database_url: str, report_figure: Callable[[str, str], None]
) -> None:
    open_three(ledger)

    run = subprocess.run([sys.executable, "-c", IDLE_SCRIPT, database_url, str(IDLE_SECONDS)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120, check=False)

    assert run.returncode == 0, run.stderr
    measured = json.loads(run.stdout)
    share = measured["cpu"] / measured["wall"]
    backend = database_url.split(":", 1)[0].split("+")[0]
    report_figure(f"subscription {backend} idle CPU",
                  f"{share:.2%} of one core ({measured['cpu'] * 1000:.0f} ms CPU over {measured['wall']:.1f} s "
                  f"of waiting; getrusage {measured['rusage'] * 1000:.0f} ms)")
    assert measured["received"] == 0
    assert share < IDLE_CPU_LIMIT
    assert measured["rusage"] / measured["wall"] < IDLE_CPU_LIMIT


def test_a_subscription_first_catches_up_then_yields_what_lands_later(ledger: Ledger) -> None:
    open_three(ledger)
    subscription = ledger.subscribe(after=0, timeout=60)
    first = [next(subscription) for _ in NEGOTIATIONS]

    later = ledger.record("us-japan-2025", "TermsDisputed", {"point": "autos"})
    landed = next(subscription)
    subscription.close()

    assert positions(first) == positions(ledger.read_all())[:3]
    assert landed == later
    assert list(subscription) == []


def test_a_subscription_wakes_for_an_entry_appended_behind_the_ledgers_back(ledger: Ledger) -> None:
    subscription = ledger.subscribe(after=0, timeout=60)
    waiting = Collector(subscription, 1)
    waiting.start()
    day = datetime(2025, 5, 8, tzinfo=UTC)
    row = {"event_id": "8d7c4c7e-5b0c-4bd4-9a55-0c1b0e3f3a11", "negotiation_id": "us-uk-2025", "version": 1,
           "type": "AgreedInPrinciple", "data": {"parties": ["US", "GB"]}, "schema_version": 1, "hash": GENESIS,
           "occurred_at": day, "recorded_at": day, "reported_at": day, "sources": ["GOV.UK"], "commit_id": 1}

    with ledger.recorder.engine.begin() as conn:  # a plain insert, as any other writer of the table might do
        conn.execute(events.insert(), [row])
    waiting.join(timeout=60)

    assert waiting.error is None and not waiting.is_alive()
    assert [(e.negotiation_id, e.type) for e in waiting.seen] == [("us-uk-2025", "AgreedInPrinciple")]


def test_a_subscription_yields_only_the_negotiation_and_types_asked_for(ledger: Ledger) -> None:
    open_three(ledger)
    ledger.record("us-japan-2025", "TermsDisputed", {"point": "autos"})
    ledger.record("india-japan-2025", "TermsDisputed", {"point": "rice"})
    ledger.record("us-japan-2025", "DisputeResolved", {"point": "autos"})
    ledger.record("us-japan-2025", "TermsAmended", {"terms": {"autos": "15%"}})

    with ledger.subscribe(negotiation_id="us-japan-2025", types=["TermsDisputed", "DisputeResolved"],
                          timeout=0) as subscription:
        chosen = [(e.negotiation_id, e.version, e.type) for e in subscription]
        resume_at = subscription.position

    assert chosen == [("us-japan-2025", 2, "TermsDisputed"), ("us-japan-2025", 3, "DisputeResolved")]
    assert resume_at == ledger.read_all()[-1].position  # the whole log was read, matching or not


def test_a_subscription_resumed_from_its_position_neither_skips_nor_repeats(ledger: Ledger) -> None:
    open_three(ledger)
    with ledger.subscribe(timeout=0) as first:
        taken = [next(first), next(first)]
        resume_at = first.position
    ledger.record("us-japan-2025", "TermsAmended", {"terms": {"autos": "15%"}})

    with ledger.subscribe(after=resume_at, timeout=0) as second:
        rest = list(second)

    assert positions(taken + rest) == positions(ledger.read_all())


def test_a_subscription_reads_a_long_log_in_batches_without_losing_an_entry(ledger: Ledger) -> None:
    ledger.record_many("us-japan-2025", [{"type": "AgreedInPrinciple", "data": {"parties": ["US", "JP"]}}] + [
        {"type": "TermsAmended", "data": {"terms": {"n": i}}} for i in range(1234)])

    with Subscription(ledger.recorder, 0, timeout=0, batch=100) as subscription:
        seen = positions(list(subscription))

    assert seen == positions(ledger.read_all())
    assert len(seen) == 1235


def test_closing_a_subscription_from_another_thread_ends_a_waiting_iteration(ledger: Ledger) -> None:
    open_three(ledger)
    subscription = ledger.subscribe(after=0)  # no timeout: only close() ends it
    waiting = Collector(subscription, len(NEGOTIATIONS) + 1)
    waiting.start()
    while len(waiting.seen) < len(NEGOTIATIONS) and waiting.is_alive():
        waiting.join(timeout=0.05)

    subscription.close()
    waiting.join(timeout=30)

    assert not waiting.is_alive()
    assert waiting.error is None
    assert len(waiting.seen) == len(NEGOTIATIONS)
    assert subscription.closed


def test_a_subscription_ends_when_nothing_new_comes_within_its_timeout(ledger: Ledger) -> None:
    open_three(ledger)

    with ledger.subscribe(after=0, timeout=0.2) as subscription:
        seen = list(subscription)

    assert len(seen) == len(NEGOTIATIONS)
    assert subscription.closed


@pytest.mark.parametrize(
    ("arguments", "message"),
    [({"after": -1}, "after must be a whole number"),
     ({"after": None}, "after must be a position"),
     ({"types": ["AgreementSigned"]}, "unknown entry type 'AgreementSigned'"),
     ({"types": []}, "types must name at least one entry type"),
     ({"negotiation_id": "US Japan"}, "negotiation"),
     ({"timeout": -1}, "timeout must be a number of seconds")],
    ids=["negative position", "no position", "unknown type", "no types", "bad id", "negative timeout"],
)
def test_a_malformed_subscription_is_refused_naming_what_is_wrong(
    ledger: Ledger, arguments: dict[str, object], message: str
) -> None:
    with pytest.raises(InvalidEvent, match=message):
        ledger.subscribe(**arguments)  # type: ignore[arg-type]


def test_the_entry_types_a_subscription_takes_include_retractions_and_corrections(ledger: Ledger) -> None:
    open_three(ledger)
    ledger.record("us-japan-2025", "TermsAmended", {"terms": {"autos": "15%"}})
    ledger.retract("us-japan-2025", 2, reason="misreported")

    with ledger.subscribe(types=["EventRetracted"], timeout=0) as subscription:
        retractions = [(e.type, e.data["target_version"]) for e in subscription]

    assert retractions == [("EventRetracted", 2)]


# -- negotiation watch -----------------------------------------------------------------------------


def test_watch_prints_the_entries_after_a_position_with_the_state_each_leaves(ledger: Ledger, database_url: str) -> None:
    open_three(ledger)
    ledger.record("us-japan-2025", "TermsDisputed", {"point": "autos"}, sources=["Reuters"])
    ledger.record("us-japan-2025", "DisputeResolved", {"point": "autos"})

    result = CliRunner(env={"COLUMNS": "200"}).invoke(
        main, ["--url", database_url, "watch", "us-japan-2025", "--after", "1", "--timeout", "0"])

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("#4 us-japan-2025 v2 TermsDisputed ")
    assert lines[0].endswith("[Reuters] → terms disputed (open: autos)")
    assert lines[1].startswith("#5 us-japan-2025 v3 DisputeResolved ")
    assert lines[1].endswith("→ agreed in principle")


def test_watch_shows_the_state_after_a_late_event_and_a_retraction_as_the_ledger_held_it(
    ledger: Ledger, database_url: str
) -> None:
    ledger.record("us-uk-2025", "AgreedInPrinciple", {"parties": ["US", "GB"]}, occurred_at="2025-05-08")
    ledger.record("us-uk-2025", "AgreementFinalised", {"instruments": ["order"]}, occurred_at="2025-06-16")
    ledger.record("us-uk-2025", "TermsAmended", {"terms": {"steel": "0%"}}, occurred_at="2025-05-20")
    ledger.retract("us-uk-2025", 2, reason="not signed that day")

    result = CliRunner(env={"COLUMNS": "200"}).invoke(
        main, ["--url", database_url, "watch", "--type", "TermsAmended", "--type", "EventRetracted",
               "--timeout", "0"])

    assert result.exit_code == 0, result.output
    assert [line.rsplit("→ ", 1)[1] for line in result.output.splitlines()] == [
        "finalised", "agreed in principle"]
    assert [ledger.replay("us-uk-2025", v).state for v in (3, 4)] == ["finalised", "agreed_in_principle"]


@pytest.mark.slow
def test_watch_prints_each_entry_as_it_lands_and_stops_on_ctrl_c_without_a_traceback(
    ledger: Ledger, database_url: str
) -> None:
    open_three(ledger)
    watcher = subprocess.Popen([sys.executable, "-m", "negotiation.cli", "--url", database_url, "watch",
                                "us-japan-2025", "--after", "3"], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "200"})
    try:
        ledger.record("us-japan-2025", "TermsDisputed", {"point": "autos"})
        first = watcher.stdout.readline() if watcher.stdout else ""
        ledger.record("india-japan-2025", "TermsDisputed", {"point": "rice"})  # another negotiation: not shown
        ledger.record("us-japan-2025", "TermsDisputed", {"point": "rice"})
        second = watcher.stdout.readline() if watcher.stdout else ""
    finally:
        watcher.send_signal(signal.SIGINT)
        out, err = watcher.communicate(timeout=60)

    assert first.startswith("#4 us-japan-2025 v2 TermsDisputed ") and first.rstrip().endswith(
        "→ terms disputed (open: autos)")
    assert second.startswith("#6 us-japan-2025 v3 TermsDisputed ") and second.rstrip().endswith(
        "→ terms disputed (open: autos, rice)")
    assert (watcher.returncode, out, err) == (0, "", "")


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_or_sigterm_while_watch_is_still_reading_the_log_stops_it_at_once_saying_nothing(
    ledger: Ledger, database_url: str, stop: signal.Signals
) -> None:
    # A long log to catch up on: Ctrl-C lands while the log is being read and the lines made, inside the
    # database driver's calls, where an interrupt would leave a connection half-used or a lock held.
    ledger.record("us-japan-2025", "AgreedInPrinciple", {"parties": ["US", "JP"]})
    for start in range(0, 3000, 500):
        ledger.record_many("us-japan-2025", [{"type": "TermsAmended", "data": {"terms": {"round": n}}}
                                             for n in range(start, start + 500)])
    for attempt in range(3):
        watcher = subprocess.Popen([sys.executable, "-m", "negotiation.cli", "--url", database_url, "watch"],
                                   cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   env={**os.environ, "COLUMNS": "200"})
        assert watcher.stdout is not None
        lines = [watcher.stdout.readline() for _ in range(1 + 200 * attempt)]  # interrupted at another place
        watcher.send_signal(stop)
        out, err = watcher.communicate(timeout=30)

        assert lines[0].startswith("#1 us-japan-2025 v1 AgreedInPrinciple ")
        assert (watcher.returncode, err) == (0, ""), attempt
        assert len(lines) + out.count("\n") < 3001, "it read the whole log before stopping"


def test_on_sqlite_the_fast_read_of_the_log_gives_exactly_what_core_reads(sqlite_url: str) -> None:
    with Ledger.open(sqlite_url) as ledger:
        ledger.record("us-japan-2025", "AgreedInPrinciple",
                      {"parties": ["US", "JP"], "terms": {"tariff": "15 %", "fund (USD)": 550_000_000_000,
                                                          "rate": 0.125, "note": "合意 — «ok»", "signed": False}},
                      occurred_at="2025-07-22T09:30:00.000123+09:00", reported_at="2025-07-23",
                      sources=["Reuters", "日本経済新聞"])
        ledger.record_many("us-japan-2025", [{"type": "TermsDisputed", "data": {"point": "autos"}},
                                             {"type": "TermsAmended", "data": {"terms": {"autos": "15%"}},
                                              "sources": ["NHK"]}])
        ledger.retract("us-japan-2025", 3, reason="misreported")
        with ledger.recorder.reading() as view:  # the SQLite recorder follows on the driver, reads all by Core
            fast, end = view.following(0, 10)
            by_core = view.all_after(0, None)
            some, _ = view.following(1, 10, negotiation_id="us-japan-2025",
                                     types=["TermsAmended", "EventRetracted"])

    assert fast == by_core
    assert [type(value) for value in vars_of(fast[0])] == [type(value) for value in vars_of(by_core[0])]
    assert end == 4
    assert [e.position for e in some] == [3, 4]


def vars_of(entry: RecordedEvent) -> list[object]:
    return [getattr(entry, name) for name in entry.__dataclass_fields__]
