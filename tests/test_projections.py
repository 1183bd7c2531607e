"""Projections: read models in the log's database, fed with a checkpoint moved in the same transaction,
so a runner killed at any moment neither applies an entry twice nor loses one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import ClassVar

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from negotiation import InvalidEvent, Ledger, RecordedEvent
from negotiation.cli import main
from negotiation.files.loading import load_streams, read_streams
from negotiation.projections import (
    NegotiationStates,
    Projection,
    UnknownProjection,
    checkpoint,
    projection_named,
    rebuild,
    run,
    states,
)

# About how the storage behaves: on every backend.
pytestmark = pytest.mark.every_backend

TESTS = Path(__file__).resolve().parent

# -- a test projection beside the shipped one: one row per entry applied, keyed by its position -----

TEST_TABLES = sa.MetaData()
applied = sa.Table("test_applied_entries", TEST_TABLES,
                   sa.Column("position", sa.BigInteger, primary_key=True, autoincrement=False),
                   sa.Column("negotiation_id", sa.String(64), nullable=False))
finalised = sa.Table("test_finalised", TEST_TABLES,
                     sa.Column("negotiation_id", sa.String(64), primary_key=True),
                     sa.Column("instruments", sa.Integer, nullable=False))


class CountedStates(NegotiationStates):
    """``negotiation_states``, also writing a row per entry it applies: an entry applied twice breaks the key."""

    tables: ClassVar[tuple[sa.Table, ...]] = (*NegotiationStates.tables, applied)

    def handle(self, conn: sa.Connection, entry: RecordedEvent) -> None:
        super().handle(conn, entry)
        conn.execute(applied.insert().values(position=entry.position, negotiation_id=entry.negotiation_id))


class SlowCountedStates(CountedStates):
    """The same, pausing inside each batch's transaction after its writes, so a kill lands mid-batch."""

    def flush(self, conn: sa.Connection) -> None:
        super().flush(conn)
        time.sleep(0.05)


class Finalisations(Projection):
    """A projection as a user writes one: a handler for the one entry type it cares about."""

    name: ClassVar[str] = "test_finalisations"
    tables: ClassVar[tuple[sa.Table, ...]] = (finalised,)

    def on_AgreementFinalised(self, conn: sa.Connection, entry: RecordedEvent) -> None:  # noqa: N802
        conn.execute(finalised.insert().values(negotiation_id=entry.negotiation_id,
                                               instruments=len(entry.data["instruments"])))


class FailsAt(NegotiationStates):
    """Refuses the entry at one position, after applying the ones before it in the batch."""

    def __init__(self, position: int) -> None:
        super().__init__()
        self.position = position

    def handle(self, conn: sa.Connection, entry: RecordedEvent) -> None:
        if entry.position == self.position:
            raise RuntimeError(f"cannot apply position {entry.position}")
        super().handle(conn, entry)


@pytest.fixture
def test_tables(ledger: Ledger) -> Iterator[None]:
    """The test projections' tables, in the ledger's database (the database is dropped afterwards)."""
    TEST_TABLES.create_all(ledger.recorder.engine)
    yield
    TEST_TABLES.drop_all(ledger.recorder.engine)


# -- a log of a few thousand entries ---------------------------------------------------------------

NEGOTIATIONS = 60
ROUNDS = 5
PER_ROUND = 10


def day(n: int) -> str:
    return (date(2025, 1, 1) + timedelta(days=n)).isoformat()


def round_of(negotiation: int, round_: int) -> list[dict[str, object]]:
    """Ten events of one negotiation, dated after its earlier rounds: disputes opened, amended, resolved."""
    events: list[dict[str, object]] = []
    for step in range(round_ * PER_ROUND, (round_ + 1) * PER_ROUND):
        if step == 0:
            event: dict[str, object] = {"type": "AgreedInPrinciple", "data": {"parties": ["US", "JP"]}}
        elif step % 4 == 1:
            event = {"type": "TermsDisputed", "data": {"point": f"point {step}"}}
        elif step % 4 == 3:
            event = {"type": "DisputeResolved", "data": {"point": f"point {step - 2}"}}
        else:
            event = {"type": "TermsAmended", "data": {"terms": {f"term {step}": step + negotiation}}}
        events.append({**event, "occurred_at": day(step * 2)})
    return events


