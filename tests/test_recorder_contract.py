"""What every recorder does (``negotiation/store/recorder.py``), the same on each backend."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from negotiation.store.recorder import Recorder
from negotiation.store.writers import WriteRace
from recorders import append, memory_recorders, postgres_recorders, row, rows, sqlite_recorders, state_after

__all__ = ["memory_recorders", "postgres_recorders", "sqlite_recorders"]  # fixtures, used by name


@pytest.fixture(params=["sqlite", "postgres", "memory"])
def recorders(request: pytest.FixtureRequest) -> Callable[[], Recorder]:
    """Makes recorders, each on an empty log of its own at the latest migration, on each backend."""
    return cast("Callable[[], Recorder]", request.getfixturevalue(f"{request.param}_recorders"))


@pytest.fixture
def recorder(recorders: Callable[[], Recorder]) -> Recorder:
    return recorders()


def ids(entries: Any) -> list[str]:
    return [entry.event_id for entry in entries]


def test_an_append_is_read_back_as_written(recorder: Recorder) -> None:
    batch = rows("us-japan", 1, 3, sources=("Reuters", "AP"))
    with recorder.writing() as writer:
        assert writer.head("us-japan") is None
        positions = append(writer, batch)
    with recorder.reading() as reader:
        stream = reader.stream("us-japan")
        head = reader.head("us-japan")
        version = reader.version("us-japan")
        until = reader.stream("us-japan", until_version=2)
        story = reader.story_rows("us-japan")

    assert positions == sorted(positions) and len(set(positions)) == 3
    assert [(e.event_id, e.negotiation_id, e.version, e.position, e.type, e.data, e.occurred_at, e.recorded_at,
             e.sources, e.hash, e.schema_version, e.reported_at) for e in stream] == [
        (r["event_id"], r["negotiation_id"], r["version"], p, r["type"], r["data"], r["occurred_at"],
         r["recorded_at"], r["sources"], r["hash"], r["schema_version"], r["reported_at"])
        for r, p in zip(batch, positions)]
    assert head is not None and head.negotiation == state_after("us-japan", 3) and head.last_hash == batch[-1]["hash"]
    assert recorder.current_head("us-japan") == head
    assert recorder.current_head("nobody") is None
    assert version == 3 and [e.version for e in until] == [1, 2]
    assert story == [(r["version"], r["type"], r["data"], r["occurred_at"]) for r in batch]
    assert recorder.end_of_log() == positions[-1]


def test_an_empty_log(recorder: Recorder) -> None:
    with recorder.reading() as reader:
        assert reader.head("us-japan") is None and reader.version("us-japan") == 0
        assert reader.stream("us-japan") == [] and reader.end_of_log() == 0
        assert reader.following(0, 10) == ([], 0) and reader.all_after(0) == []
        assert list(reader.every_stream()) == [] and list(reader.in_log_order()) == []
        assert reader.negotiation_ids() == [] and reader.source_counts() == [] and reader.corrections() == []
    assert recorder.end_of_log() == 0


def test_positions_increase_in_commit_order(recorder: Recorder) -> None:
    returned: list[int] = []
    for index in range(5):
        with recorder.writing() as writer:
            returned += append(writer, rows(f"n{index % 2}", index // 2 + 1, 1))
    with recorder.reading() as reader:
        log = reader.all_after(0)

    assert [entry.position for entry in log] == returned == sorted(set(returned))
    assert [(entry.negotiation_id, entry.version) for entry in log] == [
        ("n0", 1), ("n1", 1), ("n0", 2), ("n1", 2), ("n0", 3)]


@pytest.fixture
def filled(recorder: Recorder) -> tuple[Recorder, list[Any]]:
    """Three negotiations, with sources, a retraction and a correction, written in four transactions."""
    target = str(uuid.uuid4())
    for batch in (rows("b-neg", 1, 2, sources=("AP",)),
                  [row("a-neg", 1, sources=("Reuters", "AP", "Reuters"), event_id=target), row("a-neg", 2)],
                  [row("c-neg", 1, sources=("Kyodo",))],
                  [row("a-neg", 3, type="EventRetracted", data={"target": target}, sources=("AP",)),
                   row("a-neg", 4, type="EventCorrected", data={"target": target, "reason": "typo"})]):
        with recorder.writing() as writer:
            append(writer, batch)
    with recorder.reading() as reader:
        return recorder, reader.all_after(0)


def test_reads_by_id_position_and_limit(filled: tuple[Recorder, list[Any]]) -> None:
    recorder, log = filled
    with recorder.reading() as reader:
        found = reader.by_ids([log[0].event_id, log[4].event_id, str(uuid.uuid4())])
        assert reader.by_ids([]) == {}
        assert ids(reader.all_after(log[1].position)) == ids(log[2:])
        assert ids(reader.all_after(log[1].position, limit=2)) == ids(log[2:4])
        assert reader.all_after(log[-1].position) == []

    assert found == {log[0].event_id: log[0], log[4].event_id: log[4]}


def test_ids_looked_up_by_the_thousand_are_asked_a_statement_at_a_time_and_all_found(
        filled: tuple[Recorder, list[Any]]) -> None:
    recorder, log = filled
    unknown = [str(uuid.uuid4()) for _ in range(2_500)]
    asked = unknown[:1_200] + ids(log) + unknown[1_200:]  # the stored ids in the second statement's worth
    with recorder.reading() as reader:
        found = reader.by_ids(asked)

    assert found == {entry.event_id: entry for entry in log}


def test_following_reads_pages_and_says_how_far(filled: tuple[Recorder, list[Any]]) -> None:
    recorder, log = filled
    end = log[-1].position
    with recorder.reading() as reader:
        page, upto = reader.following(0, 3)
        assert (ids(page), upto) == (ids(log[:3]), log[2].position)
        page, upto = reader.following(upto, 3)
        assert (ids(page), upto) == (ids(log[3:6]), log[5].position)
        page, upto = reader.following(upto, 3)
        assert (ids(page), upto) == (ids(log[6:]), end)  # fewer than the limit: read to the end
        assert reader.following(end, 3) == ([], end)
        only_a, upto = reader.following(0, 10, negotiation_id="a-neg")
        assert ids(only_a) == ids(e for e in log if e.negotiation_id == "a-neg") and upto == end
        typed, upto = reader.following(0, 1, types=["EventRetracted", "EventCorrected"])
        retraction = next(e for e in log if e.type == "EventRetracted")
        assert ids(typed) == [retraction.event_id] and upto == retraction.position
        both, _ = reader.following(0, 10, negotiation_id="b-neg", types=["TermsAmended"])
        assert ids(both) == ids(log[:2])


def test_sources_corrections_and_whole_log_reads(filled: tuple[Recorder, list[Any]]) -> None:
    recorder, log = filled
    with recorder.reading() as reader:
        by_ap = reader.by_source("AP")
        ap_in_a = reader.by_source("AP", negotiation_id="a-neg")
        counts = sorted(reader.source_counts(), key=lambda count: count.source)
        corrections = sorted(reader.corrections(), key=lambda kind_data: kind_data[0])
        streams = list(reader.every_stream())
        in_order = list(reader.in_log_order())
        indexed = list(reader.indexed_sources())
        story = list(reader.every_story_row())
        negotiations = reader.negotiation_ids()

    named = [e for e in log if "AP" in e.sources]
    assert ids(by_ap) == ids(named) and ids(ap_in_a) == ids(e for e in named if e.negotiation_id == "a-neg")
    assert [(c.source, c.entries, c.negotiations) for c in counts] == [
        ("AP", 4, 2), ("Kyodo", 1, 1), ("Reuters", 1, 1)]
    target = log[2].event_id
    assert corrections == [("EventCorrected", {"target": target, "reason": "typo"}),
                           ("EventRetracted", {"target": target})]
    assert streams == sorted(log, key=lambda e: (e.negotiation_id, e.version))
    assert in_order == log
    assert [(p, n) for p, _, n in indexed] == sorted((p, n) for p, _, n in indexed)
    assert Counter(indexed) == Counter((e.position, s, e.negotiation_id) for e in log for s in set(e.sources))
    assert story == [(e.negotiation_id, (e.version, e.type, e.data, e.occurred_at)) for e in streams]
    assert negotiations == ["b-neg", "a-neg", "c-neg"]  # in the order they opened


def test_streamed_reads_can_be_read_side_by_side(filled: tuple[Recorder, list[Any]]) -> None:
    recorder, log = filled
    with recorder.reading() as reader:
        pairs = list(zip(reader.in_log_order(), reader.every_stream()))
        assert [entry for entry, _ in pairs] == log


def test_a_duplicate_event_id_is_a_write_race_and_stores_nothing(recorder: Recorder) -> None:
    first = row("us-japan", 1)
    with recorder.writing() as writer:
        append(writer, [first])
    with pytest.raises(WriteRace), recorder.writing() as writer:
        append(writer, [row("other", 1), row("other", 2, event_id=first["event_id"])])
    with pytest.raises(WriteRace), recorder.writing() as writer:
        writer.append([row("us-japan", 1)])  # the version again

    with recorder.reading() as reader:
        assert ids(reader.all_after(0)) == [first["event_id"]] and reader.head("other") is None
    with recorder.writing() as writer:
        append(writer, [row("us-japan", 2)])
    assert recorder.end_of_log() > 1


def test_a_second_head_for_a_new_negotiation_is_a_write_race(recorder: Recorder) -> None:
    with recorder.writing() as writer:
        append(writer, [row("us-japan", 1)])
    with pytest.raises(WriteRace), recorder.writing() as writer:
        positions = writer.append([row("us-japan", 2)])
        writer.save_head(state_after("us-japan", 2), "h", positions[0])  # as if it were new

    assert recorder.current_head("us-japan") is not None
    assert recorder.current_head("us-japan").negotiation.version == 1  # type: ignore[union-attr]
    with recorder.reading() as reader:
        assert [e.version for e in reader.stream("us-japan")] == [1]


def test_a_writing_transaction_that_raises_stores_nothing(recorder: Recorder) -> None:
    with recorder.writing() as writer:
        append(writer, [row("us-japan", 1)])
    with pytest.raises(RuntimeError, match="changed my mind"), recorder.writing() as writer:
        append(writer, rows("us-japan", 2, 2, sources=("AP",)))
        append(writer, [row("other", 1)])
        raise RuntimeError("changed my mind")
    with pytest.raises(RuntimeError, match="before writing"), recorder.writing() as writer:
        writer.head("us-japan")
        raise RuntimeError("before writing")

    with recorder.reading() as reader:
        assert [e.version for e in reader.all_after(0)] == [1]
        assert reader.source_counts() == [] and reader.negotiation_ids() == ["us-japan"]
        assert reader.head("us-japan").negotiation.version == 1  # type: ignore[union-attr]


def test_a_writer_reads_what_it_wrote(recorder: Recorder) -> None:
    with recorder.writing() as writer:
        positions = append(writer, [row("us-japan", 1, sources=("AP",))])
        assert writer.head("us-japan") is not None and writer.version("us-japan") == 1
        assert ids(writer.by_source("AP")) == ids(writer.stream("us-japan"))
        assert writer.end_of_log() == positions[0]
        more = append(writer, [row("us-japan", 2)])
        assert ids(writer.in_log_order())[-1] == ids(writer.stream("us-japan"))[-1]
        last = append(writer, [row("us-japan", 3)])

    assert positions[0] < more[0] < last[0] == recorder.end_of_log()


def test_entries_inserted_as_stored_keep_their_positions_and_the_log_goes_on_after_them(
        filled: tuple[Recorder, list[Any]], recorders: Callable[[], Recorder]) -> None:
    source, log = filled
    target = recorders()
    with target.writing() as writer:
        writer.insert_as_stored(log[:4])
        for negotiation_id in dict.fromkeys(e.negotiation_id for e in log[:4]):
            last = [e for e in log[:4] if e.negotiation_id == negotiation_id][-1]
            opened = next(e for e in log if e.negotiation_id == negotiation_id).position
            writer.save_head(state_after(negotiation_id, last.version), last.hash, opened)
    with target.writing() as writer:
        writer.insert_as_stored(log[4:])
    with target.writing() as writer:
        appended = append(writer, [row("c-neg", 2)])
    with target.reading() as reader:
        copied = reader.all_after(0)
        indexed = list(reader.indexed_sources())
    with source.reading() as reader:
        original = list(reader.indexed_sources())

    assert copied[:-1] == log
    assert appended[0] > log[-1].position
    assert indexed[:len(original)] == original


class Model:
    """What the log should hold: entries in commit order and each negotiation's head."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []
        self.heads: dict[str, tuple[int, str]] = {}
        self.opened: list[str] = []


