"""The audit of ``Ledger.verify``: every hash chain walked, and what is kept beside the log checked against it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import groupby

from .domain.aggregate import Negotiation, fold_log
from .domain.chain import BrokenLink, walk
from .domain.entries import RecordedEvent
from .domain.payloads import CORRECTION_TYPES
from .errors import CorruptHistory
from .store.recorder import Recorder
from .store.sources import index_breaks


@dataclass
class VerifyReport:
    """What ``Ledger.verify`` found: how much it walked and every broken chain."""

    negotiations: int = 0
    events: int = 0
    broken: list[BrokenLink] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.broken


def verify(recorder: Recorder) -> VerifyReport:
    """Walk the whole log, in one read, and report per negotiation the first entry that breaks it.

    An entry breaks a negotiation when its hash does not chain, when a
    retraction or correction names no earlier event of it, or, after the last
    entry, when the state kept beside the log is not what its story gives; the
    index of sources must hold each entry's sources and nothing else.
    """
    report = VerifyReport()
    seen: set[str] = set()
    with recorder.reading() as view:
        for negotiation_id, stream in groupby(view.every_stream(), key=lambda e: e.negotiation_id):
            events = list(stream)
            seen.add(negotiation_id)
            count, broken = walk(events)
            report.negotiations += 1
            report.events += count
            if broken is not None:
                report.broken.append(broken)
                continue
            misaimed = _misaimed_correction(events)
            if misaimed is not None:
                report.broken.append(misaimed)
                continue
            head = view.head(negotiation_id)
            last = events[-1]
            try:
                told: Negotiation | None = fold_log(negotiation_id, events)
            except CorruptHistory:
                told = None
            if head is None or head.last_hash != last.hash or head.negotiation != told:
                report.broken.append(BrokenLink(negotiation_id, last.version, last.event_id, last.position,
                                                "the stored current state is not what its story gives"))
        for negotiation_id in set(view.negotiation_ids()) - seen:
            report.broken.append(BrokenLink(negotiation_id, 0, "-", 0, "its events are missing from the log"))
        named = {link.negotiation_id for link in report.broken}
        report.broken.extend(link for link in index_breaks(view) if link.negotiation_id not in named)
    return report


def _misaimed_correction(entries: Sequence[RecordedEvent]) -> BrokenLink | None:
    """A retraction or correction whose target is not an earlier event of the same negotiation."""
    earlier: set[str] = set()
    for entry in entries:
        if entry.type not in CORRECTION_TYPES:
            earlier.add(entry.event_id)
        elif entry.data.get("target") not in earlier:
            return BrokenLink(entry.negotiation_id, entry.version, entry.event_id, entry.position,
                              f"{entry.type} names no earlier event of this negotiation")
    return None
