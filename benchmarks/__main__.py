"""``python -m benchmarks``: every performance figure of the ledger in one run, each with its target.

The parts, each measuring the ledger against baselines in the same run:

1. SQLite: the ledger, ``eventsourcing`` 9.x, plain ``sqlite3`` and plain SQL
   on the ledger's own tables take turns appending N negotiations × K events,
   reading each back and rebuilding everything (``bench.py``, ``compare.py``);
2. growth: ``get`` as the log grows to a million events, and one
   100,000-event negotiation (``growth.py``);
3. bulk load: ``negotiation load`` of a JSON and a YAML file against
   ``json.load`` + ``executemany`` (``load.py``);
4. time travel: ``get(as_of=...)``, a late event and a correction on
   1,000-event negotiations against plain sqlite3 reading and decoding the
   rows (and appending one), the two taking turns sample by sample
   (``time_travel.py``);
5. PostgreSQL: the ledger against eventsourcing's PostgreSQL recorder on the
   server of ``$NEGOTIATION_BENCH_PG`` (``postgres.py``); reported as
   skipped, with the reason, when no server answers.

Every SQLite file runs in WAL mode with ``synchronous=FULL`` (each side's
setting is read back and reported). ``--json`` prints one JSON object with
every figure, ratio and verdict; ``--out FILE`` writes it to a file as well.
Verdicts are reported, never asserted.

    python -m benchmarks --out bench.json
    python -m benchmarks -n 2000 --growth-sizes 10000,100000 --long-events 20000 --load-negotiations 400
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson
from rich.console import Console
from rich.table import Table

from benchmarks import compare, load, postgres, time_travel
from benchmarks.bench import (
    BENCH_FILES,
    Growth,
    environment,
    growth_run,
    growth_sizes_option,
    progress_bar,
    targets,
    workspace,
)
from benchmarks.report import (Figures, btree_table, detail_table, frames_table, growth_table, split_table, targets_table,
                               throughput_table)
from negotiation.errors import NegotiationError


def sqlite_part(where: Path, negotiations: int, events: int, page_size: int, seed: int) -> Figures:
    """The ledger, eventsourcing, plain sqlite3 and the ledger's tables by plain SQL, interleaved."""
    result = compare.compare(where, negotiations, events, page_size, seed)
    result.pop("environment")
    result.pop("growth")
    return result


def postgres_part(negotiations: int, events: int, seed: int) -> Figures:
    """The PostgreSQL comparison, or why it was skipped."""
    admin = postgres.admin_url()
    reason = unavailable(admin)
    if reason:
        return {"skipped": reason, "targets": []}
    result = postgres.run(negotiations, events, seed, admin=admin)
    result.pop("environment")
    return result


def unavailable(admin: str) -> str | None:
    """Why the PostgreSQL part cannot run against ``admin``, or None when it can."""
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed: pip install -e '.[postgresql]' (in a clone of the project)"
    try:
        psycopg.connect(admin, connect_timeout=3).close()
    except psycopg.Error as e:
        return f"no server answers at {admin}: {str(e).strip().splitlines()[0]}"
    return None


@click.command()
@click.option("--negotiations", "-n", default=10_000, show_default=True, type=click.IntRange(min=1),
              help="Negotiations of the SQLite run.")
@click.option("--events", "-k", default=10, show_default=True, type=click.IntRange(min=1),
              help="Events per negotiation (SQLite, growth and PostgreSQL runs).")
@click.option("--growth-sizes", default="10000,100000,1000000", show_default=True,
              callback=growth_sizes_option,
              help="Log sizes, in events, at which get is sampled.")
@click.option("--long-events", default=100_000, show_default=True, type=click.IntRange(min=1),
              help="Events of the one long negotiation.")
@click.option("--load-negotiations", default=2_000, show_default=True, type=click.IntRange(min=1),
              help="Negotiations in the bulk-load files.")
@click.option("--load-events", default=50, show_default=True, type=click.IntRange(min=1),
              help="Events per negotiation in the bulk-load files.")
@click.option("--time-travel-events", default=time_travel.TARGET_SIZE, show_default=True,
              type=click.IntRange(min=3), help="Events of each negotiation of the time-travel part.")
@click.option("--time-travel-samples", default=40, show_default=True, type=click.IntRange(min=3),
              help="Negotiations (timed writes) of the time-travel part at most.")
@click.option("--pg-negotiations", default=2_000, show_default=True, type=click.IntRange(min=1),
              help="Negotiations of the PostgreSQL run.")
@click.option("--skip", multiple=True, type=click.Choice(["growth", "load", "time-travel", "postgresql"]),
              help="Leave a part out (may be repeated).")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of every workload.")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to put the SQLite files and keep them (default: a temporary directory).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with every figure.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the JSON object to this file.")
