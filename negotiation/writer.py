"""Appending to the log: one transaction reads the state, checks the events and writes them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from .domain.aggregate import Negotiation, decide
from .domain.chain import GENESIS, event_hash_of
from .domain.events import PAYLOAD_SCHEMA_VERSION, NewEvent, RecordedEvent, content_difference
from .errors import ConcurrencyConflict, DuplicateEvent, IllegalTransition, InvalidEvent
from .store.eventstore import EventStore, WriteRace

# Refusals that a retried write (events already stored under the ids given) would also meet.
_RETRY_LOOKS_LIKE = (IllegalTransition, InvalidEvent, ConcurrencyConflict)


def append(store: EventStore, negotiation_id: str, batch: Sequence[NewEvent],
           expected_version: int | None, *, write: bool = True) -> list[RecordedEvent]:
    """Append ``batch`` in one transaction (or, with ``write=False``, only check it).

    Events whose caller-given id is already stored with the same content are
    returned as stored, not written again. Looking ids up costs a query per
    write, so it is done only when the first attempt is refused: a retried
    write is refused by the machine, by ``expected_version`` or by the unique
    ``event_id`` constraint before anything is kept.
    """
    if not any(event.id_given for event in batch):
        return _transaction(store, negotiation_id, batch, expected_version, write, look_up_ids=False)
    try:
        return _transaction(store, negotiation_id, batch, expected_version, write, look_up_ids=not write)
    except _RETRY_LOOKS_LIKE:
        if not write:
            raise
    return _transaction(store, negotiation_id, batch, expected_version, write, look_up_ids=True)


def _transaction(store: EventStore, negotiation_id: str, batch: Sequence[NewEvent],
                 expected_version: int | None, write: bool, look_up_ids: bool) -> list[RecordedEvent]:
    seen: list[int] = []
    try:
        with store.writing() as conn:
            return _append_in(conn, negotiation_id, batch, expected_version, write, look_up_ids, seen)
    except WriteRace:
        # A unique constraint stopped the insert: another writer got there first.
        with store.reading() as conn:
            actual = EventStore.version(conn, negotiation_id)
        expected = expected_version if expected_version is not None else seen[0] if seen else 0
        raise ConcurrencyConflict(negotiation_id, expected, actual) from None


def _append_in(conn: Connection, negotiation_id: str, batch: Sequence[NewEvent], expected_version: int | None,
               write: bool, look_up_ids: bool, seen: list[int]) -> list[RecordedEvent]:
    stored = EventStore.by_ids(conn, [event.event_id for event in batch]) if look_up_ids else {}
    for event in batch:
        if event.event_id in stored:
            difference = content_difference(stored[event.event_id], event)
            if difference:
                raise DuplicateEvent(event.event_id, difference)
    fresh = [event for event in batch if event.event_id not in stored]
    if not fresh:  # a retried write: everything is already there
        return [stored[event.event_id] for event in batch]

    head = EventStore.head(conn, negotiation_id)
    current = head.negotiation if head else Negotiation(id=negotiation_id)
    seen.append(current.version)
    if expected_version is not None and expected_version != current.version:
        raise ConcurrencyConflict(negotiation_id, expected_version, current.version)
    now = datetime.now(UTC)
    dated = [(event, event.occurred_at or now) for event in fresh]
    after = decide(current, dated)
    if not write:
        return []

    rows: list[dict[str, Any]] = []
    last_hash = head.last_hash if head else GENESIS
    for version, (event, occurred_at) in enumerate(dated, start=current.version + 1):
        last_hash = event_hash_of(last_hash, event.event_id, negotiation_id, version, event.type, event.data,
                                  occurred_at, now, event.sources, PAYLOAD_SCHEMA_VERSION)
        rows.append({"event_id": event.event_id, "negotiation_id": negotiation_id, "version": version,
                     "type": event.type, "data": event.data, "schema_version": PAYLOAD_SCHEMA_VERSION,
                     "occurred_at": occurred_at, "recorded_at": now, "sources": event.sources,
                     "hash": last_hash})
    positions = EventStore.append(conn, rows)
    EventStore.save_head(conn, after, last_hash, None if head else positions[0])
    written = {
        row["event_id"]: RecordedEvent(position=position, **row)
        for row, position in zip(rows, positions)
    }
    return [stored.get(event.event_id) or written[event.event_id] for event in batch]
