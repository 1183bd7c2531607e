"""The entries of the log: one shape every part reads, and the two records that have it.

``Entry`` is what the fold, the story and the hash chain read of an entry;
``RecordedEvent`` (stored) and ``story.StoryEvent`` (told) both have it.
``NewEvent`` is an event checked for shape on its way in, not yet stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import orjson

from .sources import Source, stored_sources

#: Version of the payload schemas (``payloads``), stored with every event so later
#: schema changes can upcast old payloads.
PAYLOAD_SCHEMA_VERSION = 1


class Entry(Protocol):
    """What is read of an entry of the log: a recorded one, or an event as a story tells it."""

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
    def sources(self) -> tuple[Source, ...]: ...


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event checked for shape, not yet checked against any negotiation's state."""

    event_id: str
    negotiation_id: str
    type: str
    data: dict[str, Any]
    occurred_at: datetime | None
    sources: tuple[Source, ...]
    id_given: bool = False  # by the caller, so the event may be a retry of a stored one
    reported_at: datetime | None = None  # None: when it is recorded


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An entry of the log as the ledger stored it: an event, or a retraction or correction of one.

    Three times belong to it: ``occurred_at`` (in the world), ``reported_at``
    (when it became known; the recording time unless given) and ``recorded_at``
    (when the ledger stored it). ``history`` also says whether a later entry
    retracted it (``retracted_by``) or corrected it (``corrected_by``), by version.
    """

    event_id: str
    negotiation_id: str
    version: int
    position: int
    type: str
    data: dict[str, Any]
    occurred_at: datetime
    recorded_at: datetime
    sources: tuple[Source, ...]
    hash: str
    schema_version: int = PAYLOAD_SCHEMA_VERSION
    reported_at: datetime = None  # type: ignore[assignment]  # filled in from recorded_at below
    #: The transaction that wrote it, named by the position of its first entry: entries written together.
    commit_id: int = 0
    retracted_by: int | None = None
    corrected_by: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.reported_at is None:
            object.__setattr__(self, "reported_at", self.recorded_at)


class Recorded(list[RecordedEvent]):
    """The events of one write, in the order given, as stored; ``written`` counts those the write stored itself.

    The others were stored already under the ids given (an earlier run of the same write, or another
    writer that got there first): which is which is known only inside the write's transaction, where
    its ids are looked up under the append lock, so the count says what this write recorded even while
    another writer records the same events.
    """

    def __init__(self, events: Iterable[RecordedEvent] = (), *, written: int = 0) -> None:
        super().__init__(events)
        self.written = written


def _canonical(value: object) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def content_difference(stored: RecordedEvent, new: NewEvent) -> str | None:
    """Return what differs between a stored event and a retried one, or None if nothing does."""
    for field in ("negotiation_id", "type", "data"):
        # Compared as canonical JSON: in Python True == 1, but not in the log.
        if _canonical(getattr(stored, field)) != _canonical(getattr(new, field)):
            return f"{field} differs"
    if _canonical(stored_sources(stored.sources)) != _canonical(stored_sources(new.sources)):
        return "sources differs"
    if new.occurred_at is not None and new.occurred_at != stored.occurred_at:
        return "occurred_at differs"
    if new.reported_at is not None and new.reported_at != stored.reported_at:
        return "reported_at differs"
    return None
