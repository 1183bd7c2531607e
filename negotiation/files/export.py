"""Export the log as event files that ``load`` reads back.

One document per negotiation, holding every entry of its log in version
order: each event with its id, ``occurred_at``, ``reported_at``, sources and
data, and each retraction or correction with its id, its ``target`` (the
version of the event it names, which is that event's place in the document),
its reason and, for a correction, the new data and/or date. Loading an
export into an empty database gives the same negotiations, in the same
states, with the same stories, and the same answers as of and as known at
any time; loading it where it came from records nothing, since every id is
already stored. (The log's recording times, positions and hashes are the new
database's own: ``negotiation copy`` keeps those.)

YAML is written so that the YAML 1.2 core schema ``load`` reads by gives back
exactly what was written: text that would read as a number, a boolean or
null there (``1e3``, ``0o12``, ``null``) is quoted.

``--format csv`` writes the stories instead, for a spreadsheet: a row per
event of each story, in story order (retracted events left out, corrected
ones as corrected), with the state the story is in after it. ``load`` does
not read it back.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TextIO

import orjson
import yaml

from ..domain.aggregate import Negotiation
from ..domain.entries import RecordedEvent
from ..domain.payloads import CORRECTION_TYPES, DENIED, describe
from ..domain.replay import story_steps
from ..domain.story import StoryEvent
from ..domain.sources import SourceRecord, outlets, stored_sources
from ..domain.times import file_moment, to_utc
from ..errors import UnknownNegotiation
from ..ledger import Ledger
from .reading import CORE_SCHEMA

FORMATS = ("yaml", "json")
#: The columns of a story table (``--format csv``), in order.
CSV_COLUMNS = ("negotiation", "version", "event_id", "type", "occurred_at", "reported_at", "summary", "sources",
               "source_links", "state", "open_points", "has_deal")
#: Between the names in a cell (sources, open points): a source's name may hold a comma.
CELL_SEPARATOR = "; "
#: How a cell a spreadsheet would take for a formula begins (OWASP, "CSV injection"): such a cell of
#: recorded text is written after a ``'``, which spreadsheets read as "text follows".
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def as_text_cell(text: str) -> str:
    """``text`` as a spreadsheet shows it and never runs it."""
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def item(entry: RecordedEvent) -> dict[str, Any]:
    """One entry of the log as an item of an event file."""
    if entry.type not in CORRECTION_TYPES:
        return {"type": entry.type, "event_id": entry.event_id, "occurred_at": file_moment(entry.occurred_at),
                "reported_at": file_moment(entry.reported_at), "sources": stored_sources(entry.sources), "data": entry.data}
    said: dict[str, Any] = {"type": entry.type, "event_id": entry.event_id, "target": entry.data["target_version"]}
    if entry.type == DENIED:
        said["by"] = entry.data["by"]
        if "statement" in entry.data:
            said["statement"] = entry.data["statement"]
    else:
        said["reason"] = entry.data["reason"]
    if "occurred_at" in entry.data:
        said["occurred_at"] = file_moment(to_utc(entry.data["occurred_at"]))
    if "reported_at" in entry.data:
        said["event_reported_at"] = file_moment(to_utc(entry.data["reported_at"]))
    said["reported_at"] = file_moment(entry.reported_at)
    said["sources"] = stored_sources(entry.sources)
    if "data" in entry.data:
        said["data"] = entry.data["data"]
    return said


def document(negotiation_id: str, entries: Iterable[RecordedEvent], title: str | None = None) -> dict[str, Any]:
    """A negotiation's whole log as one document of an event file (with its title, when it has one)."""
    named = {"title": title} if title is not None else {}
    return {"negotiation": negotiation_id, **named, "events": [item(entry) for entry in entries]}


def _checked(ledger: Ledger, negotiation_ids: Sequence[str]) -> list[str]:
    """The ids named (default: every negotiation, in the order they were opened), each known to the ledger."""
    ids = list(negotiation_ids) or ledger.negotiations()
    for negotiation_id in ids:
        if not ledger.version(negotiation_id):
            raise UnknownNegotiation(negotiation_id)
    return ids


