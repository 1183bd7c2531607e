"""The step vocabulary shared by every feature: thin steps over the public API.

In a step text, ``"{name}"`` stands for quoted text, ``{name:d}`` for a whole
number, ``{name:date}`` for a date such as 22 July 2025 and ``{name:text}`` for
the rest of the line (``phrases.py``). Every scenario gets a ``world`` (``world.py``) on a fresh ledger
on each backend it runs on (``test_features.py``); its *When* steps go through ``world.record`` and
``world.correct``, which feed the spec coverage (``coverage.py``). An event a step dates
("on 22 July 2025") was reported that day unless the step says when it was reported.
"""

from __future__ import annotations

import csv
import io
import json
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd import given, then, when

from negotiation import (
    BackdatedReport,
    ConcurrencyConflict,
    DuplicateEvent,
    IllegalTransition,
    InvalidEvent,
    Ledger,
    NegotiationError,
    SourceRecord,
    UnknownNegotiation,
)
from negotiation.domain.belief import OPEN_POINT, STATE, STORY, Change
from negotiation.domain.payloads import CORRECTED, CORRECTION_TYPES, DENIED, RETRACTED
from negotiation.errors import IllegalStory
from negotiation.files.export import story_rows, write_csv
from negotiation.files.loading import load_streams, read_streams
from negotiation.views.feed import feed_entries

from .coverage import PLUGIN_NAME, SpecCoverage
from .phrases import day, meeting, pairs, phrase, points, rows, shown, spoken, spoken_day, terms_of
from .world import MEASURE_TYPICAL, OPENING, TYPICAL, Rows, World, measure_event, seed_story


@pytest.fixture
def world(ledger: Ledger, stored_rows: Callable[[], Rows], request: pytest.FixtureRequest) -> Iterator[World]:
    plugin = request.config.pluginmanager.get_plugin(PLUGIN_NAME)
    assert isinstance(plugin, SpecCoverage)
    scene = World(ledger, stored_rows, plugin)
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


@given(phrase('a negotiation "{negotiation}" between "{first}" and "{second}" agreed in principle, '
              'reported by "{source}"'))
def _(world: World, negotiation: str, first: str, second: str, source: str) -> None:
    world.negotiation_id = negotiation
    world.setup("AgreedInPrinciple", {"parties": [first, second]}, sources=[source])


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


@given(phrase('the negotiation "{negotiation}" opened with working-level talks between "{first}" and '
              '"{second}" on {date:date}'))
def _(world: World, negotiation: str, first: str, second: str, date: str) -> None:
    world.negotiation_id = negotiation
    world.setup("WorkingLevelTalksOpened", {"parties": [first, second]}, occurred_at=day(date),
                reported_at=day(date))


@given(phrase('the negotiation "{negotiation}" opened with the deal between "{first}" and "{second}" '
              'on {date:date} on these terms:'))
def _(world: World, negotiation: str, first: str, second: str, date: str, datatable: list[list[str]]) -> None:
    world.negotiation_id = negotiation
    world.setup("AgreedInPrinciple", {"parties": [first, second], "terms": terms_of(datatable)},
                occurred_at=day(date), reported_at=day(date))


@given(phrase('the deal "{title}" was announced on {date:date}'))
def _(world: World, title: str, date: str) -> None:
    world.setup("AgreedInPrinciple", {"title": title}, occurred_at=day(date), reported_at=day(date))


@given(phrase('"{party}" broke off the talks'))
def _(world: World, party: str) -> None:
    world.setup("TalksSuspended", {"by": party})


@given(phrase('on {date:date} "{party}" broke off the talks'))
def _(world: World, date: str, party: str) -> None:
    world.setup("TalksSuspended", {"by": party}, occurred_at=day(date), reported_at=day(date))


@given(phrase('a meeting was held on {date:date}:'))
def _(world: World, date: str, datatable: list[list[str]]) -> None:
    world.setup("MeetingHeld", meeting(datatable), occurred_at=day(date), reported_at=day(date))


@given(phrase('on {date:date} "{party}" said these were the terms:'))
def _(world: World, date: str, party: str, datatable: list[list[str]]) -> None:
    world.setup("TermsAmended", {"terms": terms_of(datatable), "according_to": party}, occurred_at=day(date),
                reported_at=day(date))


