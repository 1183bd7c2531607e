"""The log in this process's memory: a recorder for tests and scratch work (``Ledger.open("memory://")``).

It keeps the promises of the SQL recorders: one writer at a time, all of a
transaction or none of it, positions in commit order, a unique event id and
(negotiation, version), what a reader sees fixed when its read began; and it
answers every question as they do (the contract suite runs on all three).
What it holds is gone when the process ends; projections, which keep tables
of their own, need a SQL database.
"""

from __future__ import annotations

import threading
import time
import uuid
from bisect import bisect_right
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..domain.aggregate import Negotiation, snapshot
from ..domain.entries import RecordedEvent
from ..domain.payloads import CORRECTED, RETRACTED
from ..domain.sources import outlets, read_sources
from .recorder import EventRow, Head, SourceCount, StoryRow
from .waiting import BackOff, Waiter
from .writers import WriteRace

#: The URL that opens a new, empty log in memory.
MEMORY_URL = "memory://"


def _copied(value: Any) -> Any:
    """A JSON value as a database hands it back: a copy, so that no caller shares it with the log."""
    return orjson.loads(orjson.dumps(value))


@dataclass(frozen=True, slots=True)
class _HeadRow:
    version: int
    state: str
    snapshot: Any
    last_hash: str
    opened_at_position: int


@dataclass
class _Log:
    """What the recorder holds; only a writer holding the lock changes it."""

    entries: list[RecordedEvent] = field(default_factory=list)  # in position order
    streams: dict[str, list[RecordedEvent]] = field(default_factory=dict)
    by_id: dict[str, RecordedEvent] = field(default_factory=dict)
    heads: dict[str, _HeadRow] = field(default_factory=dict)
    sources: list[tuple[int, str, str]] = field(default_factory=list)  # (position, source, negotiation), in order
    titles: dict[str, str] = field(default_factory=dict)
    next_position: int = 1


class MemoryView:
    """The log as it stood when a read began: entries only ever get appended, so a length fixes it."""

    def __init__(self, log: _Log, heads: dict[str, _HeadRow]) -> None:
        self._log = log
        self._count = len(log.entries)
        self._last = log.entries[-1].position if log.entries else 0
        self._indexed = len(log.sources)
        self._heads = heads

    def _seen(self, entries: Sequence[RecordedEvent]) -> list[RecordedEvent]:
        return [entry for entry in entries if entry.position <= self._last]

    def visible(self) -> list[RecordedEvent]:
        return self._log.entries[:self._count]

    def indexed(self) -> list[tuple[int, str, str]]:
        """The index of sources as the view sees it."""
        return self._log.sources[:self._indexed]

    def head(self, negotiation_id: str) -> Head | None:
        row = self._heads.get(negotiation_id)
        if row is None:
            return None
        return Head.of(negotiation_id, row.version, row.state, _copied(row.snapshot), row.last_hash)

    def version(self, negotiation_id: str) -> int:
        row = self._heads.get(negotiation_id)
        return row.version if row else 0

    def stream(self, negotiation_id: str, until_version: int | None = None) -> list[RecordedEvent]:
        entries = self._seen(self._log.streams.get(negotiation_id, ()))
        return entries if until_version is None else entries[:max(until_version, 0)]

    def story_rows(self, negotiation_id: str) -> list[StoryRow]:
        return [(entry.version, entry.type, entry.data, entry.occurred_at) for entry in self.stream(negotiation_id)]

    def every_story_row(self) -> Iterator[tuple[str, StoryRow]]:
        for entry in self.every_stream():
            yield entry.negotiation_id, (entry.version, entry.type, entry.data, entry.occurred_at)

    def by_ids(self, event_ids: Sequence[str]) -> dict[str, RecordedEvent]:
        found = (self._log.by_id.get(_canonical(event_id)) for event_id in event_ids)
        return {entry.event_id: entry for entry in found if entry is not None and entry.position <= self._last}

    def all_after(self, after: int, limit: int | None = None) -> list[RecordedEvent]:
        entries = self.visible()
        start = bisect_right(entries, after, key=lambda entry: entry.position)
        return entries[start:] if limit is None else entries[start:start + limit]

    def following(self, after: int, limit: int, *, negotiation_id: str | None = None,
                  types: Sequence[str] | None = None) -> tuple[list[RecordedEvent], int]:
        end = self._last
        if end <= after:
            return [], after
        found: list[RecordedEvent] = []
        for entry in self.all_after(after):
            if ((negotiation_id is None or entry.negotiation_id == negotiation_id)
                    and (types is None or entry.type in types)):
                found.append(entry)
                if len(found) == limit:
                    return found, entry.position
        return found, end

    def end_of_log(self) -> int:
        return self._last

    def count(self) -> int:
        return len(self.visible())

    def by_source(self, source: str, negotiation_id: str | None = None) -> list[RecordedEvent]:
        positions = {position for position, named, negotiation in self.indexed()
                     if named == source and negotiation_id in (None, negotiation)}
        return [entry for entry in self.visible() if entry.position in positions]

    def source_counts(self) -> list[SourceCount]:
        entries: dict[str, int] = {}
        negotiations: dict[str, set[str]] = {}
        for _position, source, negotiation_id in self.indexed():
            entries[source] = entries.get(source, 0) + 1
            negotiations.setdefault(source, set()).add(negotiation_id)
        return [SourceCount(source, count, len(negotiations[source])) for source, count in entries.items()]

    def titles(self) -> dict[str, str]:
        return dict(self._log.titles)

    def corrections(self) -> list[tuple[str, Mapping[str, Any]]]:
        return [(entry.type, entry.data) for entry in self.visible() if entry.type in (RETRACTED, CORRECTED)]

    def every_stream(self) -> Iterator[RecordedEvent]:
        for negotiation_id in sorted(self._heads):  # a negotiation has a head from its first entry on
            yield from self.stream(negotiation_id)

    def in_log_order(self) -> Iterator[RecordedEvent]:
        yield from self.visible()

    def indexed_sources(self) -> Iterator[tuple[int, str, str]]:
        yield from self.indexed()

    def negotiation_ids(self) -> list[str]:
        return sorted(self._heads, key=lambda negotiation_id: self._heads[negotiation_id].opened_at_position)


