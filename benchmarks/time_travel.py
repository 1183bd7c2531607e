"""Time travel measured: a late event, a correction and ``get(as_of=...)`` against plain sqlite3.

A late event (dated before the story's last event) and a correction each make
the ledger read the negotiation's whole log and fold its new story, and
``get(as_of=...)`` folds the story up to a date. The part of that work nothing
can avoid is reading the negotiation's rows and decoding their JSON (and, for a
write, appending one row in one transaction): that is the baseline, done with
``sqlite3`` and ``orjson`` alone on a table with the ledger's columns. Both
files run in WAL mode with ``synchronous=FULL`` (the baseline sets it; the
ledger's setting is read back and reported), so every commit is as durable on
both sides.

Each negotiation opens with ``AgreedInPrinciple`` and continues with in-order
``TermsAmended``, one an hour, recorded with ``record_many`` in chunks of 1,000.
Every timed write gets a negotiation of its own (a 10-event negotiation stays a
10-event one, however many samples are taken): first the late event, dated at
mid-history, then a correction of a mid-history amendment. ``get(as_of=...)``
asks for mid-history. Ledger and baseline take turns, sample by sample, the
first to go alternating, and the median of each is reported with its ratio.

    python -m benchmarks.time_travel                # 10, 1,000 and 100,000 events; a few minutes
    python -m benchmarks.time_travel --json         # every figure as one JSON object on stdout
    python -m benchmarks.time_travel --sizes 10,50  # a quick run
"""

from __future__ import annotations

import gc
import hashlib
import itertools
import math
import sqlite3
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import orjson
from rich.console import Console
from rich.table import Table

from benchmarks.bench import environment, ledger_settings, workspace
from benchmarks.report import ratio, target
from negotiation import Ledger

Figures = dict[str, Any]

LEDGER_FILE = "time-travel-ledger.db"
PLAIN_FILE = "time-travel-sqlite3.db"
DEFAULT_SIZES = (10, 1_000, 100_000)
#: ``get(as_of=...)`` is measured on the negotiations of at most this many events.
GET_LIMIT = 1_000
#: The size the ratio targets are judged on (or the measured size nearest to it).
TARGET_SIZE = 1_000
CHUNK = 1_000
START = datetime(2020, 1, 1, tzinfo=UTC)
#: Targets on the 1,000-event negotiation: the ledger's median over the baseline's.
RATIO_TARGETS = {"get_as_of": 2.0, "late_event": 3.0, "correction": 3.0}
#: "No faster than linear": time per event at the largest size over time per event at the target size.
GROWTH_LIMIT = 1.0
OPERATIONS = ("late_event", "correction", "get_as_of")
LABELS = {"late_event": "late event", "correction": "correction", "get_as_of": "get(as_of) mid-history"}


