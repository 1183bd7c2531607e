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
only between the source's own transactions (the entries each names by its
``commit_id``), so every state kept on the target after a chunk
is one the source held. Stopped midway, it is run again and completes: the
entries already on the target must be exactly the source's first ones, and
the copy resumes after the last of them. A target holding anything else is
refused and left as it was.

The positions are inserted as they were; the target's recorder hands out
the next ones after the highest copied (on PostgreSQL it moves the sequence
behind the ``position`` column in every chunk), so appends there go on from
there.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

from sqlalchemy.engine import make_url

from ..domain.aggregate import Negotiation
from ..domain.entries import RecordedEvent
from ..domain.replay import StatesAfter
from ..errors import NegotiationError, StorageError
from .opening import open_recorder, resolve_url
from .recorder import Reader, Recorder, Writer
from .writers import WriteRace

#: Entries per transaction: big enough to be fast, small enough that a stopped copy keeps most of its work.
CHUNK = 2000


class CopyRefused(NegotiationError):
    """The copy cannot start: the target is the source, or holds entries that are not the source's first."""


class CopyRaced(StorageError):
    """Another writer (another copy, say) stored entries on the target while this copy ran: this one stopped."""


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
    source = open_recorder(source_url, upgrade=False)
    try:
        target = open_recorder(target_url)
        try:
            return _copy(source, target, chunk, progress)
        finally:
            target.close()
    finally:
        source.close()


def _same_database(first: str, second: str) -> bool:
    one, other = make_url(first), make_url(second)
    if one.get_backend_name() != other.get_backend_name():
        return False
    if one.get_backend_name() == "sqlite":
        return bool(one.database) and one.database != ":memory:" and \
            Path(one.database or "").resolve() == Path(other.database or "").resolve()
    return (one.host, one.port, one.database) == (other.host, other.port, other.database)


def _copy(source: Recorder, target: Recorder, chunk: int, progress: Callable[[int, int], None]) -> CopyReport:
    started = time.perf_counter()
    report = CopyReport()
    states = StatesAfter()
    with source.reading() as read:
        total = read.count()
        last = read.end_of_log()
        with target.reading() as there:
            after, report.already_there = _copied_before(read, there, source, target)
        progress(report.already_there, total)
        for rows in _chunks(read, after, last, chunk):
            try:
                with target.writing() as write:
                    write.insert_as_stored(rows)
                    _keep_states(write, rows, states)
            except WriteRace as e:  # the chunk was rolled back whole: the target holds what the other wrote
                raise CopyRaced(
                    f"{target.url} was written to by another writer while this copy ran (entries from position "
                    f"{rows[0].position} are there already: {e}); this copy stopped and wrote nothing more; "
                    "run it again to check the target and complete it") from e
            report.copied += len(rows)
            progress(report.already_there + report.copied, total)
    with target.reading() as there:
        report.negotiations = len(there.negotiation_ids())
        report.entries = there.count()
    report.seconds = time.perf_counter() - started
    return report


def _copied_before(read: Reader, there: Reader, source: Recorder, target: Recorder) -> tuple[int, int]:
    """The position after which to copy and how many entries the target already has (a copy stopped midway).

    Those entries must be the source's first ones, exactly; anything else on
    the target is refused.
    """
    held = there.count()
    if not held:
        if there.negotiation_ids():
            raise CopyRefused(f"{target.url} has negotiation states but no log: copy to an empty database")
        return 0, 0
    after, page = 0, 1000
    while True:
        ours = there.all_after(after, page)
        if not ours:
            return after, held
        theirs = read.all_after(after, page)
        for mine, original in zip(ours, [*theirs, *[None] * (len(ours) - len(theirs))]):
            if mine != original:
                raise CopyRefused(
                    f"{target.url} already holds {held} entries that are not the first entries of "
                    f"{source.url} (position {mine.position} differs): copy to an empty database, or run "
                    "again a copy that stopped to complete it; nothing was written")
        after = ours[-1].position


def _chunks(read: Reader, after: int, last: int, size: int) -> Iterator[list[RecordedEvent]]:
    """The source's entries after ``after`` up to ``last``, in position order, in chunks of about ``size``.

    A chunk ends only where the next entry was written by another transaction
    (another ``commit_id``), so a chunk never splits what the source wrote together.
    """
    buffer: list[RecordedEvent] = []
    position, done = after, False
    while not done:
        page = [row for row in read.all_after(position, size) if row.position <= last]
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
    """Where to end a chunk: the last boundary between two transactions within ``size`` entries, else the
    first one after; None when ``rows`` holds none (more must be read to find one)."""
    if len(rows) < size:
        return None
    for index in chain(range(min(size, len(rows) - 1), 0, -1), range(size + 1, len(rows))):
        if rows[index - 1].commit_id != rows[index].commit_id:
            return index
    return None


def _keep_states(write: Writer, rows: Sequence[RecordedEvent], states: StatesAfter) -> None:
    """Write each negotiation's state after its last entry in the chunk, as the ledger held it then.

    A chunk never splits a transaction of the source, so each of these is a
    state the source held; a log told again reads the target, which holds the
    chunk's entries already (same transaction).
    """
    last: dict[str, tuple[RecordedEvent, Negotiation]] = {}
    opened: dict[str, int] = {}  # the negotiations whose first entry is in the chunk: where it sits
    for row in rows:
        if row.version == 1:
            opened[row.negotiation_id] = row.position
        try:
            last[row.negotiation_id] = (row, states.after(row, write.stream))
        except NegotiationError as e:
            raise CopyRefused(f"the log being copied does not replay ({e}): run `negotiation verify` on it") from None
    for negotiation_id, (row, state) in last.items():
        write.save_head(state, row.hash, opened.get(negotiation_id))
