"""A legal story recorded in any order ends as the same negotiation as the story recorded in world order.

Hypothesis walks the state machine to make a legal story with one event a day,
then records its events in a random order: one at a time, retrying the refused
ones after the others until no more are taken, then the rest as one batch.
Every refusal must leave the database exactly as it was, and the end must be
what recording the story in world order gives: the same state, open points and
story, now and as of every day of it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from negotiation import IllegalTransition, InvalidEvent, Ledger, Negotiation
from negotiation.domain import machine

Rows = Callable[[str], list[tuple[object, ...]]]
Event = dict[str, Any]

PARTIES = ["US", "JP"]
POINTS = ("autos", "rice", "chips")
START = datetime(2025, 1, 1, tzinfo=UTC)
STORIES = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
#: Each example records into negotiations of its own in the test's one database.
EXAMPLE = itertools.count()

#: Refusals are shown by the SQL rows behind the ledger (``stored_rows`` below): a database, not memory.
pytestmark = pytest.mark.in_a_database


@pytest.fixture
def stored_rows(database_url: str) -> Iterator[Rows]:
    """What a refusal must leave as it was, read behind the ledger's back, for one negotiation.

    Its stored rows and its head, byte for byte, and the size and last position of the whole log.
    Examples share the test's database, so reading every row before and after every refused
    attempt would grow slower with each example; one engine serves the whole test.
    """
    engine = create_engine(database_url)
    queries = [text("SELECT * FROM negotiation_events WHERE negotiation_id = :id ORDER BY position"),
               text("SELECT * FROM negotiation_heads WHERE negotiation_id = :id"),
               text("SELECT count(*), max(position) FROM negotiation_events")]

    def read(negotiation_id: str) -> list[tuple[object, ...]]:
        with engine.connect() as conn:
            return [tuple(row) for query in queries for row in conn.execute(query, {"id": negotiation_id})]

    yield read
    engine.dispose()


@dataclass
class Walk:
    """Just what the machine's guards and the content rules read: state, open points, whether a deal came."""

    state: str = machine.NOT_OPENED
    open_disputes: list[str] = field(default_factory=list)
    has_deal: bool = False


def payload(draw: st.DrawFn, walk: Walk, event_type: str) -> dict[str, Any]:
    """Data for ``event_type`` that the content rules accept in ``walk``, and the walk moved past it."""
    opening = walk.state == machine.NOT_OPENED
    data: dict[str, Any] = {"parties": PARTIES} if opening or event_type == "AgreedInPrinciple" else {}
    if event_type == "AgreedInPrinciple":
        walk.has_deal = True
        data["terms"] = {"tariff": draw(st.sampled_from([10, 15, 25]))}
    elif event_type == "TermsDisputed":
        point = draw(st.sampled_from(POINTS))
        data.update(point=point, positions={draw(st.sampled_from(PARTIES)): draw(st.sampled_from(["no", "later"]))})
        if point not in walk.open_disputes:
            walk.open_disputes.append(point)
    elif event_type == "DisputeResolved":
        point = draw(st.sampled_from(walk.open_disputes))
        data["point"] = point
        walk.open_disputes.remove(point)
    elif event_type == "VisitCancelled":
        data["envoy"] = draw(st.sampled_from(["Ryosei Akazawa", "Howard Lutnick"]))
    elif event_type == "WorkingLevelTalksOpened":
        data["agenda"] = [draw(st.sampled_from(POINTS))]
    elif event_type == "TalksSuspended":
        data["by"] = draw(st.sampled_from(PARTIES))
    elif event_type == "AgreementFinalised":
        data["instruments"] = [draw(st.sampled_from(["executive order", "memorandum", "joint statement"]))]
    elif event_type == "TermsAmended":
        data["terms"] = {draw(st.sampled_from(["tariff", "quota", "review"])): draw(st.integers(0, 3))}
    return data


@st.composite
def legal_stories(draw: st.DrawFn, most: int = 8) -> list[Event]:
    """A random walk through the machine: legal events on strictly increasing, distinct days."""
    walk = Walk()
    story: list[Event] = []
    day = START
    for _ in range(draw(st.integers(1, most))):
        allowed = [event_type for event_type in machine.allowed_events(walk.state, walk)
                   if event_type != "DisputeResolved" or walk.open_disputes]
        event_type = draw(st.sampled_from(allowed))
        dest = machine.follow(walk.state, event_type, walk)
        assert dest is not None
        data = payload(draw, walk, event_type)
        walk.state = dest
        day += timedelta(days=draw(st.integers(1, 40)))
        story.append({"type": event_type, "data": data, "occurred_at": day})
    return story


