"""Event types, their payloads and the recorded-event value.

Each event type is one class: its payload (validated on the way in; what is
stored is the normalised JSON form, so a replay reads back exactly what was
checked), its meaning (the docstring), what it says is wrong with a
negotiation it cannot apply to (``refusal``) and its effect (``apply``). The
state it moves the negotiation to is the machine's business (``machine``).
"""

from __future__ import annotations

import functools
import math
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, ClassVar, Protocol, cast, get_args, get_origin

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails

from ..errors import InvalidEvent
from .machine import EVENT_TYPES

#: Version of the payload schemas below, stored with every event so later
#: schema changes can upcast old payloads.
PAYLOAD_SCHEMA_VERSION = 1

NEGOTIATION_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MAX_ID_LENGTH = 64
CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


#: Parties that are not countries: ISO 3166-1 reserves ``EU`` for the European Union.
NON_COUNTRY_PARTIES = frozenset({"EU"})


@functools.cache  # a few hundred codes at most, each looked up in the country table once
def _known_party(code: str) -> str:
    # Imported on first use: reading a negotiation never validates a party, and the
    # country table costs a noticeable part of a command's start-up.
    import pycountry

    if code not in NON_COUNTRY_PARTIES and pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code or EU")
    return code


def storable_text(value: str) -> str:
    """Refuse text no database stores faithfully: NUL characters and unpaired surrogates."""
    if "\x00" in value:
        raise ValueError(f"text must not contain NUL characters, got one at character {value.index(chr(0)) + 1}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError(_not_unicode(value, e.start)) from None
    return value


def _not_unicode(value: str, index: int) -> str:
    return (f"text must be valid Unicode, got a lone surrogate (U+{ord(value[index]):04X}) "
            f"at character {index + 1}")


#: The most characters a text field (``Text``) and a name (``Name``) may hold.
MAX_TEXT, MAX_NAME = 4000, 200


def _term_text(value: str) -> str:
    """A term's value given as text: what ``Text`` checks, said in the same words."""
    if len(value) > MAX_TEXT:
        raise ValueError(f"text must be at most {MAX_TEXT} characters, got {len(value)}")
    if not value.strip():
        raise ValueError("text must hold at least one non-space character")
    return storable_text(value)


# Text must say something: at least one non-space character, and a sane size.
Text = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT, pattern=r"\S"),
                 AfterValidator(storable_text)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME, pattern=r"\S"),
                 AfterValidator(storable_text)]
Party = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$"), AfterValidator(_known_party)]


def _json_scalar(value: object) -> object:
    """Numbers in one canonical form that every backend stores and returns unchanged.

    PostgreSQL's jsonb keeps numbers as decimals: ``5.5e17`` comes back as the
    integer ``550000000000000000`` and ``-0.0`` as ``0.0``. So a whole number is
    always stored as an integer (``2.0`` as ``2``), and every number must lie
    within ±2**53, where integers and floats are exact in every JSON reader.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("numbers must be finite")
    if abs(value) > 2**53:
        raise ValueError("numbers must lie within ±2**53 so every JSON reader keeps them exact")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _term_value(value: object) -> object:
    """A term's value: text, a number or true/false; anything else is refused saying what it got.

    One check instead of a union of types, so a refusal says what the value
    should have been rather than what the union's last member wanted.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return _json_scalar(value)
    if isinstance(value, str):
        return _term_text(value)
    raise ValueError(f"must be text, a number or true/false, got {json_kind(value)}")


# Term values are JSON scalars: text, a whole number, a number or yes/no.
TermValue = Annotated[Any, PlainValidator(_term_value)]
Terms = dict[Name, TermValue]


class Draft(Protocol):
    """The negotiation being folded, as an event's effect changes it."""

    id: str
    version: int
    parties: tuple[str, ...]
    terms: dict[str, Any]
    open_disputes: list[str]
    positions: dict[str, dict[str, str]]
    instruments: tuple[str, ...]
    deal_announced_at: datetime | None

    @property
    def has_deal(self) -> bool: ...


class Payload(BaseModel):
    """An event type: its data, what it refuses and what it does."""

    # Validators are built on first use: reading a negotiation never validates a payload.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    #: True for the events that may open a negotiation (they name its two parties then).
    opens: ClassVar[bool] = False

    @staticmethod
    def invalid(negotiation: Draft, data: Mapping[str, Any]) -> str | None:
        """What in the data contradicts the negotiation it is for (an InvalidEvent); None if nothing."""
        return None

    @staticmethod
    def refusal(negotiation: Draft, data: Mapping[str, Any]) -> str | None:
        """Why the negotiation, as it stands, cannot take this event's content; None if it can."""
        return None

    @staticmethod
    def apply(negotiation: Draft, data: Mapping[str, Any], occurred_at: datetime | None) -> None:
        """The event's effect on the negotiation; the machine moves its state."""

    @staticmethod
    def describe(data: Mapping[str, Any]) -> str:
        """One line saying what the event did, in a reader's words."""
        raise NotImplementedError


