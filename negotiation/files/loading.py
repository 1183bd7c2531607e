"""Loading event files into a ledger: idempotent, one transaction per chunk of a negotiation."""

from __future__ import annotations

from collections.abc import Callable, Iterable
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
    """An event file holds an event the ledger refuses; nothing from the load was written."""


@dataclass
class LoadReport:
    negotiations: int = 0
    recorded: int = 0
    already_stored: int = 0


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

    Every stream is checked against the stored state before anything is written,
    so a file with a refused event leaves the database as it was.
    """
    streams = list(streams)
    for stream in streams:
        try:
            ledger.check_many(stream.negotiation_id, stream.events)
        except NegotiationError as e:
            raise LoadError(f"{stream.source}: {stream.negotiation_id}: {e}") from e
    report = LoadReport()
    for stream in streams:
        report.negotiations += 1
        version = ledger.version(stream.negotiation_id)
        for start in range(0, len(stream.events), CHUNK):
            chunk = stream.events[start:start + CHUNK]
            recorded = ledger.record_many(stream.negotiation_id, chunk)
            # Events already stored come back with the versions they had; new ones extend the stream.
            fresh = sum(1 for event in recorded if event.version > version)
            version = max(version, *(event.version for event in recorded))
            report.recorded += fresh
            report.already_stored += len(chunk) - fresh
            progress(len(chunk))
    return report