# Pressure before talks: the first event of a negotiation beside the phase, naming its parties.


@given(phrase('the negotiation "{negotiation}" began on {date:date} with "{party}" imposing "{measure}" '
              'at "{value}" on "{other}"'))
def _(world: World, negotiation: str, date: str, party: str, measure: str, value: str, other: str) -> None:
    world.negotiation_id = negotiation
    world.setup("MeasureImposed", {"parties": [party, other], "measure": measure, "by": party,
                                   "value": value}, occurred_at=day(date), reported_at=day(date))


@given(phrase('the negotiation "{negotiation}" began on {date:date} with "{party}" threatening "{measure}" '
              'at "{value}" on "{other}" from {effective:date}'))
def _(world: World, negotiation: str, date: str, party: str, measure: str, value: str, other: str,
      effective: str) -> None:
    world.negotiation_id = negotiation
    world.setup("MeasureThreatened", {"parties": [party, other], "measure": measure, "by": party,
                                      "value": value, "effective": day(effective)},
                occurred_at=day(date), reported_at=day(date))


@given(phrase('the negotiation "{negotiation}" began on {date:date} with "{party}" setting "{other}" '
              'the deadline "{what}" for {due:date}'))
def _(world: World, negotiation: str, date: str, party: str, other: str, what: str, due: str) -> None:
    world.negotiation_id = negotiation
    world.setup("DeadlineSet", {"parties": [party, other], "what": what, "due": day(due), "by": party},
                occurred_at=day(date), reported_at=day(date))


# Measures and deadlines.


@given(phrase('on {date:date} the measure "{measure}" is "{status}"'))
def _(world: World, date: str, measure: str, status: str) -> None:
    world.bring_measure(measure, status, day(date))


@given(phrase('on {date:date} "{party}" threatened "{measure}" at "{value}" from {effective:date}'))
def _(world: World, date: str, party: str, measure: str, value: str, effective: str) -> None:
    world.setup("MeasureThreatened", {"measure": measure, "by": party, "value": value,
                                      "effective": day(effective)},
                occurred_at=day(date), reported_at=day(date))


@given(phrase('on {date:date} "{party}" imposed "{measure}" at "{value}"'))
@given(phrase('on {date:date} "{party}" imposed "{measure}" at "{value}", effective from {since:date}'))
def _(world: World, date: str, party: str, measure: str, value: str, since: str | None = None) -> None:
    data = {"measure": measure, "by": party, "value": value}
    if since:
        data["effective_from"] = day(since)
    world.setup("MeasureImposed", data, occurred_at=day(date), reported_at=day(date))


@given(phrase('on {date:date} "{measure}" was paused until {until:date}, because "{reason}"'))
def _(world: World, date: str, measure: str, until: str, reason: str) -> None:
    world.setup("MeasurePaused", {"measure": measure, "until": day(until), "reason": reason},
                occurred_at=day(date), reported_at=day(date))


@given(phrase('on {date:date} "{party}" set the deadline "{what}" for {due:date}'))
def _(world: World, date: str, party: str, what: str, due: str) -> None:
    world.setup("DeadlineSet", {"what": what, "due": day(due), "by": party}, occurred_at=day(date),
                reported_at=day(date))


@given(phrase('version {version:d} was denied by "{by}"'), converters={"version": int})
def _(world: World, version: int, by: str) -> None:
    world.ledger.deny(world.negotiation_id, version, by=by)


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


@when(phrase("we ask what changed in what we knew between {first:date} and {second:date}"))
def _(world: World, first: str, second: str) -> None:
    world.named.clear()
    world.compare(day(first), day(second))


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


@when(phrase('the deal "{title}" is announced on {date:date}'))
def _(world: World, title: str, date: str) -> None:
    world.record("AgreedInPrinciple", {"title": title}, occurred_at=day(date), reported_at=day(date))


@when(phrase('on {date:date} the deal is announced by "{party}" on these terms:'))
def _(world: World, date: str, party: str, datatable: list[list[str]]) -> None:
    world.record("AgreedInPrinciple", {"terms": terms_of(datatable), "according_to": party},
                 occurred_at=day(date), reported_at=day(date))


