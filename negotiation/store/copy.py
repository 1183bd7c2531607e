"""Copy the whole log to another database, entry for entry: the way to move to a bigger one.

The target gets every entry of the source exactly as stored: its event id,
negotiation, version, position, type, data, the three times, sources and
hash, so the hash chains verify there as they do here. What is derived from
the log is rebuilt on the target from the copied entries, in the same
transaction as each chunk: each negotiation's kept state
(``negotiation_heads``: its story folded after the chunk's last entry of it)
and the index of sources (``entry_sources``). Projections (``negotiation_states``
and their checkpoints) are not copied: they catch up on the target by reading
its log, as they do anywhere.

The copy runs in chunks of about ``CHUNK`` entries, one transaction each, cut
only between the source's own transactions (entries recorded together, which
share their recording time), so every state kept on the target after a chunk
is one the source held. Stopped midway, it is run again and completes: the
entries already on the target must be exactly the source's first ones, and
the copy resumes after the last of them. A target holding anything else is
refused and left as it was.

On PostgreSQL the positions are inserted as they were, so the sequence that
hands out new ones (the ``position`` column is a ``BIGSERIAL``) is moved past
the highest copied position in every chunk: appends on the target go on from
there.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import Connection, Table, bindparam, func, select, text
from sqlalchemy.engine import make_url

from ..domain.aggregate import Negotiation, StoryBreak, fold, fold_story, snapshot
from ..domain.entries import RecordedEvent
from ..domain.payloads import CORRECTION_TYPES
from ..domain.story import story_of
from ..errors import NegotiationError
from . import migrate
from .eventstore import EventStore, make_engine, resolve_url
from .schema import entry_sources, events, heads

#: Entries per transaction: big enough to be fast, small enough that a stopped copy keeps most of its work.
CHUNK = 2000


class CopyRefused(NegotiationError):
    """The copy cannot start: the target is the source, or holds entries that are not the source's first."""


@dataclass
class CopyReport:
    """What a copy did: entries copied now, entries found already copied, and the target's size after."""

    copied: int = 0
    already_there: int = 0
    negotiations: int = 0
    entries: int = 0
    seconds: float = 0.0

    @property
    def per_second(self) -> float:
        """Entries copied a second by this run."""
        return self.copied / self.seconds if self.seconds else 0.0


@dataclass
class _Kept:
    """A negotiation's state after the entries copied so far, and whether its log is its own story."""

    negotiation: Negotiation
    in_world_order: bool


def shown(url: str) -> str:
    """A URL as messages show it: any password masked."""
    return make_url(url).render_as_string(hide_password=True)


def copy_log(source_url: str | None, target_url: str, *, chunk: int = CHUNK,
             progress: Callable[[int, int], None] = lambda _done, _total: None) -> CopyReport:
    """Copy every entry of the log at ``source_url`` to ``target_url``, exactly as stored.

    The source must be at the latest schema revision (it is only read); the
    target is created or brought up to date. ``progress(done, total)`` is
    called after each committed chunk with the entries on the target so far
    and the source's total. Raises CopyRefused when the target is the source
    or holds entries other than the source's first ones, writing nothing.
    """
    source_url, target_url = resolve_url(source_url), resolve_url(target_url)
    if _same_database(source_url, target_url):
        raise CopyRefused(f"{shown(target_url)} is the database being copied: copy to another one")
    source, target = EventStore(make_engine(source_url)), EventStore(make_engine(target_url))
    try:
        with source.translating_errors():
            migrate.require_head(source.engine)
        with target.translating_errors():
            migrate.upgrade(target.engine)
        return _copy(source, target, chunk, progress)
    finally:
        source.engine.dispose()
        target.engine.dispose()


def _same_database(first: str, second: str) -> bool:
    one, other = make_url(first), make_url(second)
    if one.get_backend_name() != other.get_backend_name():
        return False
    if one.get_backend_name() == "sqlite":
        return bool(one.database) and one.database != ":memory:" and \
            Path(one.database or "").resolve() == Path(other.database or "").resolve()
    return (one.host, one.port, one.database) == (other.host, other.port, other.database)


