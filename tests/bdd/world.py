"""The world a scenario acts on: one negotiation in one ledger, and what the last step did to it.

Steps stay thin by calling these few methods, which use only the public API.
``record`` is the one place a scenario's *When* records an event: it notes, for
the coverage, the state before (or, for a measure event, the measure's status at
the event's date), the event and what the ledger did. An event dated before the
story's last one is judged against the whole story, where it meets another state
than the negotiation's current one, so it is not noted, and neither is a batch
(judged as a whole). ``correct`` is the one place a *When* retracts, corrects or
denies an event: it notes the kind, the state before and whether it was
accepted. ``measure_status`` and ``deadline_status`` are how a *Then* asks what
time made of a measure or a deadline: asked on the last day of a rule of time,
or after it, they note what they saw. Setup (*Given*) goes through ``setup``,
which is not observed: a cell counts as covered only where a scenario states
the outcome it expects.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol, TypeVar

from negotiation import (
    BeliefDiff,
    IllegalTransition,
    InvalidEvent,
    Ledger,
    Negotiation,
    NegotiationError,
    RecordedEvent,
)
from negotiation.domain import machine, measures
from negotiation.domain.measures import Deadline, Measure
from negotiation.domain.payloads import BESIDE_TYPES, CORRECTED, DENIED, RETRACTED
from negotiation.domain.times import to_utc
from negotiation.errors import IllegalStory
from negotiation.files.loading import seed_files
from negotiation.files.reading import read_seed_file
from negotiation.specbook.coverage import DEADLINE, MEASURE, guard_name

Rows = list[tuple[object, ...]]
E = TypeVar("E", bound=NegotiationError)


class Observer(Protocol):
    """Where the world reports what its scenario saw (the coverage plugin)."""

    def observe(self, state: str, event: str, outcome: Any, *, after: str | None = None,
                offered: bool = False, guards: tuple[str, ...] = ()) -> None: ...
    def observe_correction(self, kind: str, state: str, outcome: Any) -> None: ...
    def observe_measure(self, status: str, event: str, outcome: Any, *, after: str | None = None) -> None: ...
    def observe_time(self, subject: str, before: str, after: str, outcome: Any) -> None: ...

#: The opening events as a step records them when they open a negotiation: they name its parties.
OPENING: dict[str, tuple[str, dict[str, Any]]] = {
    "working-level talks": ("WorkingLevelTalksOpened", {"venue": "Washington"}),
    "a visit being called off": ("VisitCancelled", {"envoy": "Yeo Han-koo"}),
}

#: What a step records when it names only the event type: a typical event of that type.
TYPICAL: dict[str, dict[str, Any]] = {
    "AgreedInPrinciple": {"parties": ["US", "JP"]},
    "TermsDisputed": {"point": "profit sharing"},
    "DisputeResolved": {"point": "tariff stacking"},
    "VisitCancelled": {"envoy": "Ryosei Akazawa"},
    "WorkingLevelTalksOpened": {"venue": "Washington"},
    "AgreementFinalised": {"instruments": ["US executive order"]},
    "TalksSuspended": {"by": "US"},
    "TermsAmended": {"terms": {"auto tariff": "15%"}},
}

#: The one event that takes an open negotiation into each state, for "Given it is in state …"
#: (``talks_suspended`` is broken off by the negotiation's first party).
HOPS: dict[str, tuple[str, dict[str, Any]]] = {
    "agreed_in_principle": ("AgreedInPrinciple", {}),
    "disputed_terms": ("TermsDisputed", {"point": "tariff stacking"}),
    "visit_cancelled": ("VisitCancelled", {"envoy": "Ryosei Akazawa"}),
    "working_level_talks": ("WorkingLevelTalksOpened", {"venue": "Washington"}),
    "talks_suspended": ("TalksSuspended", {}),
    "finalised": ("AgreementFinalised", {"instruments": ["US executive order"]}),
}

#: How a measure comes to stand in each status on a day D, for "Given on D the measure … is …": the
#: events, each as (days before D, type, data), a threat's ``effective`` and a pause's ``until`` in days
#: from the event (so neither falls on D: the rules of time are specified on their own).
MEASURE_PATHS: dict[str, list[tuple[int, str, dict[str, Any]]]] = {
    measures.NONE_YET: [],
    measures.THREATENED: [(30, "MeasureThreatened", {"value": "50%", "effective": 60})],
    measures.LAPSED: [(30, "MeasureThreatened", {"value": "50%", "effective": -5})],
    measures.IN_FORCE: [(30, "MeasureImposed", {"value": "50%"})],
    measures.PAUSED: [(60, "MeasureImposed", {"value": "50%"}), (30, "MeasurePaused", {"until": 60})],
    measures.LIFTED: [(60, "MeasureImposed", {"value": "50%"}), (30, "MeasureLifted", {})],
}

#: What "…" is recorded for the measure … on D" records: a typical event of that type, its dates in days
#: from D (a threat takes effect a month on, a pause runs two months).
MEASURE_TYPICAL: dict[str, dict[str, Any]] = {
    "MeasureThreatened": {"value": "100%", "effective": 30},
    "MeasureImposed": {"value": "100%"},
    "MeasurePaused": {"until": 60, "reason": "a truce"},
    "MeasureLifted": {"reason": "a deal"},
}

_BESIDE = frozenset(BESIDE_TYPES)
_MEASURE_EVENTS = frozenset(measures.MEASURE_EVENTS)


def measure_event(event_type: str, measure: str, by: str, on: str, said: Mapping[str, Any]) -> dict[str, Any]:
    """The data of a measure event on the day ``on`` (ISO), its day fields given in days from it."""
    data: dict[str, Any] = {"measure": measure}
    if event_type in ("MeasureThreatened", "MeasureImposed"):
        data["by"] = by
    for name, value in said.items():
        data[name] = (date.fromisoformat(on) + timedelta(days=value)).isoformat() \
            if name in ("effective", "until") else value
    return data


def seed_story(negotiation_id: str) -> list[dict[str, Any]]:
    """The events of the shipped seed file for ``negotiation_id``, as ``record_many`` takes them."""
    streams = [s for path in seed_files() for s in read_seed_file(path) if s.negotiation_id == negotiation_id]
    assert len(streams) == 1, f"one seed story for {negotiation_id} expected, found {len(streams)}"
    return list(streams[0].events)


@dataclass
class World:
    """One scenario's negotiation and the outcome of its last step."""

    ledger: Ledger
    stored_rows: Callable[[], Rows]
    observer: Observer
    negotiation_id: str = "us-japan-2025"
    attempted: str | None = None
    last: RecordedEvent | None = None
    batch: list[RecordedEvent] = field(default_factory=list)
    error: NegotiationError | None = None
    error_expected: bool = False
    log_before: list[RecordedEvent] = field(default_factory=list)
    rows_before: Rows = field(default_factory=list)
    replayed: Negotiation | None = None
    diff: BeliefDiff | None = None
    #: The changes of the last comparison that a step has named: (aspect, subject).
    named: set[tuple[str, str]] = field(default_factory=set)
    story: list[dict[str, Any]] = field(default_factory=list)
    story_length: int = 0
    #: The BackdatedReport warnings of the last load, their texts.
    warned: list[str] = field(default_factory=list)

    # -- reading ---------------------------------------------------------------------------

    def negotiation(self) -> Negotiation:
        """The negotiation now; one with nothing recorded is in the machine's ``not_opened`` state."""
        if self.ledger.version(self.negotiation_id) == 0:
            return Negotiation(id=self.negotiation_id)
        return self.ledger.get(self.negotiation_id)

    def state(self) -> str:
        return self.negotiation().state

    # -- writing ---------------------------------------------------------------------------

    def setup(self, event_type: str, data: Mapping[str, Any] | None = None, **options: Any) -> None:
        """Record what a *Given* needs; a refusal here means the scenario itself is wrong, so it raises."""
        self.ledger.record(self.negotiation_id, event_type, TYPICAL[event_type] if data is None else data,
                           **options)

    def drive(self, state: str) -> None:
        """Bring the negotiation into ``state`` with the one event that leads there (see ``HOPS``)."""
        if self.state() != state:
            if state not in HOPS:
                raise AssertionError(f"no single event leads from {self.state()} into {state}")
            event_type, data = HOPS[state]
            if event_type == "TalksSuspended":
                data = {"by": self.negotiation().parties[0]}
            self.setup(event_type, data)
        assert self.state() == state, f"the negotiation is {self.state()}, not {state}"

    def bring_measure(self, measure: str, status: str, on: str) -> None:
        """Record what leaves ``measure`` in ``status`` on the day ``on`` (see ``MEASURE_PATHS``)."""
        by, day = self.negotiation().parties[0], date.fromisoformat(on)
        for before, event_type, said in MEASURE_PATHS[status]:
            when = (day - timedelta(days=before)).isoformat()
            self.setup(event_type, measure_event(event_type, measure, by, when, said), occurred_at=when)
        if status == measures.NONE_YET:
            assert measure not in self.negotiation().measures, f"the measure {measure!r} was already named"
        else:
            then = self.ledger.get(self.negotiation_id, as_of=on).measure_status(measure)
            assert then == status, f"the measure {measure!r} is {then} on {on}, not {status}"

    def record(self, event_type: str, data: Mapping[str, Any] | None = None, **options: Any) -> None:
        """Try to record an event the way a user would, and note what the ledger did."""
        self.settled()
        before = self.ledger.version(self.negotiation_id)
        negotiation = self.negotiation()
        state = negotiation.state
        data = TYPICAL[event_type] if data is None else data
        self.snapshot()
        self.attempted, self.error, self.error_expected = event_type, None, False
        try:
            self.last = self.ledger.record(self.negotiation_id, event_type, data, **options)
        except IllegalStory as e:
            # A late event, refused where it falls in the story: the state it met there is not
            # the negotiation's current one, so this is no outcome of a current cell.
            self.error = e
        except IllegalTransition as e:
            self.error = e
            if event_type in _MEASURE_EVENTS:  # the measure's life refused it, at the event's date
                self.observer.observe_measure(self._status_then(negotiation, data, options), event_type,
                                              "refused")
                return
            # Which guards said no, asked of the machine with the negotiation as it stood.
            guards = tuple(guard_name(guard, target)
                           for guard, target in machine.refusing_guards(state, event_type, negotiation))
            self.observer.observe(state, event_type, "refused", offered=event_type in e.allowed,
                                  guards=guards)
        except NegotiationError as e:
            # Refused before the machine had a say (a stale version, a reused id, a malformed
            # payload, a party that is not one of the two): not a transition outcome, so not observed.
            self.error = e
        else:
            late = negotiation.updated_at is not None and self.last.occurred_at < negotiation.updated_at
            if self.last.version <= before or late:  # a retry answered from the log moves nothing
                return
            if event_type in _MEASURE_EVENTS:
                after = self.negotiation().measures[data["measure"]].status
                self.observer.observe_measure(self._status_then(negotiation, data, options), event_type,
                                              "allowed", after=after)
            elif event_type not in _BESIDE:  # meetings, deadlines and third parties are no cells of a table
                self.observer.observe(state, event_type, "allowed", after=self.state())

    @staticmethod
    def _status_then(negotiation: Negotiation, data: Mapping[str, Any], options: Mapping[str, Any]) -> str:
        """The status of the event's measure at the event's date, as the negotiation stood before it."""
        when = options.get("occurred_at")
        moment = datetime.now(UTC) if when is None else to_utc(when)
        current = negotiation.measures.get(data["measure"])
        return measures.NONE_YET if current is None else current.status_at(moment)

    def record_together(self, events: list[dict[str, Any]]) -> None:
        """Try to record several events in one batch, judged as a whole (so not observed)."""
        self.settled()
        self.snapshot()
        self.attempted, self.error, self.error_expected, self.batch = "the batch", None, False, []
        try:
            self.batch = self.ledger.record_many(self.negotiation_id, events)
            self.last = self.batch[-1]
        except NegotiationError as e:
            self.error = e

    def correct(self, kind: str, target: int, **options: Any) -> None:
        """Try to retract, correct or deny an event the way a user would, and note whether it was accepted."""
        self.settled()
        state = self.state()
        self.snapshot()
        self.attempted, self.error, self.error_expected = f"the {kind} of version {target}", None, False
        changes = {RETRACTED: self.ledger.retract, CORRECTED: self.ledger.correct, DENIED: self.ledger.deny}
        change = changes[kind]
        try:
            self.last = change(self.negotiation_id, target, **options)
        except (IllegalStory, InvalidEvent) as e:  # the story would break, or the request is wrong
            self.error = e
            self.observer.observe_correction(kind, state, "refused")
        except NegotiationError as e:  # a stale version, a reused id: not the correction's outcome
            self.error = e
        else:
            self.observer.observe_correction(kind, state, "accepted")

    def ask(self, *, as_of: str | None = None, known_at: str | None = None,
            exclude_denied: bool = False, exclude_sources: list[str] | None = None) -> None:
        """Ask how the negotiation stood as of a day and/or as known on a day, keeping the answer."""
        self.settled()
        self.snapshot()
        self.attempted, self.error, self.error_expected, self.replayed = "the question", None, False, None
        try:
            self.replayed = self.ledger.get(self.negotiation_id, as_of=as_of, known_at=known_at,
                                            exclude_denied=exclude_denied, exclude_sources=exclude_sources)
        except NegotiationError as e:
            self.error = e

    def compare(self, known_at_1: str, known_at_2: str) -> None:
        """Ask what changed in what was known between two days, keeping the answer or the refusal."""
        self.settled()
        self.snapshot()
        self.attempted, self.error, self.error_expected, self.diff = "the comparison", None, False, None
        try:
            self.diff = self.ledger.diff(self.negotiation_id, known_at_1, known_at_2)
        except NegotiationError as e:
            self.error = e

    def compared(self) -> BeliefDiff:
        """The last comparison's answer; fails if it was refused."""
        self.settled()
        assert self.diff is not None, "nothing has been compared yet"
        return self.diff

    def measure_status(self, measure: str, *, as_of: str | None = None, known_at: str | None = None) -> str:
        """The measure's status at the time asked; on the last day of a rule of time, or after it, noted."""
        self.settled()
        told = self.ledger.get(self.negotiation_id, as_of=as_of, known_at=known_at)
        found: Measure = told.measures[measure]
        status = found.status_at(told.moment)
        day = found.paused_until if found.status == measures.PAUSED else \
            found.effective if found.status == measures.THREATENED else \
            found.effective_from if found.scheduled else None
        self._timed(MEASURE, found.status, status, day, told.moment)
        return status

    def deadline_status(self, what: str, *, as_of: str | None = None, known_at: str | None = None) -> str:
        """The deadline's status at the time asked (``pending`` or ``passed``), noted on or after its day."""
        self.settled()
        told = self.ledger.get(self.negotiation_id, as_of=as_of, known_at=known_at)
        found: Deadline = told.deadlines[what]
        status = found.status_at(told.moment)
        self._timed(DEADLINE, "pending", status, found.due, told.moment)
        return status

    def _timed(self, subject: str, before: str, after: str, day: str | None, moment: datetime) -> None:
        """Note what time made of a status its events gave, asked on the rule's last day or after it."""
        if day is None:
            return
        if after != before:
            self.observer.observe_time(subject, before, after, "changed")
        elif moment.date().isoformat() == day:
            self.observer.observe_time(subject, before, after, "held")

    def replay(self, negotiation_id: str | None = None, until_version: int | None = None) -> None:
        """Replay a negotiation, keeping the result or the refusal."""
        self.settled()
        self.snapshot()
        self.attempted, self.error, self.error_expected, self.replayed = "the replay", None, False, None
        try:
            self.replayed = self.ledger.replay(negotiation_id or self.negotiation_id, until_version)
        except NegotiationError as e:
            self.error = e

    def snapshot(self) -> None:
        """Remember the whole log, through the API and row by row, to prove later that nothing changed."""
        self.log_before = self.ledger.read_all()
        self.rows_before = self.stored_rows()

    # -- outcomes --------------------------------------------------------------------------

    def recorded(self) -> RecordedEvent:
        """The event the last step recorded; fails if the ledger refused it."""
        if self.error is not None:
            raise AssertionError(f"expected {self.attempted} to be recorded, but it was refused: "
                                 f"{self.error}")
        assert self.last is not None, "no event has been recorded yet"
        return self.last

    def refusal(self, kind: type[E]) -> E:
        """The refusal the last step met, which must be a ``kind``."""
        if not isinstance(self.error, kind):
            met = "nothing was refused" if self.error is None else f"the ledger said: {self.error!r}"
            raise AssertionError(f"expected a refusal ({kind.__name__}), but {met}")
        self.error_expected = True
        return self.error

    def settled(self) -> None:
        """Fail if the last step was refused and no step said it should be."""
        if self.error is not None and not self.error_expected:
            self.error_expected = True  # reported once, here, not again when the scenario ends
            raise AssertionError(f"{self.attempted or 'the last step'} was refused unexpectedly: "
                                 f"{self.error}")