def _distinct(parties: tuple[str, str] | None) -> None:
    if parties is not None and parties[0] == parties[1]:
        raise ValueError(f"parties must be two distinct parties, got {parties[0]} twice")


def _merge_terms(negotiation: Draft, data: Mapping[str, Any]) -> None:
    negotiation.terms.update(data.get("terms", {}))


class AgreedInPrinciple(Payload):
    """A deal is announced between the two parties: it opens the negotiation, or follows talks or a
    cancelled visit that came before any deal. It is announced at most once."""

    opens: ClassVar[bool] = True
    parties: tuple[Party, Party]
    terms: Terms = {}
    summary: Text | None = None

    @model_validator(mode="after")
    def _distinct_parties(self) -> AgreedInPrinciple:
        _distinct(self.parties)
        return self

    @staticmethod
    def apply(negotiation: Draft, data: Mapping[str, Any], occurred_at: datetime | None) -> None:
        negotiation.deal_announced_at = occurred_at
        _merge_terms(negotiation, data)

    @staticmethod
    def describe(data: Mapping[str, Any]) -> str:
        return f"{' and '.join(data['parties'])} agree in principle"


class TermsDisputed(Payload):
    """A point of the deal is openly contested; on a point already open, the stance is restated."""

    point: Name
    positions: dict[Party, Text] = {}

    @staticmethod
    def invalid(negotiation: Draft, data: Mapping[str, Any]) -> str | None:
        strangers = set(data.get("positions", ())) - set(negotiation.parties)
        if strangers:
            return (f"positions: {', '.join(sorted(strangers))} not a party to {negotiation.id!r} "
                    f"({', '.join(negotiation.parties)})")
        return None

    @staticmethod
    def apply(negotiation: Draft, data: Mapping[str, Any], occurred_at: datetime | None) -> None:
        point = data["point"]
        if point not in negotiation.open_disputes:
            negotiation.open_disputes.append(point)
        negotiation.positions[point] = {**negotiation.positions.get(point, {}), **data.get("positions", {})}

    @staticmethod
    def describe(data: Mapping[str, Any]) -> str:
        return f"point disputed: {data['point']}"


class DisputeResolved(Payload):
    """An open disputed point is settled."""

    point: Name
    resolution: Text | None = None

    @staticmethod
    def refusal(negotiation: Draft, data: Mapping[str, Any]) -> str | None:
        if data["point"] not in negotiation.open_disputes:
            return f"{data['point']!r} is not an open point; open: {', '.join(negotiation.open_disputes)}"
        return None

    @staticmethod
    def apply(negotiation: Draft, data: Mapping[str, Any], occurred_at: datetime | None) -> None:
        negotiation.open_disputes.remove(data["point"])
        negotiation.positions.pop(data["point"], None)

    @staticmethod
    def describe(data: Mapping[str, Any]) -> str:
        return f"point resolved: {data['point']}"


class VisitCancelled(Payload):
    """A planned high-level visit is called off; it may come before any deal, and then opens the
    negotiation, naming its parties."""

    opens: ClassVar[bool] = True
    envoy: Name
    planned_for: date | None = None
    reason: Text | None = None
    parties: tuple[Party, Party] | None = None

    @model_validator(mode="after")
    def _distinct_parties(self) -> VisitCancelled:
        _distinct(self.parties)
        return self

    @staticmethod
    def describe(data: Mapping[str, Any]) -> str:
        planned = f" (planned for {data['planned_for']})" if "planned_for" in data else ""
        return f"visit by {data['envoy']} cancelled{planned}"


class WorkingLevelTalksOpened(Payload):
    """Officials below the principals take up the details; talks may come before any deal, and then
    open the negotiation, naming its parties."""

    opens: ClassVar[bool] = True
    agenda: list[Name] = []
    venue: Name | None = None
    parties: tuple[Party, Party] | None = None

    @model_validator(mode="after")
    def _distinct_parties(self) -> WorkingLevelTalksOpened:
        _distinct(self.parties)
        return self

    @staticmethod
    def describe(data: Mapping[str, Any]) -> str:
        agenda = f" on {', '.join(data['agenda'])}" if data.get("agenda") else ""
        return f"working-level talks open{agenda}"


