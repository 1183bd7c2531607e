"""Loading event files into a ledger: checked whole first, then written one chunk per transaction.

What a load promises:

* Every file is read and every negotiation checked against the stored state
  before anything is written: a load refused then (a malformed file:
  InvalidEvent from read_streams; an event the ledger refuses: LoadError)
  writes nothing.
* Otherwise the events are written in chunks of at most CHUNK events of one
  negotiation, each chunk its own transaction, so a load stopped midway keeps
  every chunk committed before it and nothing of the chunk it was writing.
  It stops when the process dies, or when a chunk is refused at write time
  (another writer changed the negotiation since the check: ConcurrencyConflict;
  the database failed: StorageError); then LoadStopped says which
  negotiations and events were written and which were not.
* Event ids are derived from the files, so re-running the same load skips
  what is stored and records the rest: it completes a stopped load without
  duplicating anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..bundled import bundled
from ..errors import InvalidEvent, NegotiationError
from ..ledger import Ledger
from .reading import SeedStream, read_seed_file

#: Events per transaction when loading a long negotiation: big enough to be
#: fast, small enough that progress shows and an interrupted load keeps most.
CHUNK = 1000


class LoadError(NegotiationError):
    """A negotiation in the files is refused while checking, before any write: the load wrote nothing."""


@dataclass
class LoadReport:
    """What a load did: negotiations handled, events it recorded, events it found already stored."""

    negotiations: int = 0
    recorded: int = 0
    already_stored: int = 0


class LoadStopped(NegotiationError):
    """A chunk was refused at write time: the chunks before it are stored, it and everything after are not.

    ``report`` counts what the load wrote before it stopped; ``complete`` names
    the negotiations written in full, ``stopped_at`` the one whose first
    ``stored_events`` events were written and no more, ``not_loaded`` the
    negotiations after it, not written by this load. Re-running the load
    completes it.
    """

    def __init__(self, streams: Sequence[SeedStream], index: int, start: int, size: int, report: LoadReport,
                 cause: NegotiationError) -> None:
        stream = streams[index]
        self.report = report
        self.complete = [s.negotiation_id for s in streams[:index]]
        self.stopped_at = stream.negotiation_id
        self.stored_events = start
        self.not_loaded = [s.negotiation_id for s in streams[index + 1:]]
        later_events = sum(len(s.events) for s in streams[index + 1:])
        written = [f"{_names(self.complete)} in full"] if self.complete else []
        if start:
            written.append(f"{self.stopped_at} events 1-{start}")
        not_written = [f"{self.stopped_at} events {start + 1}-{len(stream.events)}"]
        if self.not_loaded:
            not_written.append(f"{_names(self.not_loaded)} with {later_events} events")
        super().__init__(
            f"{stream.source}: {self.stopped_at}: load stopped at events {start + 1}-{start + size}: {cause}; "
            f"written: {' and '.join(written) or 'nothing'} ({report.recorded} events recorded, "
            f"{report.already_stored} already stored); not written: {' and '.join(not_written)}; "
            "re-run the load to complete it (events already stored are skipped)"
        )


def _names(ids: Sequence[str]) -> str:
    """``n negotiations (a, b, c)``, eliding the middle of a long list."""
    shown = ", ".join(ids) if len(ids) <= 5 else f"{', '.join(ids[:3])}, ... {ids[-1]}"
    return f"{len(ids)} negotiation{'s' if len(ids) != 1 else ''} ({shown})"


def seeds_dir() -> Path:
    """The seed files shipped with the package, or the checkout's ``seeds/``."""
    return bundled("seeds")


def seed_files() -> list[Path]:
    return sorted(seeds_dir().glob("*.yaml"))


def read_streams(paths: Iterable[str | Path]) -> list[SeedStream]:
    """Read every file first, so a malformed one is reported before anything is written.

    A negotiation's events live in one document: event ids are derived from
    their place in it, so a second document naming the same negotiation is refused.
    """
    streams = [stream for path in paths for stream in read_seed_file(path)]
    first: dict[str, SeedStream] = {}
    for stream in streams:
        if stream.negotiation_id in first:
            raise InvalidEvent(f"{stream.source}: negotiation {stream.negotiation_id!r} already has a document in "
                               f"{first[stream.negotiation_id].source}; keep its events in one document")
        first[stream.negotiation_id] = stream
    return streams


def load_streams(
    ledger: Ledger,
    streams: Iterable[SeedStream],
    progress: Callable[[int], None] = lambda _n: None,
) -> LoadReport:
    """Record every stream's events; events already stored with the same content are skipped.

    First every stream is checked against the stored state, writing nothing: a
    refusal raises LoadError and leaves the database as it was. Then each
    stream is written in chunks of at most CHUNK events, one transaction each,
    and ``progress`` is called with the size of each chunk once it is committed.
    A chunk must find its negotiation at the version the check (or the previous
    chunk) left it at; if another writer changed it in between, or the chunk is
    refused for any other reason, LoadStopped is raised: the chunks committed
    before it stay stored, nothing of it or after it is, and the message says
    which. Re-running the load records only what is missing.
    """
    streams = list(streams)
    versions: list[int] = []
    for stream in streams:
        try:
            version = ledger.version(stream.negotiation_id)
            ledger.check_many(stream.negotiation_id, stream.events, expected_version=version)
        except NegotiationError as e:
            raise LoadError(f"{stream.source}: {stream.negotiation_id}: {e}; nothing was written") from e
        versions.append(version)
    report = LoadReport()
    for index, (stream, version) in enumerate(zip(streams, versions)):
        for start in range(0, len(stream.events), CHUNK):
            chunk = stream.events[start:start + CHUNK]
            try:
                recorded = ledger.record_many(stream.negotiation_id, chunk, expected_version=version)
            except NegotiationError as e:
                raise LoadStopped(streams, index, start, len(chunk), report, e) from e
            # Events already stored come back with the versions they had; new ones extend the stream.
            fresh = sum(1 for event in recorded if event.version > version)
            version = max(version, *(event.version for event in recorded))
            report.recorded += fresh
            report.already_stored += len(chunk) - fresh
            progress(len(chunk))
        report.negotiations += 1
    return report