def _copy(source: EventStore, target: EventStore, chunk: int, progress: Callable[[int, int], None]) -> CopyReport:
    started = time.perf_counter()
    report = CopyReport()
    kept: dict[str, _Kept] = {}
    with source.reading() as read:
        last = read.scalar(select(func.max(events.c.position))) or 0
        total = read.scalar(select(func.count()).select_from(events).where(events.c.position <= last)) or 0
        with target.reading() as there:
            after, report.already_there = _copied_before(read, there, source, target)
        progress(report.already_there, total)
        for rows in _chunks(read, after, last, chunk):
            with target.writing() as write:
                _insert(write, rows)
                _keep_states(write, rows, kept)
                _move_sequence(write, rows[-1].position)
            report.copied += len(rows)
            progress(report.already_there + report.copied, total)
    with target.reading() as there:
        report.negotiations = there.scalar(select(func.count()).select_from(heads)) or 0
        report.entries = there.scalar(select(func.count()).select_from(events)) or 0
    report.seconds = time.perf_counter() - started
    return report


def _copied_before(read: Connection, there: Connection, source: EventStore, target: EventStore) -> tuple[int, int]:
    """The position after which to copy and how many entries the target already has (a copy stopped midway).

    Those entries must be the source's first ones, exactly; anything else on
    the target is refused.
    """
    held = there.scalar(select(func.count()).select_from(events)) or 0
    if not held:
        if there.scalar(select(func.count()).select_from(heads)):
            raise CopyRefused(f"{_where(target)} has negotiation states but no log: copy to an empty database")
        return 0, 0
    after, page = 0, 1000
    while True:
        ours = EventStore.all_after(there, after, page)
        if not ours:
            return after, held
        theirs = EventStore.all_after(read, after, page)
        for mine, original in zip(ours, [*theirs, *[None] * (len(ours) - len(theirs))]):
            if mine != original:
                raise CopyRefused(
                    f"{_where(target)} already holds {held} entries that are not the first entries of "
                    f"{_where(source)} (position {mine.position} differs): copy to an empty database, or run "
                    "again a copy that stopped to complete it; nothing was written")
        after = ours[-1].position


def _where(store: EventStore) -> str:
    return store.engine.url.render_as_string(hide_password=True)


def _chunks(read: Connection, after: int, last: int, size: int) -> Iterator[list[RecordedEvent]]:
    """The source's entries after ``after`` up to ``last``, in position order, in chunks of about ``size``.

    A chunk ends only where the next entry was recorded at another time: the
    entries of one transaction share their recording time, so a chunk never
    splits what the source wrote together.
    """
    buffer: list[RecordedEvent] = []
    position, done = after, False
    while not done:
        page = [row for row in EventStore.all_after(read, position, size) if row.position <= last]
        done = len(page) < size
        if page:
            position = page[-1].position
        buffer.extend(page)
        while buffer:
            cut = len(buffer) if done else _cut(buffer, size)
            if cut is None:
                break
            yield buffer[:cut]
            buffer = buffer[cut:]


def _cut(rows: Sequence[RecordedEvent], size: int) -> int | None:
    """Where to end a chunk: the last boundary between two recording times within ``size`` entries, else the
    first one after; None when ``rows`` holds none (more must be read to find one)."""
    if len(rows) < size:
        return None
    for index in chain(range(min(size, len(rows) - 1), 0, -1), range(size + 1, len(rows))):
        if rows[index - 1].recorded_at != rows[index].recorded_at:
            return index
    return None


def _insert(write: Connection, rows: Sequence[RecordedEvent]) -> None:
    """Insert the entries as they were stored, positions included, and the index of their sources."""
    _insert_many(write, events, [
        {"position": row.position, "event_id": row.event_id, "negotiation_id": row.negotiation_id,
         "version": row.version, "type": row.type, "data": row.data, "schema_version": row.schema_version,
         "occurred_at": row.occurred_at, "recorded_at": row.recorded_at, "sources": list(row.sources),
         "hash": row.hash, "reported_at": row.reported_at}
        for row in rows])
    _insert_many(write, entry_sources, [
        {"source": source, "position": row.position, "negotiation_id": row.negotiation_id}
        for row in rows for source in dict.fromkeys(row.sources)])


