"""How step texts and their data tables are read: patterns for the step vocabulary and table helpers."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from pytest_bdd import parsers

_FIELD = re.compile(r'"\{(\w+)\}"|\{(\w+):(\w+)\}')
_KINDS = {"d": r"\d+", "date": r"\d{1,2} [A-Z][a-z]+ \d{4}", "text": r".+"}


def phrase(text: str) -> parsers.re:
    """A step pattern where quoted fields cannot swallow quotes, so no two steps match one line."""
    parts, end = [], 0
    for field in _FIELD.finditer(text):
        parts.append(re.escape(text[end:field.start()]))
        quoted, name, kind = field.groups()
        parts.append(f'"(?P<{quoted}>[^"]*)"' if quoted else f"(?P<{name}>{_KINDS[kind]})")
        end = field.end()
    return parsers.re("".join(parts) + re.escape(text[end:]))


def pairs(datatable: list[list[str]]) -> dict[str, str]:
    """A two-column table of names and values, without a header row."""
    return {name.strip(): value.strip() for name, value in datatable}


def rows(datatable: list[list[str]]) -> list[dict[str, str]]:
    """A table whose first row names the columns."""
    header, *body = datatable
    return [dict(zip(header, row)) for row in body]


def points(text: str) -> list[str]:
    return [] if text.strip() == "none" else [point.strip() for point in text.split(",")]


def day(text: str) -> str:
    """A date as a step writes it (22 July 2025) in ISO form (2025-07-22)."""
    return datetime.strptime(text, "%d %B %Y").date().isoformat()


def spoken(moment: datetime) -> str:
    """The day of a moment as a step writes it: 22 July 2025."""
    return f"{moment.day} {moment:%B %Y}"


def shown(value: object) -> str:
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)


def spoken_day(text: str) -> str:
    """A day in ISO form (2025-07-22) as a step writes it: 22 July 2025."""
    return spoken(datetime.combine(date.fromisoformat(text), datetime.min.time()))


def terms_of(datatable: list[list[str]]) -> dict[str, str]:
    """A table of terms (columns ``term`` and ``value``) as the terms an event names."""
    return {row["term"]: row["value"] for row in rows(datatable)}


def meeting(datatable: list[list[str]]) -> dict[str, Any]:
    """A meeting's details, given as a two-column table, as a MeetingHeld names them."""
    details: dict[str, Any] = {name.replace(" ", "_"): value for name, value in pairs(datatable).items()}
    if "participants" in details:
        details["participants"] = points(details["participants"])
    return details
