"""The story of a negotiation: what its log says happened, in the order it happened.

The log is what was recorded, in recording order, forever. The story is its
effective events in world order, sorted by (``occurred_at``, version): every
recorded event, minus the retracted ones, with corrections applied. Two
questions narrow it: **as of** a world time D (the events that occurred by D)
and **as known at** a time K (only entries, events and corrections alike,
reported by K).

Retractions (``EventRetracted``), corrections (``EventCorrected``) and
denials (``ReportDenied``) are entries of the log like any event, never
transitions of the machine: they change the story (a denial only marks an
event, which stays), and the story's fold is the negotiation's state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar

from pydantic import ValidationError

from ..errors import InvalidEvent
from .checks import check_payload, check_reported_after
from .entries import Entry, fast_maker
from .sources import Source
from .payloads import CORRECTED, DENIED, ENTRY_PAYLOADS, EVENT_KINDS, RETRACTED
from .times import in_calendar, iso, to_utc
from .wording import refusal_words

EntryT = TypeVar("EntryT", bound=Entry)


@dataclass(frozen=True, slots=True)
class StoryEvent:
    """An event as the story tells it: with its corrected content and date, saying what corrected it."""

    event_id: str
    negotiation_id: str
    version: int
    type: str
    data: dict[str, Any]
    occurred_at: datetime
    reported_at: datetime
    recorded_at: datetime
    sources: tuple[Source, ...]
    #: Versions of the corrections applied, oldest first; () when told as recorded.
    corrected_by: tuple[int, ...] = ()
    #: Who denied it (a party or a source), in the order the denials were recorded.
    denied_by: tuple[str, ...] = ()

    @staticmethod
    def of(entry: Entry, reported_at: datetime | None = None) -> StoryEvent:
        """``entry`` as the story tells it before any correction, reported at ``reported_at`` if given."""
        return _story_event(entry.event_id, entry.negotiation_id, entry.version, entry.type, dict(entry.data),
                            entry.occurred_at, reported_at or entry.reported_at, entry.recorded_at,
                            tuple(entry.sources))


#: ``StoryEvent(*values)``, made as a story is told: an event at a time, thousands of them for a long log.
_story_event = fast_maker(StoryEvent)


def story_of(entries: Iterable[Entry], *, as_of: datetime | None = None,
             known_at: datetime | None = None, exclude_denied: bool = False) -> list[StoryEvent]:
    """The story the entries tell: corrections applied in recording order, then world order.

    ``as_of`` keeps the events that occurred by then; ``known_at`` keeps only
    entries reported by then, so a correction not yet known is not applied.
    A denied event stays in the story, saying who denied it, unless
    ``exclude_denied`` leaves it out.
    """
    story = _told(entries, known_at, StoryEvent.of)
    return [e for e in story if (as_of is None or e.occurred_at <= as_of) and not (exclude_denied and e.denied_by)]


def folded_story(entries: Iterable[EntryT], as_of: datetime | None = None) -> list[EntryT | StoryEvent]:
    """``story_of(entries, as_of=as_of)`` as the fold reads it: an event no later entry retold (corrected,
    denied, or its report time corrected) is the entry itself, not a copy.

    The fold reads only what an entry and its told form share (type, data, date, version), and a
    correction of a long log would otherwise copy every event of it for the one it changes.
    """
    story = _told(entries, None, lambda entry: entry)
    return story if as_of is None else [e for e in story if e.occurred_at <= as_of]


def _told(entries: Iterable[EntryT], known_at: datetime | None,
          tell: Callable[[EntryT], EntryT | StoryEvent]) -> list[Any]:
    """The story's events in world order; ``tell`` gives an event no later entry changes from its entry."""
    told: dict[str, Any] = {}
    ordered = sorted(entries, key=lambda e: e.version)
    reported = report_times(ordered)
    for entry in ordered:
        if known_at is not None and reported.get(entry.event_id, entry.reported_at) > known_at:
            continue
        if entry.type == RETRACTED:
            told.pop(entry.data["target"], None)
        elif entry.type == CORRECTED:
            target = told.get(entry.data["target"])
            if target is not None:
                told[target.event_id] = corrected(_as_told(target), entry.data, entry.version)
        elif entry.type == DENIED:
            target = told.get(entry.data["target"])
            if target is not None:
                denied = _as_told(target)
                told[target.event_id] = replace(denied, denied_by=(*denied.denied_by, entry.data["by"]))
        elif entry.event_id in reported:
            told[entry.event_id] = StoryEvent.of(entry, reported[entry.event_id])
        else:
            told[entry.event_id] = tell(entry)
    return sorted(told.values(), key=lambda e: (e.occurred_at, e.version))


def _as_told(event: Any) -> StoryEvent:
    """A told event about to change: a copy of it if it is still the entry itself (``folded_story``)."""
    return event if isinstance(event, StoryEvent) else StoryEvent.of(event)


