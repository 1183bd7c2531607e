"""Questions about sources, answered from ``entry_sources`` and the index of retractions and corrections.

Each append writes one ``entry_sources`` row per source its entry names, in
the same transaction, so these never read the log entry by entry.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter

from ..domain.chain import BrokenLink
from ..domain.payloads import RETRACTED
from ..domain.sources import outlets
from .recorder import Reader


@dataclass(frozen=True, slots=True)
class SourceSummary:
    """What the log holds from one source."""

    source: str
    #: Entries that name it (events, retractions and corrections alike).
    entries: int
    #: Negotiations with at least one of those entries.
    negotiations: int
    #: Its entries that a later entry retracted.
    retracted: int = 0
    #: Its entries that a later entry corrected (once or more).
    corrected: int = 0


def summaries(view: Reader) -> list[SourceSummary]:
    """Every source named in the log, by name (code point order, the same on every database), with its entries, negotiations, retractions and corrections."""
    counted = view.source_counts()
    changes = view.corrections()
    retracted: set[str] = set()
    corrected: set[str] = set()
    for kind, data in changes:
        (retracted if kind == RETRACTED else corrected).add(data["target"])
    targets = view.by_ids(sorted(retracted | corrected))
    retractions: Counter[str] = Counter()
    corrections: Counter[str] = Counter()
    for event_id, target in targets.items():
        for source in outlets(target.sources):
            retractions[source] += event_id in retracted
            corrections[source] += event_id in corrected
    return sorted((SourceSummary(count.source, count.entries, count.negotiations, retractions[count.source],
                                 corrections[count.source]) for count in counted),
                  key=lambda summary: summary.source)


def index_breaks(view: Reader) -> Iterator[BrokenLink]:
    """The first entry of each negotiation whose sources the index of sources does not hold as it names them.

    Both sides are read in position order and compared a position at a time
    (sets of names, so no collation decides anything).
    """
    indexed = groupby(view.indexed_sources(), key=itemgetter(0))
    pending = next(indexed, None)
    reported: set[str] = set()

    def broken(link: BrokenLink) -> Iterator[BrokenLink]:
        if link.negotiation_id not in reported:
            reported.add(link.negotiation_id)
            yield link

    for entry in view.in_log_order():
        while pending is not None and pending[0] < entry.position:  # index rows of no entry
            rows = list(pending[1])
            yield from broken(BrokenLink(rows[0][2], 0, "-", pending[0],
                                         "the index of sources names an entry the log does not hold"))
            pending = next(indexed, None)
        held: set[tuple[str, str]] = set()
        if pending is not None and pending[0] == entry.position:
            held = {(source, negotiation_id) for _position, source, negotiation_id in pending[1]}
            pending = next(indexed, None)
        if held != {(source, entry.negotiation_id) for source in outlets(entry.sources)}:
            yield from broken(BrokenLink(entry.negotiation_id, entry.version, entry.event_id, entry.position,
                                         "the index of sources does not hold the sources it names"))
    while pending is not None:
        rows = list(pending[1])
        yield from broken(BrokenLink(rows[0][2], 0, "-", pending[0],
                                     "the index of sources names an entry the log does not hold"))
        pending = next(indexed, None)