class AgreementFinalised(Payload):
    """The deal is enacted or signed in one or more instruments (again, with new ones, after it was
    reopened)."""

    instruments: list[Text] = Field(min_length=1)
    terms: Terms = {}

    @staticmethod
    def apply(negotiation: Draft, data: Mapping[str, Any], occurred_at: datetime | None) -> None:
        negotiation.instruments = tuple(data["instruments"])
        _merge_terms(negotiation, data)

    @staticmethod
    def describe(data: Mapping[str, Any]) -> str:
        count = len(data["instruments"])
        return f"finalised in {count} instrument{'s' if count != 1 else ''}"


class TermsAmended(Payload):
    """The recorded terms change, before or after finalisation."""

    terms: Terms = Field(min_length=1)

    @staticmethod
    def apply(negotiation: Draft, data: Mapping[str, Any], occurred_at: datetime | None) -> None:
        _merge_terms(negotiation, data)

    @staticmethod
    def describe(data: Mapping[str, Any]) -> str:
        return f"terms amended: {', '.join(data['terms'])}"

def parties_invalid(negotiation: Draft, event_type: str, data: Mapping[str, Any]) -> str | None:
    """The rule every event type shares: the opening event names the parties, later ones the same two."""
    named = data.get("parties")
    if not negotiation.parties:
        if named is None and PAYLOADS[event_type].opens:
            return f"parties: {event_type} opens negotiation {negotiation.id!r}, so it must name the two parties"
        return None
    if named is not None and sorted(named) != sorted(negotiation.parties):
        return (f"parties: {', '.join(named)} are not the parties to {negotiation.id!r} "
                f"({', '.join(negotiation.parties)})")
    return None


PAYLOADS: dict[str, type[Payload]] = {
    model.__name__: model
    for model in (
        AgreedInPrinciple,
        TermsDisputed,
        DisputeResolved,
        VisitCancelled,
        WorkingLevelTalksOpened,
        AgreementFinalised,
        TermsAmended,
    )
}
assert tuple(PAYLOADS) == EVENT_TYPES, "every event type of the machine needs a payload"


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event checked for shape, not yet checked against any negotiation's state."""

    event_id: str
    negotiation_id: str
    type: str
    data: dict[str, Any]
    occurred_at: datetime | None
    sources: tuple[str, ...]
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
    sources: tuple[str, ...]
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


def check_negotiation_id(value: object) -> str:
    """Return ``value`` if it is a valid negotiation slug, else raise InvalidEvent."""
    if not isinstance(value, str) or not value:
        raise InvalidEvent(f"negotiation id must be a non-empty string, got {value!r}")
    if len(value) > MAX_ID_LENGTH or not NEGOTIATION_ID.fullmatch(value):
        raise InvalidEvent(
            f"negotiation id {value!r} is malformed: use lower-case letters, digits and "
            f"single hyphens, at most {MAX_ID_LENGTH} characters"
        )
    return value


#: The largest version, position or count a database column holds (SQL BIGINT).
MAX_COUNT = 2**63 - 1


def check_count(name: str, value: object, least: int) -> None:
    """Refuse anything but a whole number from ``least`` to what a BIGINT holds (None passes)."""
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not least <= value <= MAX_COUNT:
        raise InvalidEvent(f"{name} must be a whole number from {least} to {MAX_COUNT}, got {value!r}")


def check_event_type(value: object) -> str:
    if not isinstance(value, str) or value not in PAYLOADS:
        raise InvalidEvent(f"unknown event type {value!r}; known: {', '.join(EVENT_TYPES)}")
    return value


def check_payload(event_type: str, data: object) -> dict[str, Any]:
    """Validate ``data`` for ``event_type`` and return its normalised JSON form."""
    model = PAYLOADS[check_event_type(event_type)]
    if type(data) is not dict and not isinstance(data, Mapping):
        raise InvalidEvent(f"{event_type} data must be an object, got {type(data).__name__}")
    try:
        payload = model.model_validate(data if type(data) is dict else dict(data))
    except ValidationError as e:
        raise InvalidEvent(f"{event_type} data: {refusal_words(e, model)}") from None
    return payload.model_dump(mode="json", exclude_defaults=True)