@st.composite
def stories_and_recording_orders(draw: st.DrawFn) -> tuple[list[Event], list[int]]:
    story = draw(legal_stories())
    return story, draw(st.permutations(range(len(story))))


def record_in_order(ledger: Ledger, stored_rows: Rows, negotiation_id: str, story: list[Event],
                    order: list[int]) -> int:
    """Record one at a time in ``order``, retrying the refused until none is taken, then the rest as a batch.

    Returns how many attempts were refused; each is checked to have written nothing.
    """
    pending = [story[index] for index in order]
    refused = 0
    progress = True
    while pending and progress:
        progress = False
        for event in list(pending):
            before = stored_rows(negotiation_id)
            try:
                ledger.record(negotiation_id, event["type"], event["data"], occurred_at=event["occurred_at"])
            except (IllegalTransition, InvalidEvent):
                refused += 1
                assert stored_rows(negotiation_id) == before, f"a refused {event['type']} changed the database"
                continue
            pending.remove(event)
            progress = True
    if pending:
        ledger.record_many(negotiation_id, pending)
    return refused


def told(ledger: Ledger, negotiation_id: str) -> list[tuple[str, dict[str, Any], datetime]]:
    return [(event.type, event.data, event.occurred_at) for event in ledger.story(negotiation_id)]


RECORDS = ("deals", "suspensions", "meetings", "third_party_acts")


def same(negotiation: Negotiation, other: Negotiation) -> bool:
    """Equal in everything but the id, the time asked, and the log's versions (the same story recorded in
    another order has its entries at other versions; as of a day, the version is that of what was told by then)."""
    def unversioned(told: Negotiation) -> Negotiation:
        return replace(told, id=other.id, at=None, version=0, **{name: tuple({key: value for key, value in record.items()
                                                          if key != "version"} for record in getattr(told, name))
                                             for name in RECORDS})
    return unversioned(negotiation) == unversioned(other)


@STORIES
@given(stories_and_recording_orders())
def test_a_story_recorded_in_any_order_ends_as_it_does_recorded_in_world_order(
    ledger: Ledger, stored_rows: Rows, story_and_order: tuple[list[Event], list[int]]
) -> None:
    story, order = story_and_order
    number = next(EXAMPLE)
    shuffled, in_world_order = f"shuffled-{number}", f"in-world-order-{number}"
    for event in story:
        ledger.record(in_world_order, event["type"], event["data"], occurred_at=event["occurred_at"])

    record_in_order(ledger, stored_rows, shuffled, story, order)

    expected = ledger.get(in_world_order)
    got = ledger.get(shuffled)
    assert (got.state, got.open_disputes) == (expected.state, expected.open_disputes)
    assert same(got, expected)
    assert told(ledger, shuffled) == told(ledger, in_world_order) == [
        (event["type"], event["data"], event["occurred_at"]) for event in story]
    for event in story:
        assert same(ledger.get(shuffled, as_of=event["occurred_at"]),
                    ledger.get(in_world_order, as_of=event["occurred_at"]))
    assert sorted(entry.event_id for entry in ledger.history(shuffled)) == sorted(
        event.event_id for event in ledger.story(shuffled))


@settings(STORIES, max_examples=15)
@given(legal_stories())
def test_a_story_recorded_newest_first_is_refused_until_its_opening_and_still_ends_the_same(
    ledger: Ledger, stored_rows: Rows, story: list[Event]
) -> None:
    number = next(EXAMPLE)
    newest_first, in_world_order = f"newest-first-{number}", f"world-{number}"
    for event in story:
        ledger.record(in_world_order, event["type"], event["data"], occurred_at=event["occurred_at"])

    refused = record_in_order(ledger, stored_rows, newest_first, story, list(reversed(range(len(story)))))

    assert same(ledger.get(newest_first), ledger.get(in_world_order))
    assert told(ledger, newest_first) == told(ledger, in_world_order)
    assert same(ledger.get(newest_first, as_of=story[-1]["occurred_at"]), ledger.get(in_world_order))
    if len(story) > 1 and story[-1]["type"] not in machine.OPENING_EVENTS:
        assert refused > 0
