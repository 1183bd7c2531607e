"""The projection runner's throughput against ``rebuild_all``, on the same log in the same run.

Both read the whole log and fold every negotiation through the machine. The
difference is what else each does: ``rebuild_all()`` streams the log in
negotiation order and hands each state to the caller, keeping nothing;
``projections.rebuild(ledger, NegotiationStates())`` reads the log in position
order a batch per transaction, folds each entry onto the negotiation's state
kept in memory, and writes each touched negotiation's row of
``negotiation_states`` and the checkpoint in that same transaction (durable on
commit). The two take turns, ``--rounds`` times, and the median of each is
reported with their ratio.

    python -m benchmarks.projections                       # 2,000 negotiations × 10 events, SQLite file
    python -m benchmarks.projections -n 10000 -k 10 --json
    python -m benchmarks.projections --url postgresql+psycopg://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import orjson
from rich.console import Console
from rich.table import Table

from benchmarks.bench import environment, workspace
from benchmarks.workload import workload
from negotiation import Ledger
from negotiation.projections import NegotiationStates, rebuild, states

LEDGER_FILE = "projections-ledger.db"


def timed(run: Callable[[], int]) -> tuple[float, int]:
    started = time.perf_counter()
    count = run()
    return time.perf_counter() - started, count


def measure(ledger: Ledger, negotiations: int, events: int, batch: int, rounds: int, seed: int) -> dict[str, Any]:
    for negotiation_id, items in workload(negotiations, events, seed):
        ledger.record_many(negotiation_id, items)
    entries = len(ledger.read_all())
    runner: list[float] = []
    folding: list[float] = []
    for round_ in range(rounds):
        # Take turns, the first to go alternating, so a neighbour that slows the machine slows both.
        order = ("runner", "rebuild_all") if round_ % 2 == 0 else ("rebuild_all", "runner")
        for which in order:
            if which == "runner":
                seconds, applied = timed(lambda: rebuild(ledger, NegotiationStates(), batch=batch).entries)
                assert applied == entries, (applied, entries)
                runner.append(seconds)
            else:
                seconds, folded = timed(lambda: sum(1 for _ in ledger.rebuild_all()))
                assert folded == negotiations, (folded, negotiations)
                folding.append(seconds)
    assert {row.negotiation_id: (row.state, row.parties, row.open_points) for row in states(ledger)} == {
        n.id: (n.state, n.parties, n.open_disputes) for n in ledger.rebuild_all()}
    runner_s, folding_s = statistics.median(runner), statistics.median(folding)
    return {
        "negotiations": negotiations, "events_per_negotiation": events, "entries": entries, "batch": batch,
        "rounds": rounds,
        "runner": {"seconds": runner_s, "entries_per_second": entries / runner_s},
        "rebuild_all": {"seconds": folding_s, "entries_per_second": entries / folding_s},
        "ratio_runner_to_rebuild_all": folding_s / runner_s,
    }


@click.command()
@click.option("--negotiations", "-n", default=2_000, show_default=True, help="Negotiations in the log.")
@click.option("--events", "-k", default=10, show_default=True, help="Events per negotiation.")
@click.option("--batch", default=500, show_default=True, help="Entries per runner transaction.")
@click.option("--rounds", default=3, show_default=True, help="Turns each takes; the median is reported.")
@click.option("--seed", default=0, show_default=True, help="Seed of the workload.")
@click.option("--url", default=None, help="An empty database to measure on (default: a SQLite file).")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep the SQLite file here instead of a temporary directory.")
@click.option("--json", "as_json", is_flag=True, help="Print every figure as one JSON object.")
def main(negotiations: int, events: int, batch: int, rounds: int, seed: int, url: str | None,
         directory: Path | None, as_json: bool) -> None:
    """Measure the negotiation_states projection's runner against rebuild_all on one log."""
    with workspace(directory) as where:
        chosen = url or f"sqlite:///{where / LEDGER_FILE}"
        with Ledger.open(chosen) as ledger:
            if ledger.negotiations():
                raise click.ClickException(f"{ledger.url} is not empty: measure on an empty database")
            figures = measure(ledger, negotiations, events, batch, rounds, seed)
            figures["database"] = ledger.url.split(":", 1)[0]
    figures["environment"] = environment()
    if as_json:
        click.echo(orjson.dumps(figures, option=orjson.OPT_INDENT_2).decode())
        return
    table = Table(title=f"{figures['entries']:,} entries in {negotiations:,} negotiations ({figures['database']})")
    table.add_column("")
    table.add_column("seconds (median)", justify="right")
    table.add_column("entries/s", justify="right")
    for name, label in (("runner", f"projection runner, batch {batch}"), ("rebuild_all", "rebuild_all()")):
        table.add_row(label, f"{figures[name]['seconds']:.3f}", f"{figures[name]['entries_per_second']:,.0f}")
    Console().print(table)
    Console().print(f"runner / rebuild_all throughput: {figures['ratio_runner_to_rebuild_all']:.2f}")


if __name__ == "__main__":
    main()
