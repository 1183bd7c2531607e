"""The reads every SQL recorder answers the same way, as SQLAlchemy Core statements on its connection.

A recorder's session subclasses ``CoreReads`` and gives it the Core
``Connection`` of its transaction; the hot statements (an append, a head, a
negotiation's stream) are the recorder's own.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, distinct, func, select, text

from ..domain.entries import RecordedEvent
from ..domain.sources import read_sources
from .recorder import SourceCount
from .schema import CORRECTIONS_ONLY, entry_sources, events, heads, titles

COLUMNS = (
    events.c.event_id,
    events.c.negotiation_id,
    events.c.version,
    events.c.position,
    events.c.type,
    events.c.data,
    events.c.occurred_at,
    events.c.recorded_at,
    events.c.sources,
    events.c.hash,
    events.c.schema_version,
    events.c.reported_at,
    events.c.commit_id,
)

#: Rows a streamed scan fetches at a time.
PAGE = 5000


def recorded(row: Any) -> RecordedEvent:
    """A log row read through Core as the entry it is."""
    return RecordedEvent(
        event_id=row.event_id,
        negotiation_id=row.negotiation_id,
        version=row.version,
        position=row.position,
        type=row.type,
        data=row.data,
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
        sources=read_sources(row.sources),
        hash=row.hash,
        schema_version=row.schema_version,
        reported_at=row.reported_at,
        commit_id=row.commit_id,
    )


class CoreReads:
    """The ``Reader`` methods that are plain Core queries."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def version(self, negotiation_id: str) -> int:
        query = select(heads.c.version).where(heads.c.negotiation_id == negotiation_id)
        return self.conn.scalar(query) or 0

    def stream(self, negotiation_id: str, until_version: int | None = None) -> list[RecordedEvent]:
        query = select(*COLUMNS).where(events.c.negotiation_id == negotiation_id)
        if until_version is not None:
            query = query.where(events.c.version <= until_version)
        return [recorded(row) for row in self.conn.execute(query.order_by(events.c.version))]

    def by_ids(self, event_ids: Sequence[str], chunk: int = 1000) -> dict[str, RecordedEvent]:
        found: dict[str, RecordedEvent] = {}
        for start in range(0, len(event_ids), chunk):  # drivers cap the parameters of one statement
            query = select(*COLUMNS).where(events.c.event_id.in_(event_ids[start:start + chunk]))
            found.update((row.event_id, recorded(row)) for row in self.conn.execute(query))
        return found

    def all_after(self, after: int, limit: int | None = None) -> list[RecordedEvent]:
        query = select(*COLUMNS).where(events.c.position > after).order_by(events.c.position)
        if limit is not None:
            query = query.limit(limit)
        return [recorded(row) for row in self.conn.execute(query)]

    def following(self, after: int, limit: int, *, negotiation_id: str | None = None,
                  types: Sequence[str] | None = None) -> tuple[list[RecordedEvent], int]:
        end = self.end_of_log()
        if end <= after:
            return [], after
        query = select(*COLUMNS).where(events.c.position > after, events.c.position <= end)
        if negotiation_id is not None:
            query = query.where(events.c.negotiation_id == negotiation_id)
        if types is not None:
            query = query.where(events.c.type.in_(types))
        found = [recorded(row) for row in self.conn.execute(query.order_by(events.c.position).limit(limit))]
        return found, found[-1].position if len(found) == limit else end

    def end_of_log(self) -> int:
        return self.conn.scalar(select(func.max(events.c.position))) or 0

    def count(self) -> int:
        return self.conn.scalar(select(func.count()).select_from(events)) or 0

    def by_source(self, source: str, negotiation_id: str | None = None) -> list[RecordedEvent]:
        named = select(entry_sources.c.position).where(entry_sources.c.source == source)
        if negotiation_id is not None:
            named = named.where(entry_sources.c.negotiation_id == negotiation_id)
        query = select(*COLUMNS).where(events.c.position.in_(named)).order_by(events.c.position)
        return [recorded(row) for row in self.conn.execute(query)]

    def source_counts(self) -> list[SourceCount]:
        counted = self.conn.execute(
            select(entry_sources.c.source, func.count(), func.count(distinct(entry_sources.c.negotiation_id)))
            .group_by(entry_sources.c.source))
        return [SourceCount(source, entries, negotiations) for source, entries, negotiations in counted]

    def corrections(self) -> list[tuple[str, Mapping[str, Any]]]:
        # The literal condition of the partial index, so that both databases read it instead of the log.
        query = select(events.c.type, events.c.data).where(text(CORRECTIONS_ONLY))
        return [(kind, data) for kind, data in self.conn.execute(query)]

    def titles(self) -> dict[str, str]:
        return {negotiation_id: title for negotiation_id, title in self.conn.execute(select(titles))}

    def every_stream(self) -> Iterator[RecordedEvent]:
        query = select(*COLUMNS).order_by(events.c.negotiation_id, events.c.version)
        for row in self.conn.execution_options(yield_per=PAGE).execute(query):
            yield recorded(row)

    def in_log_order(self) -> Iterator[RecordedEvent]:
        query = select(*COLUMNS).order_by(events.c.position)
        for row in self.conn.execution_options(yield_per=PAGE).execute(query):
            yield recorded(row)

    def indexed_sources(self) -> Iterator[tuple[int, str, str]]:
        query = select(entry_sources.c.position, entry_sources.c.source, entry_sources.c.negotiation_id
                       ).order_by(entry_sources.c.position)
        for position, source, negotiation_id in self.conn.execution_options(yield_per=PAGE).execute(query):
            yield position, source, negotiation_id

    def negotiation_ids(self) -> list[str]:
        return list(self.conn.scalars(select(heads.c.negotiation_id).order_by(heads.c.opened_at_position)))
