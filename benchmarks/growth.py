"""How ``get`` holds up as the log grows, and on one very long negotiation.

One store is grown through each size in turn with the ledger's own append
path (``record_many``); at each size ``get`` is sampled on random
negotiations. Then a single negotiation of many events is appended in large
batches and its ``get`` is timed against a 10-event negotiation's in the same
store.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable, Sequence

from benchmarks.measure import Figures, latencies, percentile
from benchmarks.workload import events_for, negotiation_id, walker
from negotiation.ledger import Ledger

#: Called with the number of events just appended, to drive a progress bar.
Progress = Callable[[int], None]

#: Negotiation indexes of the long negotiation and its 10-event comparison, clear of the grown ones.
LONG_INDEX = 9_000_000
SHORT_INDEX = 9_000_001
SHORT_EVENTS = 10
#: How often each of the long and short negotiations is read; the median is reported.
REPEATS = 5


def grow_and_sample(ledger: Ledger, sizes: Sequence[int], per_negotiation: int, samples: int,
                    seed: int = 0, progress: Progress | None = None) -> list[Figures]:
    """Append ``per_negotiation``-event negotiations until each size is reached; sample ``get`` there.

    A size that is not a whole number of negotiations is rounded up to one.
    """
    rng = random.Random(seed)
    points: list[Figures] = []
    opened = 0
    build_seconds = 0.0
    for size in sorted(sizes):
        wanted = -(-size // per_negotiation)
        start = time.perf_counter()
        for index in range(opened, wanted):
            ledger.record_many(negotiation_id(index), events_for(index, per_negotiation, seed))
            if progress:
                progress(per_negotiation)
        build_seconds += time.perf_counter() - start
        opened = max(opened, wanted)
        picked = [negotiation_id(i) for i in rng.sample(range(opened), min(samples, opened))]
        taken = latencies(ledger.get, picked)
        points.append({
            "events": opened * per_negotiation,
            "negotiations": opened,
            "samples": len(picked),
            "get_p50_us": round(percentile(taken, 0.50) * 1e6, 1),
            "get_p99_us": round(percentile(taken, 0.99) * 1e6, 1),
            "build_seconds_so_far": round(build_seconds, 3),
        })
    return points


def _record_in_batches(ledger: Ledger, index: int, events: int, batch: int, seed: int,
                       progress: Progress | None) -> float:
    walk = walker()
    recorded = 0
    start = time.perf_counter()
    while recorded < events:
        size = min(batch, events - recorded)
        ledger.record_many(negotiation_id(index),
                           events_for(index, size, seed, first_version=recorded + 1, walk=walk))
        recorded += size
        if progress:
            progress(size)
    return time.perf_counter() - start


def _median_get(ledger: Ledger, index: int) -> float:
    return statistics.median(latencies(ledger.get, [negotiation_id(index)] * REPEATS))


def long_negotiation(ledger: Ledger, events: int, batch: int, seed: int = 0,
                     progress: Progress | None = None) -> Figures:
    """Time ``get`` of one ``events``-event negotiation against a 10-event one in the same store."""
    build = _record_in_batches(ledger, LONG_INDEX, events, batch, seed, progress)
    _record_in_batches(ledger, SHORT_INDEX, SHORT_EVENTS, SHORT_EVENTS, seed, None)
    long_get = _median_get(ledger, LONG_INDEX)
    short_get = _median_get(ledger, SHORT_INDEX)
    return {
        "events": events,
        "batch": batch,
        "build_seconds": round(build, 3),
        "get_seconds": round(long_get, 6),
        "short_events": SHORT_EVENTS,
        "short_get_seconds": round(short_get, 6),
        "ratio": round(long_get / short_get, 2),
        "repeats": REPEATS,
    }