def _insert_many(write: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows in one go: by the driver's executemany on SQLite, by ``COPY ... FROM STDIN`` on PostgreSQL.

    COPY runs in the same transaction and fires the same triggers as INSERT;
    it is many times faster than any INSERT for thousands of rows. Values go
    as Core would send them: JSON as the engine's serialiser writes it (jsonb
    keeps its meaning, not its text), times as aware datetimes for timestamptz; the JSON
    columns are the only ones given dicts and lists.
    """
    if not rows:
        return
    if write.dialect.name != "postgresql":
        write.execute(table.insert(), rows)
        return
    columns = list(rows[0])
    driver = write.connection.driver_connection
    assert driver is not None
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([_json_text(value) if isinstance(value, (dict, list)) else value
                            for value in (row[column] for column in columns)])


def _json_text(value: Any) -> str:
    """A JSON column's value as the engine's serialiser writes it (only dicts and lists go in JSON columns here)."""
    return orjson.dumps(value).decode()


def _keep_states(write: Connection, rows: Sequence[RecordedEvent], states: dict[str, _Kept]) -> None:
    """Write each negotiation's state after its last entry in the chunk: its story folded.

    A negotiation whose log is its own story so far (no corrections, dates in
    order) is folded on from its state after the previous chunk; any other is
    read back from the target, with this chunk's entries, and its whole story
    folded, as the ledger does.
    """
    touched: dict[str, list[RecordedEvent]] = {}
    for row in rows:
        touched.setdefault(row.negotiation_id, []).append(row)
    opened: list[dict[str, Any]] = []
    moved: list[dict[str, Any]] = []
    for negotiation_id, new in touched.items():
        kept = states.get(negotiation_id)
        if kept is None and new[0].version == 1:
            kept = _Kept(Negotiation(id=negotiation_id), in_world_order=True)
        if kept is not None and kept.in_world_order and _continues(kept.negotiation, new):
            state = _Kept(_folded(negotiation_id, new, kept.negotiation), in_world_order=True)
        else:
            state = _Kept(_told(negotiation_id, EventStore.stream(write, negotiation_id)), in_world_order=False)
        head = {"version": state.negotiation.version, "state": state.negotiation.state,
                "snapshot": snapshot(state.negotiation), "last_hash": new[-1].hash}
        if new[0].version == 1:
            opened.append({"negotiation_id": negotiation_id, "opened_at_position": new[0].position, **head})
        else:
            moved.append({"key": negotiation_id, **head})
        states[negotiation_id] = state
    _insert_many(write, heads, opened)
    if moved:
        write.execute(_UPDATE_HEAD, moved)


_UPDATE_HEAD = (heads.update().where(heads.c.negotiation_id == bindparam("key"))
                .values(version=bindparam("version"), state=bindparam("state"), snapshot=bindparam("snapshot"),
                        last_hash=bindparam("last_hash")))


def _continues(negotiation: Negotiation, new: Sequence[RecordedEvent]) -> bool:
    """Whether the new entries only extend the story: events, none dated before the one before it."""
    last = negotiation.updated_at
    for entry in new:
        if entry.type in CORRECTION_TYPES or (last is not None and entry.occurred_at < last):
            return False
        last = entry.occurred_at
    return True


def _folded(negotiation_id: str, new: Sequence[RecordedEvent], start: Negotiation) -> Negotiation:
    try:
        return fold(negotiation_id, new, start if start.version else None)
    except NegotiationError as e:
        raise CopyRefused(f"the log being copied does not replay ({e}): run `negotiation verify` on it") from None


def _told(negotiation_id: str, entries: Sequence[RecordedEvent]) -> Negotiation:
    """The negotiation its whole story gives, as ``Ledger.get`` keeps it."""
    try:
        return fold_story(negotiation_id, story_of(entries), version=entries[-1].version)
    except StoryBreak as broken:
        raise CopyRefused(f"the log being copied does not replay: negotiation {negotiation_id!r} breaks at version "
                          f"{broken.event.version}: run `negotiation verify` on it") from None


def _move_sequence(write: Connection, position: int) -> None:
    """On PostgreSQL, make the next position handed out come after ``position``."""
    if write.dialect.name == "postgresql":
        write.execute(text("SELECT setval(pg_get_serial_sequence('negotiation_events', 'position'), :position)"),
                      {"position": position})