def write_log(ledger: Ledger) -> int:
    """3,000 events of 60 negotiations, interleaved in the log, then late events, corrections and retractions."""
    for round_ in range(ROUNDS):
        for n in range(NEGOTIATIONS):
            ledger.record_many(f"talks-{n}", round_of(n, round_))
    for n in range(0, NEGOTIATIONS, 10):
        negotiation_id = f"talks-{n}"
        ledger.record(negotiation_id, "TermsAmended", {"terms": {"late": n}}, occurred_at=day(7))
        ledger.correct(negotiation_id, 3, data={"terms": {"corrected": n}}, reason="misread")  # an amendment
        ledger.retract(negotiation_id, 5, reason="never happened")  # another
    return ledger.read_all()[-1].position


def the_table(ledger: Ledger) -> dict[str, tuple[object, ...]]:
    return {row.negotiation_id: (row.state, row.parties, row.open_points, row.version, row.last_event_at)
            for row in states(ledger)}


def rebuilt(ledger: Ledger) -> dict[str, tuple[object, ...]]:
    return {n.id: (n.state, n.parties, n.open_disputes, n.version, n.updated_at) for n in ledger.rebuild_all()}


def applied_counts(ledger: Ledger) -> dict[str, int]:
    with ledger.recorder.engine.connect() as conn:
        rows = conn.execute(sa.select(applied.c.negotiation_id, sa.func.count()).group_by(applied.c.negotiation_id))
        return {negotiation_id: count for negotiation_id, count in rows}


CHILD = """
import sys
sys.path.insert(0, sys.argv[2])
from negotiation import Ledger
from negotiation.projections import run
from test_projections import SlowCountedStates
with Ledger.open(sys.argv[1], upgrade=False) as ledger:
    run(ledger, SlowCountedStates(), batch=100)
print("finished", flush=True)
"""


