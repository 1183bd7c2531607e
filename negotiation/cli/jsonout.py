"""JSON on the command line: what ``--json`` prints, and ``--data`` read from a file or a pipe.

The shaping functions are pure: each turns a value of the library
(``Negotiation``, ``RecordedEvent``, ``StoryEvent``, a verify report, the rows
of ``negotiation.questions``) into a dict of JSON values whose keys are the
Python API's attribute names, always all of them, in a fixed order (a missing
value is ``null``, never an absent key). Times are ISO 8601 in UTC with a
``Z``: ``2025-07-22T00:00:00Z``, with six digits of fractional seconds only
when the time has them (``2026-11-25T10:31:02.123456Z``); a day (a due day,
the day of a meeting) is a date: ``2025-07-09``.

A command prints one JSON document (``emit``); a command that follows a
stream prints one compact document a line (``emit_lines``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import fields
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
import orjson

if TYPE_CHECKING:  # shaped here, made elsewhere: a command that prints none of them does not import them
    from ..audit import VerifyReport
    from ..domain.aggregate import Negotiation
    from ..domain.belief import BeliefDiff, ReportedEntry
    from ..domain.chain import BrokenLink
    from ..domain.entries import RecordedEvent
    from ..domain.sources import Source
    from ..domain.story import StoryEvent
    from ..questions import (Deal, DeadlineRow, Details, DeniedEvent, MeasureRow, Meeting, Suspension,
                             ThirdPartyAct, Views)
    from ..store.sources import SourceSummary

F = TypeVar("F", bound=Callable[..., Any])

#: The ``--json`` flag of every command that prints data.
OPTION: Callable[[F], F] = click.option(
    "--json", "as_json", is_flag=True,
    help="Print JSON instead of a table: keys as in the Python API, times in UTC (README: JSON output).")


def moment(value: datetime | None) -> str | None:
    """An aware time as ISO 8601 in UTC with ``Z``; fractional seconds only when it has them."""
    from ..domain.times import utc_z  # here: the domain's times bring its wording, and pydantic

    return None if value is None else utc_z(value)


def sources(value: Sequence[Source]) -> list[Any]:
    """An entry's sources as the log stores them: names as text, articles as objects of their keys."""
    from ..domain.sources import stored_sources  # here: the commands without --json never need it

    return stored_sources(value)


def negotiation(value: Negotiation) -> dict[str, Any]:
    """A negotiation as ``show`` and ``list`` print it."""
    return {
        "id": value.id,
        "state": value.state,
        "version": value.version,
        "parties": list(value.parties),
        "opened_at": moment(value.opened_at),
        "updated_at": moment(value.updated_at),
        "has_deal": value.has_deal,
        "deal_announced_at": moment(value.deal_announced_at),
        "terms": dict(value.terms),
        "open_disputes": list(value.open_disputes),
        "positions": {point: dict(stances) for point, stances in value.positions.items()},
        "instruments": list(value.instruments),
        "allowed_events": list(value.allowed_events),
    }


def recorded_event(value: RecordedEvent) -> dict[str, Any]:
    """An entry of the log as ``history`` prints it, with what later entries did to it."""
    return {
        "negotiation_id": value.negotiation_id,
        "version": value.version,
        "position": value.position,
        "event_id": value.event_id,
        "type": value.type,
        "data": value.data,
        "occurred_at": moment(value.occurred_at),
        "reported_at": moment(value.reported_at),
        "recorded_at": moment(value.recorded_at),
        "sources": sources(value.sources),
        "schema_version": value.schema_version,
        "hash": value.hash,
        "retracted_by": value.retracted_by,
        "corrected_by": list(value.corrected_by),
    }


def story_event(value: StoryEvent) -> dict[str, Any]:
    """An event of the story as ``story`` prints it: its corrected content and date."""
    return {
        "negotiation_id": value.negotiation_id,
        "version": value.version,
        "event_id": value.event_id,
        "type": value.type,
        "data": value.data,
        "occurred_at": moment(value.occurred_at),
        "reported_at": moment(value.reported_at),
        "recorded_at": moment(value.recorded_at),
        "sources": sources(value.sources),
        "corrected_by": list(value.corrected_by),
    }


def reported_entry(value: ReportedEntry) -> dict[str, Any]:
    """An entry reported between the two times of ``diff``, with the kind of news it was."""
    return {
        "version": value.version,
        "type": value.type,
        "kind": value.kind,
        "occurred_at": moment(value.occurred_at),
        "reported_at": moment(value.reported_at),
        "sources": sources(value.sources),
        "data": value.data,
        "target_version": value.target_version,
    }


def belief_diff(value: BeliefDiff) -> dict[str, Any]:
    """What ``diff --json`` prints of a negotiation: both times, the negotiation and its story as known at
    each, the entries reported in between and each change with the versions of the entries that made it."""
    return {
        "negotiation_id": value.negotiation_id,
        "known_at_1": moment(value.known_at_1),
        "known_at_2": moment(value.known_at_2),
        "changed": value.changed,
        "changes": [{"aspect": change.aspect, "subject": change.subject, "before": change.before,
                     "after": change.after, "because": list(change.because)} for change in value.changes],
        "reported": [reported_entry(entry) for entry in value.reported],
        "before": None if value.before is None else negotiation(value.before),
        "after": negotiation(value.after),
        "story_before": [story_event(event) for event in value.story_before],
        "story_after": [story_event(event) for event in value.story_after],
    }


