"""The entries of the log: one shape every part reads, and the two records that have it.

``Entry`` is what the fold, the story and the hash chain read of an entry;
``RecordedEvent`` (stored) and ``story.StoryEvent`` (told) both have it.
``NewEvent`` is an event checked for shape on its way in, not yet stored.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, is_dataclass, make_dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar, cast

import orjson

from .sources import Source, stored_sources

T = TypeVar("T")

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


def fast_maker(frozen: type[T]) -> Callable[..., T]:
    """A maker of ``frozen(...)`` (a frozen dataclass with slots): the same object, made four to five times
    faster, for records made by the thousand (entries read from the log, events checked on the way in,
    negotiations folded).

    A frozen dataclass sets each field through ``object.__setattr__``: 1.5 µs for an entry's fifteen, and
    a correction of a 1,000-event negotiation reads a thousand entries. The maker sets them through a twin
    class with the same fields, defaults and slots, not frozen, which sets them as plain attributes; the
    record, with the very layout of a ``frozen`` one, is then given ``frozen`` as its class, and with it
    the freeze, and only then does ``frozen``'s ``__post_init__`` run, as on any record of it.

    A class the twin cannot stand in for is refused here, not at its first record: one that inherits
    slots, has slots beside its fields' (``weakref_slot``), or whose ``__init__`` differs from the twin's
    (fields left out of it or keyword-only, ``InitVar``).
    """
    record: Any = frozen
    own = fields(record) if is_dataclass(record) else ()
    if not own or record.__bases__ != (object,) or tuple(vars(record).get("__slots__", ())) != tuple(
            each.name for each in own):
        raise TypeError(f"{frozen.__name__} is not a dataclass with slots for its fields alone")
    twin = make_dataclass(frozen.__name__, [
        (each.name, each.type, field(default=each.default, default_factory=each.default_factory))
        for each in own], slots=True)
    twin.__qualname__ = frozen.__qualname__  # its refusals of bad arguments read as the class's own
    if inspect.signature(twin) != inspect.signature(record):
        raise TypeError(f"{frozen.__name__}'s __init__ takes other arguments than its fields in order")
    post_init = getattr(record, "__post_init__", None)

    def make(*values: Any, **named: Any) -> T:
        made = twin(*values, **named)
        made.__class__ = frozen
        if post_init is not None:
            post_init(made)
        return cast(T, made)

    return make


#: ``RecordedEvent(*values)``, made as stores make entries from the log's rows: by the thousand.
recorded_event = fast_maker(RecordedEvent)
#: ``NewEvent(*values)``, made as a batch's events are checked: one each.
new_event_record = fast_maker(NewEvent)


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
    for name in ("negotiation_id", "type", "data"):
        # Compared as canonical JSON: in Python True == 1, but not in the log.
        if _canonical(getattr(stored, name)) != _canonical(getattr(new, name)):
            return f"{name} differs"
    if _canonical(stored_sources(stored.sources)) != _canonical(stored_sources(new.sources)):
        return "sources differs"
    if new.occurred_at is not None and new.occurred_at != stored.occurred_at:
        return "occurred_at differs"
    if new.reported_at is not None and new.reported_at != stored.reported_at:
        return "reported_at differs"
    return None
