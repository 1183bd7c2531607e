"""Code run in child processes by the concurrency and fault tests (importable in a fresh interpreter)."""

from __future__ import annotations

import multiprocessing
import sys
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from negotiation import ConcurrencyConflict, Ledger


def pool(processes: int) -> ProcessPoolExecutor:
    """A pool of ``processes`` separate processes, each with the package already imported.

    They are forked from a server process (multiprocessing's forkserver, one per test process) that
    imported this module once: a fresh interpreter of its own, with no thread and nothing of the test
    process, so each child starts in milliseconds instead of importing everything again.
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return ProcessPoolExecutor(processes, mp_context=context)


def append(url: str, worker: int, negotiation_ids: list[str], events: int, check_version: bool) -> dict[str, Any]:
    """Append ``events`` amendments spread over the negotiations; retry a lost race."""
    accepted, conflicts, ids = 0, 0, []
    with Ledger.open(url, upgrade=False) as ledger:
        for i in range(events):
            negotiation_id = negotiation_ids[(worker + i) % len(negotiation_ids)]
            event_id = str(uuid.uuid4())
            while True:
                expected = ledger.version(negotiation_id) if check_version else None
                try:
                    ledger.record(negotiation_id, "TermsAmended", {"terms": {f"w{worker}": i}},
                                  expected_version=expected, event_id=event_id)
                except ConcurrencyConflict:
                    conflicts += 1
                    continue
                accepted += 1
                ids.append(event_id)
                break
    return {"accepted": accepted, "conflicts": conflicts, "ids": ids}


def load(url: str, path: str) -> tuple[int, int]:
    """Load an event file; what the load reports: events recorded, events already stored."""
    from negotiation.files.loading import load_streams, read_streams

    with Ledger.open(url, upgrade=False) as ledger:
        report = load_streams(ledger, read_streams([path]))
    return report.recorded, report.already_stored


def open_and_count(url: str) -> int:
    """Open (and so migrate) the ledger, then count its negotiations."""
    with Ledger.open(url) as ledger:
        return len(ledger.negotiations())


def follow(url: str, total: int, seconds: float) -> list[tuple[int, str]]:
    """Follow the log by position until ``total`` events were seen (or time runs out)."""
    seen: list[tuple[int, str]] = []
    after = 0
    deadline = time.monotonic() + seconds
    with Ledger.open(url, upgrade=False) as ledger:
        while len(seen) < total and time.monotonic() < deadline:
            page = ledger.read_all(after=after, limit=50)
            seen.extend((event.position, event.event_id) for event in page)
            after = page[-1].position if page else after
            if not page:
                time.sleep(0.002)
    return seen


def stall_inside_a_write(url: str, negotiation_id: str, events: int) -> None:
    """Record a long batch, announce once its rows are inserted, then wait to be killed before commit."""
    from seams import fail_after_rows

    def stall(_transaction: object) -> None:  # the events and the head are written; only the commit is left
        print("inserted, not committed", flush=True)
        time.sleep(60)

    batch = [{"type": "AgreedInPrinciple", "data": {"parties": ["US", "JP"]}}]
    batch += [{"type": "TermsAmended", "data": {"terms": {"n": i}}} for i in range(events - 1)]
    with Ledger.open(url, upgrade=False) as ledger:
        fail_after_rows(ledger.recorder, stall)
        ledger.record_many(negotiation_id, batch)
    print("committed", flush=True)
    sys.exit(0)
