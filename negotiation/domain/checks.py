"""Input checks: everything about an event that does not depend on the negotiation's state.

Each check returns the value in the form the log stores (a canonical UUID, a
UTC time, a payload's normalised JSON) or raises InvalidEvent naming the
field and what was wrong.
"""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Annotated, Any, cast
from urllib.parse import urlsplit

import uuid_utils
from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints, ValidationError

from ..errors import InvalidEvent
from .entries import NewEvent, new_event_record
from .fields import MAX_NAME, Name, Text, storable_text
from .payloads import ENTRY_PAYLOADS, EVENT_KINDS
from .sources import LINKABLE_SCHEMES, Source, SourceRecord, stored_source
from .times import day_or_iso, in_calendar, to_utc
from .echo import shown
from .wording import refusal_words

NEGOTIATION_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MAX_ID_LENGTH = 64
CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_EVENT_TYPES = frozenset(EVENT_KINDS)


def check_negotiation_id(value: object) -> str:
    """Return ``value`` if it is a valid negotiation slug, else raise InvalidEvent."""
    if not isinstance(value, str) or not value:
        raise InvalidEvent(f"negotiation id must be a non-empty string, got {shown(value)}")
    if len(value) > MAX_ID_LENGTH or not NEGOTIATION_ID.fullmatch(value):
        raise InvalidEvent(
            f"negotiation id {shown(value)} is malformed: use lower-case letters, digits and "
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
        raise InvalidEvent(f"{name} must be a whole number from {least} to {MAX_COUNT}, got {shown(value)}")


def check_event_type(value: object) -> str:
    """Return ``value`` if it names an event type (a phase event or one beside the phase), else raise InvalidEvent."""
    if not isinstance(value, str) or value not in _EVENT_TYPES:
        raise InvalidEvent(f"unknown event type {shown(value)}; known: {', '.join(EVENT_KINDS)}")
    return value


def check_payload(event_type: str, data: object) -> dict[str, Any]:
    """Validate ``data`` for ``event_type`` and return its normalised JSON form."""
    return _checked_payload(check_event_type(event_type), data)


def _checked_payload(event_type: str, data: object) -> dict[str, Any]:
    """``check_payload`` for an event type already checked."""
    model = ENTRY_PAYLOADS[event_type]
    if type(data) is not dict and not isinstance(data, Mapping):
        raise InvalidEvent(f"{event_type} data must be an object, got {type(data).__name__}")
    try:
        payload = model.model_validate(data if type(data) is dict else dict(data))
    except ValidationError as e:
        raise InvalidEvent(f"{event_type} data: {refusal_words(e, model)}") from None
    return payload.model_dump(mode="json", exclude_defaults=True)


#: The most characters a negotiation's title holds.
MAX_TITLE = 400


def check_title(value: object) -> str:
    """Return ``value`` if it is a title a negotiation can be given, else raise InvalidEvent."""
    return _bounded_text(value, MAX_TITLE, "title", f"title must be text of 1 to {MAX_TITLE} characters")


def _bounded_text(value: object, most: int, field: str, refusal: str) -> str:
    """``value`` if it is storable text of 1 to ``most`` characters, not all blank; else InvalidEvent, said as
    ``refusal`` (then what was given) or, for text no store takes, after ``field``."""
    if not isinstance(value, str) or not value.strip() or len(value) > most:
        raise InvalidEvent(f"{refusal}, got {shown(value)}")
    try:
        return storable_text(value)
    except ValueError as e:
        raise InvalidEvent(f"{field}: {e}") from None


#: The most characters a source's web address may hold (what browsers and servers reliably take).
MAX_URL = 2000
#: The most characters a headline may hold: a headline is a line, not an article.
MAX_HEADLINE = 500


def _linkable(url: str) -> str:
    """Refuse an address a page could not safely link to: one that is not http or https, or names no host."""
    if any(character.isspace() for character in url):
        raise ValueError("must not contain spaces or line breaks")
    try:
        parts = urlsplit(url)
    except ValueError as e:
        raise ValueError(f"is not a web address ({e})") from None
    if parts.scheme.lower() not in LINKABLE_SCHEMES:
        scheme = f"{parts.scheme}:" if parts.scheme else "no scheme"
        raise ValueError(f"must be an http or https address, got {scheme}")
    if not parts.hostname:
        raise ValueError("must name a host (https://host/...)")
    return storable_text(url)


Url = Annotated[str, StringConstraints(min_length=1, max_length=MAX_URL), AfterValidator(_linkable)]
Headline = Annotated[str, StringConstraints(min_length=1, max_length=MAX_HEADLINE, pattern=r"\S"),
                     AfterValidator(storable_text)]


class _RecordFields(BaseModel):
    """What a source record must hold, as it is checked on its way in."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    outlet: Name
    url: Url
    headline: Headline
    published: date
    quote: Text | None = None


def check_source(value: object, place: int) -> Source:
    """A source as given (a name, or a mapping of a record's keys) checked; InvalidEvent names what is wrong.

    ``place`` is the source's place in the list (from 1), so a message says which one.
    """
    if isinstance(value, SourceRecord):
        value = stored_source(value)
    if isinstance(value, str):
        return check_source_name(value)
    if not isinstance(value, Mapping):
        raise InvalidEvent(f"sources: source {place} must be a name or a record (outlet, url, headline, "
                           f"published, quote), got {shown(value)}")
    given = dict(cast(Mapping[str, Any], value))
    unknown = [key for key in given if key not in _RecordFields.model_fields]
    if unknown:
        raise InvalidEvent(f"sources: source {place}: unknown key {shown(unknown[0])} (a source record has "
                           f"{', '.join(_RecordFields.model_fields)})")
    try:
        fields = _RecordFields.model_validate(given)
    except ValidationError as e:
        raise InvalidEvent(f"sources: source {place}: {refusal_words(e, _RecordFields)}") from None
    return SourceRecord(fields.outlet, fields.url, fields.headline, fields.published, fields.quote)


def check_source_name(value: object) -> str:
    """An outlet's name, checked: what a plain source is, and what source questions are asked by."""
    return _checked_name(value) if type(value) is str else _source_name(value)


def _source_name(value: object) -> str:
    return _bounded_text(value, MAX_NAME, "sources", "sources: each source must be a non-empty name")


#: ``_source_name`` of text, kept: a log names a few hundred outlets, each thousands of times, so each
#: is checked once (a refusal is never kept: it is raised again each time).
_checked_name = functools.lru_cache(maxsize=4096)(_source_name)


def check_sources(value: object) -> tuple[Source, ...]:
    """The sources of an entry: each a name, or a record of the article (``sources.check_source``)."""
    if type(value) not in (list, tuple) and (isinstance(value, (str, bytes)) or not isinstance(value, Iterable)):
        raise InvalidEvent(f"sources must be a list of names or records, got {shown(value)}")
    if type(value) is list and all(type(source) is str for source in value):
        return tuple(map(_checked_name, value))  # names only, as nearly every entry gives them: checked as below
    return tuple(check_source(source, place) for place, source in enumerate(cast(Iterable[object], value), start=1))


def check_source_names(value: object) -> tuple[str, ...]:
    """Sources a question is asked by: outlets' names (a record counts as its outlet)."""
    if type(value) not in (list, tuple) and (isinstance(value, (str, bytes)) or not isinstance(value, Iterable)):
        raise InvalidEvent(f"sources must be a list of names, got {shown(value)}")
    return tuple(check_source_name(name) for name in cast(Iterable[object], value))


def check_event_id(value: object) -> str:
    """Return the canonical text of a UUID event id; a new one when ``value`` is None.

    A new id is time-ordered (UUIDv7, RFC 9562), each later than the one made before it: it
    lands at the right edge of the unique index on event ids, as positions do, where a random
    one would make each append change a page of that index of its own.
    """
    if value is None:
        return str(uuid_utils.uuid7())
    if type(value) is str and CANONICAL_UUID.fullmatch(value):
        return value  # already canonical: skip the parse, which costs more than the rest of the check
    if isinstance(value, uuid.UUID):
        return str(value)
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise InvalidEvent(f"event_id {shown(value)} is not a UUID") from None


def check_reported_at(value: object, now: datetime | None = None) -> datetime | None:
    """When an entry became known: a past time (None: when it is recorded)."""
    if value is None:
        return None
    moment = to_utc(value, "reported_at")
    if moment > (now or datetime.now(UTC)):
        raise InvalidEvent(f"reported_at: {moment.isoformat()} is later than now; nothing is known before it happens")
    return moment


def new_event(
    negotiation_id: object,
    event_type: object,
    data: object,
    *,
    occurred_at: object = None,
    sources: object = (),
    event_id: object = None,
    reported_at: object = None,
    backfill: bool = False,
) -> NewEvent:
    """Check everything about an event that does not depend on the negotiation's state.

    ``backfill`` takes an event given no ``reported_at`` as reported when it occurred.
    """
    return _checked(check_negotiation_id(negotiation_id), event_type, data, occurred_at, sources, event_id,
                    reported_at, backfill)


#: What an item of a batch (``Ledger.record_many``) may say.
BATCH_KEYS = frozenset({"type", "data", "occurred_at", "reported_at", "sources", "event_id"})


def new_events(negotiation_id: str, items: Iterable[object], *, backfill: bool = False) -> list[NewEvent]:
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
                                  item.get("sources", ()), item.get("event_id"), item.get("reported_at"),
                                  backfill))
        except InvalidEvent as e:
            raise InvalidEvent(f"events[{index}]: {e}") from None
    return batch


