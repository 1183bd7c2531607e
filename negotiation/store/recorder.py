"""What the ledger needs of storage: one port, a recorder per backend.

A recorder owns its connections and its transactions. ``reading()`` gives one
consistent view of the log (``Reader``); ``writing()`` gives a transaction
that holds the log's append lock from its first statement to its commit
(``Writer``): everything written in it is stored, or nothing is, and
positions are handed out in commit order, so a reader following the log by
position never skips an entry nor sees one twice.

Three recorders implement it: ``sqlite.SqliteRecorder`` (the default, a
file), ``postgres.PostgresRecorder`` (for teams) and ``memory.MemoryRecorder``
(a log in this process, for tests and scratch work). Nothing above them asks
which database it is on; driver errors become ``StorageError`` (or the
writer's ``WriteRace``) inside them and nowhere else. They fold nothing: what
a log means is the domain's business.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypedDict, runtime_checkable

from sqlalchemy import Connection, Engine

from ..domain.aggregate import Negotiation, from_snapshot
from ..domain.replay import Row
from ..domain.entries import RecordedEvent
from ..domain.sources import StoredSource
from .waiting import Waiter


class EventRow(TypedDict):
    """A new entry as the writer hands it to ``Writer.append``: everything but its position."""

    event_id: str
    negotiation_id: str
    version: int
    type: str
    data: dict[str, Any]
    schema_version: int
    occurred_at: datetime
    recorded_at: datetime
    #: As the log stores them: names as text, records as objects (``domain.sources.stored_source``).
    sources: list[StoredSource]
    hash: str
    reported_at: datetime


#: What folding a log needs of each entry, in version order: (version, type, data, occurred_at).
StoryRow = Row


@dataclass(frozen=True, slots=True)
class Head:
    """A negotiation's current state and the hash its next event chains to."""

    negotiation: Negotiation
    last_hash: str

    @classmethod
    def of(cls, negotiation_id: str, version: int, state: str, snapshot: Mapping[str, Any], last_hash: str) -> Head:
        """A head from its stored row."""
        return cls(from_snapshot(negotiation_id, state, version, snapshot), last_hash)


@dataclass(frozen=True, slots=True)
class SourceCount:
    """How many entries name a source, and in how many negotiations."""

    source: str
    entries: int
    negotiations: int


class Reader(Protocol):
    """One consistent view of the log."""

    def head(self, negotiation_id: str) -> Head | None:
        """The negotiation's state as kept beside its log; None when it has no entries."""

    def version(self, negotiation_id: str) -> int:
        """The negotiation's latest version; 0 when it has no entries."""

    def stream(self, negotiation_id: str, until_version: int | None = None) -> list[RecordedEvent]:
        """One negotiation's entries in version order (up to ``until_version``)."""

    def story_rows(self, negotiation_id: str) -> list[StoryRow]:
        """One negotiation's entries in version order, as folding needs them."""

    def every_story_row(self) -> Iterator[tuple[str, StoryRow]]:
        """Every entry as folding needs it, with its negotiation, grouped by negotiation in version order."""

    def by_ids(self, event_ids: Sequence[str]) -> dict[str, RecordedEvent]:
        """The stored entries among ``event_ids``, by id."""

    def all_after(self, after: int, limit: int | None = None) -> list[RecordedEvent]:
        """The entries with a position after ``after``, in position order (at most ``limit``)."""

    def following(self, after: int, limit: int, *, negotiation_id: str | None = None,
                  types: Sequence[str] | None = None) -> tuple[list[RecordedEvent], int]:
        """The entries after ``after`` that match, in position order (at most ``limit``), and how far the
        log was read: the last one's position if ``limit`` were found, else the log's end."""

    def end_of_log(self) -> int:
        """The position of the log's last entry; 0 for an empty log."""

    def count(self) -> int:
        """How many entries the log holds."""

    def by_source(self, source: str, negotiation_id: str | None = None) -> list[RecordedEvent]:
        """The entries that name ``source``, in position order, found by the index of sources."""

    def source_counts(self) -> list[SourceCount]:
        """Every source in the index of sources, with its entries and negotiations, in no set order."""

    def corrections(self) -> list[tuple[str, Mapping[str, Any]]]:
        """Every retraction and correction as (type, data), in no set order."""

    def titles(self) -> dict[str, str]:
        """The title of each negotiation that has one, by id."""

    def every_stream(self) -> Iterator[RecordedEvent]:
        """Every entry, grouped by negotiation in version order, streamed rather than loaded whole."""

    def in_log_order(self) -> Iterator[RecordedEvent]:
        """Every entry in position order, streamed rather than loaded whole."""

    def indexed_sources(self) -> Iterator[tuple[int, str, str]]:
        """Every row of the index of sources as (position, source, negotiation_id), in position order."""

    def negotiation_ids(self) -> list[str]:
        """Every negotiation with a head, in the order of the position of its first entry."""


class Writer(Reader, Protocol):
    """A writing transaction: it holds the append lock; its writes are stored together, or none is."""

    #: The transaction's name, given to each entry it appends: the position of its first entry (None before it).
    commit_id: int | None

    def append(self, rows: Sequence[EventRow]) -> list[int]:
        """Insert new entries in order, and their sources into the index; return the positions given them.

        Each is stored with the transaction's ``commit_id``, which the first append sets.

        A row whose event id, or whose (negotiation, version), is already stored raises ``WriteRace``.
        """

    def save_head(self, negotiation: Negotiation, last_hash: str, opened_at_position: int | None) -> None:
        """Write a negotiation's state after an append: ``opened_at_position`` is given for a new one only.

        A second head for a new negotiation raises ``WriteRace``.
        """

    def save_title(self, negotiation_id: str, title: str) -> None:
        """Give a negotiation its title, replacing any it had."""

    def insert_as_stored(self, entries: Sequence[RecordedEvent]) -> None:
        """Insert entries exactly as another log stored them, positions included, and index their sources.

        The next position handed out comes after the highest one inserted.
        """


class Recorder(Protocol):
    """The log on one backend."""

    #: Where the log is, safe to show: any password is masked.
    url: str
    #: The schema's revision when the recorder was opened and after: what opening it migrated.
    revisions: tuple[str | None, str | None]

    def reading(self) -> AbstractContextManager[Reader]:
        """A read transaction: one consistent view of the log."""

    def writing(self) -> AbstractContextManager[Writer]:
        """A write transaction holding the append lock."""

    def current_head(self, negotiation_id: str) -> Head | None:
        """The negotiation's head as one read gives it now: the read of ``Ledger.get``."""

    def end_of_log(self) -> int:
        """The position of the log's last entry now; 0 for an empty log."""

    def waiter(self) -> Waiter:
        """The cheapest way this backend has to wait for the log to grow (``Subscription``, ``watch``)."""

    def close(self) -> None:
        """Release the recorder's connections."""


class ProjectionSession(Protocol):
    """A projection's transaction: the Core connection its tables are written on, and the log followed in it."""

    conn: Connection

    def following(self, after: int, limit: int, *, negotiation_id: str | None = None,
                  types: Sequence[str] | None = None) -> tuple[list[RecordedEvent], int]:
        """As ``Reader.following``, in the projection's transaction."""


@runtime_checkable
class SqlRecorder(Recorder, Protocol):
    """A recorder on a SQL database, where projections keep their tables beside the log."""

    engine: Engine

    def projection_transaction(self, name: str) -> AbstractContextManager[ProjectionSession]:
        """A write transaction for projection ``name``: one runner of it at a time, appenders not held up."""
