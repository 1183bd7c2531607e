"""Tamper evidence: each event's hash covers its content and the previous event's hash.

Rewriting, deleting or reordering a stored event behind the ledger's back (a
superuser who disabled the triggers, a restored backup) breaks the chain from
that event on; ``verify`` names the first broken link.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import orjson

from .entries import Entry
from .sources import Source, StoredSource, stored_sources
from .times import hashed

#: The hash of "nothing before": the first event of a negotiation chains to it.
GENESIS = "0" * 64


def event_hash(previous: str, event: Chained) -> str:
    """The hash of a recorded entry chained to ``previous``."""
    return event_hash_of(previous, event.event_id, event.negotiation_id, event.version, event.type, event.data,
                         event.occurred_at, event.recorded_at, event.sources, event.schema_version,
                         event.reported_at)


def event_hash_of(previous: str, event_id: str, negotiation_id: str, version: int, type: str, data: Any,
                  occurred_at: datetime, recorded_at: datetime, sources: Sequence[Source], schema_version: int,
                  reported_at: datetime | None = None) -> str:
    """``stored_event_hash`` of an entry whose sources are given as entries hold them."""
    return stored_event_hash(previous, event_id, negotiation_id, version, type, data, occurred_at, recorded_at,
                             stored_sources(sources), schema_version, reported_at)


def stored_event_hash(previous: str, event_id: str, negotiation_id: str, version: int, type: str, data: Any,
                      occurred_at: datetime, recorded_at: datetime, sources: Sequence[StoredSource],
                      schema_version: int, reported_at: datetime | None = None) -> str:
    """SHA-256 over the previous hash and the entry's canonical JSON form, its sources in their stored form.

    The writer hashes the very list of stored sources it then writes, made once per entry.
    This function defines stored hashes: changing it breaks every chain, so it
    must stay as it is (a new scheme would need a new column and migration).
    ``reported_at`` is hashed only when it differs from ``recorded_at``: every
    entry stored before the column existed was known when it was recorded, so
    its hash stays what it was, and a report time given since is covered.
    """
    content: dict[str, Any] = {
        "event_id": event_id,
        "negotiation_id": negotiation_id,
        "version": version,
        "type": type,
        "data": data,
        "occurred_at": hashed(occurred_at),
        "recorded_at": hashed(recorded_at),
        "sources": sources,
        "schema_version": schema_version,
    }
    if reported_at is not None and reported_at != recorded_at:
        content["reported_at"] = hashed(reported_at)
    return hashlib.sha256(previous.encode() + orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass(frozen=True)
class BrokenLink:
    """The first event of a negotiation whose stored hash or place does not fit the chain."""

    negotiation_id: str
    version: int
    event_id: str
    position: int
    reason: str

    def __str__(self) -> str:
        if not self.version:  # no event left to name
            return f"{self.negotiation_id}: {self.reason}"
        return (f"{self.negotiation_id}: version {self.version} (event {self.event_id}, "
                f"position {self.position}): {self.reason}")


class Chained(Entry, Protocol):
    """An entry as the chain reads it: with its schema version, its place in the log and its hash."""

    @property
    def schema_version(self) -> int: ...
    @property
    def position(self) -> int: ...
    @property
    def hash(self) -> str: ...


def _problem(previous: str, expected_version: int, last_position: int, event: Chained) -> str | None:
    if event.version != expected_version:
        return f"expected version {expected_version} here: an event is missing or was moved"
    if event.position <= last_position:
        return "recorded out of order: its position is not after the previous event's"
    if event_hash(previous, event) != event.hash:
        return "content or order altered: the hash does not match"
    return None


def walk(events: Iterable[Chained]) -> tuple[int, BrokenLink | None]:
    """Walk one negotiation's events in stored version order.

    Returns how many events were walked and the first that breaks the chain, if any.
    """
    count, first = 0, None
    previous, expected_version, last_position = GENESIS, 1, 0
    for event in events:
        count += 1
        if first is None:
            problem = _problem(previous, expected_version, last_position, event)
            if problem is not None:
                first = BrokenLink(event.negotiation_id, event.version, event.event_id, event.position, problem)
        previous, expected_version, last_position = event.hash, event.version + 1, event.position
    return count, first
