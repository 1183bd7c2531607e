"""The ledger: the public face that checks events against the machine and appends them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import groupby
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection

from . import migrate
from .aggregate import Negotiation, decide, fold
from .chain import GENESIS, BrokenLink, event_hash, walk
from .errors import ConcurrencyConflict, DuplicateEvent, InvalidEvent, UnknownNegotiation
from .events import (
    PAYLOAD_SCHEMA_VERSION,
    NewEvent,
    RecordedEvent,
    check_negotiation_id,
    content_difference,
    new_event,
)
from .store import EventStore, WriteRace, make_engine, resolve_url

_BATCH_KEYS = {"type", "data", "occurred_at", "sources", "event_id"}


@dataclass
class VerifyReport:
    """What ``Ledger.verify`` found: how much it walked and every broken chain."""

    negotiations: int = 0
    events: int = 0
    broken: list[BrokenLink] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.broken


class Ledger:
    """An append-only log of negotiation events and the state machine that guards it.

    >>> with Ledger.open("sqlite:///negotiations.db") as ledger:
    ...     ledger.record("us-japan-2025", "AgreedInPrinciple", {"parties": ["US", "JP"]})
    """

    def __init__(self, store: EventStore, url: str) -> None:
        self._store = store
        self.url = url

    @classmethod
    def open(cls, url: str | None = None, *, upgrade: bool = True) -> Ledger:
        """Open the ledger at ``url`` (default ``$NEGOTIATION_DB_URL`` or ``sqlite:///negotiations.db``).

        The schema is brought to the latest migration unless ``upgrade`` is False.
        """
        resolved = resolve_url(url)
        engine = make_engine(resolved)
        store = EventStore(engine)
        if upgrade:
            with store.translating_errors():
                migrate.upgrade(engine)
        return cls(store, resolved)

    def close(self) -> None:
        self._store.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------

    def record(
        self,
        negotiation_id: str,
        event_type: str,
        data: Mapping[str, Any] | None = None,
        *,
        occurred_at: str | datetime | Any = None,
        sources: Iterable[str] = (),
        expected_version: int | None = None,
        event_id: Any = None,
    ) -> RecordedEvent:
        """Check one event against the negotiation's state and append it.

        Raises IllegalTransition, InvalidEvent, ConcurrencyConflict or DuplicateEvent,
        and writes nothing, when the event is refused.
        """
        event = new_event(negotiation_id, event_type, {} if data is None else data,
                          occurred_at=occurred_at, sources=sources, event_id=event_id)
        return self._append(event.negotiation_id, [event], expected_version)[0]

    def record_many(
        self,
        negotiation_id: str,
        events: Iterable[Mapping[str, Any]],
        *,
        expected_version: int | None = None,
    ) -> list[RecordedEvent]:
        """Append several events to one negotiation in one transaction: all of them or none.

        Each item is a mapping with ``type`` and ``data`` and optionally ``occurred_at``,
        ``sources`` and ``event_id``. Items whose ``event_id`` is already stored with the
        same content are returned as stored and not written again.
        """
        negotiation_id = check_negotiation_id(negotiation_id)
        batch = [self._batch_item(negotiation_id, i, item) for i, item in enumerate(events)]
        if not batch:
            raise InvalidEvent("record_many needs at least one event")
        return self._append(negotiation_id, batch, expected_version)

    def check_many(self, negotiation_id: str, events: Iterable[Mapping[str, Any]]) -> None:
        """Raise what ``record_many`` would raise for these events, writing nothing either way."""
        negotiation_id = check_negotiation_id(negotiation_id)
        batch = [self._batch_item(negotiation_id, i, item) for i, item in enumerate(events)]
        self._append(negotiation_id, batch, None, write=False)

    @staticmethod
    def _batch_item(negotiation_id: str, index: int, item: Mapping[str, Any]) -> NewEvent:
        if not isinstance(item, Mapping):
            raise InvalidEvent(f"events[{index}] must be a mapping, got {type(item).__name__}")
        unknown = set(item) - _BATCH_KEYS
        if unknown:
            raise InvalidEvent(f"events[{index}] has unknown keys: {', '.join(sorted(map(str, unknown)))}")
        if "type" not in item:
            raise InvalidEvent(f"events[{index}] has no type")
        try:
            return new_event(negotiation_id, item["type"], item.get("data", {}),
                             occurred_at=item.get("occurred_at"), sources=item.get("sources", ()),
                             event_id=item.get("event_id"))
        except InvalidEvent as e:
            raise InvalidEvent(f"events[{index}]: {e}") from None

    def _append(self, negotiation_id: str, batch: Sequence[NewEvent],
                expected_version: int | None, write: bool = True) -> list[RecordedEvent]:
        if expected_version is not None and (
            isinstance(expected_version, bool) or not isinstance(expected_version, int) or expected_version < 0
        ):
            raise InvalidEvent(f"expected_version must be a whole number >= 0, got {expected_version!r}")
        ids = [event.event_id for event in batch]
        if len(set(ids)) != len(ids):
            raise InvalidEvent("the same event_id appears twice in one batch")
        seen: list[int] = []
        try:
            with self._store.writing() as conn:
                return self._append_in(conn, negotiation_id, batch, expected_version, seen, write)
        except WriteRace:
            # Another writer appended between our read and our insert.
            with self._store.reading() as conn:
                actual = EventStore.version(conn, negotiation_id)
            expected = expected_version if expected_version is not None else seen[0] if seen else 0
            raise ConcurrencyConflict(negotiation_id, expected, actual) from None

    def _append_in(self, conn: Connection, negotiation_id: str, batch: Sequence[NewEvent],
                   expected_version: int | None, seen: list[int], write: bool) -> list[RecordedEvent]:
        stored = EventStore.by_ids(conn, [event.event_id for event in batch])
        for event in batch:
            if event.event_id in stored:
                difference = content_difference(stored[event.event_id], event)
                if difference:
                    raise DuplicateEvent(event.event_id, difference)
        fresh = [event for event in batch if event.event_id not in stored]
        if not fresh:  # a retried write: everything is already there
            return [stored[event.event_id] for event in batch]

        stream = EventStore.stream(conn, negotiation_id)
        current = fold(negotiation_id, stream)
        seen.append(current.version)
        if expected_version is not None and expected_version != current.version:
            raise ConcurrencyConflict(negotiation_id, expected_version, current.version)
        previous_hash = stream[-1].hash if stream else GENESIS
        now = datetime.now(timezone.utc)
        pending = []
        for event in fresh:
            occurred_at = event.occurred_at or now
            current = decide(current, event, occurred_at)
            unhashed = RecordedEvent(
                event_id=event.event_id, negotiation_id=negotiation_id, version=current.version,
                position=0, type=event.type, data=event.data, occurred_at=occurred_at,
                recorded_at=now, sources=event.sources, hash="", schema_version=PAYLOAD_SCHEMA_VERSION,
            )
            previous_hash = event_hash(previous_hash, unhashed)
            pending.append(replace(unhashed, hash=previous_hash))
        if not write:
            return []
        positions = EventStore.append(conn, pending)
        written = {event.event_id: replace(event, position=position)
                   for event, position in zip(pending, positions)}
        return [stored.get(event.event_id) or written[event.event_id] for event in batch]

    # -- reading ---------------------------------------------------------------------------

    def history(self, negotiation_id: str) -> list[RecordedEvent]:
        """Every recorded event of the negotiation, in version order."""
        negotiation_id = check_negotiation_id(negotiation_id)
        with self._store.reading() as conn:
            recorded = EventStore.stream(conn, negotiation_id)
        if not recorded:
            raise UnknownNegotiation(negotiation_id)
        return recorded

    def get(self, negotiation_id: str) -> Negotiation:
        """The negotiation as its whole history makes it now."""
        return self.replay(negotiation_id)

    def replay(self, negotiation_id: str, until_version: int | None = None) -> Negotiation:
        """The negotiation as it stood after ``until_version`` (default: its latest event)."""
        if until_version is not None and (
            isinstance(until_version, bool) or not isinstance(until_version, int) or until_version < 1
        ):
            raise InvalidEvent(f"until_version must be a whole number >= 1, got {until_version!r}")
        negotiation_id = check_negotiation_id(negotiation_id)
        with self._store.reading() as conn:
            recorded = EventStore.stream(conn, negotiation_id, until_version)
        if not recorded:
            raise UnknownNegotiation(negotiation_id)
        if until_version is not None and recorded[-1].version < until_version:
            raise InvalidEvent(
                f"negotiation {negotiation_id!r} has only {recorded[-1].version} events, "
                f"not {until_version}"
            )
        return fold(negotiation_id, recorded)

    def steps(self, negotiation_id: str) -> Iterator[tuple[RecordedEvent, Negotiation]]:
        """Each recorded event with the negotiation as it stood right after it."""
        state: Negotiation | None = None
        for recorded in self.history(negotiation_id):
            state = fold(negotiation_id, [recorded], state)
            yield recorded, state

    def version(self, negotiation_id: str) -> int:
        """The negotiation's latest version: 0 if nothing is recorded for it yet."""
        negotiation_id = check_negotiation_id(negotiation_id)
        with self._store.reading() as conn:
            return EventStore.version(conn, negotiation_id)

    def negotiations(self) -> list[str]:
        """Ids of every negotiation with at least one event, in the order they were opened."""
        with self._store.reading() as conn:
            return EventStore.negotiation_ids(conn)

    def verify(self) -> VerifyReport:
        """Walk the whole log and report, per negotiation, the first event that breaks its hash chain."""
        report = VerifyReport()
        with self._store.reading() as conn:
            for _negotiation_id, stream in groupby(EventStore.every_stream(conn), key=lambda e: e.negotiation_id):
                count, broken = walk(stream)
                report.negotiations += 1
                report.events += count
                if broken is not None:
                    report.broken.append(broken)
        return report

    def read_all(self, after: int = 0, limit: int | None = None) -> list[RecordedEvent]:
        """Recorded events with a position greater than ``after``, in position order."""
        for name, value, least in (("after", after, 0), ("limit", limit, 1)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < least):
                raise InvalidEvent(f"{name} must be a whole number >= {least}, got {value!r}")
        with self._store.reading() as conn:
            return EventStore.all_after(conn, after, limit)