@when(phrase('on {date:date} "{party}" says these are the terms:'))
def _(world: World, date: str, party: str, datatable: list[list[str]]) -> None:
    world.record("TermsAmended", {"terms": terms_of(datatable), "according_to": party}, occurred_at=day(date),
                 reported_at=day(date))


@when(phrase("a new round of talks opens on {date:date}:"))
def _(world: World, date: str, datatable: list[list[str]]) -> None:
    details = pairs(datatable)
    data: dict[str, Any] = {"venue": details["venue"], "agenda": points(details.get("agenda", "none"))}
    if "round" in details:
        data["round"] = int(details["round"]) if details["round"].isdigit() else details["round"]
    world.record("WorkingLevelTalksOpened", data, occurred_at=day(date), reported_at=day(date))


@when(phrase("working-level talks open on {date:date}"))
@when(phrase("working-level talks resume on {date:date}"))
def _(world: World, date: str) -> None:
    world.record("WorkingLevelTalksOpened", {}, occurred_at=day(date), reported_at=day(date))


# Talks broken off.


@when(phrase('"{party}" suspends the talks'))
def _(world: World, party: str) -> None:
    world.record("TalksSuspended", {"by": party})


@when(phrase('on {date:date} "{party}" terminates the talks, because "{reason}"'))
def _(world: World, date: str, party: str, reason: str) -> None:
    world.record("TalksSuspended", {"by": party, "terminated": True, "reason": reason}, occurred_at=day(date),
                 reported_at=day(date))


# Meetings and third parties.


@when("a meeting is held:")
def _(world: World, datatable: list[list[str]]) -> None:
    world.record("MeetingHeld", meeting(datatable))


@when(phrase("a meeting is held on {date:date}:"))
def _(world: World, date: str, datatable: list[list[str]]) -> None:
    world.record("MeetingHeld", meeting(datatable), occurred_at=day(date), reported_at=day(date))


@when(phrase('"{actor}" acts:'))
def _(world: World, actor: str, datatable: list[list[str]]) -> None:
    world.record("ThirdPartyActed", {"actor": actor, **pairs(datatable)})


@when(phrase('on {date:date} "{actor}" acts:'))
def _(world: World, date: str, actor: str, datatable: list[list[str]]) -> None:
    world.record("ThirdPartyActed", {"actor": actor, **pairs(datatable)}, occurred_at=day(date),
                 reported_at=day(date))


# Measures: each a step of its life, on a day.


@when(phrase('"{event}" is recorded for the measure "{measure}" on {date:date}'))
def _(world: World, event: str, measure: str, date: str) -> None:
    by = world.negotiation().parties[0]
    world.record(event, measure_event(event, measure, by, day(date), MEASURE_TYPICAL[event]),
                 occurred_at=day(date), reported_at=day(date))


@when(phrase('on {date:date} "{party}" threatens "{measure}" at "{value}" from {effective:date}'))
def _(world: World, date: str, party: str, measure: str, value: str, effective: str) -> None:
    world.record("MeasureThreatened", {"measure": measure, "by": party, "value": value,
                                       "effective": day(effective)},
                 occurred_at=day(date), reported_at=day(date))


@when(phrase('on {date:date} "{party}" threatens "{other}" with "{measure}" at "{value}" '
             'from {effective:date}'))
def _(world: World, date: str, party: str, other: str, measure: str, value: str, effective: str) -> None:
    world.record("MeasureThreatened", {"parties": [party, other], "measure": measure, "by": party,
                                       "value": value, "effective": day(effective)},
                 occurred_at=day(date), reported_at=day(date))


@when(phrase('on {date:date} "{party}" imposes "{measure}" at "{value}"'))
@when(phrase('on {date:date} "{party}" imposes "{measure}" at "{value}", effective from {since:date}'))
def _(world: World, date: str, party: str, measure: str, value: str, since: str | None = None) -> None:
    data = {"measure": measure, "by": party, "value": value}
    if since:
        data["effective_from"] = day(since)
    world.record("MeasureImposed", data, occurred_at=day(date), reported_at=day(date))


@when(phrase('on {date:date} "{measure}" is paused until {until:date}, because "{reason}"'))
def _(world: World, date: str, measure: str, until: str, reason: str) -> None:
    world.record("MeasurePaused", {"measure": measure, "until": day(until), "reason": reason},
                 occurred_at=day(date), reported_at=day(date))


