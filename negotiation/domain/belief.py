"""What changed in what was known: a negotiation as believed at two times, and the entries that changed it.

A newsroom asks "what changed in what we knew between last Monday and
today". The answer compares the negotiation as known at K1 with the same
negotiation as known at K2: its story, state, open points, measures,
deadlines and terms, and names for each difference the entries of the log
reported in between that made it. Those entries are of five kinds: late news
(an event reported after K1 that had already happened by then), a new event,
a correction, a retraction and a denial.

An entry is named as the cause of a difference when it is about the same
thing: the same event of the story, disputed point, measure, deadline or
term, or, for the state, an event of the phase. A measure or a deadline can
also change with no entry at all (a pause runs out, a deadline passes): that
difference names no entry.

Everything here is pure: the ledger hands over the two negotiations, their
two stories and the entries reported in between.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..errors import InvalidEvent
from .aggregate import Negotiation
from .entries import Entry
from .payloads import BESIDE_TYPES, CORRECTED, CORRECTION_TYPES, DENIED, RETRACTED
from .sources import Source
from .story import StoryEvent
from .times import end_of, utc_z

LATE_NEWS = "late news"
NEW_EVENT = "new event"
CORRECTION = "correction"
RETRACTION = "retraction"
DENIAL = "denial"
#: The kind of news each correcting entry is, by its type.
_CORRECTING_KINDS = {CORRECTED: CORRECTION, RETRACTED: RETRACTION, DENIED: DENIAL}

STORY = "story"
STATE = "state"
OPEN_POINT = "open point"
MEASURE = "measure"
DEADLINE = "deadline"
TERM = "term"
#: The aspects of a negotiation a difference can be in, in the order they are told.
ASPECTS: tuple[str, ...] = (STORY, STATE, OPEN_POINT, MEASURE, DEADLINE, TERM)

#: Whose a term is when no party is named as its source.
COMMON = "common"

_BESIDE = frozenset(BESIDE_TYPES)

#: The versions of the entries reported in between that are about a subject (an aspect and which one).
Causes = Callable[[tuple[str, str]], tuple[int, ...]]


@dataclass(frozen=True, slots=True)
class ReportedEntry:
    """An entry of the log reported between the two times, and what kind of news it was."""

    version: int
    type: str
    #: ``late news``, ``new event``, ``correction``, ``retraction`` or ``denial``.
    kind: str
    occurred_at: datetime
    reported_at: datetime
    sources: tuple[Source, ...]
    data: dict[str, Any]
    #: For a correction, retraction or denial: the version of the event it is about.
    target_version: int | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """One thing believed otherwise at the second time than at the first.

    ``before`` and ``after`` are plain values (text, numbers, mappings of
    them); None means not known, or not there, at that time. ``because``
    names, by version, the entries reported in between that made the
    difference; () when time alone made it.
    """

    aspect: str
    #: Which one: the point, the measure, the deadline, ``whose: term``, the event (``version 8``), or ``state``.
    subject: str
    before: Any
    after: Any
    because: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class BeliefDiff:
    """A negotiation as known at ``known_at_1`` and at ``known_at_2``, what differs and which entries made it."""

    negotiation_id: str
    known_at_1: datetime
    known_at_2: datetime
    #: As known at the first time; None when nothing about it had been reported by then.
    before: Negotiation | None
    after: Negotiation
    story_before: tuple[StoryEvent, ...]
    story_after: tuple[StoryEvent, ...]
    #: Every entry reported after the first time and by the second, in version order.
    reported: tuple[ReportedEntry, ...]
    changes: tuple[Change, ...]

    @property
    def changed(self) -> bool:
        """Whether anything was believed otherwise at the second time."""
        return bool(self.changes)

    def entry(self, version: int) -> ReportedEntry:
        """The entry reported in between with that version (KeyError if none)."""
        for entry in self.reported:
            if entry.version == version:
                return entry
        raise KeyError(version)


def two_times(known_at_1: object, known_at_2: object) -> tuple[datetime, datetime]:
    """The two times a difference is asked between, read as ``known_at`` is (a date: the end of that day, UTC);
    a second time before the first is refused."""
    first, second = end_of(known_at_1, "known_at_1"), end_of(known_at_2, "known_at_2")
    if second < first:
        raise InvalidEvent(f"known_at_2 ({second.isoformat()}) is before known_at_1 ({first.isoformat()}): "
                           "give the earlier time first")
    return first, second


def belief_diff(negotiation_id: str, known_at_1: datetime, known_at_2: datetime, before: Negotiation | None,
                after: Negotiation, story_before: Sequence[StoryEvent], story_after: Sequence[StoryEvent],
                reported: Iterable[Entry], events: Mapping[str, Entry]) -> BeliefDiff:
    """Compare the negotiation as known at the two times.

    ``reported`` are the entries reported after ``known_at_1`` and by
    ``known_at_2``; ``events`` every event of the log by id, so that a
    correction reported in between can be told about the event it corrects.
    """
    entries = sorted(reported, key=lambda entry: entry.version)
    told = tuple(_reported(entry, known_at_1, events) for entry in entries)
    touched = [(entry.version, _touches(entry, events, story_after)) for entry in entries]

    def because(subject: tuple[str, str]) -> tuple[int, ...]:
        return tuple(version for version, subjects in touched if subject in subjects)

    changes = [*_story_changes(story_before, story_after, because),
               *_compared(STATE, _state(before), _state(after), because),
               *_compared(OPEN_POINT, _open_points(before), _open_points(after), because),
               *_compared(MEASURE, _measures(before), _measures(after), because),
               *_compared(DEADLINE, _deadlines(before), _deadlines(after), because),
               *_compared(TERM, _terms(before), _terms(after), because)]
    return BeliefDiff(negotiation_id, known_at_1, known_at_2, before, after, tuple(story_before),
                      tuple(story_after), told, tuple(changes))


def _reported(entry: Entry, known_at_1: datetime, events: Mapping[str, Entry]) -> ReportedEntry:
    target = events.get(entry.data["target"]) if entry.type in CORRECTION_TYPES else None
    if entry.type in CORRECTION_TYPES:
        kind = _CORRECTING_KINDS[entry.type]
    else:
        # Late news: it had happened by the first time, but nobody knew it then.
        kind = LATE_NEWS if entry.occurred_at <= known_at_1 else NEW_EVENT
    return ReportedEntry(entry.version, entry.type, kind, entry.occurred_at, entry.reported_at,
                         tuple(entry.sources), dict(entry.data), target.version if target is not None else None)


def _touches(entry: Entry, events: Mapping[str, Entry], story_after: Sequence[StoryEvent]) -> set[tuple[str, str]]:
    """What an entry is about: the event of the story, and the point, measure, deadline, terms and phase of it
    (for a correction, of the event both as it was recorded and as the story now tells it)."""
    if entry.type not in CORRECTION_TYPES:
        return {(STORY, str(entry.version)), *_subjects(entry.type, entry.data)}
    target = events.get(entry.data["target"])
    if target is None:
        return set()
    subjects = {(STORY, str(target.version)), *_subjects(target.type, target.data)}
    if isinstance(entry.data.get("data"), Mapping):
        subjects |= _subjects(target.type, entry.data["data"])
    subjects |= {subject for event in story_after if event.event_id == target.event_id
                 for subject in _subjects(event.type, event.data)}
    return subjects


def _subjects(event_type: str, data: Mapping[str, Any]) -> set[tuple[str, str]]:
    """The things an event's data is about, read from the fields that name them in every event type."""
    subjects: set[tuple[str, str]] = set()
    if event_type not in _BESIDE:
        subjects.add((STATE, STATE))
    if "point" in data:
        subjects.add((OPEN_POINT, str(data["point"])))
    if "measure" in data:
        subjects.add((MEASURE, str(data["measure"])))
    if "what" in data and "due" in data:
        subjects.add((DEADLINE, str(data["what"])))
    whose = str(data.get("according_to") or COMMON)
    for name in data.get("terms") or {}:
        subjects.add((TERM, f"{whose}: {name}"))
    return subjects


