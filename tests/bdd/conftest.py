"""The step vocabulary shared by every feature: thin steps over the public API.

In a step text, ``"{name}"`` stands for quoted text, ``{name:d}`` for a whole
number, ``{name:date}`` for a date such as 22 July 2025 and ``{name:text}`` for
the rest of the line (``phrases.py``). Every scenario gets a ``world`` (``world.py``) on a fresh ledger
on each backend it runs on (``test_features.py``); its *When* steps go through ``world.record`` and
``world.correct``, which feed the spec coverage (``coverage.py``). An event a step dates
("on 22 July 2025") was reported that day unless the step says when it was reported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from pytest_bdd import given, then, when

from negotiation import (
    ConcurrencyConflict,
    DuplicateEvent,
    IllegalTransition,
    InvalidEvent,
    Ledger,
    NegotiationError,
    UnknownNegotiation,
)
from negotiation.domain.payloads import CORRECTED, CORRECTION_TYPES, RETRACTED
from negotiation.errors import IllegalStory

from .coverage import PLUGIN_NAME, SpecCoverage
from .phrases import day, pairs, phrase, points, rows, shown, spoken
from .world import OPENING, TYPICAL, Rows, World, seed_story


@pytest.fixture
def world(ledger: Ledger, stored_rows: Callable[[], Rows], request: pytest.FixtureRequest) -> Iterator[World]:
    plugin = request.config.pluginmanager.get_plugin(PLUGIN_NAME)
    assert isinstance(plugin, SpecCoverage)
    scene = World(ledger, stored_rows, plugin.observe, plugin.observe_correction)
    yield scene
    scene.settled()  # a refusal no step expected must not pass silently


# -- Given -----------------------------------------------------------------------------------


@given(phrase('no negotiation "{negotiation}" has been recorded yet'))
def _(world: World, negotiation: str) -> None:
    world.negotiation_id = negotiation
    assert world.ledger.version(negotiation) == 0


@given(phrase('a negotiation "{negotiation}" between "{first}" and "{second}" agreed in principle'))
def _(world: World, negotiation: str, first: str, second: str) -> None:
    world.negotiation_id = negotiation
    world.setup("AgreedInPrinciple", {"parties": [first, second]})


@given(phrase('a negotiation "{negotiation}" between "{first}" and "{second}" '
              'agreed in principle on these terms:'))
def _(world: World, negotiation: str, first: str, second: str, datatable: list[list[str]]) -> None:
    world.negotiation_id = negotiation
    terms = {row["term"]: row["value"] for row in rows(datatable)}
    world.setup("AgreedInPrinciple", {"parties": [first, second], "terms": terms})


@given(phrase('a negotiation "{negotiation}" between "{first}" and "{second}" opened by {opening:text}'))
def _(world: World, negotiation: str, first: str, second: str, opening: str) -> None:
    world.negotiation_id = negotiation
    event_type, data = OPENING[opening]
    world.setup(event_type, {**data, "parties": [first, second]})


@given(phrase('the point "{point}" is disputed with these positions:'))
def _(world: World, point: str, datatable: list[list[str]]) -> None:
    positions = {row["party"]: row["position"] for row in rows(datatable)}
    world.setup("TermsDisputed", {"point": point, "positions": positions})


@given(phrase('it is in state "{state}"'))
def _(world: World, state: str) -> None:
    world.drive(state)


@given(phrase('the point "{point}" is disputed'))
def _(world: World, point: str) -> None:
    world.setup("TermsDisputed", {"point": point})


@given(phrase('the point "{point}" is resolved'))
def _(world: World, point: str) -> None:
    world.setup("DisputeResolved", {"point": point})


@given(phrase('the visit by "{envoy}" is cancelled'))
def _(world: World, envoy: str) -> None:
    world.setup("VisitCancelled", {"envoy": envoy})


@given("working-level talks have opened")
def _(world: World) -> None:
    world.setup("WorkingLevelTalksOpened")


@given(phrase('the negotiation "{negotiation}" opened with the deal between "{first}" and "{second}" '
              'on {date:date}'))
def _(world: World, negotiation: str, first: str, second: str, date: str) -> None:
    world.negotiation_id = negotiation
    world.setup("AgreedInPrinciple", {"parties": [first, second]}, occurred_at=day(date), reported_at=day(date))


@given(phrase('the point "{point}" was disputed on {date:date}'))
@given(phrase('the point "{point}" was disputed on {date:date}, reported on {reported:date}'))
def _(world: World, point: str, date: str, reported: str | None = None) -> None:
    world.setup("TermsDisputed", {"point": point}, occurred_at=day(date), reported_at=day(reported or date))


@given(phrase('the point "{point}" was resolved on {date:date}'))
def _(world: World, point: str, date: str) -> None:
    world.setup("DisputeResolved", {"point": point}, occurred_at=day(date), reported_at=day(date))


@given(phrase('the visit by "{envoy}" was called off on {date:date}'))
def _(world: World, envoy: str, date: str) -> None:
    world.setup("VisitCancelled", {"envoy": envoy}, occurred_at=day(date), reported_at=day(date))


@given(phrase("working-level talks opened on {date:date}"))
def _(world: World, date: str) -> None:
    world.setup("WorkingLevelTalksOpened", occurred_at=day(date), reported_at=day(date))


@given(phrase('the agreement was finalised on {date:date} in "{instrument}"'))
def _(world: World, date: str, instrument: str) -> None:
    world.setup("AgreementFinalised", {"instruments": [instrument]}, occurred_at=day(date), reported_at=day(date))


@given(phrase("the terms were amended on {date:date}:"))
def _(world: World, date: str, datatable: list[list[str]]) -> None:
    terms = {row["term"]: row["value"] for row in rows(datatable)}
    world.setup("TermsAmended", {"terms": terms}, occurred_at=day(date), reported_at=day(date))


@given(phrase('version {version:d} was retracted, because "{reason}"'), converters={"version": int})
@given(phrase('version {version:d} was retracted on {reported:date}, because "{reason}"'),
       converters={"version": int})
def _(world: World, version: int, reason: str, reported: str | None = None) -> None:
    world.ledger.retract(world.negotiation_id, version, reason=reason, reported_at=reported and day(reported))


@given(phrase('version {version:d} was corrected to have happened on {date:date}, because "{reason}"'),
       converters={"version": int})
def _(world: World, version: int, date: str, reason: str) -> None:
    world.ledger.correct(world.negotiation_id, version, reason=reason, occurred_at=day(date))


@given(phrase('version {version:d} was corrected on {reported:date} to the point "{point}", '
              'because "{reason}"'), converters={"version": int})
def _(world: World, version: int, reported: str, point: str, reason: str) -> None:
    world.ledger.correct(world.negotiation_id, version, reason=reason, data={"point": point},
                         reported_at=day(reported))


@given(phrase('the seed story "{negotiation}"'))
def _(world: World, negotiation: str) -> None:
    world.negotiation_id, world.story = negotiation, seed_story(negotiation)
    world.story_length = len(world.story)


@given(phrase('the seed story "{negotiation}" has been recorded in full'))
def _(world: World, negotiation: str) -> None:
    world.negotiation_id = negotiation
    world.ledger.record_many(negotiation, seed_story(negotiation))


# -- When ------------------------------------------------------------------------------------


@when(phrase('"{event}" is recorded'))
def _(world: World, event: str) -> None:
    world.record(event)


@when(phrase('"{event}" is recorded for the point "{point}"'))
def _(world: World, event: str, point: str) -> None:
    world.record(event, {"point": point})


@when(phrase('"{event}" is recorded for the point "{point}" with the event id "{event_id}"'))
@when(phrase('"{event}" is recorded for the point "{point}" with the event id "{event_id}" again'))
def _(world: World, event: str, point: str, event_id: str) -> None:
    world.record(event, {"point": point}, event_id=event_id)


@when(phrase('a writer who read version {version:d} records "{event}"'),
      converters={"version": int})
@when(phrase('another writer who also read version {version:d} records "{event}"'),
      converters={"version": int})
def _(world: World, version: int, event: str) -> None:
    world.record(event, expected_version=version)


@when(phrase('the deal between "{first}" and "{second}" is announced'))
def _(world: World, first: str, second: str) -> None:
    world.record("AgreedInPrinciple", {"parties": [first, second]})


@when(phrase('the deal between "{first}" and "{second}" is announced on these terms:'))
def _(world: World, first: str, second: str, datatable: list[list[str]]) -> None:
    terms = {row["term"]: row["value"] for row in rows(datatable)}
    world.record("AgreedInPrinciple", {"parties": [first, second], "terms": terms})


@when(phrase('the point "{point}" is disputed with these positions:'))
def _(world: World, point: str, datatable: list[list[str]]) -> None:
    positions = {row["party"]: row["position"] for row in rows(datatable)}
    world.record("TermsDisputed", {"point": point, "positions": positions})


@when(phrase('working-level talks between "{first}" and "{second}" open'))
def _(world: World, first: str, second: str) -> None:
    event_type, data = OPENING["working-level talks"]
    world.record(event_type, {**data, "parties": [first, second]})


@when(phrase('a visit between "{first}" and "{second}" is called off'))
def _(world: World, first: str, second: str) -> None:
    event_type, data = OPENING["a visit being called off"]
    world.record(event_type, {**data, "parties": [first, second]})


@when("a visit is cancelled:")
def _(world: World, datatable: list[list[str]]) -> None:
    details = pairs(datatable)
    world.record("VisitCancelled", {name.replace(" ", "_"): value for name, value in details.items()})


@when("working-level talks open:")
def _(world: World, datatable: list[list[str]]) -> None:
    details = pairs(datatable)
    world.record("WorkingLevelTalksOpened", {"venue": details["venue"], "agenda": points(details["agenda"])})


@when("the agreement is finalised in these instruments:")
def _(world: World, datatable: list[list[str]]) -> None:
    world.record("AgreementFinalised", {"instruments": [row["instrument"] for row in rows(datatable)]})


@when("the terms are amended:")
def _(world: World, datatable: list[list[str]]) -> None:
    world.record("TermsAmended", {"terms": {row["term"]: row["value"] for row in rows(datatable)}})


@when(phrase('the point "{point}" is reported, on {reported:date}, as disputed on {date:date}'))
def _(world: World, point: str, reported: str, date: str) -> None:
    world.record("TermsDisputed", {"point": point}, occurred_at=day(date), reported_at=day(reported))


@when(phrase('the point "{point}" is reported, on {reported:date}, as resolved on {date:date}'))
def _(world: World, point: str, reported: str, date: str) -> None:
    world.record("DisputeResolved", {"point": point}, occurred_at=day(date), reported_at=day(reported))


@when(phrase('the visit by "{envoy}" is reported, on {reported:date}, as called off on {date:date}'))
def _(world: World, envoy: str, reported: str, date: str) -> None:
    world.record("VisitCancelled", {"envoy": envoy}, occurred_at=day(date), reported_at=day(reported))


@when(phrase('working-level talks between "{first}" and "{second}" are reported, on {reported:date}, '
             'as opened on {date:date}'))
def _(world: World, first: str, second: str, reported: str, date: str) -> None:
    event_type, data = OPENING["working-level talks"]
    world.record(event_type, {**data, "parties": [first, second]}, occurred_at=day(date),
                 reported_at=day(reported))


@when(phrase('the deal between "{first}" and "{second}" is reported, on {reported:date}, '
             'as announced on {date:date}'))
def _(world: World, first: str, second: str, reported: str, date: str) -> None:
    world.record("AgreedInPrinciple", {"parties": [first, second]}, occurred_at=day(date),
                 reported_at=day(reported))


@when(phrase('"{event}" of {date:date} is reported on {reported:date}'))
def _(world: World, event: str, date: str, reported: str) -> None:
    world.record(event, occurred_at=day(date), reported_at=day(reported))


@when(phrase("these events are reported together on {reported:date}:"))
def _(world: World, reported: str, datatable: list[list[str]]) -> None:
    world.record_together([
        {"type": row["event"], "data": {"point": row["point"]} if row.get("point") else TYPICAL[row["event"]],
         "occurred_at": day(row["date"]), "reported_at": day(reported)}
        for row in rows(datatable)])


@when(phrase('the agreement is finalised on {date:date} in "{instrument}"'))
def _(world: World, date: str, instrument: str) -> None:
    world.record("AgreementFinalised", {"instruments": [instrument]}, occurred_at=day(date), reported_at=day(date))


@when(phrase('version {version:d} is retracted, because "{reason}"'), converters={"version": int})
def _(world: World, version: int, reason: str) -> None:
    world.correct(RETRACTED, version, reason=reason)


@when(phrase('version {version:d} is corrected to the point "{point}", because "{reason}"'),
      converters={"version": int})
def _(world: World, version: int, point: str, reason: str) -> None:
    world.correct(CORRECTED, version, reason=reason, data={"point": point})


@when(phrase('version {version:d} is corrected to have happened on {date:date}, because "{reason}"'),
      converters={"version": int})
def _(world: World, version: int, date: str, reason: str) -> None:
    world.correct(CORRECTED, version, reason=reason, occurred_at=day(date))


@when(phrase('version {version:d} is corrected to these terms, because "{reason}":'), converters={"version": int})
def _(world: World, version: int, reason: str, datatable: list[list[str]]) -> None:
    terms = {row["term"]: row["value"] for row in rows(datatable)}
    world.correct(CORRECTED, version, reason=reason, data={"terms": terms})


@when(phrase('version {version:d} is corrected to the deal between "{first}" and "{second}", because "{reason}"'),
      converters={"version": int})
def _(world: World, version: int, first: str, second: str, reason: str) -> None:
    world.correct(CORRECTED, version, reason=reason, data={"parties": [first, second]})


@when(phrase('a correction of version {version:d} that changes nothing is recorded, because "{reason}"'),
      converters={"version": int})
def _(world: World, version: int, reason: str) -> None:
    world.correct(CORRECTED, version, reason=reason)


@when(phrase("we ask how the negotiation stood on {date:date}"))
def _(world: World, date: str) -> None:
    world.ask(as_of=day(date))


@when(phrase("we ask how the negotiation stood as known on {known:date}"))
def _(world: World, known: str) -> None:
    world.ask(known_at=day(known))


@when(phrase("we ask how the negotiation stood on {date:date}, as known on {known:date}"))
def _(world: World, date: str, known: str) -> None:
    world.ask(as_of=day(date), known_at=day(known))


@when(phrase('its next event, "{event}" of {date:date}, is recorded'))
def _(world: World, event: str, date: str) -> None:
    assert world.story, "the story has no events left"
    told = world.story.pop(0)
    assert (told["type"], str(told["occurred_at"])) == (event, day(date)), f"the story's next event is {told}"
    world.record(told["type"], told["data"], occurred_at=told["occurred_at"], reported_at=told.get("reported_at"),
                 sources=told["sources"])


@when(phrase("the negotiation is replayed up to version {version:d}"), converters={"version": int})
def _(world: World, version: int) -> None:
    world.replay(until_version=version)


@when("the negotiation is replayed")
def _(world: World) -> None:
    world.replay()


@when(phrase('the negotiation "{negotiation}" is replayed'))
def _(world: World, negotiation: str) -> None:
    world.replay(negotiation)


# -- Then ------------------------------------------------------------------------------------


@then(phrase('the negotiation is "{state}"'))
def _(world: World, state: str) -> None:
    world.settled()
    assert world.state() == state


@then(phrase('"{event}" was recorded as version {version:d}'), converters={"version": int})
def _(world: World, event: str, version: int) -> None:
    recorded = world.recorded()
    assert (recorded.type, recorded.version) == (event, version)
    assert world.ledger.history(world.negotiation_id)[-1] == recorded


@then(phrase('the event is refused as not allowed in state "{state}"'))
def _(world: World, state: str) -> None:
    message = str(world.refusal(IllegalTransition))
    assert message.startswith(f"{world.attempted} is not allowed"), message
    assert f"for negotiation {world.negotiation_id!r}" in message, message
    assert f"in state {state}" in message, message


@then(phrase('the message says what is allowed: "{allowed}"'))
def _(world: World, allowed: str) -> None:
    message = str(world.refusal(NegotiationError))
    assert message.endswith(f"; allowed: {allowed}"), message


@then(phrase('the message says why: "{reason}"'))
def _(world: World, reason: str) -> None:
    message = str(world.refusal(NegotiationError))
    assert f"({reason})" in message, message


@then(phrase('the event is refused in state "{state}" because "{reason}"'))
def _(world: World, state: str, reason: str) -> None:
    refusal = world.refusal(IllegalTransition)
    assert refusal.event_type in refusal.allowed, "the machine itself refused the event type"
    assert str(refusal) == (f"{world.attempted} is refused for negotiation {world.negotiation_id!r} "
                            f"in state {state}: {reason}")


@then("a deal in principle has been announced")
def _(world: World) -> None:
    assert world.negotiation().has_deal


@then("no deal in principle has been announced yet")
def _(world: World) -> None:
    assert not world.negotiation().has_deal


@then(phrase('the positions on "{point}" are:'))
def _(world: World, point: str, datatable: list[list[str]]) -> None:
    assert world.negotiation().positions[point] == {row["party"]: row["position"] for row in rows(datatable)}


@then(phrase('the event is refused as invalid: "{message}"'))
def _(world: World, message: str) -> None:
    assert message in str(world.refusal(InvalidEvent))


@then(phrase("the event is refused because the negotiation is at version {actual:d}, not {expected:d}"),
      converters={"actual": int, "expected": int})
def _(world: World, actual: int, expected: int) -> None:
    conflict = world.refusal(ConcurrencyConflict)
    assert (conflict.actual, conflict.expected) == (actual, expected)
    assert f"is at version {actual}, expected version {expected}" in str(conflict)


@then("the event is refused as a different event under an id already recorded")
def _(world: World) -> None:
    assert "already recorded with different content" in str(world.refusal(DuplicateEvent))


@then("nothing was recorded")
def _(world: World) -> None:
    assert world.ledger.read_all() == world.log_before
    assert world.stored_rows() == world.rows_before


@then(phrase('the parties are "{first}" and "{second}"'))
def _(world: World, first: str, second: str) -> None:
    assert world.negotiation().parties == (first, second)


@then(phrase('the open points are "{expected}"'))
def _(world: World, expected: str) -> None:
    assert list(world.negotiation().open_disputes) == points(expected)


@then("no point is open")
def _(world: World) -> None:
    assert world.negotiation().open_disputes == ()


@then("the recorded terms include:")
def _(world: World, datatable: list[list[str]]) -> None:
    terms = world.negotiation().terms
    assert {row["term"]: shown(terms.get(row["term"])) for row in rows(datatable)} == {
        row["term"]: row["value"] for row in rows(datatable)}


@then("the recorded positions are:")
def _(world: World, datatable: list[list[str]]) -> None:
    assert world.recorded().data["positions"] == {row["party"]: row["position"] for row in rows(datatable)}


@then("the recorded event says:")
def _(world: World, datatable: list[list[str]]) -> None:
    data = world.recorded().data
    expected = pairs(datatable)
    assert {name: shown(data.get(name.replace(" ", "_"))) for name in expected} == expected


@then("the agreement stands in these instruments:")
def _(world: World, datatable: list[list[str]]) -> None:
    assert list(world.negotiation().instruments) == [row["instrument"] for row in rows(datatable)]


@then(phrase("the answer is the event already stored as version {version:d}"), converters={"version": int})
def _(world: World, version: int) -> None:
    answer = world.recorded()
    assert answer.version == version
    assert world.ledger.history(world.negotiation_id)[version - 1] == answer


@then(phrase("the negotiation has {count:d} events"), converters={"count": int})
def _(world: World, count: int) -> None:
    assert len(world.ledger.history(world.negotiation_id)) == count
    assert world.ledger.version(world.negotiation_id) == count


@then(phrase('it stood in state "{state}" with open points: {expected:text}'))
def _(world: World, state: str, expected: str) -> None:
    world.settled()
    assert world.replayed is not None
    assert (world.replayed.state, list(world.replayed.open_disputes)) == (state, points(expected))


@then(phrase('the replay is refused: "{message}"'))
def _(world: World, message: str) -> None:
    assert message in str(world.refusal(NegotiationError))


@then("every event of the story has been recorded")
def _(world: World) -> None:
    assert world.story == []
    assert len(world.ledger.history(world.negotiation_id)) == world.story_length


@then("its history reads:")
def _(world: World, datatable: list[list[str]]) -> None:
    told = [
        {"version": str(event.version), "date": spoken(event.occurred_at),
         "event": event.type, "state after": negotiation.state,
         "open points after": ", ".join(negotiation.open_disputes) or "none"}
        for event, negotiation in world.ledger.steps(world.negotiation_id)
    ]
    assert told == rows(datatable)


@then(phrase('it is refused because the story would then have the "{event}" of {date:date} '
             '(version {version:d}) in state "{state}"'), converters={"version": int})
def _(world: World, event: str, date: str, version: int, state: str) -> None:
    refusal = world.refusal(IllegalStory)
    assert (refusal.event_type, refusal.occurred_at, refusal.version, refusal.state) == (
        event, day(date), version, state), str(refusal)
    assert f": version {version}, {event} of {day(date)} would then come in state {state}," in str(refusal)
    assert str(refusal).endswith("; nothing was written"), str(refusal)


@then(phrase('it is refused because the story would then have the new event itself in state "{state}"'))
def _(world: World, state: str) -> None:
    refusal = world.refusal(IllegalStory)
    assert (refusal.event_type, refusal.state) == (world.attempted, state), str(refusal)
    assert f": itself would then come in state {state}," in str(refusal)


@then(phrase('the message reads: "{message}"'))
def _(world: World, message: str) -> None:
    assert str(world.refusal(NegotiationError)) == message


@then(phrase('it is refused: "{message}"'))
def _(world: World, message: str) -> None:
    assert message in str(world.refusal(InvalidEvent))


@then(phrase('the question is refused: "{message}"'))
def _(world: World, message: str) -> None:
    assert str(world.refusal(UnknownNegotiation)) == message


@then(phrase('as of {date:date} the negotiation was "{state}"'))
def _(world: World, date: str, state: str) -> None:
    world.settled()
    assert world.ledger.get(world.negotiation_id, as_of=day(date)).state == state


@then(phrase('as of {date:date} the negotiation was "{state}" with open points "{expected}"'))
def _(world: World, date: str, state: str, expected: str) -> None:
    world.settled()
    then = world.ledger.get(world.negotiation_id, as_of=day(date))
    assert (then.state, list(then.open_disputes)) == (state, points(expected))


@then(phrase("they were recorded as versions {first:d} and {second:d}"), converters={"first": int, "second": int})
def _(world: World, first: int, second: int) -> None:
    world.recorded()
    assert [event.version for event in world.batch] == [first, second]
    assert world.ledger.history(world.negotiation_id)[-2:] == world.batch


@then(phrase("the negotiation opened on {date:date}"))
def _(world: World, date: str) -> None:
    opened = world.negotiation().opened_at
    assert opened is not None and opened.date().isoformat() == day(date)


@then(phrase('the terms do not include "{term}"'))
def _(world: World, term: str) -> None:
    world.settled()
    assert term not in world.negotiation().terms


def versions(numbers: tuple[int, ...]) -> str:
    return ", ".join(map(str, numbers))


def story_reads(world: World, datatable: list[list[str]], **times: str) -> None:
    """The story (at the times asked), compared on the table's columns."""
    expected = rows(datatable)
    told = [{"date": spoken(event.occurred_at), "event": event.type, "version": str(event.version),
             "reported": spoken(event.reported_at), "corrected by": versions(event.corrected_by)}
            for event in world.ledger.story(world.negotiation_id, **times)]
    assert [{column: row[column] for column in expected[0]} for row in told] == expected


@then("the story reads:")
def _(world: World, datatable: list[list[str]]) -> None:
    world.settled()
    story_reads(world, datatable)


@then(phrase("the story as known on {known:date} reads:"))
def _(world: World, known: str, datatable: list[list[str]]) -> None:
    story_reads(world, datatable, known_at=day(known))


@then(phrase("the story up to {date:date} reads:"))
def _(world: World, date: str, datatable: list[list[str]]) -> None:
    story_reads(world, datatable, as_of=day(date))


@then("the log reads:")
def _(world: World, datatable: list[list[str]]) -> None:
    expected = rows(datatable)
    logged = [{"version": str(entry.version), "event": entry.type,
               # a retraction or correction happened nowhere in the world: it has no date of its own
               "date": "" if entry.type in CORRECTION_TYPES else spoken(entry.occurred_at),
               "reported": spoken(entry.reported_at),
               "retracted by": "" if entry.retracted_by is None else str(entry.retracted_by),
               "corrected by": versions(entry.corrected_by)}
              for entry in world.ledger.history(world.negotiation_id)]
    assert [{column: row[column] for column in expected[0]} for row in logged] == expected
