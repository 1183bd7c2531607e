"""``negotiation bench``: the ledger's append, get and rebuild-all against plain sqlite3.

The workload is N negotiations of K legal events each on SQLite files. The
ledger and the plain-sqlite3 baseline (``bench_baseline``) store the same rows
in the same run, so their ratios hold on any machine; ``--growth`` adds how
``get`` behaves as the log grows and on one very long negotiation. Every
figure, ratio and target verdict goes into one JSON object with ``--json``.
"""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import click
import orjson
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import text

from benchmarks import growth as bench_growth
from benchmarks import report as bench_report
from benchmarks.baseline import LedgerTablesStore, PlainStore
from benchmarks.measure import LedgerSystem, LedgerTablesSystem, PlainSystem, System, measure
from benchmarks.report import Figures, ratio, ratios, target
from benchmarks.workload import without_ids, workload
from negotiation.errors import NegotiationError
from negotiation.ledger import Ledger
from negotiation.store.sqlite import make_engine

LEDGER_FILE = "ledger.db"
PLAIN_FILE = "sqlite3.db"
TABLES_FILE = "ledger-tables.db"
#: The same systems given the workload's random (version 4) event ids, as a caller retrying by id would.
GIVEN_IDS_LEDGER_FILE = "ledger-given-ids.db"
GIVEN_IDS_PLAIN_FILE = "sqlite3-given-ids.db"
GROWTH_FILE = "growth.db"

#: The targets of the SQLite run: (name, ratio, comparison, threshold).
APPEND_TARGET = 0.8
GET_TARGET = 1.0
REBUILD_TARGET = 0.5


@dataclass(frozen=True)
class Growth:
    """What the ``--growth`` part measures: store sizes, samples per size and the long negotiation."""

    sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000)
    samples: int = 300
    long_events: int = 100_000
    long_batch: int = 10_000


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def code_version() -> Figures:
    """The git commit of the measured code and whether its files differ from it (None outside a checkout)."""
    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = bool(git("status", "--porcelain", "--", "negotiation", "migrations"))
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    return {"commit": commit, "dirty": dirty}


def environment() -> Figures:
    """What the figures were measured on, since only their ratios travel between machines."""
    return {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
            "platform": platform.platform(), "cpus": os.cpu_count(), "code": code_version()}


#: Makes an extra system to measure beside the ledger and the baseline, closed by the stack;
#: it is given the workload with event ids, and its SQLite file (to count WAL frames) or None.
SystemFactory = Callable[[Path, ExitStack], tuple[System, Path | None]]


def core_run(directory: Path, negotiations: int, events: int, page_size: int, seed: int,
             extra: Mapping[str, SystemFactory] | None = None) -> Figures:
    """Append, get and rebuild-all on the ledger, plain sqlite3, plain SQL on the ledger's tables
    and any ``extra`` systems, interleaved.

    ``ledger``, ``sqlite3`` and ``ledger_tables`` are given no event ids (each
    makes time-ordered ones, as the ledger does for a caller who gives none);
    ``ledger_given_ids`` and ``sqlite3_given_ids`` are given the workload's
    random ones. ``ledger_tables`` is the ledger's own rows written by plain
    SQL: the ledger over it is what the ledger's Python costs, it over plain
    sqlite3 what the ledger's extra tables and indexes cost the database.
    """
    given = list(workload(negotiations, events, seed))
    made = without_ids(given)
    with ExitStack() as stack:
        ledger = stack.enter_context(Ledger.open(sqlite_url(directory / LEDGER_FILE)))
        given_ledger = stack.enter_context(Ledger.open(sqlite_url(directory / GIVEN_IDS_LEDGER_FILE)))
        plain = PlainStore(directory / PLAIN_FILE)
        stack.callback(plain.close)
        given_plain = PlainStore(directory / GIVEN_IDS_PLAIN_FILE)
        stack.callback(given_plain.close)
        tables = LedgerTablesStore(directory / TABLES_FILE)
        stack.callback(tables.close)
        systems: dict[str, System] = {"ledger": LedgerSystem(ledger), "ledger_given_ids": LedgerSystem(given_ledger),
                                      "sqlite3": PlainSystem(plain), "sqlite3_given_ids": PlainSystem(given_plain),
                                      "ledger_tables": LedgerTablesSystem(tables)}
        files = {"ledger": directory / LEDGER_FILE, "ledger_given_ids": directory / GIVEN_IDS_LEDGER_FILE,
                 "sqlite3": directory / PLAIN_FILE, "sqlite3_given_ids": directory / GIVEN_IDS_PLAIN_FILE,
                 "ledger_tables": directory / TABLES_FILE}
        works = {"ledger": made, "sqlite3": made, "ledger_tables": made}
        for name, make in (extra or {}).items():
            systems[name], file = make(directory, stack)
            if file is not None:
                files[name] = file
        # Frames are counted only when every system's file is known: the samples are kept back from all alike.
        figures = measure(systems, given, works=works, files=files if set(files) == set(systems) else None)
        synchronous = {"ledger": ledger_settings(ledger)["synchronous"],
                       "ledger_given_ids": ledger_settings(given_ledger)["synchronous"],
                       "sqlite3": plain.conn.execute("PRAGMA synchronous").fetchone()[0],
                       "sqlite3_given_ids": given_plain.conn.execute("PRAGMA synchronous").fetchone()[0],
                       "ledger_tables": tables.conn.execute("PRAGMA synchronous").fetchone()[0]}
    # 2 is FULL: every commit synced to disk before it returns, on every side.
    return {**figures, "synchronous": synchronous, "ratios": ratios(figures["ledger"], figures["sqlite3"]),
            "ratios_given_ids": ratios(figures["ledger_given_ids"], figures["sqlite3_given_ids"]),
            "ratios_vs_ledger_tables": ratios(figures["ledger"], figures["ledger_tables"]),
            "ratios_ledger_tables_vs_sqlite3": ratios(figures["ledger_tables"], figures["sqlite3"])}