def _story_changes(before: Sequence[StoryEvent], after: Sequence[StoryEvent], because: Causes) -> list[Change]:
    """An event added to the story, taken out of it, corrected, or newly denied, in the order of the story."""
    was = {event.event_id: event for event in before}
    now = {event.event_id: event for event in after}
    changes = []
    for event in sorted({**was, **now}.values(), key=lambda e: (e.occurred_at, e.version)):
        old, new = _told(was.get(event.event_id)), _told(now.get(event.event_id))
        if old != new:
            subject = str(event.version)
            changes.append(Change(STORY, f"version {subject}", old, new, because((STORY, subject))))
    return changes


def _told(event: StoryEvent | None) -> dict[str, Any] | None:
    if event is None:
        return None
    told: dict[str, Any] = {"type": event.type, "occurred_at": utc_z(event.occurred_at), "data": event.data}
    if event.denied_by:
        told["denied_by"] = list(event.denied_by)
    return told


def _compared(aspect: str, before: Mapping[str, Any], after: Mapping[str, Any], because: Causes) -> list[Change]:
    return [Change(aspect, subject, before.get(subject), after.get(subject), because((aspect, subject)))
            for subject in sorted(before.keys() | after.keys()) if before.get(subject) != after.get(subject)]


def _state(negotiation: Negotiation | None) -> dict[str, str]:
    return {} if negotiation is None else {STATE: negotiation.state}


def _open_points(negotiation: Negotiation | None) -> dict[str, str]:
    return {} if negotiation is None else {point: "open" for point in negotiation.open_disputes}


def _measures(negotiation: Negotiation | None) -> dict[str, dict[str, Any]]:
    """Each measure's status at the time asked (time moves a status too) and its value."""
    if negotiation is None:
        return {}
    return {name: {"status": measure.status_at(negotiation.moment), "value": measure.value}
            for name, measure in negotiation.measures.items()}


def _deadlines(negotiation: Negotiation | None) -> dict[str, dict[str, Any]]:
    if negotiation is None:
        return {}
    return {what: {"due": deadline.due, "status": deadline.status_at(negotiation.moment)}
            for what, deadline in negotiation.deadlines.items()}


def _terms(negotiation: Negotiation | None) -> dict[str, Any]:
    """The common terms and each party's own statements of them, as ``whose: term``."""
    if negotiation is None:
        return {}
    terms = {f"{COMMON}: {name}": value for name, value in negotiation.terms.items()}
    for party, stated in negotiation.statements.items():
        terms.update({f"{party}: {name}": value for name, value in stated.items()})
    return terms