@when(phrase('on {date:date} "{measure}" is paused by "{party}" until {until:date}'))
def _(world: World, date: str, measure: str, party: str, until: str) -> None:
    world.record("MeasurePaused", {"measure": measure, "by": party, "until": day(until)},
                 occurred_at=day(date), reported_at=day(date))


@when(phrase('on {date:date} "{measure}" is lifted by "{actor}", because "{reason}"'))
def _(world: World, date: str, measure: str, actor: str, reason: str) -> None:
    world.record("MeasureLifted", {"measure": measure, "by": actor, "reason": reason}, occurred_at=day(date),
                 reported_at=day(date))


# Deadlines.


@when(phrase('"{party}" sets the deadline "{what}" for {due:date}'))
def _(world: World, party: str, what: str, due: str) -> None:
    world.record("DeadlineSet", {"what": what, "due": day(due), "by": party})


@when(phrase('on {date:date} "{party}" sets the deadline "{what}" for {due:date}'))
def _(world: World, date: str, party: str, what: str, due: str) -> None:
    world.record("DeadlineSet", {"what": what, "due": day(due), "by": party}, occurred_at=day(date),
                 reported_at=day(date))


@when(phrase('on {date:date} "{party}" sets the deadline "{what}" for "{due}"'))
def _(world: World, date: str, party: str, what: str, due: str) -> None:
    world.record("DeadlineSet", {"what": what, "due": due, "by": party}, occurred_at=day(date),
                 reported_at=day(date))


@when(phrase('on {date:date} "{party}" sets "{other}" the deadline "{what}" for {due:date}'))
def _(world: World, date: str, party: str, other: str, what: str, due: str) -> None:
    world.record("DeadlineSet", {"parties": [party, other], "what": what, "due": day(due), "by": party},
                 occurred_at=day(date), reported_at=day(date))


# Denials, and questions that leave them out.


@when(phrase('version {version:d} is denied by "{by}", who says "{statement}"'), converters={"version": int})
def _(world: World, version: int, by: str, statement: str) -> None:
    world.correct(DENIED, version, by=by, statement=statement)


#: An article as a newsroom would cite it; the refusal scenarios change one thing of it.
ARTICLE = {"outlet": "Reuters", "url": "https://www.reuters.com/world/japan/tariff-stacking-2025/",
           "headline": "Japan says US tariffs should not stack on existing duties", "published": "2025-08-07"}


@given(phrase('the point "{point}" was disputed, as reported in this article:'))
@when(phrase('the point "{point}" is disputed, as reported in this article:'))
def _(world: World, point: str, datatable: list[list[str]]) -> None:
    world.record("TermsDisputed", {"point": point}, sources=[pairs(datatable)])


@when(phrase('the point "{point}" is disputed, as reported in an article whose {field:text} is "{value}"'))
def _(world: World, point: str, field: str, value: str) -> None:
    world.record("TermsDisputed", {"point": point}, sources=[{**ARTICLE, field: value}])


@when(phrase('the point "{point}" is disputed, as reported in an article without its {field:text}'))
def _(world: World, point: str, field: str) -> None:
    article = {key: value for key, value in ARTICLE.items() if key != field}
    world.record("TermsDisputed", {"point": point}, sources=[article])


@when(phrase('the point "{point}" is disputed, as reported in an article that also gives its "{key}"'))
def _(world: World, point: str, key: str) -> None:
    world.record("TermsDisputed", {"point": point}, sources=[{**ARTICLE, key: "someone"}])


@when(phrase('the point "{point}" is disputed, as reported in an article whose headline is {size:d} '
             'characters long'), converters={"size": int})
def _(world: World, point: str, size: int) -> None:
    world.record("TermsDisputed", {"point": point}, sources=[{**ARTICLE, "headline": "a" * size}])


@when(phrase('the point "{point}" is disputed, as reported in an article whose headline holds an escape '
             'character'))
def _(world: World, point: str) -> None:
    world.record("TermsDisputed", {"point": point}, sources=[{**ARTICLE, "headline": "\x1b[31mBreaking"}])


