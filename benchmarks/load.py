"""``negotiation load`` of a large event file against plain Python doing the unavoidable part of the work.

The workload (``benchmarks/workload.py``: N negotiations of K legal events, ids
and dates given) is written once as a JSON file (a list of negotiation
documents) and once as a YAML file (one document per negotiation), in the
format ``negotiation load`` reads. Then, in the same run:

* the baseline: ``json.load`` of the JSON file, then ``sqlite3`` ``executemany``
  of the rows (the columns of the ledger's ``negotiation_events``: data and
  sources as orjson text, dates as SQLite's text, a SHA-256 of the data as the
  hash) in transactions of 1,000 rows, on a fresh file in WAL mode with
  ``synchronous=FULL``; it is measured before and after the ledger, and the
  faster of the two is the one compared against;
* the ledger's load of the JSON file and of the YAML file, each into a fresh
  SQLite file through ``read_streams`` and ``load_streams``, what the ``load``
  command calls (without its progress bar); the time of reading the file
  (``read_seconds``) and of checking and writing its events
  (``check_and_write_seconds``) are reported beside the total.

Schemas are made before the clock starts (the ledger's by ``Ledger.open``, the
baseline's by ``CREATE TABLE``). Verdicts are reported, never asserted.

Where the time goes: the faster baseline and the JSON load run once more,
each into a file of its own, under ``cProfile``, which slows Python but not
the calls of the ``sqlite3`` module; the seconds inside those calls
(``inside_sqlite_seconds``: SQLite's B-trees, its log, the syncs) are
reported beside the timed run's, and what is left of the timed run is the
Python around them (``outside_sqlite_seconds``).

    python -m benchmarks.load                   # 2,000 negotiations x 50 events
    python -m benchmarks.load --json            # every figure as one JSON object
    python -m benchmarks.load -n 20 -k 5        # a quick run
"""

from __future__ import annotations

import cProfile
import gc
import hashlib
import json
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import orjson
import yaml
from rich.console import Console
from rich.table import Table

from benchmarks.bench import environment, workspace
from benchmarks.measure import CollectorClock, inside_sqlite
from benchmarks.report import Figures, ratio, target, targets_table, workload_heading
from benchmarks.workload import workload
from negotiation.errors import NegotiationError
from negotiation.files.loading import load_streams, read_streams
from negotiation.ledger import Ledger

JSON_FILE = "load-workload.json"
YAML_FILE = "load-workload.yaml"
BASELINE_FILE = "load-sqlite3.db"
LEDGER_JSON_FILE = "load-ledger-json.db"
LEDGER_YAML_FILE = "load-ledger-yaml.db"
#: A run profiled for the time inside SQLite's calls, removed when done.
PROFILED_FILE = "load-profiled.db"
FILES = (JSON_FILE, YAML_FILE, BASELINE_FILE, LEDGER_JSON_FILE, LEDGER_YAML_FILE, PROFILED_FILE)
#: Rows per baseline transaction.
TRANSACTION = 1_000
#: The issue's targets: the ledger's events/s over the baseline's.
TARGETS = {"json": 0.5, "yaml": 0.25}

_SCHEMA = """
CREATE TABLE negotiation_events (
    position INTEGER PRIMARY KEY,
    event_id CHAR(32) NOT NULL UNIQUE,
    negotiation_id VARCHAR(64) NOT NULL,
    version INTEGER NOT NULL,
    type VARCHAR(64) NOT NULL,
    data JSON NOT NULL,
    schema_version SMALLINT NOT NULL,
    occurred_at DATETIME NOT NULL,
    recorded_at DATETIME NOT NULL,
    sources JSON NOT NULL,
    hash VARCHAR(64) NOT NULL,
    reported_at DATETIME NOT NULL,
    UNIQUE (negotiation_id, version)
)
"""
_INSERT = ("INSERT INTO negotiation_events (event_id, negotiation_id, version, type, data, schema_version, "
           "occurred_at, recorded_at, sources, hash, reported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")


# -- the files ----------------------------------------------------------------------------------


def documents(negotiations: int, events: int, seed: int) -> list[dict[str, Any]]:
    """The workload as negotiation documents, dates written as ISO 8601 text in UTC."""
    return [{"negotiation": negotiation_id,
             "events": [{"type": item["type"], "occurred_at": item["occurred_at"].isoformat().replace("+00:00", "Z"),
                         "sources": item["sources"], "event_id": item["event_id"], "data": item["data"]}
                        for item in items]}
            for negotiation_id, items in workload(negotiations, events, seed)]