@pytest.mark.slow
def test_a_runner_killed_mid_run_and_started_again_applies_every_entry_exactly_once(
    ledger: Ledger, database_url: str, test_tables: None
) -> None:
    end = write_log(ledger)
    child = subprocess.Popen([sys.executable, "-c", CHILD, database_url, str(TESTS)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        while checkpoint(ledger, "negotiation_states") == 0 and child.poll() is None:
            time.sleep(0.01)
        killed_at = checkpoint(ledger, "negotiation_states")
        child.send_signal(signal.SIGKILL)
    finally:
        out, err = child.communicate(timeout=60)
    after_kill = checkpoint(ledger, "negotiation_states")

    report = run(ledger, CountedStates())

    assert child.returncode == -signal.SIGKILL, out + err
    assert 0 < killed_at <= after_kill < end  # the checkpoint had moved, and the run had not finished
    assert report.position == end and report.entries == len(ledger.read_all(after=after_kill))
    assert the_table(ledger) == rebuilt(ledger)
    assert len(the_table(ledger)) == NEGOTIATIONS
    # Each entry applied once: one row per position (a second would break the key), none missing.
    assert applied_counts(ledger) == {n: ledger.version(n) for n in ledger.negotiations()}


def test_the_negotiation_states_table_is_what_each_negotiation_is_after_late_events_and_corrections(
    ledger: Ledger, seeds: list[Path]
) -> None:
    load_streams(ledger, read_streams(seeds))
    ledger.record("us-uk-2025", "TermsAmended", {"terms": {"late": True}}, occurred_at="2025-05-20")
    ledger.retract("us-japan-2025", 13, reason="not signed that day")
    ledger.correct("us-korea-2025", 2, reason="a day late", occurred_at="2025-07-31")

    run(ledger, NegotiationStates(), batch=7)

    assert the_table(ledger) == {nid: (n.state, n.parties, n.open_disputes, n.version, n.updated_at)
                                 for nid in ledger.negotiations() for n in [ledger.get(nid)]}
    assert the_table(ledger)["us-japan-2025"][0] == "working_level_talks"  # the finalisation retracted


def test_a_late_batch_whose_first_entries_alone_tell_an_illegal_story_is_projected_whole(ledger: Ledger) -> None:
    ledger.record("us-uk-2025", "AgreedInPrinciple", {"parties": ["US", "GB"]}, occurred_at="2025-05-08")
    ledger.record("us-uk-2025", "AgreementFinalised", {"instruments": ["order"]}, occurred_at="2025-06-16")
    ledger.record_many("us-uk-2025", [
        {"type": "TermsDisputed", "data": {"point": "steel"}, "occurred_at": "2025-05-20"},
        {"type": "DisputeResolved", "data": {"point": "steel"}, "occurred_at": "2025-06-01"}])

    report = run(ledger, NegotiationStates(), batch=3)  # the batch is split between two transactions

    assert report.entries == 4
    assert the_table(ledger) == {"us-uk-2025": ("finalised", ("US", "GB"), (), 4, ledger.get("us-uk-2025").updated_at)}


def test_running_again_applies_only_the_entries_after_the_checkpoint(ledger: Ledger) -> None:
    ledger.record("us-japan-2025", "AgreedInPrinciple", {"parties": ["US", "JP"]})
    first = run(ledger, NegotiationStates())
    ledger.record("us-japan-2025", "TermsDisputed", {"point": "autos"})
    ledger.record("india-japan-2025", "AgreedInPrinciple", {"parties": ["IN", "JP"]})

    second = run(ledger, NegotiationStates())
    third = run(ledger, NegotiationStates())

    assert (first.entries, second.entries, third.entries) == (1, 2, 0)
    assert third.position == second.position == checkpoint(ledger, "negotiation_states") == 3
    assert the_table(ledger)["us-japan-2025"][:3] == ("disputed_terms", ("US", "JP"), ("autos",))


def test_a_batch_that_fails_leaves_the_table_and_the_checkpoint_as_they_were(ledger: Ledger) -> None:
    ledger.record("us-japan-2025", "AgreedInPrinciple", {"parties": ["US", "JP"]})
    run(ledger, NegotiationStates())
    ledger.record("us-japan-2025", "TermsDisputed", {"point": "autos"})
    ledger.record("india-japan-2025", "AgreedInPrinciple", {"parties": ["IN", "JP"]})
    before = (the_table(ledger), checkpoint(ledger, "negotiation_states"))

    with pytest.raises(RuntimeError, match="cannot apply position 3"):
        run(ledger, FailsAt(3))

    assert (the_table(ledger), checkpoint(ledger, "negotiation_states")) == before


def test_rebuild_empties_the_table_and_checkpoint_then_applies_the_whole_log(ledger: Ledger) -> None:
    ledger.record("us-japan-2025", "AgreedInPrinciple", {"parties": ["US", "JP"]})
    ledger.record("us-japan-2025", "TermsDisputed", {"point": "autos"})
    run(ledger, NegotiationStates())
    with ledger.recorder.engine.begin() as conn:  # the read model drifts: a row edited by hand
        conn.execute(sa.text("UPDATE negotiation_states SET state = 'finalised'"))

    report = rebuild(ledger, NegotiationStates())

    assert (report.entries, report.position) == (2, 2)
    assert the_table(ledger) == rebuilt(ledger)


def test_a_projection_with_a_handler_per_type_gets_every_entry_of_that_type(
    ledger: Ledger, seeds: list[Path], test_tables: None
) -> None:
    load_streams(ledger, read_streams(seeds))

    report = run(ledger, Finalisations(), batch=5)
    with ledger.recorder.engine.connect() as conn:
        rows = {nid: count for nid, count in conn.execute(sa.select(finalised.c.negotiation_id,
                                                                     finalised.c.instruments))}

    assert report.entries == len(ledger.read_all())  # the checkpoint passed every entry
    assert rows == {n.id: len(n.instruments) for n in ledger.rebuild_all() if n.instruments}


def test_a_projection_of_ones_own_gets_its_tables_created_by_its_first_run_or_rebuild(ledger: Ledger) -> None:
    ledger.record("us-uk-2025", "AgreedInPrinciple", {"parties": ["US", "GB"]}, occurred_at="2025-05-08")
    ledger.record("us-uk-2025", "AgreementFinalised", {"instruments": ["order"]}, occurred_at="2025-06-16")
    engine = ledger.recorder.engine
    assert not sa.inspect(engine).has_table(finalised.name)  # made by no migration, nor by the fixture here
    try:
        first = run(ledger, Finalisations())
        ledger.record("us-uk-2025", "TermsAmended", {"terms": {"steel": "25%"}})
        again = run(ledger, Finalisations())  # the table is there: left as it is
        with engine.begin() as conn:
            finalised.drop(conn)
        rebuilt = rebuild(ledger, Finalisations())  # and made again when it is gone
        with engine.connect() as conn:
            rows = conn.execute(sa.select(finalised.c.negotiation_id, finalised.c.instruments)).all()
    finally:
        with engine.begin() as conn:
            finalised.drop(conn, checkfirst=True)

    assert [(r.entries, r.position) for r in (first, again, rebuilt)] == [(2, 2), (1, 3), (3, 3)]
    assert rows == [("us-uk-2025", 1)]


def test_a_runner_that_follows_the_log_applies_entries_as_they_land(ledger: Ledger) -> None:
    ledger.record("us-japan-2025", "AgreedInPrinciple", {"parties": ["US", "JP"]})
    stop = threading.Event()
    follower = threading.Thread(target=run, args=(ledger, NegotiationStates()), kwargs={"follow": True, "stop": stop},
                                daemon=True)
    follower.start()
    try:
        ledger.record("us-japan-2025", "TermsDisputed", {"point": "autos"})
        for _ in range(3000):  # the row changes once the follower has applied the new entry
            if the_table(ledger).get("us-japan-2025", ("",))[0] == "disputed_terms":
                break
            time.sleep(0.01)
    finally:
        stop.set()
        follower.join(timeout=30)

    assert not follower.is_alive()
    assert the_table(ledger)["us-japan-2025"][:3] == ("disputed_terms", ("US", "JP"), ("autos",))


def points_applied(ledger: Ledger, points: int) -> bool:
    """Whether the follower's table shows ``points`` open points for US–Japan within 30 seconds."""
    for _ in range(3000):
        if len(the_table(ledger).get("us-japan-2025", ("", (), ()))[2]) == points:
            return True
        time.sleep(0.01)
    return False


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_ctrl_c_or_sigterm_stops_the_project_run_follow_command_quietly_keeping_what_it_applied(
        ledger: Ledger, database_url: str, stop: signal.Signals) -> None:
    ledger.record("us-japan-2025", "AgreedInPrinciple", {"parties": ["US", "JP"]})
    follower = subprocess.Popen([sys.executable, "-m", "negotiation.cli", "--url", database_url, "project", "run",
                                 "negotiation_states", "--follow"], cwd=TESTS.parent, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    try:
        for step in range(3):  # each entry applied as it lands, then the signal as it waits or applies
            ledger.record("us-japan-2025", "TermsDisputed", {"point": f"point {step}"})
            points_applied(ledger, step + 1)
    finally:
        follower.send_signal(stop)
        out, err = follower.communicate(timeout=30)

    assert (follower.returncode, out, err) == (0, "", "")
    assert the_table(ledger)["us-japan-2025"][2] == ("point 0", "point 1", "point 2")
    assert checkpoint(ledger, "negotiation_states") == 4


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_stop_signal_that_comes_as_the_work_starts_still_stops_the_work(stop: signal.Signals) -> None:
    # The signal is sent from the work's first line, while the waiting thread may still be starting it:
    # taken there, it would leave the work running and the command never ending.
    from negotiation.cli.follow import until_stopped

    stopped = threading.Event()

    def work() -> str:
        os.kill(os.getpid(), stop)
        return "stopped" if stopped.wait(10) else "never stopped"

    mask = signal.pthread_sigmask(signal.SIG_BLOCK, [])
    # A command starts with SIGTERM's default action, which until_stopped takes over; the test runner's
    # own handling, whatever it is, is given back afterwards.
    runners = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    outcomes = []
    try:
        for _ in range(20):
            stopped.clear()
            try:
                outcomes.append(until_stopped(work, stopped.set))
            except KeyboardInterrupt:
                outcomes.append("interrupted outside the wait")
                stopped.set()  # the work's thread is left to end by itself
        after = signal.getsignal(signal.SIGTERM)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if runners is None else runners)

    assert outcomes == [None] * 20
    assert after is signal.SIG_DFL
    assert signal.pthread_sigmask(signal.SIG_BLOCK, []) == mask  # nothing left held back


def test_a_sigterm_the_kernel_hands_to_another_thread_still_stops_the_work() -> None:
    # A signal sent to the process goes to any thread that does not hold it back: here a thread a library
    # might have started, the waiting thread holding SIGTERM back, so that the kernel cannot choose it.
    from negotiation.cli.follow import until_stopped

    stopped, done = threading.Event(), threading.Event()
    bystander = threading.Thread(target=done.wait, daemon=True)
    bystander.start()
    seen: list[bool] = []

    def work() -> None:
        time.sleep(0.05)  # the waiting thread is waiting by then (a signal as the work starts: the test above)
        os.kill(os.getpid(), signal.SIGTERM)
        seen.append(stopped.wait(10))

    runners = signal.signal(signal.SIGTERM, signal.SIG_DFL)
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM])
    try:
        outcome = until_stopped(work, stopped.set)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        signal.signal(signal.SIGTERM, signal.SIG_DFL if runners is None else runners)
        done.set()

    assert outcome is None and seen == [True]  # stopped while the work still ran, not after it gave up