def broken_link(value: BrokenLink) -> dict[str, Any]:
    """Where a negotiation's chain breaks; version, event and position are null when no event is left."""
    named = bool(value.version)
    return {
        "negotiation_id": value.negotiation_id,
        "version": value.version if named else None,
        "event_id": value.event_id if named else None,
        "position": value.position if named else None,
        "reason": value.reason,
    }


def verify_report(value: VerifyReport) -> dict[str, Any]:
    """What ``verify`` found."""
    return {
        "intact": value.intact,
        "negotiations": value.negotiations,
        "events": value.events,
        "broken": [broken_link(link) for link in value.broken],
    }


def day(value: date | None) -> str | None:
    """A day (a due day, the day of a meeting) as ISO 8601: ``2025-07-09``; it is not a moment, so no time."""
    return None if value is None else value.isoformat()


def _row(value: Any) -> dict[str, Any]:
    """A row of ``negotiation.questions`` as JSON: every field, in its order; days, moments and lists plain."""
    shaped: dict[str, Any] = {}
    for field in fields(value):
        item = getattr(value, field.name)
        if isinstance(item, datetime):
            item = moment(item)
        elif isinstance(item, date):
            item = day(item)
        elif isinstance(item, tuple):
            item = list(item)
        shaped[field.name] = item
    return shaped


def measure(value: MeasureRow) -> dict[str, Any]:
    """A measure at the time asked, as ``measures`` prints it."""
    return _row(value)


def deadline(value: DeadlineRow) -> dict[str, Any]:
    """Something falling due, as ``deadlines`` prints it."""
    return _row(value)


def deal(value: Deal) -> dict[str, Any]:
    return _row(value)


def meeting(value: Meeting) -> dict[str, Any]:
    return _row(value)


def suspension(value: Suspension) -> dict[str, Any]:
    return _row(value)


def third_party_act(value: ThirdPartyAct) -> dict[str, Any]:
    return _row(value)


def denied_event(value: DeniedEvent) -> dict[str, Any]:
    return _row(value)


def views(value: Views) -> dict[str, Any]:
    """Each party's view of the terms, as ``views`` prints it."""
    return {"parties": list(value.parties), "common": dict(value.common),
            "views": {party: dict(terms) for party, terms in value.views.items()},
            "differences": list(value.differences)}


def details(value: Details) -> dict[str, Any]:
    """A negotiation and what goes on beside its phase, as ``details`` prints it."""
    return {
        "negotiation": negotiation(value.negotiation),
        "at": moment(value.at),
        "measures": [measure(row) for row in value.measures],
        "deadlines": [deadline(row) for row in value.deadlines],
        "deals": [deal(row) for row in value.deals],
        "meetings": [meeting(row) for row in value.meetings],
        "views": views(value.views),
        "suspensions": [suspension(row) for row in value.suspensions],
        "third_party_acts": [third_party_act(row) for row in value.third_party_acts],
        "denied": [denied_event(row) for row in value.denied],
    }


def source_summary(value: SourceSummary) -> dict[str, Any]:
    """A source named in the log, as ``sources`` prints it."""
    return _row(value)


def dumps(value: Any, *, indent: bool = True) -> str:
    """JSON text: indented by two spaces (a document) or on one line (a line of a stream)."""
    return orjson.dumps(value, option=orjson.OPT_INDENT_2 if indent else 0).decode()


def emit(value: Any) -> None:
    """Print one JSON document on stdout."""
    click.echo(dumps(value))


def emit_lines(values: Iterable[Any]) -> None:
    """Print JSON lines: one compact document a line, flushed as each comes."""
    for value in values:
        click.echo(dumps(value, indent=False))
        sys.stdout.flush()


#: The most characters of event data read from a file or stdin: far above any event's.
MAX_DATA = 10_000_000


def read_data(value: str, option: str = "--data") -> Any:
    """A JSON value given inline, as ``@FILE`` (read from the file) or as ``-`` or ``@-`` (read from stdin).

    The standard parser keeps a huge integer an integer, so the ledger can
    refuse it; a faster one would turn it into an inexact float first.
    """
    if value in ("-", "@-"):
        text, where = sys.stdin.read(MAX_DATA + 1), "stdin"
    elif value.startswith("@"):
        path = Path(value[1:])
        try:
            with path.open(encoding="utf-8-sig") as file:
                text, where = file.read(MAX_DATA + 1), str(path)
        except OSError as e:
            raise click.BadParameter(f"cannot read {path}: {e.strerror}", param_hint=option) from None
        except UnicodeDecodeError:
            raise click.BadParameter(f"{path} is not UTF-8 text", param_hint=option) from None
    else:
        text, where = value, ""
    source = f" in {where}" if where else ""
    if len(text) > MAX_DATA:
        raise click.BadParameter(f"the data{source} is longer than {MAX_DATA:,} characters", param_hint=option)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise click.BadParameter(f"not valid JSON{source} ({e})", param_hint=option) from None
    except RecursionError:
        raise click.BadParameter(f"not valid JSON{source}: nested too deeply", param_hint=option) from None
    except ValueError as e:  # an integer of more digits than Python converts
        raise click.BadParameter(f"not valid JSON{source}: {' '.join(str(e).split()[:12])}",
                                 param_hint=option) from None