def json_kind(value: object) -> str:
    """What a JSON value is, in words: text, a number, true/false, null, a list or an object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__


#: Problems named in one refusal; more are counted.
_SHOWN_PROBLEMS = 3


def refusal_words(error: ValidationError, model: type[BaseModel]) -> str:
    """Every problem pydantic found, each as ``field: what was wrong``, on one line."""
    said: list[str] = []
    for detail in error.errors():
        words = _problem(detail, model)
        if words not in said:
            said.append(words)
    more = len(said) - _SHOWN_PROBLEMS
    return "; ".join(said[:_SHOWN_PROBLEMS]) + (f"; and {more} more" if more > 0 else "")


def _shown(value: object, limit: int = 40) -> str:
    """A value quoted for a message, cut short when long (a key or text may be millions of characters)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit - 6]}…{text[-5:]}"


def _problem(detail: ErrorDetails, model: type[BaseModel]) -> str:
    """One pydantic error as ``field: what was wrong``, in words."""
    loc = list(detail["loc"])
    key = None
    if detail["type"] == "missing" and len(loc) == 2 and isinstance(loc[-1], int):  # a pair short of items
        needed = _items_needed(model, str(loc[0]))
        return f"{_where(loc[:-1])}: must hold {needed or 'more'} items, got {len(detail['input'])}"
    if loc and loc[-1] == "[key]":  # the name of a mapping's entry is wrong, not its value
        key = loc[-2]
        loc = loc[:-2]
    what = _what(detail, model)
    if key is not None and _shown(key) not in what:
        what = f"the name {_shown(key)}: {what}"
    if not loc:
        return what
    return f"{_where(loc)}: {what}"


def _where(loc: list[int | str]) -> str:
    """A field's path, ``terms.auto tariff``; a name that is not plain printable text is quoted and cut short."""
    return ".".join(str(part) if isinstance(part, int) or (part.isprintable() and len(part) <= 40) else _shown(part)
                    for part in loc)


def _items_needed(model: type[BaseModel], name: str) -> int | None:
    """How many items a fixed-length field (a pair of parties) holds; None if it is not one."""
    field = model.model_fields.get(name)
    kinds = [field.annotation] if field is not None else []
    while kinds:
        kind = kinds.pop()
        if get_origin(kind) is tuple and Ellipsis not in get_args(kind):
            return len(get_args(kind))
        kinds.extend(get_args(kind))
    return None


def _what(detail: ErrorDetails, model: type[BaseModel]) -> str:
    kind, value, context = detail["type"], detail["input"], detail.get("ctx") or {}
    if kind == "value_error" or kind == "assertion_error":
        return str(context.get("error", detail["msg"]))
    if kind == "missing":
        return "Field required"
    if kind == "extra_forbidden":
        return f"not a field of {model.__name__} (its fields: {', '.join(model.model_fields)})"
    if kind == "string_type":
        return f"must be text, got {json_kind(value)}"
    if kind == "string_too_short":
        return "text must not be empty"
    if kind == "string_too_long":
        return f"text must be at most {context['max_length']} characters, got {len(value)}"
    if kind == "string_pattern_mismatch":
        if context.get("pattern") == r"\S":
            return "text must hold at least one non-space character"
        return f"must be a two-letter party code such as US, JP or EU, got {_shown(value)}"
    if kind == "string_unicode" and isinstance(value, str):
        return _not_unicode(value, next(i for i, c in enumerate(value) if "\ud800" <= c <= "\udfff"))
    if kind in ("list_type", "tuple_type"):
        return f"must be a list, got {json_kind(value)}"
    if kind == "dict_type":
        return f"must be an object, got {json_kind(value)}"
    if kind == "too_short":
        least = context["min_length"]
        return f"must hold at least {least} item{'s' if least != 1 else ''}, got {context['actual_length']}"
    if kind == "too_long":
        return f"must hold at most {context['max_length']} items, got {context['actual_length']}"
    if kind.startswith("date"):
        return f"must be an ISO date (YYYY-MM-DD), got {_shown(value)}"
    if kind.startswith("int"):
        return f"must be a whole number, got {_shown(value)}"
    if kind.startswith("bool"):
        return f"must be true or false, got {_shown(value)}"
    return str(detail["msg"])


def to_utc(value: object, field: str = "occurred_at") -> datetime:
    """Read an ISO date or datetime (or a ``date``/``datetime``) as an aware UTC datetime.

    A bare date means midnight UTC of that day; a naive datetime is taken as UTC.
    """
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
        except ValueError:
            raise InvalidEvent(f"{field}: {value!r} is not an ISO 8601 date or datetime") from None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise InvalidEvent(f"{field}: {value.isoformat()} is outside the years 1 to 9999 in UTC") from None
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    raise InvalidEvent(f"{field}: expected an ISO date or datetime, got {type(value).__name__}")