def samples_for(size: int, most: int = 40) -> int:
    """Negotiations (so timed writes) per size: up to ``most`` for small ones, at least 3 for the largest."""
    return max(3, min(most, 20_000 // size))


def when(index: int) -> datetime:
    """The ``index``-th event's date: one an hour from ``START``."""
    return START + timedelta(hours=index)


def mid_history(size: int) -> datetime:
    """Half an hour after the middle event: a late event dated then lands mid-story."""
    return when(size // 2) + timedelta(minutes=30)


def items(size: int) -> Iterator[list[dict[str, Any]]]:
    """A ``size``-event negotiation as ``record_many`` chunks: the deal, then amendments in date order."""
    chunk: list[dict[str, Any]] = [{"type": "AgreedInPrinciple", "data": {"parties": ["US", "JP"]},
                                    "occurred_at": when(0), "sources": ["bench"]}]
    for index in range(1, size):
        chunk.append({"type": "TermsAmended", "data": {"terms": {f"term {index % 20}": index}},
                      "occurred_at": when(index), "sources": ["bench"]})
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# -- the baseline ------------------------------------------------------------------------------

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    position INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    negotiation_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    occurred_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    sources TEXT NOT NULL,
    hash TEXT NOT NULL,
    reported_at TEXT NOT NULL,
    UNIQUE (negotiation_id, version)
)
"""
_INSERT = ("INSERT INTO events (event_id, negotiation_id, version, type, data, schema_version, occurred_at, "
           "recorded_at, sources, hash, reported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
_STREAM = ("SELECT position, event_id, negotiation_id, version, type, data, schema_version, occurred_at, "
           "recorded_at, sources, hash, reported_at FROM events WHERE negotiation_id = ? ORDER BY version")


class Plain:
    """The unavoidable part of the work, with nothing but sqlite3 and orjson, on the ledger's columns."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=30.0)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute(_SCHEMA)

    def close(self) -> None:
        self.conn.close()

    def settings(self) -> Figures:
        return {"journal_mode": self.conn.execute("PRAGMA journal_mode").fetchone()[0],
                "synchronous": self.conn.execute("PRAGMA synchronous").fetchone()[0]}

    @staticmethod
    def row(negotiation_id: str, version: int, item: dict[str, Any], now: str) -> tuple[Any, ...]:
        data = orjson.dumps(item["data"])
        occurred_at = item["occurred_at"].isoformat(" ")
        return (uuid.uuid4().hex, negotiation_id, version, item["type"], data.decode(), 1, occurred_at, now,
                orjson.dumps(item["sources"]).decode(), hashlib.sha256(data).hexdigest(), now)

    def build(self, negotiation_id: str, size: int) -> None:
        version = 0
        for chunk in items(size):
            now = datetime.now(UTC).isoformat(" ")
            rows = [self.row(negotiation_id, version + offset, item, now) for offset, item in enumerate(chunk, 1)]
            version += len(chunk)
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.executemany(_INSERT, rows)
            self.conn.execute("COMMIT")

    def read(self, negotiation_id: str) -> list[tuple[Any, ...]]:
        """The negotiation's rows in version order, data and sources decoded."""
        return [(*row[:5], orjson.loads(row[5]), *row[6:9], orjson.loads(row[9]), *row[10:])
                for row in self.conn.execute(_STREAM, (negotiation_id,))]

    def append_after_reading(self, negotiation_id: str, item: dict[str, Any]) -> None:
        """One transaction: read and decode the negotiation's rows, append one row after them."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            rows = self.read(negotiation_id)
            self.conn.execute(_INSERT, self.row(negotiation_id, len(rows) + 1, item,
                                                datetime.now(UTC).isoformat(" ")))
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")


# -- measuring ---------------------------------------------------------------------------------

def timed(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def interleaved(pairs: Sequence[tuple[Callable[[], object], Callable[[], object]]]) -> tuple[list[float], list[float]]:
    """Seconds of each (ledger, baseline) call, the two taking turns and the first to go alternating."""
    gc.collect()
    ledger_times: list[float] = []
    plain_times: list[float] = []
    for turn, (on_ledger, on_plain) in enumerate(pairs):
        if turn % 2:
            plain_times.append(timed(on_plain))
            ledger_times.append(timed(on_ledger))
        else:
            ledger_times.append(timed(on_ledger))
            plain_times.append(timed(on_plain))
    return ledger_times, plain_times


def figures(operation: str, size: int, ledger_times: Sequence[float], plain_times: Sequence[float]) -> Figures:
    ledger_median, plain_median = statistics.median(ledger_times), statistics.median(plain_times)
    return {"operation": operation, "events": size, "samples": len(ledger_times),
            "ledger_median_s": round(ledger_median, 7), "baseline_median_s": round(plain_median, 7),
            "ledger_per_event_us": round(ledger_median / size * 1e6, 3),
            "baseline_per_event_us": round(plain_median / size * 1e6, 3),
            "ratio": ratio(ledger_median, plain_median)}


def measure_size(ledger: Ledger, plain: Plain, size: int, most: int, say: Callable[[str], None]) -> list[Figures]:
    """Build the negotiations of ``size`` events on both sides, then time get(as_of), late events, corrections."""
    count = samples_for(size, most)
    ids = [f"time-travel-{size}-{sample}" for sample in range(count)]
    started = time.perf_counter()
    for negotiation_id in ids:
        for chunk in items(size):
            ledger.record_many(negotiation_id, chunk)
        plain.build(negotiation_id, size)
    say(f"built {count} negotiations of {size:,} events on each side in {time.perf_counter() - started:.1f} s")

    results = []
    as_of = mid_history(size)
    if size <= GET_LIMIT:
        reads = [(lambda n=negotiation_id: ledger.get(n, as_of=as_of), lambda n=negotiation_id: plain.read(n))
                 for _ in range(max(1, 100 // count)) for negotiation_id in ids]
        results.append(figures("get_as_of", size, *interleaved(reads)))

    def late(sample: int) -> dict[str, Any]:
        return {"type": "TermsAmended", "data": {"terms": {"late": sample}}, "occurred_at": as_of,
                "sources": ["bench"]}

    lates = [(lambda n=negotiation_id, s=sample: ledger.record(n, "TermsAmended", late(s)["data"],
                                                                occurred_at=as_of, sources=["bench"]),
              lambda n=negotiation_id, s=sample: plain.append_after_reading(n, late(s)))
             for sample, negotiation_id in enumerate(ids)]
    results.append(figures("late_event", size, *interleaved(lates)))

    target_version = max(2, size // 2)
    correction = {"type": "EventCorrected", "data": {"target_version": target_version, "reason": "misread",
                                                     "data": {"terms": {"corrected": True}}},
                  "occurred_at": as_of, "sources": ["bench"]}
    corrections = [(lambda n=negotiation_id: ledger.correct(n, target_version, reason="misread",
                                                            data={"terms": {"corrected": True}}),
                    lambda n=negotiation_id: plain.append_after_reading(n, correction))
                   for negotiation_id in ids]
    results.append(figures("correction", size, *interleaved(corrections)))
    for result in results:
        say(f"{LABELS[result['operation']]} on {size:,} events: ledger {result['ledger_median_s'] * 1e3:,.2f} ms, "
            f"sqlite3 {result['baseline_median_s'] * 1e3:,.2f} ms, ratio {result['ratio']:.2f}")
    return results


def growth(results: Sequence[Figures]) -> list[Figures]:
    """For each operation and each pair of consecutive sizes: how the ledger's time grew against the size."""
    grown = []
    for operation in OPERATIONS:
        points = sorted((r for r in results if r["operation"] == operation), key=lambda r: r["events"])
        for small, large in itertools.pairwise(points):
            times = large["ledger_median_s"] / small["ledger_median_s"]
            baseline_times = large["baseline_median_s"] / small["baseline_median_s"]
            sizes = large["events"] / small["events"]
            grown.append({"operation": operation, "from_events": small["events"], "to_events": large["events"],
                          "time_ratio": round(times, 3), "size_ratio": round(sizes, 3),
                          "per_event_cost_ratio": round(times / sizes, 3),
                          "exponent": round(math.log(times) / math.log(sizes), 3),
                          "baseline_per_event_cost_ratio": round(baseline_times / sizes, 3),
                          "ratio_growth": ratio(large["ratio"], small["ratio"])})
    return grown


def nearest(sizes: Sequence[int], wanted: int) -> int:
    return min(sizes, key=lambda size: (abs(math.log(size / wanted)), -size))


def targets(results: Sequence[Figures], grown: Sequence[Figures]) -> list[Figures]:
    verdicts = []
    for operation, limit in RATIO_TARGETS.items():
        measured = [r for r in results if r["operation"] == operation]
        if not measured:
            continue
        size = nearest([r["events"] for r in measured], TARGET_SIZE)
        (judged,) = [r for r in measured if r["events"] == size]
        verdicts.append(target(f"{operation}_ratio", f"{LABELS[operation]} on {size:,} events ≤ {limit:g} × "
                               "sqlite3 read-and-decode" + (" + one-row append" if operation != "get_as_of" else ""),
                               judged["ratio"], "<=", limit))
    for operation in ("late_event", "correction"):
        points = [g for g in grown if g["operation"] == operation]
        if not points:
            continue
        largest = points[-1]["to_events"]
        sizes = sorted({p["from_events"] for p in points} | {largest})
        base = nearest(sizes[:-1], TARGET_SIZE)
        at: dict[int, Figures] = {r["events"]: r for r in results if r["operation"] == operation}
        per_event = {size: r["ledger_median_s"] / size for size, r in at.items()}
        measured_growth = round(per_event[largest] / per_event[base], 3)
        verdicts.append(target(f"{operation}_growth", f"{LABELS[operation]}: time per event at {largest:,} events ≤ "
                               f"{GROWTH_LIMIT:g} × at {base:,} (no faster than linear)",
                               measured_growth, "<=", GROWTH_LIMIT))
        verdicts.append(target(f"{operation}_growth_against_baseline",
                               f"{LABELS[operation]}: ratio to sqlite3 at {largest:,} events ≤ {GROWTH_LIMIT:g} × "
                               f"the ratio at {base:,} (grows no faster than the baseline's linear work)",
                               ratio(at[largest]["ratio"], at[base]["ratio"]), "<=", GROWTH_LIMIT))
    return verdicts


def run(directory: Path, sizes: Sequence[int], most: int, say: Callable[[str], None]) -> Figures:
    results: list[Figures] = []
    with Ledger.open(f"sqlite:///{directory / LEDGER_FILE}") as ledger:
        plain = Plain(directory / PLAIN_FILE)
        try:
            settings = {"ledger": ledger_settings(ledger), "baseline": plain.settings()}
            for size in sizes:
                results += measure_size(ledger, plain, size, most, say)
        finally:
            plain.close()
    grown = growth(results)
    return {"environment": environment(), "sizes": list(sizes), "samples": {str(s): samples_for(s, most) for s in sizes},
            "sqlite_settings": settings, "results": results, "growth": grown, "targets": targets(results, grown)}


# -- showing -----------------------------------------------------------------------------------

def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.3f} ms"


def show(report: Figures, console: Console) -> None:
    table = Table(title="time travel: ledger against plain sqlite3 (medians)")
    for column in ("operation", "events", "samples", "ledger", "sqlite3", "ratio", "ledger µs/event"):
        table.add_column(column, justify="left" if column == "operation" else "right")
    for r in report["results"]:
        table.add_row(LABELS[r["operation"]], f"{r['events']:,}", str(r["samples"]), _ms(r["ledger_median_s"]),
                      _ms(r["baseline_median_s"]), f"{r['ratio']:.2f}", f"{r['ledger_per_event_us']:,.2f}")
    console.print(table)
    grown = Table(title="growth of the ledger's time")
    for column in ("operation", "from", "to", "time ×", "size ×", "per-event cost ×", "exponent",
                   "sqlite3 per-event cost ×", "ratio ×"):
        grown.add_column(column, justify="left" if column == "operation" else "right")
    for g in report["growth"]:
        grown.add_row(LABELS[g["operation"]], f"{g['from_events']:,}", f"{g['to_events']:,}", f"{g['time_ratio']:,.2f}",
                      f"{g['size_ratio']:,.0f}", f"{g['per_event_cost_ratio']:.3f}", f"{g['exponent']:.3f}",
                      f"{g['baseline_per_event_cost_ratio']:.3f}", f"{g['ratio_growth']:.3f}")
    console.print(grown)
    verdicts = Table(title="targets")
    for column in ("target", "measured", "needed", "verdict"):
        verdicts.add_column(column, justify="left" if column == "target" else "right")
    for verdict in report["targets"]:
        verdicts.add_row(verdict["description"], f"{verdict['measured']:,.2f}",
                         f"{verdict['comparison']} {verdict['threshold']:g}",
                         "[green]met[/green]" if verdict["pass"] else "[red]missed[/red]")
    console.print(verdicts)
    settings = report["sqlite_settings"]
    console.print(f"SQLite: ledger {settings['ledger']}, baseline {settings['baseline']} "
                  "(synchronous 2 = FULL); code at "
                  f"{report['environment']['code']}")


def _sizes(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[int, ...]:
    try:
        sizes = tuple(sorted({int(part) for part in value.split(",")}))
    except ValueError:
        raise click.BadParameter("a comma-separated list of whole numbers, e.g. 10,1000,100000") from None
    if not sizes or sizes[0] < 3:
        raise click.BadParameter("each size must be at least 3 events")
    return sizes


@click.command()
@click.option("--sizes", default=",".join(map(str, DEFAULT_SIZES)), show_default=True, callback=_sizes,
              help="Events per negotiation to measure, comma-separated.")
@click.option("--samples", "most", type=click.IntRange(min=3), default=40, show_default=True,
              help="Negotiations (timed writes) per size at most; the largest sizes get fewer, never under 3.")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep the SQLite files here (default: a temporary directory).")
@click.option("--json", "as_json", is_flag=True, help="Print every figure as one JSON object instead of tables.")
def main(sizes: tuple[int, ...], most: int, directory: Path | None, as_json: bool) -> None:
    """Late events, corrections and get(as_of=...) on long negotiations, as ratios against plain sqlite3."""
    errors = Console(stderr=True)
    with workspace(directory, (LEDGER_FILE, PLAIN_FILE)) as where:
        report = run(where, sizes, most, lambda line: errors.print(line, highlight=False))
    if as_json:
        sys.stdout.write(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        show(report, Console())


if __name__ == "__main__":
    main()