@when(phrase('we ask how the negotiation stands without "{source}"'))
def _(world: World, source: str) -> None:
    world.ask(exclude_sources=[source])


@when("we ask how the negotiation stands, leaving denied reports out")
def _(world: World) -> None:
    world.ask(exclude_denied=True)


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
    assert f"({reason})" in message or f": {reason}" in message, message


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


@then(phrase("version {version:d}, reported on {reported:date} about {date:date}, is {kind:text}"),
      converters={"version": int})
def _(world: World, version: int, reported: str, date: str, kind: str) -> None:
    entry = world.compared().entry(version)
    assert (entry.kind, entry.reported_at.date().isoformat(), entry.occurred_at.date().isoformat()) == (
        kind, day(reported), day(date))


def the_change(world: World, aspect: str, subject: str) -> Change:
    """The one change of the last comparison in that aspect and subject, noted as named by a step."""
    found = [change for change in world.compared().changes if (change.aspect, change.subject) == (aspect, subject)]
    assert len(found) == 1, f"one change of the {aspect} {subject!r} expected, found {world.compared().changes}"
    world.named.add((aspect, subject))
    return found[0]


def made_by(world: World, change: Change, kind: str, version: int) -> None:
    """The change was made by that entry alone, reported in between as that kind of news."""
    assert change.because == (version,), f"{change} was made by {change.because}, not version {version}"
    assert world.compared().entry(version).kind == kind


@then(phrase('the {kind:text} recorded as version {version:d} is what opened the point "{point}"'),
      converters={"version": int})
def _(world: World, kind: str, version: int, point: str) -> None:
    change = the_change(world, OPEN_POINT, point)
    assert (change.before, change.after) == (None, "open")
    made_by(world, change, kind, version)


@then(phrase('the {kind:text} recorded as version {version:d} is what closed the point "{point}"'),
      converters={"version": int})
def _(world: World, kind: str, version: int, point: str) -> None:
    change = the_change(world, OPEN_POINT, point)
    assert (change.before, change.after) == ("open", None)
    made_by(world, change, kind, version)


@then(phrase("the {kind:text} recorded as version {version:d} is what added version {added:d} to the story"),
      converters={"version": int, "added": int})
def _(world: World, kind: str, version: int, added: int) -> None:
    change = the_change(world, STORY, f"version {added}")
    assert change.before is None and change.after is not None
    made_by(world, change, kind, version)


@then(phrase("the {kind:text} recorded as version {version:d} is what changed version {changed:d} in the story"),
      converters={"version": int, "changed": int})
def _(world: World, kind: str, version: int, changed: int) -> None:
    change = the_change(world, STORY, f"version {changed}")
    assert change.before is not None and change.after is not None and change.before != change.after
    made_by(world, change, kind, version)


@then(phrase('the {first:text} recorded as version {version:d} and the {second:text} recorded as version '
              '{other:d} are what changed the negotiation from "{before}" to "{after}"'),
      converters={"version": int, "other": int})
def _(world: World, first: str, version: int, second: str, other: int, before: str, after: str) -> None:
    change = the_change(world, STATE, STATE)
    assert (change.before, change.after) == (before, after)
    assert change.because == (version, other), f"{change} was made by {change.because}"
    told = world.compared()
    assert (told.entry(version).kind, told.entry(other).kind) == (first, second)


@then(phrase('the negotiation stayed "{state}"'))
def _(world: World, state: str) -> None:
    told = world.compared()
    assert told.before is not None and (told.before.state, told.after.state) == (state, state)
    assert all(change.aspect != STATE for change in told.changes)


@then("nothing else changed")
def _(world: World) -> None:
    left = [change for change in world.compared().changes if (change.aspect, change.subject) not in world.named]
    assert not left, f"changes no step named: {left}"


@then("nothing changed in what we knew")
def _(world: World) -> None:
    told = world.compared()
    assert not told.changed and told.changes == ()
    assert told.before is not None and told.before.version == told.after.version


@then(phrase('the comparison is refused: "{message}"'))
def _(world: World, message: str) -> None:
    assert message in str(world.refusal(InvalidEvent))


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