def ledger_settings(ledger: Ledger) -> Figures:
    """The SQLite settings an engine made as the ledger makes its own runs with."""
    engine = make_engine(ledger.url)
    try:
        with engine.connect() as conn:
            return {"journal_mode": conn.execute(text("PRAGMA journal_mode")).scalar(),
                    "synchronous": conn.execute(text("PRAGMA synchronous")).scalar()}
    finally:
        engine.dispose()


def growth_run(directory: Path, per_negotiation: int, growth: Growth, seed: int,
               progress: Callable[[int], None] | None) -> Figures:
    with Ledger.open(sqlite_url(directory / GROWTH_FILE)) as ledger:
        sizes = bench_growth.grow_and_sample(ledger, growth.sizes, per_negotiation, growth.samples,
                                             seed, progress)
        long = bench_growth.long_negotiation(ledger, growth.long_events, growth.long_batch, seed, progress)
    return {"sizes": sizes, "long": long,
            "p50_ratio_largest_to_smallest": ratio(sizes[-1]["get_p50_us"], sizes[0]["get_p50_us"])}


def targets(result: Figures) -> list[Figures]:
    """The issue's targets, judged on this run's ratios."""
    measured = result["ratios"]
    verdicts = [
        target("append", f"ledger append ≥ {APPEND_TARGET:g} × plain sqlite3 (events/s)", measured["append"],
               ">=", APPEND_TARGET),
        target("get", f"ledger get ≥ {GET_TARGET:g} × plain sqlite3 (events/s)", measured["get"], ">=", GET_TARGET),
        target("get_loop", f"ledger get in a loop ≥ {GET_TARGET:g} × plain sqlite3 reading the rows (events/s)",
               measured["get_loop"], ">=", GET_TARGET),
        target("rebuild", f"ledger rebuild-all ≥ {REBUILD_TARGET:g} × sqlite3 scan-and-decode (events/s)",
               measured["rebuild"], ">=", REBUILD_TARGET),
    ]
    growth = result.get("growth")
    if growth:
        small, large = growth["sizes"][0]["events"], growth["sizes"][-1]["events"]
        verdicts.append(target("growth", f"get p50 at {large:,} events within 1.5 × its p50 at {small:,}",
                               growth["p50_ratio_largest_to_smallest"], "<=", 1.5))
        long = growth["long"]
        verdicts.append(target("long", f"{long['events']:,}-event negotiation loads in under "
                               f"20 × a {long['short_events']}-event one", long["ratio"], "<", 20))
    return verdicts


#: The files a run of this module writes in its directory.
BENCH_FILES = (LEDGER_FILE, GIVEN_IDS_LEDGER_FILE, PLAIN_FILE, GIVEN_IDS_PLAIN_FILE, TABLES_FILE, GROWTH_FILE)


@contextmanager
def workspace(directory: Path | None, files: tuple[str, ...] = BENCH_FILES) -> Iterator[Path]:
    """The chosen directory (kept afterwards, holding none of ``files``), or a temporary one removed afterwards."""
    if directory is None:
        with tempfile.TemporaryDirectory(prefix="negotiation-bench-") as made:
            yield Path(made)
        return
    directory.mkdir(parents=True, exist_ok=True)
    taken = [name for name in files if (directory / name).exists()]
    if taken:
        # Measuring on top of an earlier run's rows would skew every figure.
        raise click.ClickException(f"{directory} already holds {', '.join(taken)}: choose an empty directory")
    yield directory