def documents(ledger: Ledger, negotiation_ids: Sequence[str] = ()) -> Iterator[dict[str, Any]]:
    """The documents of the negotiations named (default: all, in the order they were opened).

    Every id is checked before the first document is made: an unknown one is
    refused (UnknownNegotiation) before anything is written.
    """
    ids = _checked(ledger, negotiation_ids)
    titles = ledger.titles()
    return (document(negotiation_id, ledger.history(negotiation_id), titles.get(negotiation_id))
            for negotiation_id in ids)


def core_schema_dumper(base: type[Any]) -> type[Any]:
    """A subclass of the PyYAML safe dumper ``base`` resolving plain scalars by the YAML 1.2 core schema.

    The dumper quotes a string whenever writing it plain would resolve it to
    another type; with the core schema's table, that is exactly when ``load``
    would read it as a number, a boolean, null or a merge key.
    """
    dumper: type[Any] = type(f"CoreSchema{base.__name__}", (base,), {"yaml_implicit_resolvers": {}})
    for tag, pattern, first in CORE_SCHEMA:
        dumper.add_implicit_resolver(tag, re.compile(pattern), first)
    return dumper


#: The dumper for event files: libyaml's emitter when PyYAML was built with it, else the pure-Python one.
EventFileDumper = core_schema_dumper(yaml.CSafeDumper if yaml.__with_libyaml__ else yaml.SafeDumper)


def write(docs: Iterable[dict[str, Any]], out: TextIO, file_format: str = "yaml") -> tuple[int, int]:
    """Write documents to ``out`` as YAML (``---`` between them) or as a JSON list; returns (documents, entries)."""
    counted = [0, 0]

    def counting() -> Iterator[dict[str, Any]]:
        for doc in docs:
            counted[0] += 1
            counted[1] += len(doc["events"])
            yield doc

    if file_format == "json":
        out.write("[")
        out.writelines(f"{',' if index else ''}\n{orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode()}"
                       for index, doc in enumerate(counting()))

        out.write("\n]\n")
    else:
        yaml.dump_all(counting(), out, Dumper=EventFileDumper, sort_keys=False, allow_unicode=True,
                      explicit_start=True, width=100)
    return counted[0], counted[1]


def story_rows(ledger: Ledger, negotiation_ids: Sequence[str] = ()) -> Iterator[dict[str, str]]:
    """A row per event of each story named (default: all), in story order, with the state after it.

    The keys are ``CSV_COLUMNS``; times are days when they are midnight UTC.
    Every id is checked first, as ``documents`` does, and every story is told
    before the first row is given, so a story that cannot be told writes nothing.
    """
    ids = _checked(ledger, negotiation_ids)
    stories = [(negotiation_id, ledger.story(negotiation_id)) for negotiation_id in ids]
    return (_row(negotiation_id, event, after) for negotiation_id, story in stories
            for event, _before, after in story_steps(negotiation_id, story))


def _row(negotiation_id: str, event: StoryEvent, after: Negotiation) -> dict[str, str]:
    return {"negotiation": negotiation_id, "version": str(event.version), "event_id": event.event_id,
            "type": event.type, "occurred_at": file_moment(event.occurred_at),
            "reported_at": file_moment(event.reported_at),
            "summary": as_text_cell(describe(event.type, event.data)),
            "sources": as_text_cell(CELL_SEPARATOR.join(outlets(event.sources))),
            "source_links": CELL_SEPARATOR.join(s.url for s in event.sources if isinstance(s, SourceRecord)),
            "state": after.state,
            "open_points": as_text_cell(CELL_SEPARATOR.join(after.open_disputes)),
            "has_deal": "yes" if after.has_deal else "no"}


def write_csv(rows: Iterable[dict[str, str]], out: TextIO) -> tuple[int, int]:
    """Write story rows as CSV with a header; returns (negotiations, rows)."""
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")  # lines as grep and sed read them
    writer.writeheader()
    negotiations: set[str] = set()
    count = 0
    for row in rows:
        writer.writerow(row)
        negotiations.add(row["negotiation"])
        count += 1
    return len(negotiations), count