@then("every event was given an id of its own, each sorting after the one recorded before it")
def _(world: World) -> None:
    made = [event.event_id for event in world.ledger.history(world.negotiation_id)]
    assert len(made) == 3 and len(set(made)) == 3
    assert made == sorted(made)


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


def story_reads(world: World, datatable: list[list[str]], **asked: Any) -> None:
    """The story (at the times asked, or leaving denied reports out), compared on the table's columns."""
    expected = rows(datatable)
    told = [{"date": spoken(event.occurred_at), "event": event.type, "version": str(event.version),
             "reported": spoken(event.reported_at), "corrected by": versions(event.corrected_by),
             "denied by": ", ".join(event.denied_by)}
            for event in world.ledger.story(world.negotiation_id, **asked)]
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


# -- Then, beside the phase --------------------------------------------------------------------


@then(phrase('"{event}" was recorded'))
def _(world: World, event: str) -> None:
    recorded = world.recorded()
    assert recorded.type == event
    assert world.ledger.history(world.negotiation_id)[-1] == recorded


@then(phrase("the negotiation has had {count:d} deals in principle"), converters={"count": int})
def _(world: World, count: int) -> None:
    world.settled()
    assert [deal["kind"] for deal in world.negotiation().deals].count("in principle") == count


@then("its deals read:")
def _(world: World, datatable: list[list[str]]) -> None:
    world.settled()
    told = [{"date": spoken_day(deal["on"]), "kind": deal["kind"], "title": deal.get("title", "")}
            for deal in world.negotiation().deals]
    assert told == rows(datatable)


@then(phrase('the talks were broken off by "{party}"'))
def _(world: World, party: str) -> None:
    world.settled()
    assert world.negotiation().suspended_by == party


@then("the talks are not broken off")
def _(world: World) -> None:
    world.settled()
    assert world.negotiation().suspended_by is None


@then("the negotiation is known but not opened")
def _(world: World) -> None:
    world.settled()
    negotiation = world.ledger.get(world.negotiation_id)  # known: asking answers
    assert (negotiation.state, negotiation.is_open) == ("not_opened", False)


@then("the meetings read:")
def _(world: World, datatable: list[list[str]]) -> None:
    world.settled()
    expected = rows(datatable)
    told = [{"date": spoken_day(met["on"]), **{name: shown(met.get(name.replace(" ", "_"), ""))
                                              for name in expected[0] if name != "date"}}
            for met in world.negotiation().meetings]
    assert told == expected


@then(phrase("the negotiation holds {count:d} meetings"), converters={"count": int})
def _(world: World, count: int) -> None:
    world.settled()
    assert len(world.negotiation().meetings) == count


@then(phrase('the entry rests on the article of "{outlet}" headed "{headline}", published on {published:date}'))
def _(world: World, outlet: str, headline: str, published: str) -> None:
    (article,) = world.recorded().sources
    assert isinstance(article, SourceRecord)
    assert (article.outlet, article.headline, article.published.isoformat()) == (outlet, headline, day(published))
    assert world.ledger.history(world.negotiation_id)[-1].sources == (article,)  # as stored, read back


@then(phrase('the sources count {count:d} entry of "{outlet}"'), converters={"count": int})
@then(phrase('the sources count {count:d} entries of "{outlet}"'), converters={"count": int})
def _(world: World, count: int, outlet: str) -> None:
    counted = {summary.source: summary.entries for summary in world.ledger.sources()}
    assert counted.get(outlet) == count


@then(phrase('the entries reported by "{outlet}" are versions {versions:text}'))
def _(world: World, outlet: str, versions: str) -> None:
    named = [int(v) for v in versions.replace(" and ", ", ").split(", ")]
    assert [entry.version for entry in world.ledger.reported_by(outlet)] == named


@then("the answer has no point open")
def _(world: World) -> None:
    assert world.replayed is not None and world.replayed.open_disputes == ()
    assert world.negotiation().open_disputes != ()  # the story with every source still has it


@then(phrase("the answer holds {count:d} meetings"), converters={"count": int})
def _(world: World, count: int) -> None:
    world.settled()
    assert world.replayed is not None
    assert len(world.replayed.meetings) == count