def write_files(directory: Path, negotiations: int, events: int, seed: int) -> tuple[Path, Path]:
    """The JSON file (a list of documents) and the YAML file (one document each), same negotiations."""
    docs = documents(negotiations, events, seed)
    as_json, as_yaml = directory / JSON_FILE, directory / YAML_FILE
    as_json.write_bytes(orjson.dumps(docs, option=orjson.OPT_INDENT_2))
    dumper = yaml.CSafeDumper if yaml.__with_libyaml__ else yaml.SafeDumper
    with as_yaml.open("w", encoding="utf-8") as out:
        yaml.dump_all(docs, out, Dumper=dumper, sort_keys=False, allow_unicode=True, width=120)
    return as_json, as_yaml


# -- what is timed ------------------------------------------------------------------------------


def _stored_moment(text: str) -> str:
    """A date as SQLite stores the ledger's: naive UTC with microseconds."""
    return datetime.fromisoformat(text).astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _rows(docs: list[Any], now: str) -> Iterator[tuple[Any, ...]]:
    for doc in docs:
        negotiation_id = doc["negotiation"]
        for version, item in enumerate(doc["events"], start=1):
            data = orjson.dumps(item["data"])
            yield (item["event_id"].replace("-", ""), negotiation_id, version, item["type"], data.decode(), 1,
                   _stored_moment(item["occurred_at"]), now, orjson.dumps(item["sources"]).decode(),
                   hashlib.sha256(data).hexdigest(), now)


