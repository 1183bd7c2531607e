"""The benchmark's measurements: append, get and rebuild-all on several stores, interleaved.

Each store under test is a ``System``. The systems take turns chunk by chunk
(the first to go rotates), so a disk or a neighbour that slows down mid-run
slows every system alike and the ratios between them stay fair. Only the
storage calls are timed, not generating the workload. Figures come back as
JSON-ready dicts; nothing here judges a time.

``get`` is measured twice: call by call (the p50 and p99 of one call) and as a
plain loop over the negotiations timed as a whole (``get_loop``), the
throughput a caller reading many negotiations sees. Given each system's SQLite
file, the last few negotiations are appended one at a time, untimed, with the
file's write-ahead log checkpointed and truncated around each: the frames it
held after one append are the pages that append wrote and its commit synced
(``wal_frames``), each frame's page named by the B-tree that holds it
(``by_btree``: a table or an index, from SQLite's ``dbstat``; page 1, the
file's header, is the root of ``sqlite_schema``).

Before those, another few negotiations are appended, untimed by the append
figures, to say where an append's time goes (``split``): the systems take
turns chunk by chunk, every other chunk run under ``cProfile`` to sum the
time spent inside the calls of Python's ``sqlite3`` module (SQLite's own work:
its B-trees, its write-ahead log, waiting for the disk to sync), the others
timed plainly (wall and CPU). What is not inside SQLite's calls is the
system's Python.
"""

from __future__ import annotations

import cProfile
import gc
import math
import sqlite3
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any, Protocol, Self

from benchmarks.baseline import LedgerTablesStore, PlainStore
from negotiation.ledger import Ledger

#: One negotiation's id and its events as ``record_many`` items.
Work = Sequence[tuple[str, Sequence[dict[str, Any]]]]
Figures = dict[str, Any]
#: Negotiations per turn when the systems take turns appending and reading.
CHUNK = 500
#: Negotiations appended one at a time at the end, untimed, to count the WAL frames of each append.
FRAME_SAMPLE = 100
#: Negotiations appended before those, to say how much of an append is spent inside SQLite.
SPLIT_SAMPLE = 1000
#: Negotiations per turn of that split: every other turn is profiled.
SPLIT_CHUNK = 50


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


def _loop_seconds(read: Callable[[str], object], ids: Sequence[str]) -> float:
    start = time.perf_counter()
    for negotiation_id in ids:
        read(negotiation_id)
    return time.perf_counter() - start


def _turns(names: Sequence[str], turn: int) -> list[str]:
    shift = turn % len(names)
    return [*names[shift:], *names[:shift]]


def wal_frames(database: Path) -> int:
    """The frames in ``database``'s write-ahead log, which is then checkpointed and truncated to nothing."""
    with closing(sqlite3.connect(database, timeout=30.0)) as conn:
        # A TRUNCATE checkpoint reports the log it leaves (none), so a PASSIVE one counts it first.
        busy, frames, _checkpointed = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        busy |= conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    if busy:
        raise RuntimeError(f"{database}: a reader kept the write-ahead log from being checkpointed")
    return int(frames)


def wal_pages(database: Path) -> list[int]:
    """The page of each frame in ``database``'s write-ahead log, in the order written.

    The log's format (https://sqlite.org/fileformat2.html#walformat): a 32-byte header whose salts
    (bytes 16-24) every frame of the log's current run repeats (bytes 8-16 of its own 24-byte header,
    the page number in bytes 0-4), each frame followed by one page.
    """
    log = database.with_name(database.name + "-wal")
    data = log.read_bytes() if log.exists() else b""
    if len(data) < 32:
        return []
    frame = 24 + int.from_bytes(data[8:12], "big")
    salts = data[16:24]
    return [int.from_bytes(data[start:start + 4], "big") for start in range(32, len(data) - frame + 1, frame)
            if data[start + 8:start + 16] == salts]