def check_sources(value: object) -> tuple[str, ...]:
    if type(value) not in (list, tuple) and (isinstance(value, (str, bytes)) or not isinstance(value, Iterable)):
        raise InvalidEvent(f"sources must be a list of names, got {value!r}")
    sources = tuple(cast(Iterable[str], value))  # each is checked to be text below
    for source in sources:
        if not isinstance(source, str) or not source.strip() or len(source) > 200:
            raise InvalidEvent(f"sources: each source must be a non-empty name, got {source!r}")
        try:
            storable_text(source)
        except ValueError as e:
            raise InvalidEvent(f"sources: {e}") from None
    return sources


def check_event_id(value: object) -> str:
    """Return the canonical text of a UUID event id; a new one when ``value`` is None."""
    if value is None:
        return str(uuid.uuid4())
    if type(value) is str and CANONICAL_UUID.fullmatch(value):
        return value  # already canonical: skip the parse, which costs more than the rest of the check
    if isinstance(value, uuid.UUID):
        return str(value)
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise InvalidEvent(f"event_id {value!r} is not a UUID") from None


def check_reported_at(value: object, now: datetime | None = None) -> datetime | None:
    """When an entry became known: a past time (None: when it is recorded)."""
    if value is None:
        return None
    moment = to_utc(value, "reported_at")
    if moment > (now or datetime.now(UTC)):
        raise InvalidEvent(f"reported_at: {moment.isoformat()} is later than now; nothing is known before it happens")
    return moment


def end_of(value: object, field: str) -> datetime:
    """A time asked about (``as_of``, ``known_at``): a date means the end of that day, UTC."""
    if isinstance(value, str) and len(value) == 10 or isinstance(value, date) and not isinstance(value, datetime):
        start = to_utc(value, field)
        return start + timedelta(days=1) - timedelta(microseconds=1)
    return to_utc(value, field)


def new_event(
    negotiation_id: object,
    event_type: object,
    data: object,
    *,
    occurred_at: object = None,
    sources: object = (),
    event_id: object = None,
    reported_at: object = None,
) -> NewEvent:
    """Check everything about an event that does not depend on the negotiation's state."""
    return _checked(check_negotiation_id(negotiation_id), event_type, data, occurred_at, sources, event_id,
                    reported_at)


#: What an item of a batch (``Ledger.record_many``) may say.
BATCH_KEYS = frozenset({"type", "data", "occurred_at", "reported_at", "sources", "event_id"})


def new_events(negotiation_id: str, items: Iterable[object]) -> list[NewEvent]:
    """Check a batch of events for one negotiation (its id already checked), as ``new_event`` checks one.

    A refusal names the item by its place: ``events[3]: ...``.
    """
    batch = []
    for index, item in enumerate(items):
        if type(item) is not dict and not isinstance(item, Mapping):  # the exact type first: it costs less
            raise InvalidEvent(f"events[{index}] must be a mapping, got {type(item).__name__}")
        if not item.keys() <= BATCH_KEYS:
            unknown = ", ".join(sorted(map(str, set(item) - BATCH_KEYS)))
            raise InvalidEvent(f"events[{index}] has unknown keys: {unknown}")
        if "type" not in item:
            raise InvalidEvent(f"events[{index}] has no type")
        try:
            batch.append(_checked(negotiation_id, item["type"], item.get("data", {}), item.get("occurred_at"),
                                  item.get("sources", ()), item.get("event_id"), item.get("reported_at")))
        except InvalidEvent as e:
            raise InvalidEvent(f"events[{index}]: {e}") from None
    return batch


def _checked(negotiation_id: str, event_type: object, data: object, occurred_at: object, sources: object,
             event_id: object, reported_at: object) -> NewEvent:
    event_type = check_event_type(event_type)
    return NewEvent(
        event_id=check_event_id(event_id),
        negotiation_id=negotiation_id,
        type=event_type,
        data=check_payload(event_type, data),
        occurred_at=None if occurred_at is None else to_utc(occurred_at),
        sources=check_sources(sources),
        id_given=event_id is not None,
        reported_at=None if reported_at is None else check_reported_at(reported_at),
    )


def _canonical(value: object) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def content_difference(stored: RecordedEvent, new: NewEvent) -> str | None:
    """Return what differs between a stored event and a retried one, or None if nothing does."""
    for field in ("negotiation_id", "type", "data", "sources"):
        # Compared as canonical JSON: in Python True == 1, but not in the log.
        if _canonical(getattr(stored, field)) != _canonical(getattr(new, field)):
            return f"{field} differs"
    if new.occurred_at is not None and new.occurred_at != stored.occurred_at:
        return "occurred_at differs"
    if new.reported_at is not None and new.reported_at != stored.reported_at:
        return "reported_at differs"
    return None