def test_a_follower_started_with_sigterm_ignored_keeps_it_ignored(ledger: Ledger, database_url: str) -> None:
    ledger.record("us-japan-2025", "AgreedInPrinciple", {"parties": ["US", "JP"]})
    follower = subprocess.Popen([sys.executable, "-m", "negotiation.cli", "--url", database_url, "project", "run",
                                 "negotiation_states", "--follow"], cwd=TESTS.parent, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True,
                                preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_IGN))
    try:
        ledger.record("us-japan-2025", "TermsDisputed", {"point": "autos"})
        first = points_applied(ledger, 1)
        follower.send_signal(signal.SIGTERM)  # as under a parent that ignores it: still following
        ledger.record("us-japan-2025", "TermsDisputed", {"point": "rice"})
        second = points_applied(ledger, 2)
    finally:
        follower.send_signal(signal.SIGINT)
        out, err = follower.communicate(timeout=30)

    assert (first, second) == (True, True)
    assert (follower.returncode, out, err) == (0, "", "")


def test_a_follower_stops_when_nothing_new_comes_within_its_timeout(ledger: Ledger) -> None:
    ledger.record("us-japan-2025", "AgreedInPrinciple", {"parties": ["US", "JP"]})

    report = run(ledger, NegotiationStates(), follow=True, timeout=0.2)

    assert (report.entries, report.position) == (1, 1)