def btree_pages(database: Path) -> dict[int, str]:
    """Each page of ``database`` by the table or index whose B-tree holds it (pages on the free list absent),
    an index named by its table and columns: ``negotiation_events (event_id)``."""
    with closing(sqlite3.connect(database, timeout=30.0)) as conn:
        listed = conn.execute("SELECT name, tbl_name FROM sqlite_schema WHERE type = 'index'").fetchall()
        indexes = {name: f"{table} ({', '.join(row[2] for row in conn.execute(f'PRAGMA index_info({name!r})'))})"
                   for name, table in listed}
        return {page: indexes.get(name, name) for page, name in conn.execute("SELECT pageno, name FROM dbstat")}


def frame_sample(negotiations: int) -> int:
    """How many of ``negotiations`` are kept back to count frames: a tenth, at most ``FRAME_SAMPLE``."""
    return min(FRAME_SAMPLE, negotiations // 10) if negotiations >= 2 else 0


def split_sample(negotiations: int) -> int:
    """How many of ``negotiations`` are kept back to split an append's time: a tenth, at most ``SPLIT_SAMPLE``
    (none below 40 negotiations: four appends at least, two of them profiled)."""
    return min(SPLIT_SAMPLE, negotiations // 10) if negotiations >= 40 else 0


class CollectorClock:
    """Seconds spent collecting garbage while it is on (``with CollectorClock() as clock: ...; clock.seconds``).

    Timed through ``gc.callbacks``, which the collector calls as each collection starts and stops, the
    collections of every generation; ``full`` counts those of the oldest, each of which walks every object.
    """

    def __init__(self) -> None:
        self.seconds = 0.0
        self.full = 0
        self._started = 0.0

    def _tick(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        self.seconds += time.perf_counter() - self._started
        self.full += info["generation"] == len(gc.get_threshold()) - 1  # the oldest

    def __enter__(self) -> Self:
        gc.callbacks.append(self._tick)
        return self

    def __exit__(self, *_exc: object) -> None:
        gc.callbacks.remove(self._tick)


def inside_sqlite(profile: cProfile.Profile) -> float:
    """Seconds a profile spent inside the calls of the ``sqlite3`` module."""
    # ``getstats`` gives an entry per function; a C function's ``code`` is its name, which says its type:
    # "<method 'commit' of 'sqlite3.Connection' objects>". (``pstats`` rounds to milliseconds.)
    return sum(entry.inlinetime for entry in profile.getstats()
               if isinstance(entry.code, str) and "sqlite3." in entry.code)


def _split(systems: Mapping[str, System], works: Mapping[str, Work], names: Sequence[str]) -> dict[str, Figures]:
    timed = {name: {"appends": 0, "wall": 0.0, "cpu": 0.0} for name in names}
    profiled = {name: {"appends": 0, "inside": 0.0} for name in names}
    count = len(works[names[0]])
    chunk = min(SPLIT_CHUNK, max(1, count // 4))  # two turns of each kind at least
    for turn, start in enumerate(range(0, count, chunk)):
        for name in _turns(names, turn):
            part = works[name][start:start + chunk]
            append = systems[name].append
            if turn % 2:
                profile = cProfile.Profile()
                profile.enable()
                for negotiation_id, items in part:
                    append(negotiation_id, items)
                profile.disable()
                profiled[name]["appends"] += len(part)
                profiled[name]["inside"] += inside_sqlite(profile)
            else:
                wall, cpu = time.perf_counter(), time.process_time()
                for negotiation_id, items in part:
                    append(negotiation_id, items)
                timed[name]["wall"] += time.perf_counter() - wall
                timed[name]["cpu"] += time.process_time() - cpu
                timed[name]["appends"] += len(part)
    figures = {}
    for name in names:
        plain, inside = timed[name], profiled[name]
        wall_us = plain["wall"] / plain["appends"] * 1e6
        inside_us = inside["inside"] / inside["appends"] * 1e6
        figures[name] = {"appends": plain["appends"] + inside["appends"],
                         "wall_us_per_append": round(wall_us, 1),
                         "cpu_us_per_append": round(plain["cpu"] / plain["appends"] * 1e6, 1),
                         "inside_sqlite_us_per_append": round(inside_us, 1),
                         "python_us_per_append": round(wall_us - inside_us, 1)}
    return figures


def _frames(systems: Mapping[str, System], works: Mapping[str, Work], files: Mapping[str, Path],
            names: Sequence[str]) -> dict[str, Figures]:
    counted: dict[str, list[int]] = {name: [] for name in names}
    trees: dict[str, Counter[str]] = {name: Counter() for name in names}
    for name in names:
        wal_frames(files[name])  # what the timed appends left in the log, checkpointed away
    for turn in range(len(works[names[0]])):
        for name in _turns(names, turn):
            negotiation_id, items = works[name][turn]
            systems[name].append(negotiation_id, items)
            pages = wal_pages(files[name])
            counted[name].append(wal_frames(files[name]))
            owners = btree_pages(files[name])
            trees[name].update(owners.get(page, "free list") for page in pages)
    return {name: {"appends": len(frames), "events": sum(len(items) for _, items in works[name]),
                   "frames": sum(frames), "frames_per_append": round(sum(frames) / len(frames), 2),
                   "by_btree": {tree: round(count / len(frames), 2) for tree, count in trees[name].most_common()},
                   "page_size": _page_size(files[name])}
            for name, frames in counted.items()}


def _page_size(database: Path) -> int:
    with closing(sqlite3.connect(database)) as conn:
        return int(conn.execute("PRAGMA page_size").fetchone()[0])


def measure(systems: Mapping[str, System], work: Work, chunk: int = CHUNK, *,
            works: Mapping[str, Work] | None = None, files: Mapping[str, Path] | None = None) -> dict[str, Figures]:
    """Append every negotiation to each system, get each back, then rebuild each whole log.

    ``works`` gives a system a workload of its own (the same negotiations, say without event
    ids); ``files`` names each system's SQLite file, to count the WAL frames of its appends.
    """
    names = list(systems)
    every = {name: (works or {}).get(name, work) for name in names}
    sample = frame_sample(len(work)) if files else 0
    split = split_sample(len(work) - sample)
    kept = sample + split
    timed = {name: every[name][:len(work) - kept] for name in names}
    total = sum(len(items) for _, items in work)
    appended = sum(len(items) for _, items in timed[names[0]])
    turns = range(0, len(work) - kept, chunk)

    gc.collect()
    spent = dict.fromkeys(names, 0.0)
    for turn, start in enumerate(turns):
        for name in _turns(names, turn):
            spent[name] += _append_seconds(systems[name], timed[name][start:start + chunk])
    end = len(work) - sample
    splits = _split(systems, {name: every[name][end - split:end] for name in names}, names) if split else {}
    frames = _frames(systems, {name: every[name][end:] for name in names}, files or {},
                     names) if sample else {}

    gc.collect()
    chunks = [[negotiation_id for negotiation_id, _ in work[start:start + chunk]]
              for start in range(0, len(work), chunk)]
    taken: dict[str, list[float]] = {name: [] for name in names}
    looped = dict.fromkeys(names, 0.0)
    for turn, ids in enumerate(chunks):
        for name in _turns(names, turn):
            taken[name] += latencies(systems[name].get, ids)
    for turn, ids in enumerate(chunks):
        for name in _turns(names, turn):
            looped[name] += _loop_seconds(systems[name].get, ids)

    results = {name: {"append": throughput(appended, spent[name]),
                      "get": latency_figures(taken[name], total),
                      "get_loop": throughput(total, looped[name])} for name in names}
    for name, counted in frames.items():
        results[name]["wal_frames"] = counted
    for name, where in splits.items():
        results[name]["split"] = where
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