@contextmanager
def progress_bar(total: int, enabled: bool) -> Iterator[Callable[[int], None] | None]:
    """A bar on stderr for the long growth build, only when stderr is a terminal."""
    err = Console(stderr=True)
    if not enabled or not err.is_terminal:
        yield None
        return
    columns = (TextColumn("growing"), BarColumn(), MofNCompleteColumn(), TextColumn("events"),
               TimeRemainingColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("grow", total=total)
        yield lambda n: bar.advance(task, n)


def growth_sizes_option(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in value.split(",") if part.strip())
    except ValueError:
        raise click.BadParameter("give whole numbers separated by commas, e.g. 10000,100000") from None
    if len(sizes) < 2 or any(size < 1 for size in sizes):
        raise click.BadParameter("give at least two sizes, each at least 1")
    return tuple(sorted(sizes))


@click.command()
@click.option("--negotiations", "-n", default=10_000, show_default=True, type=click.IntRange(min=1),
              help="Negotiations in the workload.")
@click.option("--events", "-k", default=10, show_default=True, type=click.IntRange(min=1),
              help="Events per negotiation.")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to put the SQLite files and keep them (default: a temporary directory).")
@click.option("--page-size", default=1000, show_default=True, type=click.IntRange(min=1),
              help="Events per page for systems rebuilt page by page (the eventsourcing comparison).")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the workload.")
@click.option("--growth", "with_growth", is_flag=True, help="Also measure get as the log grows (slow).")
@click.option("--growth-sizes", default="10000,100000,1000000", show_default=True, callback=growth_sizes_option,
              help="Store sizes, in events, at which get is sampled.")
@click.option("--growth-samples", default=300, show_default=True, type=click.IntRange(min=1),
              help="Negotiations read at each store size.")
@click.option("--long-events", default=100_000, show_default=True, type=click.IntRange(min=1),
              help="Events of the one long negotiation.")
@click.option("--long-batch", default=10_000, show_default=True, type=click.IntRange(min=1),
              help="Events per record_many call when building the long negotiation.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with every figure.")
def bench(negotiations: int, events: int, directory: Path | None, page_size: int, seed: int,
          with_growth: bool, growth_sizes: tuple[int, ...], growth_samples: int, long_events: int,
          long_batch: int, as_json: bool) -> None:
    """Measure append, get and rebuild-all against plain sqlite3 and judge the performance targets.

    Ratios (ledger / plain sqlite3, in events/s) are measured in the same run;
    raw times depend on the machine. --growth adds get latency as the log grows
    and on one very long negotiation.

    Example: python -m benchmarks.bench --negotiations 1000 --events 10 --json
    """
    growth = Growth(growth_sizes, growth_samples, long_events, long_batch) if with_growth else None
    try:
        with workspace(directory) as where:
            result: Figures = {
                "workload": {"negotiations": negotiations, "events_per_negotiation": events,
                             "events": negotiations * events, "seed": seed, "page_size": page_size,
                             "dir": str(where) if directory else None},
                "environment": environment(),
                **core_run(where, negotiations, events, page_size, seed),
                "growth": None,
            }
            if growth:
                total = max(growth.sizes) + growth.long_events
                with progress_bar(total, not as_json) as advance:
                    result["growth"] = {"per_negotiation": events, "samples": growth.samples,
                                        **growth_run(where, events, growth, seed, advance)}
    except NegotiationError as e:
        raise click.ClickException(str(e)) from e
    result["targets"] = targets(result)
    show(result, as_json)


def show(result: Figures, as_json: bool) -> None:
    """Print the result as one JSON object, or as rich tables."""
    if as_json:
        click.echo(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
        return
    out = Console()
    out.print(bench_report.workload_heading(result))
    systems = {name: result[name] for name in ("ledger", "ledger_given_ids", "ledger_tables", "sqlite3",
                                               "sqlite3_given_ids")}
    out.print(bench_report.throughput_table(systems, "sqlite3", "throughput"))
    out.print("ledger_tables: the ledger's rows, tables and statements by plain sqlite3 (the database's share); "
              f"ledger / ledger_tables append: {result['ratios_vs_ledger_tables']['append']:.2f}×")
    out.print(bench_report.detail_table(systems))
    out.print(bench_report.frames_table(systems))
    out.print(bench_report.btree_table(systems))
    out.print(bench_report.split_table(systems))
    if result["growth"]:
        out.print(bench_report.growth_table(result["growth"]))
    out.print(bench_report.targets_table(result["targets"]))


if __name__ == "__main__":
    bench()
