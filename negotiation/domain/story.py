"""The story of a negotiation: what its log says happened, in the order it happened.

The log is what was recorded, in recording order, forever. The story is its
effective events in world order, sorted by (``occurred_at``, version): every
recorded event, minus the retracted ones, with corrections applied. Two
questions narrow it: **as of** a world time D (the events that occurred by D)
and **as known at** a time K (only entries, events and corrections alike,
reported by K).

Retractions (``EventRetracted``) and corrections (``EventCorrected``) are
entries of the log like any event, never transitions of the machine: they
change the story, and the story's fold is the negotiation's state.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

from pydantic import ValidationError

from ..errors import InvalidEvent
from .events import PAYLOADS, Name, Payload, Text, check_payload, refusal_words, to_utc

RETRACTED = "EventRetracted"
CORRECTED = "EventCorrected"
#: The entry types that change the story without being events of the negotiation.
CORRECTION_TYPES: tuple[str, ...] = (RETRACTED, CORRECTED)


class EventRetracted(Payload):
    """A recorded event was wrongly reported: it leaves the story (the log keeps it)."""

    target: Name  # the event id of the retracted event
    target_version: int
    reason: Text

    @staticmethod
    def describe(data: Mapping[str, Any]) -> str:
        return f"retracts version {data['target_version']}: {data['reason']}"


class EventCorrected(Payload):
    """A recorded event was reported with wrong content or date: the story takes the corrected one."""

    target: Name
    target_version: int
    reason: Text
    data: dict[str, Any] | None = None
    occurred_at: str | None = None

    @staticmethod
    def describe(data: Mapping[str, Any]) -> str:
        changed = " and ".join(name for name in ("data", "occurred_at") if name in data)
        return f"corrects the {changed} of version {data['target_version']}: {data['reason']}"


CORRECTIONS: dict[str, type[Payload]] = {RETRACTED: EventRetracted, CORRECTED: EventCorrected}


def describe(entry_type: str, data: Mapping[str, Any]) -> str:
    """One line saying what an entry of the log did, in a reader's words, as its type says it."""
    kind = PAYLOADS.get(entry_type) or CORRECTIONS.get(entry_type)
    return kind.describe(data) if kind is not None else entry_type


class Entry(Protocol):
    """What the story needs of a log entry."""

    @property
    def event_id(self) -> str: ...
    @property
    def negotiation_id(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def type(self) -> str: ...
    @property
    def data(self) -> Mapping[str, Any]: ...
    @property
    def occurred_at(self) -> datetime: ...
    @property
    def reported_at(self) -> datetime: ...
    @property
    def recorded_at(self) -> datetime: ...
    @property
    def sources(self) -> tuple[str, ...]: ...


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
    sources: tuple[str, ...]
    #: Versions of the corrections applied, oldest first; () when told as recorded.
    corrected_by: tuple[int, ...] = ()


def story_of(entries: Iterable[Entry], *, as_of: datetime | None = None,
             known_at: datetime | None = None) -> list[StoryEvent]:
    """The story the entries tell: corrections applied in recording order, then world order.

    ``as_of`` keeps the events that occurred by then; ``known_at`` keeps only
    entries reported by then, so a correction not yet known is not applied.
    """
    told: dict[str, StoryEvent] = {}
    for entry in sorted(entries, key=lambda e: e.version):
        if known_at is not None and entry.reported_at > known_at:
            continue
        if entry.type == RETRACTED:
            told.pop(entry.data["target"], None)
        elif entry.type == CORRECTED:
            target = told.get(entry.data["target"])
            if target is not None:
                told[target.event_id] = corrected(target, entry.data, entry.version)
        else:
            told[entry.event_id] = StoryEvent(entry.event_id, entry.negotiation_id, entry.version, entry.type,
                                              dict(entry.data), entry.occurred_at, entry.reported_at,
                                              entry.recorded_at, tuple(entry.sources))
    story = sorted(told.values(), key=lambda e: (e.occurred_at, e.version))
    return story if as_of is None else [e for e in story if e.occurred_at <= as_of]


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


def correction_data(kind: str, target: Entry, retracted: Mapping[str, int], reason: object,
                    data: object = None, occurred_at: object = None) -> dict[str, Any]:
    """Check a retraction or correction of ``target`` and return what it stores.

    The target is an event (not a correction) of the same negotiation that is
    not retracted; a correction brings new data (valid for the target's type),
    a new date, or both. Raises InvalidEvent naming what is wrong.
    """
    where = f"{kind} of version {target.version}"
    if target.type not in PAYLOADS:
        raise InvalidEvent(f"{where}: version {target.version} is an {target.type}, not an event; "
                           f"only events can be retracted or corrected")
    if target.event_id in retracted:
        raise InvalidEvent(f"{where}: version {target.version} ({target.type}) was already retracted "
                           f"by version {retracted[target.event_id]}")
    stored: dict[str, Any] = {"target": target.event_id, "target_version": target.version, "reason": reason}
    if kind == CORRECTED:
        if data is None and occurred_at is None:
            raise InvalidEvent(f"{where}: a correction needs new data, a new occurred_at, or both")
        if data is not None:
            try:
                stored["data"] = check_payload(target.type, data)
            except InvalidEvent as e:
                raise InvalidEvent(f"{where}: {e}") from None
        if occurred_at is not None:
            stored["occurred_at"] = to_utc(occurred_at).isoformat()
    try:
        return check_payload_of(kind, stored)
    except InvalidEvent as e:
        raise InvalidEvent(f"{where}: {e}") from None


def check_payload_of(kind: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a retraction's or correction's stored form, as ``check_payload`` does for events."""
    try:
        payload = CORRECTIONS[kind].model_validate(dict(data))
    except ValidationError as e:
        raise InvalidEvent(refusal_words(e, CORRECTIONS[kind])) from None
    return payload.model_dump(mode="json", exclude_none=True)
