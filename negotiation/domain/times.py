"""Times: reading what callers give as a moment, and every way the package writes one.

A moment comes in as ISO 8601 text (a date or a datetime), a ``date`` or a
``datetime``, and is kept as an aware UTC ``datetime``. Each writing below has
one job (a hash, JSON, an event file, a message, a table, a page); nothing
else in the package formats a time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import overload

from ..errors import InvalidEvent
from .echo import shown

#: A moment as callers may give it: ISO 8601 text (a date or a datetime), a ``date`` or a ``datetime``.
Moment = str | date | datetime

_MIDNIGHT, _LAST_MICROSECOND = time(0), time(23, 59, 59, 999999)


def to_utc(value: object, field: str = "occurred_at") -> datetime:
    """Read an ISO date or datetime (or a ``date``/``datetime``) as an aware UTC datetime.

    A bare date means midnight UTC of that day; a naive datetime is taken as UTC.
    Anything else (a ``Moment`` is what is read) raises InvalidEvent naming ``field``.
    """
    if type(value) is datetime and value.tzinfo is UTC:  # already what is kept (nearly every event): as it is
        return value
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value)
        except ValueError:
            raise InvalidEvent(f"{field}: {shown(value)} is not an ISO 8601 date or datetime") from None
    if isinstance(value, datetime):
        if value.tzinfo is UTC:
            return value
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise InvalidEvent(f"{field}: {value.isoformat()} is outside the years 1 to 9999 in UTC") from None
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    raise InvalidEvent(f"{field}: expected an ISO date or datetime, got {type(value).__name__}")


def end_of(value: object, field: str) -> datetime:
    """A time asked about (``as_of``, ``known_at``): a date means the end of that day, UTC."""
    if isinstance(value, str) and len(value) == 10 or isinstance(value, date) and not isinstance(value, datetime):
        start = to_utc(value, field)
        return datetime.combine(start.date(), _LAST_MICROSECOND, tzinfo=UTC)  # 9999-12-31 too
    return to_utc(value, field)


#: The days an event may be dated within: the views pad a story by weeks on either side, and a
#: negotiation recorded here happened after the year 1000 and before the calendar's last year.
EARLIEST, LATEST = datetime(1000, 1, 1, tzinfo=UTC), datetime(9998, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)


def in_calendar(moment: datetime, field: str) -> datetime:
    """``moment`` if an event may be dated then, else InvalidEvent naming the field and the bounds."""
    if not EARLIEST <= moment <= LATEST:
        raise InvalidEvent(f"{field}: {moment.date().isoformat()} is outside the years {EARLIEST.year} to "
                           f"{LATEST.year} an event may be dated in")
    return moment


def from_iso(text: str | None) -> datetime | None:
    """A moment written by ``iso`` read back; None for None (or empty text)."""
    return datetime.fromisoformat(text) if text else None


@overload
def iso(moment: datetime) -> str: ...
@overload
def iso(moment: datetime | None) -> str | None: ...
def iso(moment: datetime | None) -> str | None:
    """A moment as plain ISO 8601, in its own zone (a stored snapshot's times, a correction's date)."""
    return moment.isoformat() if moment else None


@lru_cache(maxsize=1024)
def hashed(moment: datetime) -> str:
    """A moment as the hash chain covers it: ISO 8601 in UTC, microseconds always written.

    Stored hashes depend on this text: it must never change. Cached: in UTC,
    equal instants (equal keys) write alike, and the events of one append
    share their recording time and often their day.
    """
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def utc_z(moment: datetime) -> str:
    """A moment as ISO 8601 in UTC with ``Z``; fractional seconds only when it has them (JSON output)."""
    text = moment.astimezone(UTC).isoformat(timespec="microseconds" if moment.microsecond else "seconds")
    return text.removesuffix("+00:00") + "Z"


def _is_midnight(moment: datetime) -> bool:
    return (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0)


def file_moment(moment: datetime) -> str:
    """A moment as event files write it: a day when it is midnight UTC, else ``utc_z``."""
    moment = moment.astimezone(UTC)
    return moment.date().isoformat() if _is_midnight(moment) else utc_z(moment)


def day_or_iso(moment: datetime, timespec: str = "auto") -> str:
    """A moment in a message or a table: its day when it is midnight, else ISO 8601 (to ``timespec``)."""
    return moment.date().isoformat() if _is_midnight(moment) else moment.isoformat(timespec=timespec)


def spoken(moment: datetime) -> str:
    """A moment as a reader says it, with the time of day (UTC): ``22 Jul 2025 14:05 UTC``."""
    return f"{moment.day} {moment:%b %Y %H:%M} UTC"


def spoken_day(moment: datetime) -> str:
    """A moment as a reader says it: ``22 Jul 2025``, with the time of day (UTC) when it has one.

    Midnight, and the end of a day (a date asked ``as of``), read as that day.
    """
    if moment.time() in (_MIDNIGHT, _LAST_MICROSECOND):
        return f"{moment.day} {moment:%b %Y}"
    return spoken(moment)