def _checked(negotiation_id: str, event_type: object, data: object, occurred_at: object, sources: object,
             event_id: object, reported_at: object, backfill: bool = False) -> NewEvent:
    event_type = check_event_type(event_type)
    occurred = None if occurred_at is None else in_calendar(to_utc(occurred_at), "occurred_at")
    reported = None if reported_at is None else check_reported_at(reported_at)
    if reported is None and backfill and occurred is not None:
        reported = check_reported_at(occurred)  # back-filled history: known when it happened
    elif reported is not None and occurred is not None:
        check_reported_after(occurred, reported)
    # In the order of its fields (event_id, negotiation_id, type, data, occurred_at, sources, id_given,
    # reported_at): a batch makes one per event, and named arguments cost a third more.
    return new_event_record(check_event_id(event_id), negotiation_id, event_type, _checked_payload(event_type, data),
                            occurred, check_sources(sources), event_id is not None, reported)


def check_reported_after(occurred: datetime, reported: datetime) -> None:
    """Refuse a report dated before what it reports happened (a day given as a date counts whole)."""
    days = _is_day(occurred) or _is_day(reported)
    if (reported.date() < occurred.date()) if days else reported < occurred:
        raise InvalidEvent(f"reported_at: {day_or_iso(reported)} is before occurred_at {day_or_iso(occurred)}; "
                           "nothing is reported before it happens")


def _is_day(moment: datetime) -> bool:
    return moment.time() == datetime.min.time()