@pytest.mark.parametrize(
    ("projection", "options", "message"),
    [(NegotiationStates(), {"batch": 0}, "batch must be a whole number"),
     (object(), {}, "a projection must be a Projection"),
     (type("Nameless", (Projection,), {})(), {}, "a projection needs a name")],
    ids=["no batch", "not a projection", "no name"],
)
def test_a_malformed_run_is_refused(ledger: Ledger, projection: object, options: dict[str, int], message: str) -> None:
    with pytest.raises(InvalidEvent, match=message):
        run(ledger, projection, **options)  # type: ignore[arg-type]


def test_a_projection_is_found_by_its_name_and_an_unknown_name_is_refused() -> None:
    found = projection_named("negotiation_states")

    with pytest.raises(UnknownProjection, match="no projection named 'states'; known: negotiation_states"):
        projection_named("states")
    assert isinstance(found, NegotiationStates)


# -- the command line -------------------------------------------------------------------------------


def cli(url: str, *args: str) -> Result:
    return CliRunner(env={"COLUMNS": "200"}).invoke(main, ["--url", url, *args])


def test_project_run_and_rebuild_from_the_command_line(ledger: Ledger, database_url: str) -> None:
    ledger.record("us-japan-2025", "AgreedInPrinciple", {"parties": ["US", "JP"]})
    ledger.record("us-japan-2025", "TermsDisputed", {"point": "autos"})

    first = cli(database_url, "project", "run", "negotiation_states")
    again = cli(database_url, "project", "run", "negotiation_states")
    rebuilt_now = cli(database_url, "project", "rebuild", "negotiation_states", "--batch", "1")
    unknown = cli(database_url, "project", "run", "states")

    assert first.output.strip() == "negotiation_states: applied 2 entries in 1 batches; checkpoint at position 2"
    assert again.output.strip() == "negotiation_states: applied 0 entries in 0 batches; checkpoint at position 2"
    assert rebuilt_now.output.strip() == "negotiation_states: rebuilt from 2 entries; checkpoint at position 2"
    assert unknown.exit_code == 2 and "'states' is not 'negotiation_states'" in unknown.output
    assert the_table(ledger) == rebuilt(ledger)