@then("the third-party acts read:")
def _(world: World, datatable: list[list[str]]) -> None:
    world.settled()
    expected = rows(datatable)
    told = [{"date": spoken_day(act["on"]), **{name: shown(act.get(name, "")) for name in expected[0]
                                              if name != "date"}}
            for act in world.negotiation().third_party_acts]
    assert told == expected


# Measures and deadlines, asked at a time.


@then(phrase('as of {date:date} the measure "{measure}" is "{status}"'))
def _(world: World, date: str, measure: str, status: str) -> None:
    assert world.measure_status(measure, as_of=day(date)) == status


@then(phrase('as of {date:date}, as known on {known:date}, the measure "{measure}" was "{status}"'))
def _(world: World, date: str, known: str, measure: str, status: str) -> None:
    assert world.measure_status(measure, as_of=day(date), known_at=day(known)) == status


@then(phrase('as known on {known:date} the measure "{measure}" was "{status}"'))
def _(world: World, known: str, measure: str, status: str) -> None:
    assert world.measure_status(measure, known_at=day(known)) == status


@then(phrase('as of {date:date} the measure "{measure}" reads:'))
def _(world: World, date: str, measure: str, datatable: list[list[str]]) -> None:
    expected = pairs(datatable)
    status = world.measure_status(measure, as_of=day(date))
    found = world.ledger.get(world.negotiation_id, as_of=day(date)).measures[measure].as_json()
    told = {"status": status, **{name.replace("_", " "): str(value) for name, value in found.items()}}
    assert {name: told.get(name, "") for name in expected} == expected


@then(phrase("the measures in force as of {date:date} are:"))
def _(world: World, date: str, datatable: list[list[str]]) -> None:
    world.settled()
    told = [{"measure": m.name, "by": m.by or "", "value": m.value or ""}
            for m in world.ledger.get(world.negotiation_id, as_of=day(date)).measures_in_force]
    assert told == rows(datatable)


@then(phrase('the event is refused for the measure "{measure}", which is "{status}"'))
def _(world: World, measure: str, status: str) -> None:
    refusal = world.refusal(IllegalTransition)
    assert refusal.reason is not None and refusal.reason.startswith(
        f"the measure {measure!r} is {status.replace('_', ' ')}: "), str(refusal)


@then(phrase('as of {date:date} the deadline "{what}" is "{status}"'))
def _(world: World, date: str, what: str, status: str) -> None:
    assert world.deadline_status(what, as_of=day(date)) == status


@then(phrase('as of {date:date}, as known on {known:date}, the deadline "{what}" was "{status}"'))
def _(world: World, date: str, known: str, what: str, status: str) -> None:
    assert world.deadline_status(what, as_of=day(date), known_at=day(known)) == status


@then("the deadlines read:")
def _(world: World, datatable: list[list[str]]) -> None:
    world.settled()
    expected = rows(datatable)
    told = [{name: str(getattr(deadline, name.replace(" ", "_")) or "") for name in expected[0]}
            for deadline in world.negotiation().deadlines.values()]
    assert told == expected


@then(phrase("no event of the story happened on {date:date}"))
def _(world: World, date: str) -> None:
    world.settled()
    story = world.ledger.story(world.negotiation_id)
    assert [event for event in story if event.occurred_at.date().isoformat() == day(date)] == []


# Each party's version.


@then("the common terms are:")
def _(world: World, datatable: list[list[str]]) -> None:
    world.settled()
    assert world.negotiation().terms == terms_of(datatable)


@then(phrase('the terms according to "{party}" are:'))
def _(world: World, party: str, datatable: list[list[str]]) -> None:
    world.settled()
    assert world.negotiation().view_of(party) == terms_of(datatable)


@then(phrase('the answer\'s terms according to "{party}" do not include "{term}"'))
def _(world: World, party: str, term: str) -> None:
    world.settled()
    assert world.replayed is not None
    assert term not in world.replayed.view_of(party)


@then(phrase('the two versions differ on "{names}"'))
def _(world: World, names: str) -> None:
    world.settled()
    assert list(world.negotiation().differences) == points(names)


@then("the two versions agree")
def _(world: World) -> None:
    world.settled()
    assert world.negotiation().differences == ()


@then("the story leaving denied reports out reads:")
def _(world: World, datatable: list[list[str]]) -> None:
    story_reads(world, datatable, exclude_denied=True)