#: A batch: (which negotiation, how many entries, which sources, what goes wrong: nothing, a raise or a duplicate).
BATCH = st.tuples(st.integers(0, 2), st.integers(1, 3), st.lists(st.sampled_from("xyz"), max_size=3),
                  st.sampled_from(["ok", "ok", "ok", "raise", "duplicate"]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(BATCH, min_size=1, max_size=8), page=st.integers(1, 4))
def test_random_batches_give_what_a_simple_model_gives(recorder: Recorder, batches: list[Any], page: int) -> None:
    # Each example writes negotiations and sources of its own and compares only those: the log goes on.
    tag = uuid.uuid4().hex[:8]
    start = recorder.end_of_log()
    model = Model()
    returned: dict[str, int] = {}
    for which, count, named, trouble in batches:
        negotiation_id = f"{tag}-{which}"
        version = model.heads.get(negotiation_id, (0, ""))[0]
        batch = rows(negotiation_id, version + 1, count, sources=[f"{tag}{s}" for s in named])
        if trouble == "duplicate" and model.entries:
            batch[-1]["event_id"] = model.entries[0]["event_id"]
        try:
            with recorder.writing() as writer:
                positions = append(writer, batch)
                if trouble == "raise":
                    raise RuntimeError("stopped")
        except (RuntimeError, WriteRace):
            assert trouble != "ok"
            continue
        assert trouble == "ok" or (trouble == "duplicate" and len(model.entries) == 0)
        returned.update(zip((r["event_id"] for r in batch), positions))
        model.entries += batch
        if negotiation_id not in model.heads:
            model.opened.append(negotiation_id)
        model.heads[negotiation_id] = (batch[-1]["version"], batch[-1]["hash"])

    with recorder.reading() as reader:
        log = reader.all_after(start)
        paged: list[Any] = []
        after = start
        while True:
            found, after = reader.following(after, page)
            paged += found
            if not found:
                break
        ours = {f"{tag}{s}" for s in "xyz"}
        counts = {(c.source, c.entries, c.negotiations) for c in reader.source_counts() if c.source in ours}
        by_source = {source: ids(reader.by_source(source)) for source in ours}
        streams = {n: ids(reader.stream(n)) for n in (f"{tag}-{w}" for w in range(3))}
        heads = {n: reader.head(n) for n in streams}
        negotiations = [n for n in reader.negotiation_ids() if n.startswith(f"{tag}-")]
        end = reader.end_of_log()

    assert ids(log) == [e["event_id"] for e in model.entries] == ids(paged)
    assert [e.position for e in log] == [returned[e.event_id] for e in log] == sorted({e.position for e in log})
    assert end == (log[-1].position if log else start)
    assert streams == {n: [e["event_id"] for e in model.entries if e["negotiation_id"] == n] for n in streams}
    assert {n: (h.negotiation.version, h.last_hash) for n, h in heads.items() if h is not None} == model.heads
    assert negotiations == model.opened
    assert by_source == {s: [e["event_id"] for e in model.entries if s in e["sources"]] for s in ours}
    assert counts == {(s, len(entries), len({e["negotiation_id"] for e in entries}))
                      for s in ours if (entries := [e for e in model.entries if s in e["sources"]])}


def test_the_entries_of_one_transaction_share_its_commit_id_the_position_of_its_first(recorder: Recorder) -> None:
    with recorder.writing() as writer:
        first = append(writer, rows("us-japan", 1, 2))
        second = append(writer, rows("us-korea", 1, 2))
    with recorder.writing() as writer:
        later = append(writer, rows("us-japan", 3, 1))
    with recorder.reading() as reader:
        log = reader.all_after(0)
        count = reader.count()

    assert [e.commit_id for e in log] == [first[0]] * 4 + [later[0]]
    assert [e.position for e in log] == [*first, *second, *later]
    assert count == 5


def test_a_reader_sees_the_log_as_it_stood_when_its_read_began(recorder: Recorder) -> None:
    with recorder.writing() as writer:
        append(writer, rows("us-japan", 1, 1))

    with recorder.reading() as reader:
        before = reader.all_after(0)  # the view is fixed by its first read
        with recorder.writing() as writer:
            append(writer, rows("us-japan", 2, 1))
        still = reader.all_after(0)
        story = [version for _negotiation, (version, *_rest) in reader.every_story_row()]

    assert len(before) == len(still) == 1
    assert story == [1]
    assert recorder.end_of_log() == 2


def test_an_armed_waiter_wakes_for_a_commit_and_not_without_one(recorder: Recorder) -> None:
    stop = threading.Event()
    waiter = recorder.waiter()
    try:
        waiter.arm()
        idle = waiter.wait(0.05, stop)
        waiter.arm()
        with recorder.writing() as writer:
            append(writer, rows("us-japan", 1, 1))
        woken = waiter.wait(10, stop)
    finally:
        waiter.close()

    assert (idle, woken) == (False, True)
