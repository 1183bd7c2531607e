"""Event files people write and edit: YAML (or JSON) documents, one negotiation each.

    negotiation: us-japan-2025
    title: US–Japan tariffs            # optional
    events:
      - type: AgreedInPrinciple
        occurred_at: 2025-07-22
        sources: [Reuters]
        data: {parties: [US, JP]}

Each event's id is derived from the negotiation id and the event's place in
the file (unless it gives ``event_id``), so loading a file twice records
nothing new.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..domain.events import check_negotiation_id
from ..errors import InvalidEvent

#: Namespace of the derived event ids; changing it would make every seed look new.
SEED_NAMESPACE = uuid.UUID("5f0c5a3e-2b7e-4c1a-9d55-3b8f2f1a6e10")
_EVENT_KEYS = {"type", "data", "occurred_at", "sources", "event_id"}


class _TextDates(yaml.SafeLoader):
    """SafeLoader that leaves dates as text: the ledger parses times itself, payloads keep strings."""


_TextDates.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


@dataclass(frozen=True)
class SeedStream:
    """One negotiation's events as read from a file."""

    negotiation_id: str
    title: str | None
    events: list[dict[str, Any]]
    source: str


def seed_event_id(negotiation_id: str, ordinal: int) -> str:
    return str(uuid.uuid5(SEED_NAMESPACE, f"{negotiation_id}#{ordinal}"))


def read_seed_file(path: str | Path) -> list[SeedStream]:
    """Parse a seed file into streams; raise InvalidEvent naming the file and the faulty place."""
    path = Path(path)
    try:
        documents = [doc for doc in yaml.load_all(path.read_text(encoding="utf-8"), Loader=_TextDates)
                     if doc is not None]
    except (OSError, UnicodeDecodeError) as e:
        raise InvalidEvent(f"{path}: cannot read: {e}") from None
    except yaml.YAMLError as e:
        where = getattr(e, "problem_mark", None)
        line = f" line {where.line + 1}" if where is not None else ""
        raise InvalidEvent(f"{path}:{line} not valid YAML: {getattr(e, 'problem', e)}") from None
    if not documents:
        raise InvalidEvent(f"{path}: no negotiation in the file")
    return [_stream(path, doc) for doc in documents]


def _stream(path: Path, doc: object) -> SeedStream:
    if not isinstance(doc, dict):
        raise InvalidEvent(f"{path}: each document must be a mapping with 'negotiation' and 'events'")
    unknown = set(doc) - {"negotiation", "title", "events"}
    if unknown:
        raise InvalidEvent(f"{path}: unknown keys {', '.join(sorted(map(str, unknown)))}")
    try:
        negotiation_id = check_negotiation_id(doc.get("negotiation"))
    except InvalidEvent as e:
        raise InvalidEvent(f"{path}: {e}") from None
    events = doc.get("events")
    if not isinstance(events, list) or not events:
        raise InvalidEvent(f"{path}: {negotiation_id}: 'events' must be a non-empty list")
    title = doc.get("title")
    if title is not None and not isinstance(title, str):
        raise InvalidEvent(f"{path}: {negotiation_id}: 'title' must be text")
    items = []
    for ordinal, item in enumerate(events, start=1):
        if not isinstance(item, dict):
            raise InvalidEvent(f"{path}: {negotiation_id}: event {ordinal} must be a mapping")
        unknown = set(item) - _EVENT_KEYS
        if unknown:
            raise InvalidEvent(
                f"{path}: {negotiation_id}: event {ordinal} has unknown keys {', '.join(sorted(map(str, unknown)))}"
            )
        items.append({"event_id": seed_event_id(negotiation_id, ordinal), **item})
    return SeedStream(negotiation_id, title, items, str(path))