# -- back-filling history ----------------------------------------------------------------------


@given(phrase('the deal between "{first}" and "{second}" of {date:date} was back-filled'))
def _(world: World, first: str, second: str, date: str) -> None:
    world.setup("AgreedInPrinciple", {"parties": [first, second]}, occurred_at=day(date), backfill=True)


@when(phrase('the deal between "{first}" and "{second}" of {date:date} is back-filled'))
def _(world: World, first: str, second: str, date: str) -> None:
    world.record("AgreedInPrinciple", {"parties": [first, second]}, occurred_at=day(date), backfill=True)


@when(phrase('"{event}" of {date:date} is back-filled for the point "{point}"'))
def _(world: World, event: str, date: str, point: str) -> None:
    world.record(event, {"point": point}, occurred_at=day(date), backfill=True)


@when(phrase('"{event}" of {date:date} is recorded without a report time'))
def _(world: World, event: str, date: str) -> None:
    world.record(event, occurred_at=day(date))


@when(phrase('version {version:d} is corrected to have been reported on {date:date}, because "{reason}"'),
      converters={"version": int})
def _(world: World, version: int, date: str, reason: str) -> None:
    world.correct(CORRECTED, version, reason=reason, event_reported_at=day(date))


@when(phrase("a file of {count:d} events of 2025, none with its report time, is loaded"),
      converters={"count": int})
def _(world: World, count: int, tmp_path: Path) -> None:
    # The deal, then an amendment a minute: a load of more than one chunk, each chunk its own transaction.
    start = datetime(2025, 1, 1, tzinfo=UTC)
    events = [{"type": "AgreedInPrinciple", "occurred_at": "2025-01-01", "data": {"parties": ["US", "JP"]}}]
    events += [{"type": "TermsAmended", "occurred_at": (start + timedelta(minutes=n)).isoformat(),
                "data": {"terms": {"rate": n}}} for n in range(1, count)]
    path = tmp_path / "archive.json"
    path.write_text(json.dumps({"negotiation": world.negotiation_id, "events": events}), encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_streams(world.ledger, read_streams([path]))
    world.warned = [str(warning.message) for warning in caught if issubclass(warning.category, BackdatedReport)]


@then(phrase('as known on {known:date} the negotiation was "{state}"'))
def _(world: World, known: str, state: str) -> None:
    world.settled()
    assert world.ledger.get(world.negotiation_id, known_at=day(known)).state == state


@then(phrase('as known on {known:date} the terms include "{term}"'))
def _(world: World, known: str, term: str) -> None:
    world.settled()
    assert term in world.ledger.get(world.negotiation_id, known_at=day(known)).terms


@then(phrase('as known on {known:date} the terms do not include "{term}"'))
def _(world: World, known: str, term: str) -> None:
    world.settled()
    assert term not in world.ledger.get(world.negotiation_id, known_at=day(known)).terms


@then("the story's table for a spreadsheet reads:")
def _(world: World, datatable: list[list[str]]) -> None:
    exported = io.StringIO()
    write_csv(story_rows(world.ledger, [world.negotiation_id]), exported)
    exported.seek(0)
    told = [{"version": row["version"], "event": row["type"], "occurred": row["occurred_at"],
             "reported": row["reported_at"], "state after": row["state"],
             "open points after": row["open_points"] or "none"} for row in csv.DictReader(exported)]
    assert told == rows(datatable)


@then("the news feed reads, newest first:")
def _(world: World, datatable: list[list[str]]) -> None:
    told = [{"version": str(e.entry.version), "entry": e.entry.type, "what it changed": e.changed or ""}
            for e in feed_entries(world.ledger) if e.entry.negotiation_id == world.negotiation_id]
    assert told == rows(datatable)


@then(phrase("all {count:d} events were recorded"), converters={"count": int})
def _(world: World, count: int) -> None:
    assert [entry.version for entry in world.ledger.history(world.negotiation_id)] == list(range(1, count + 1))


@then(phrase('one warning said "{words}"'))
def _(world: World, words: str) -> None:
    assert len(world.warned) == 1, world.warned
    assert words in world.warned[0]


@then(phrase('the warning said "{words}"'))
def _(world: World, words: str) -> None:
    assert words in world.warned[-1]
