"""The benchmark's measurements: append, get and rebuild-all on several stores, interleaved.

Each store under test is a ``System``. The systems take turns chunk by chunk
(the first to go rotates), so a disk or a neighbour that slows down mid-run
slows every system alike and the ratios between them stay fair. Only the
storage calls are timed, not generating the workload. Figures come back as
JSON-ready dicts; nothing here judges a time.
"""

from __future__ import annotations

import gc
import math
import time
import tracemalloc
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from benchmarks.baseline import LedgerTablesStore, PlainStore
from negotiation.ledger import Ledger

#: One negotiation's id and its events as ``record_many`` items.
Work = Sequence[tuple[str, Sequence[dict[str, Any]]]]
Figures = dict[str, Any]
#: Negotiations per turn when the systems take turns appending and reading.
CHUNK = 500


class System(Protocol):
    """A store under test: append one negotiation, read one back, rebuild everything."""

    def append(self, negotiation_id: str, items: Sequence[dict[str, Any]]) -> None: ...

    def get(self, negotiation_id: str) -> object: ...

    def rebuild_all(self) -> tuple[int, int | None]:
        """Read the whole log; return the events read and the negotiations rebuilt (None: decode only)."""
        ...


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile of ``values`` (``fraction`` 0.5 is the median)."""
    if not values:
        raise ValueError("no values to take a percentile of")
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))
    return ordered[rank]


def throughput(events: int, seconds: float) -> Figures:
    return {"events": events, "seconds": round(seconds, 6),
            "events_per_s": round(events / seconds, 1) if seconds > 0 else float("inf")}


def latencies(read: Callable[[str], object], ids: Sequence[str]) -> list[float]:
    """Seconds each ``read(id)`` took, one call per id, in order."""
    taken = []
    clock = time.perf_counter
    for negotiation_id in ids:
        start = clock()
        read(negotiation_id)
        taken.append(clock() - start)
    return taken


def latency_figures(taken: Sequence[float], events: int) -> Figures:
    """Throughput over the calls' summed time, with p50 and p99 of one call, in µs."""
    return {**throughput(events, sum(taken)),
            "calls": len(taken),
            "p50_us": round(percentile(taken, 0.50) * 1e6, 1),
            "p99_us": round(percentile(taken, 0.99) * 1e6, 1)}


def peak_memory(run: Callable[[], object]) -> int:
    """Bytes allocated at the peak of ``run`` beyond what was allocated before it (tracemalloc).

    Run separately from the timed pass: tracing slows allocation several-fold.
    """
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _append_seconds(system: System, work: Work) -> float:
    clock = time.perf_counter
    spent = 0.0
    for negotiation_id, items in work:
        start = clock()
        system.append(negotiation_id, items)
        spent += clock() - start
    return spent


def _turns(names: Sequence[str], turn: int) -> list[str]:
    shift = turn % len(names)
    return [*names[shift:], *names[:shift]]


def measure(systems: Mapping[str, System], work: Work, chunk: int = CHUNK) -> dict[str, Figures]:
    """Append every negotiation to each system, get each back, then rebuild each whole log."""
    names = list(systems)
    total = sum(len(items) for _, items in work)
    chunks = [work[start:start + chunk] for start in range(0, len(work), chunk)]

    gc.collect()
    spent = dict.fromkeys(names, 0.0)
    for turn, part in enumerate(chunks):
        for name in _turns(names, turn):
            spent[name] += _append_seconds(systems[name], part)

    gc.collect()
    taken: dict[str, list[float]] = {name: [] for name in names}
    for turn, part in enumerate(chunks):
        ids = [negotiation_id for negotiation_id, _ in part]
        for name in _turns(names, turn):
            taken[name] += latencies(systems[name].get, ids)

    results = {name: {"append": throughput(total, spent[name]),
                      "get": latency_figures(taken[name], total)} for name in names}
    for name in names:
        gc.collect()
        results[name]["rebuild"] = rebuild_figures(systems[name])
        results[name]["events_stored"] = results[name]["rebuild"]["events"]
    return results


def rebuild_figures(system: System) -> Figures:
    """Rebuild-all timed, then run again under tracemalloc for its peak memory."""
    start = time.perf_counter()
    events, negotiations = system.rebuild_all()
    figures = {**throughput(events, time.perf_counter() - start), "negotiations": negotiations}
    return {**figures, "peak_memory_bytes": peak_memory(system.rebuild_all)}


# -- the systems of ``negotiation bench`` -------------------------------------------------------

class LedgerSystem:
    """The ledger through its public API."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def append(self, negotiation_id: str, items: Sequence[dict[str, Any]]) -> None:
        self.ledger.record_many(negotiation_id, items)

    def get(self, negotiation_id: str) -> object:
        return self.ledger.get(negotiation_id)

    def rebuild_all(self) -> tuple[int, int | None]:
        # Every negotiation replayed from the whole log (streamed); its version is its event count.
        events = negotiations = 0
        for negotiation in self.ledger.rebuild_all():
            events += negotiation.version
            negotiations += 1
        return events, negotiations


class PlainSystem:
    """The plain-sqlite3 baseline: stream-and-decode for get, scan-and-decode for rebuild."""

    def __init__(self, store: PlainStore) -> None:
        self.store = store

    def append(self, negotiation_id: str, items: Sequence[dict[str, Any]]) -> None:
        self.store.append(negotiation_id, items)

    def get(self, negotiation_id: str) -> object:
        return self.store.stream(negotiation_id)

    def rebuild_all(self) -> tuple[int, int | None]:
        return sum(1 for _row in self.store.scan()), None


class LedgerTablesSystem:
    """Plain SQL on the ledger's tables: the database's own share of the ledger's work."""

    def __init__(self, store: LedgerTablesStore) -> None:
        self.store = store

    def append(self, negotiation_id: str, items: Sequence[dict[str, Any]]) -> None:
        self.store.append(negotiation_id, items)

    def get(self, negotiation_id: str) -> object:
        return self.store.head(negotiation_id)

    def rebuild_all(self) -> tuple[int, int | None]:
        return sum(1 for _row in self.store.scan()), None