def baseline(path: Path, database: Path, profile: cProfile.Profile | None = None) -> Figures:
    """``json.load`` and sqlite3 ``executemany``, 1,000 rows a transaction, WAL, ``synchronous=FULL``
    (``profile``, given, is on for the timed part only)."""
    conn = sqlite3.connect(database, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute(_SCHEMA)
        settings = {"journal_mode": conn.execute("PRAGMA journal_mode").fetchone()[0],
                    "synchronous": conn.execute("PRAGMA synchronous").fetchone()[0]}
        started = time.perf_counter()
        if profile is not None:
            profile.enable()
        with CollectorClock() as collector:
            with path.open("rb") as source:
                docs = json.load(source)
            if isinstance(docs, dict):
                docs = [docs]
            rows = _rows(docs, datetime.now(UTC).replace(tzinfo=None).isoformat(" ", "microseconds"))
            stored = 0
            while batch := [row for _, row in zip(range(TRANSACTION), rows)]:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(_INSERT, batch)
                conn.execute("COMMIT")
                stored += len(batch)
        seconds = time.perf_counter() - started
    finally:
        if profile is not None:
            profile.disable()
        conn.close()
    return {"events": stored, "seconds": seconds, "events_per_s": stored / seconds, "sqlite": settings,
            **_collected(collector)}


def _collected(collector: CollectorClock) -> Figures:
    return {"collector_seconds": round(collector.seconds, 3), "full_collections": collector.full}


def ledger_load(path: Path, database: Path, profile: cProfile.Profile | None = None) -> Figures:
    """The ledger's load of ``path`` into a fresh file: what ``negotiation load`` runs, without its bar."""
    with Ledger.open(f"sqlite:///{database}") as ledger:
        engine = ledger.recorder.engine
        with engine.connect() as conn:
            driver: Any = conn.connection.driver_connection
            settings = {"journal_mode": driver.execute("PRAGMA journal_mode").fetchone()[0],
                        "synchronous": driver.execute("PRAGMA synchronous").fetchone()[0]}
        started = time.perf_counter()
        if profile is not None:
            profile.enable()
        with CollectorClock() as collector:
            streams = read_streams([path])
            read = time.perf_counter()
            report = load_streams(ledger, streams)
        done = time.perf_counter()
        if profile is not None:
            profile.disable()
    seconds = done - started
    return {"events": report.recorded, "already_stored": report.already_stored,
            "negotiations": report.negotiations, "seconds": seconds, "events_per_s": report.recorded / seconds,
            "read_seconds": read - started, "check_and_write_seconds": done - read, "sqlite": settings,
            **_collected(collector)}


def _quiet(measure: Any, *args: Any) -> Figures:
    """One measurement with the garbage collected beforehand, so one run does not pay for the last."""
    gc.collect()
    result: Figures = measure(*args)
    return result


def _inside_sqlite(measure: Any, path: Path, database: Path) -> float:
    """Seconds ``measure``'s timed part spends inside SQLite's calls, profiled, into a file removed afterwards."""
    profile = cProfile.Profile()
    gc.collect()
    measure(path, database, profile)
    for suffix in ("", "-wal", "-shm"):
        database.with_name(database.name + suffix).unlink(missing_ok=True)
    return inside_sqlite(profile)


def run(directory: Path, negotiations: int, events: int, seed: int = 0) -> Figures:
    """Write the files into ``directory``, time the baseline and both loads, and judge the targets."""
    as_json, as_yaml = write_files(directory, negotiations, events, seed)
    first = _quiet(baseline, as_json, directory / BASELINE_FILE)
    (directory / BASELINE_FILE).unlink()
    for suffix in ("-wal", "-shm"):
        (directory / f"{BASELINE_FILE}{suffix}").unlink(missing_ok=True)
    from_json = _quiet(ledger_load, as_json, directory / LEDGER_JSON_FILE)
    from_yaml = _quiet(ledger_load, as_yaml, directory / LEDGER_YAML_FILE)
    second = _quiet(baseline, as_json, directory / BASELINE_FILE)
    best = max(first, second, key=lambda figures: figures["events_per_s"])
    # Where the time goes: the same runs again under a profiler, which slows Python but not SQLite's calls.
    for figures, measure in ((best, baseline), (from_json, ledger_load)):
        inside = _inside_sqlite(measure, as_json, directory / PROFILED_FILE)
        figures["inside_sqlite_seconds"] = round(inside, 3)
        figures["outside_sqlite_seconds"] = round(figures["seconds"] - inside, 3)
    ratios = {"json": ratio(from_json["events_per_s"], best["events_per_s"]),
              "yaml": ratio(from_yaml["events_per_s"], best["events_per_s"])}
    return {
        "workload": {"negotiations": negotiations, "events_per_negotiation": events,
                     "events": negotiations * events, "seed": seed,
                     "json_bytes": as_json.stat().st_size, "yaml_bytes": as_yaml.stat().st_size},
        "environment": environment(),
        "baseline": {**best, "runs_events_per_s": [first["events_per_s"], second["events_per_s"]]},
        "ledger_json": from_json,
        "ledger_yaml": from_yaml,
        "ratios": ratios,
        "targets": [
            target("json", f"ledger load of JSON ≥ {TARGETS['json']} × json.load + sqlite3 (events/s)",
                   ratios["json"], ">=", TARGETS["json"]),
            target("yaml", f"ledger load of YAML ≥ {TARGETS['yaml']} × json.load + sqlite3 (events/s)",
                   ratios["yaml"], ">=", TARGETS["yaml"]),
        ],
    }


# -- the command --------------------------------------------------------------------------------


def load_table(result: Figures) -> Table:
    """The baseline and both loads: seconds, where they went, events/s and the ratios."""
    table = Table(title=f"bulk load of {result['workload']['events']:,} events")
    for column in ("what", "seconds", "of which reading", "inside SQLite", "collector (full)", "events/s",
                   "/ baseline"):
        table.add_column(column, justify="left" if column == "what" else "right")
    rows = [("json.load + sqlite3 executemany", result["baseline"], None),
            ("ledger load, JSON file", result["ledger_json"], result["ratios"]["json"]),
            ("ledger load, YAML file", result["ledger_yaml"], result["ratios"]["yaml"])]
    for label, figures, against in rows:
        reading, inside = figures.get("read_seconds"), figures.get("inside_sqlite_seconds")
        table.add_row(label, f"{figures['seconds']:,.2f}", "" if reading is None else f"{reading:,.2f}",
                      "" if inside is None else f"{inside:,.2f}",
                      f"{figures['collector_seconds']:,.2f} ({figures['full_collections']})",
                      f"{figures['events_per_s']:,.0f}", "" if against is None else f"{against:.2f}×")
    return table


def show(result: Figures, as_json: bool) -> None:
    if as_json:
        click.echo(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
        return
    out = Console()
    out.print(workload_heading(result))
    out.print(load_table(result))
    out.print(targets_table(result["targets"]))


@click.command()
@click.option("--negotiations", "-n", default=2_000, show_default=True, type=click.IntRange(min=1),
              help="Negotiations in the files.")
@click.option("--events", "-k", default=50, show_default=True, type=click.IntRange(min=1),
              help="Events per negotiation.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the workload.")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to write the files and databases and keep them (default: a temporary directory).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with every figure.")
def main(negotiations: int, events: int, seed: int, directory: Path | None, as_json: bool) -> None:
    """Time `negotiation load` of a JSON and a YAML file against json.load + sqlite3 and judge the targets.

    Example: python -m benchmarks.load --negotiations 200 --events 50 --json
    """
    try:
        with workspace(directory, FILES) as where:
            result = run(where, negotiations, events, seed)
    except NegotiationError as e:
        raise click.ClickException(str(e)) from e
    show(result, as_json)


if __name__ == "__main__":
    main()