class MemoryWriter(MemoryView):
    """A writing transaction: its changes are kept aside and join the log only when it commits."""

    def __init__(self, log: _Log) -> None:
        super().__init__(log, dict(log.heads))
        self._new: list[RecordedEvent] = []
        self._new_sources: list[tuple[int, str, str]] = []
        self._next = log.next_position
        self.commit_id: int | None = None
        self._titles: dict[str, str] = {}

    # A writer reads what it wrote: its own entries and heads join what the view sees.
    def visible(self) -> list[RecordedEvent]:
        return [*super().visible(), *self._new]

    def stream(self, negotiation_id: str, until_version: int | None = None) -> list[RecordedEvent]:
        entries = [*self._log.streams.get(negotiation_id, ()),
                   *(entry for entry in self._new if entry.negotiation_id == negotiation_id)]
        return entries if until_version is None else entries[:max(until_version, 0)]

    def by_ids(self, event_ids: Sequence[str]) -> dict[str, RecordedEvent]:
        mine = {entry.event_id: entry for entry in self._new}
        wanted = [_canonical(event_id) for event_id in event_ids]
        found = {event_id: self._log.by_id.get(event_id) or mine.get(event_id) for event_id in wanted}
        return {event_id: entry for event_id, entry in found.items() if entry is not None}

    def end_of_log(self) -> int:
        return self._new[-1].position if self._new else self._last

    def following(self, after: int, limit: int, *, negotiation_id: str | None = None,
                  types: Sequence[str] | None = None) -> tuple[list[RecordedEvent], int]:
        self._last = self.end_of_log()
        return super().following(after, limit, negotiation_id=negotiation_id, types=types)

    def indexed(self) -> list[tuple[int, str, str]]:
        return [*self._log.sources, *self._new_sources]

    def append(self, rows: Sequence[EventRow]) -> list[int]:
        taken = {entry.event_id for entry in self._new}
        versions = {(entry.negotiation_id, entry.version) for entry in self._new}
        positions = []
        if self.commit_id is None:
            self.commit_id = self._next
        for row in rows:
            event_id = _canonical(row["event_id"])
            if event_id in self._log.by_id or event_id in taken:
                raise WriteRace(f"UNIQUE constraint failed: negotiation_events.event_id {event_id}")
            stored = self._log.streams.get(row["negotiation_id"], ())
            if row["version"] <= len(stored) or (row["negotiation_id"], row["version"]) in versions:
                raise WriteRace(f"UNIQUE constraint failed: negotiation_events.negotiation_id, version "
                                f"({row['negotiation_id']}, {row['version']})")
            entry = RecordedEvent(
                event_id=event_id, negotiation_id=row["negotiation_id"], version=row["version"],
                position=self._next, type=row["type"], data=_copied(row["data"]), occurred_at=row["occurred_at"],
                recorded_at=row["recorded_at"], sources=read_sources(row["sources"]), hash=row["hash"],
                schema_version=row["schema_version"], reported_at=row["reported_at"], commit_id=self.commit_id)
            self._new.append(entry)
            taken.add(event_id)
            versions.add((entry.negotiation_id, entry.version))
            self._new_sources.extend((entry.position, source, entry.negotiation_id)
                                     for source in outlets(entry.sources))
            positions.append(self._next)
            self._next += 1
        return positions

    def save_head(self, negotiation: Negotiation, last_hash: str, opened_at_position: int | None) -> None:
        before = self._heads.get(negotiation.id)
        if opened_at_position is None:
            if before is None:
                return  # an UPDATE of no row, as on a database
            opened_at_position = before.opened_at_position
        elif before is not None:
            raise WriteRace(f"UNIQUE constraint failed: negotiation_heads.negotiation_id {negotiation.id}")
        self._heads[negotiation.id] = _HeadRow(negotiation.version, negotiation.state,
                                               _copied(snapshot(negotiation)), last_hash, opened_at_position)

    def titles(self) -> dict[str, str]:
        return {**self._log.titles, **self._titles}

    def save_title(self, negotiation_id: str, title: str) -> None:
        self._titles[negotiation_id] = title

    def insert_as_stored(self, entries: Sequence[RecordedEvent]) -> None:
        for entry in entries:
            if entry.event_id in self._log.by_id or entry.position < self._next:
                raise WriteRace(f"entry at position {entry.position} is already in the log")
            kept = RecordedEvent(entry.event_id, entry.negotiation_id, entry.version, entry.position, entry.type,
                                 _copied(entry.data), entry.occurred_at, entry.recorded_at, tuple(entry.sources),
                                 entry.hash, entry.schema_version, entry.reported_at, entry.commit_id)
            self._new.append(kept)
            self._new_sources.extend((kept.position, source, kept.negotiation_id)
                                     for source in outlets(kept.sources))
            self._next = entry.position + 1

    def commit(self) -> None:
        log = self._log
        for entry in self._new:
            log.entries.append(entry)
            log.streams.setdefault(entry.negotiation_id, []).append(entry)
            log.by_id[entry.event_id] = entry
        log.sources.extend(self._new_sources)
        log.titles.update(self._titles)
        log.heads = self._heads
        log.next_position = self._next