def main(negotiations: int, events: int, growth_sizes: tuple[int, ...], long_events: int,
         load_negotiations: int, load_events: int, time_travel_events: int, time_travel_samples: int,
         pg_negotiations: int, skip: tuple[str, ...], seed: int,
         directory: Path | None, as_json: bool, out: Path | None) -> None:
    """Run every benchmark part once and judge every performance target on the ratios measured.

    Example: python -m benchmarks --out bench.json
    """
    if compare.Application is None:
        raise click.ClickException("eventsourcing is not installed: pip install 'eventsourcing>=9.3,<10'")
    say = Console(stderr=True, quiet=as_json)
    result: Figures = {"environment": environment(),
                       "workload": {"negotiations": negotiations, "events_per_negotiation": events, "seed": seed}}
    try:
        with workspace(directory, (*BENCH_FILES, compare.ES_FILE, *load.FILES, time_travel.LEDGER_FILE,
                                   time_travel.PLAIN_FILE)) as where:
            say.print(f"SQLite: {negotiations:,} negotiations × {events} events, four systems taking turns…")
            result["sqlite"] = sqlite_part(where, negotiations, events, 1000, seed)
            result["growth"] = None
            if "growth" not in skip:
                growth = Growth(growth_sizes, long_events=long_events)
                say.print(f"growth: get at {', '.join(f'{size:,}' for size in growth.sizes)} events…")
                with progress_bar(max(growth.sizes) + growth.long_events, not as_json) as advance:
                    result["growth"] = {"per_negotiation": events, "samples": growth.samples,
                                        **growth_run(where, events, growth, seed, advance)}
            result["load"] = None
            if "load" not in skip:
                say.print(f"bulk load: {load_negotiations:,} × {load_events} events from JSON and YAML…")
                loaded = load.run(where, load_negotiations, load_events, seed)
                loaded.pop("environment")
                result["load"] = loaded
            result["time_travel"] = None
            if "time-travel" not in skip:
                say.print(f"time travel: get(as_of), late events and corrections on {time_travel_events:,} events…")
                travelled = time_travel.run(where, (time_travel_events,), time_travel_samples,
                                            lambda line: say.print(line, highlight=False))
                travelled.pop("environment")
                result["time_travel"] = travelled
    except NegotiationError as e:
        raise click.ClickException(str(e)) from e
    result["postgresql"] = None
    if "postgresql" not in skip:
        say.print(f"PostgreSQL: {pg_negotiations:,} negotiations × {events} events…")
        result["postgresql"] = postgres_part(pg_negotiations, events, seed)
    result["targets"] = all_targets(result)
    text = orjson.dumps(result, option=orjson.OPT_INDENT_2).decode()
    if out is not None:
        out.write_text(text + "\n", encoding="utf-8")
    if as_json:
        click.echo(text)
        return
    show(result)


def all_targets(result: Figures) -> list[Figures]:
    """Every part's verdicts in one list, each named by its part."""
    sqlite = result["sqlite"]
    judged = [{**verdict, "part": "sqlite"} for verdict in sqlite["targets"]]
    if result["growth"]:
        growth_only = [verdict for verdict in targets({"ratios": sqlite["ratios"], "growth": result["growth"]})
                       if verdict["name"] in ("growth", "long")]
        judged += [{**verdict, "part": "growth"} for verdict in growth_only]
    for part in ("load", "time_travel", "postgresql"):
        if result[part]:
            judged += [{**verdict, "part": part} for verdict in result[part]["targets"]]
    return judged


def show(result: Figures) -> None:
    out = Console()
    sqlite = result["sqlite"]
    systems = {name: sqlite[name] for name in ("ledger", "ledger_given_ids", "eventsourcing", "ledger_tables",
                                               "sqlite3", "sqlite3_given_ids")}
    out.print(throughput_table(systems, "sqlite3", "SQLite: events/s and ratios to plain sqlite3"))
    out.print(throughput_table({name: systems[name] for name in ("ledger", "ledger_given_ids", "eventsourcing")},
                               "eventsourcing", "SQLite: the ledger against eventsourcing"))
    out.print(detail_table(systems))
    out.print(frames_table(systems))
    out.print(btree_table(systems))
    out.print(split_table(systems))
    out.print("ledger_tables is the ledger's own rows, tables and statements written by plain sqlite3: "
              f"the ledger's append is {sqlite['ratios_vs_ledger_tables']['append']:.2f}× its events/s, "
              f"and it is {sqlite['ratios_ledger_tables_vs_sqlite3']['append']:.2f}× plain sqlite3's.")
    if result["growth"]:
        out.print(growth_table(result["growth"]))
    if result["load"]:
        out.print(load.load_table(result["load"]))
    if result["time_travel"]:
        out.print(time_travel_table(result["time_travel"]))
    pg = result["postgresql"]
    if pg and "skipped" in pg:
        out.print(f"PostgreSQL: skipped ({pg['skipped']})")
    elif pg:
        out.print(throughput_table({name: pg[name] for name in ("ledger", "eventsourcing")}, "eventsourcing",
                                   "PostgreSQL: the ledger against eventsourcing"))
    out.print(targets_table(result["targets"]))


def time_travel_table(travelled: Figures) -> Table:
    table = Table(title="time travel: the ledger against plain sqlite3 (medians)")
    for column in ("operation", "events", "samples", "ledger", "sqlite3", "ratio"):
        table.add_column(column, justify="left" if column == "operation" else "right")
    for r in travelled["results"]:
        table.add_row(time_travel.LABELS[r["operation"]], f"{r['events']:,}", str(r["samples"]),
                      f"{r['ledger_median_s'] * 1e3:,.3f} ms", f"{r['baseline_median_s'] * 1e3:,.3f} ms",
                      f"{r['ratio']:.2f}")
    return table


if __name__ == "__main__":
    sys.exit(main())
