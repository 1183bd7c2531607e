"""The ledger: the public face that checks events against the machine and appends them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from typing import Any

from . import writer
from .domain.aggregate import Negotiation, fold
from .domain.chain import BrokenLink, walk
from .domain.events import (
    NewEvent,
    RecordedEvent,
    check_count,
    check_negotiation_id,
    new_event,
)
from .errors import InvalidEvent, UnknownNegotiation
from .store import migrate
from .store.eventstore import EventStore, make_engine, resolve_url

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

    def __init__(self, store: EventStore) -> None:
        self._store = store
        #: Where the ledger is, safe to show: any password is masked.
        self.url = store.engine.url.render_as_string(hide_password=True)

    @classmethod
    def open(cls, url: str | None = None, *, upgrade: bool = True) -> Ledger:
        """Open the ledger at ``url`` (default ``$NEGOTIATION_DB_URL`` or ``sqlite:///negotiations.db``).

        The schema is brought to the latest migration; with ``upgrade=False`` a
        database not already there is refused instead (StorageError).
        """
        resolved = resolve_url(url)
        engine = make_engine(resolved)
        store = EventStore(engine)
        with store.translating_errors():
            if upgrade:
                migrate.upgrade(engine)
            else:
                migrate.require_head(engine)
        return cls(store)

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
        return self._append(negotiation_id, self._batch(negotiation_id, events), expected_version)

    def _batch(self, negotiation_id: str, events: Iterable[Mapping[str, Any]]) -> list[NewEvent]:
        batch = [self._batch_item(negotiation_id, i, item) for i, item in enumerate(events)]
        if not batch:
            raise InvalidEvent("a batch needs at least one event")
        return batch

    def check_many(self, negotiation_id: str, events: Iterable[Mapping[str, Any]], *,
                   expected_version: int | None = None) -> None:
        """Raise what ``record_many`` would raise for these events now, writing nothing either way."""
        negotiation_id = check_negotiation_id(negotiation_id)
        self._append(negotiation_id, self._batch(negotiation_id, events), expected_version, write=False)

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
        check_count("expected_version", expected_version, 0)
        ids = [event.event_id for event in batch]
        if len(set(ids)) != len(ids):
            raise InvalidEvent("the same event_id appears twice in one batch")
        return writer.append(self._store, negotiation_id, batch, expected_version, write=write)

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
        """The negotiation as its whole history makes it now.

        Read from the state kept beside the log in the same transaction as every
        append, so a long negotiation loads as fast as a short one.
        """
        negotiation_id = check_negotiation_id(negotiation_id)
        with self._store.reading(single_statement=True) as conn:
            head = EventStore.head(conn, negotiation_id)
        if head is None:
            raise UnknownNegotiation(negotiation_id)
        return head.negotiation

    def replay(self, negotiation_id: str, until_version: int | None = None) -> Negotiation:
        """The negotiation as it stood after ``until_version`` (default: its latest event)."""
        check_count("until_version", until_version, 1)
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

    def rebuild_all(self) -> Iterator[Negotiation]:
        """Every negotiation rebuilt by replaying its whole log, ordered by id.

        The log is streamed, so memory stays flat however long it grows; the
        read is one transaction, so the result is one consistent moment.
        """
        with self._store.reading() as conn:
            yield from EventStore.rebuild_all(conn)

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
        """Walk the whole log and report, per negotiation, the first event that breaks its hash chain.

        Also checks that the state kept beside the log is what replaying the log gives.
        """
        report = VerifyReport()
        seen: set[str] = set()
        with self._store.reading() as conn:
            for negotiation_id, stream in groupby(EventStore.every_stream(conn), key=lambda e: e.negotiation_id):
                events = list(stream)
                seen.add(negotiation_id)
                count, broken = walk(events)
                report.negotiations += 1
                report.events += count
                if broken is not None:
                    report.broken.append(broken)
                    continue
                head = EventStore.head(conn, negotiation_id)
                last = events[-1]
                if head is None or head.last_hash != last.hash or head.negotiation != fold(negotiation_id, events):
                    report.broken.append(BrokenLink(negotiation_id, last.version, last.event_id, last.position,
                                                    "the stored current state is not what its history gives"))
            for negotiation_id in set(EventStore.negotiation_ids(conn)) - seen:
                report.broken.append(BrokenLink(negotiation_id, 0, "-", 0, "its events are missing from the log"))
        return report

    def read_all(self, after: int = 0, limit: int | None = None) -> list[RecordedEvent]:
        """Recorded events with a position greater than ``after``, in position order."""
        check_count("after", after, 0)
        check_count("limit", limit, 1)
        with self._store.reading() as conn:
            return EventStore.all_after(conn, after, limit)