def report_times(entries: Iterable[Entry]) -> dict[str, datetime]:
    """When each event whose report time a correction gave in fact became known (the latest one's word).

    A correction of a report time applies to every question "as known at",
    whenever the correction itself was reported: it says when the event was
    in the news, which was so all along.
    """
    times: dict[str, datetime] = {}
    for entry in sorted(entries, key=lambda e: e.version):
        if entry.type == CORRECTED and "reported_at" in entry.data:
            times[entry.data["target"]] = to_utc(entry.data["reported_at"])
    return times


def known_by(entries: Sequence[EntryT], known_at: datetime | None) -> list[EntryT]:
    """The entries known by ``known_at`` (all for None), taking each event's corrected report time."""
    if known_at is None:
        return list(entries)
    reported = report_times(entries)
    return [entry for entry in entries if reported.get(entry.event_id, entry.reported_at) <= known_at]


def corrected(event: StoryEvent, correction: Mapping[str, Any], version: int) -> StoryEvent:
    """``event`` with a correction's new data and/or date applied on top of what it says now."""
    data = correction.get("data")
    moment = correction.get("occurred_at")
    return replace(event, data=dict(data) if data is not None else event.data,
                   occurred_at=to_utc(moment) if moment is not None else event.occurred_at,
                   corrected_by=(*event.corrected_by, version))


def retractions_and_corrections(entries: Iterable[Entry]) -> tuple[dict[str, int], dict[str, tuple[int, ...]]]:
    """For each event id: the version of the entry that retracted it, and of those that corrected it."""
    retracted: dict[str, int] = {}
    corrections: dict[str, tuple[int, ...]] = {}
    for entry in sorted(entries, key=lambda e: e.version):
        if entry.type == RETRACTED:
            retracted[entry.data["target"]] = entry.version
        elif entry.type == CORRECTED:
            corrections[entry.data["target"]] = (*corrections.get(entry.data["target"], ()), entry.version)
    return retracted, corrections


def denials(entries: Iterable[Entry]) -> dict[str, tuple[int, ...]]:
    """For each event id, the versions of the entries that denied it, oldest first."""
    denied: dict[str, tuple[int, ...]] = {}
    for entry in sorted(entries, key=lambda e: e.version):
        if entry.type == DENIED:
            denied[entry.data["target"]] = (*denied.get(entry.data["target"], ()), entry.version)
    return denied


def correction_data(kind: str, target: Entry, retracted: Mapping[str, int], reason: object,
                    data: object = None, occurred_at: object = None, by: object = None,
                    event_reported_at: datetime | None = None) -> dict[str, Any]:
    """Check a retraction, correction or denial of ``target`` and return what it stores.

    The target is an event (not a correction) of the same negotiation that is
    not retracted; a correction brings new data (valid for the target's type),
    a new date, or both; a denial names who denies it (``by``) and may quote
    them (``reason`` is the statement). Raises InvalidEvent naming what is wrong.
    """
    where = f"{kind} of version {target.version}"
    if target.type not in EVENT_KINDS:
        raise InvalidEvent(f"{where}: version {target.version} is an {target.type}, not an event; "
                           f"only events can be retracted, corrected or denied")
    if target.event_id in retracted:
        raise InvalidEvent(f"{where}: version {target.version} ({target.type}) was already retracted "
                           f"by version {retracted[target.event_id]}")
    stored: dict[str, Any] = {"target": target.event_id, "target_version": target.version}
    if kind == DENIED:
        stored["by"] = by
        if reason is not None:
            stored["statement"] = reason
    else:
        stored["reason"] = reason
    if kind == CORRECTED:
        if data is None and occurred_at is None and event_reported_at is None:
            raise InvalidEvent(f"{where}: a correction needs new data, a new occurred_at or a new event_reported_at")
        if data is not None:
            try:
                stored["data"] = check_payload(target.type, data)
            except InvalidEvent as e:
                raise InvalidEvent(f"{where}: {e}") from None
        if occurred_at is not None:
            try:
                stored["occurred_at"] = iso(in_calendar(to_utc(occurred_at), "occurred_at"))
            except InvalidEvent as e:
                raise InvalidEvent(f"{where}: {e}") from None
        if event_reported_at is not None:
            happened = to_utc(occurred_at) if occurred_at is not None else target.occurred_at
            try:
                check_reported_after(happened, event_reported_at)
            except InvalidEvent as e:
                raise InvalidEvent(f"{where}: event_{e}") from None
            stored["reported_at"] = iso(event_reported_at)
    try:
        return check_payload_of(kind, stored)
    except InvalidEvent as e:
        raise InvalidEvent(f"{where}: {e}") from None


def check_payload_of(kind: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a retraction's or correction's stored form, as ``check_payload`` does for events."""
    try:
        payload = ENTRY_PAYLOADS[kind].model_validate(dict(data))
    except ValidationError as e:
        raise InvalidEvent(refusal_words(e, ENTRY_PAYLOADS[kind])) from None
    return payload.model_dump(mode="json", exclude_none=True)