def _canonical(event_id: str) -> str:
    """An event id as the SQL recorders read it back: a UUID's canonical text."""
    try:
        return str(uuid.UUID(event_id))
    except ValueError:
        return event_id


class _Changes(Waiter):
    """Waits for a commit to the log it watches (a condition, no polling)."""

    def __init__(self, recorder: MemoryRecorder) -> None:
        self.recorder = recorder
        self.seen = recorder.commits

    def arm(self) -> None:
        self.seen = self.recorder.commits

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        back_off = BackOff()  # a commit notifies the condition; the back-off only notices ``stop``
        deadline = time.monotonic() + seconds
        with self.recorder.changed:
            while self.recorder.commits == self.seen:
                left = deadline - time.monotonic()
                if left <= 0 or stop.is_set():
                    return False
                self.recorder.changed.wait(min(left, back_off.delay))
                back_off.delay = min(back_off.delay * 2, 0.2)
        return True

    def close(self) -> None:
        pass


class MemoryRecorder:
    """A log held in this process, empty when made."""

    def __init__(self) -> None:
        self.url = MEMORY_URL
        self.revisions: tuple[str | None, str | None] = (None, None)  # no schema: nothing to migrate
        self._log = _Log()
        self._lock = threading.Lock()  # the append lock: one writer at a time
        self._publish = threading.Lock()  # a commit joins the log whole: no read begins half-way through it
        self.changed = threading.Condition(threading.Lock())
        self.commits = 0

    @contextmanager
    def reading(self) -> Iterator[MemoryView]:
        with self._publish:
            view = MemoryView(self._log, self._log.heads)  # heads are replaced whole on commit
        yield view

    @contextmanager
    def writing(self) -> Iterator[MemoryWriter]:
        with self._lock:
            writer = MemoryWriter(self._log)
            yield writer
            with self._publish:
                writer.commit()
        with self.changed:
            self.commits += 1
            self.changed.notify_all()

    def current_head(self, negotiation_id: str) -> Head | None:
        with self.reading() as view:
            return view.head(negotiation_id)

    def end_of_log(self) -> int:
        with self.reading() as view:
            return view.end_of_log()

    def waiter(self) -> Waiter:
        return _Changes(self)

    def close(self) -> None:
        pass
