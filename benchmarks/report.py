"""The benchmark's verdicts and tables: targets judged on ratios, figures shown with rich.

Targets compare figures measured in the same run (ledger against a baseline,
large against small), never a wall-clock time, so they mean the same on a
fast machine and a slow one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from rich.table import Table

Figures = dict[str, Any]


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator`` rounded for reading; infinity when the denominator is zero."""
    return round(numerator / denominator, 3) if denominator else float("inf")


PHASES = ("append", "get", "get_loop", "rebuild")


def ratios(system: Mapping[str, Any], baseline: Mapping[str, Any]) -> dict[str, float]:
    """``system``'s events/s over ``baseline``'s, phase by phase: above 1 means faster."""
    return {phase: ratio(system[phase]["events_per_s"], baseline[phase]["events_per_s"]) for phase in PHASES}


_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">=": lambda measured, threshold: measured >= threshold,
    "<=": lambda measured, threshold: measured <= threshold,
    "<": lambda measured, threshold: measured < threshold,
}


def target(name: str, description: str, measured: float, comparison: str, threshold: float) -> Figures:
    """One target's verdict: whether ``measured`` stands in ``comparison`` (">=", "<=", "<") to ``threshold``."""
    return {"name": name, "description": description, "measured": measured, "comparison": comparison,
            "threshold": threshold, "pass": bool(_COMPARISONS[comparison](measured, threshold))}


def _rate(figures: Mapping[str, Any]) -> str:
    return f"{figures['events_per_s']:,.0f}"


def _mib(size: int) -> str:
    return f"{size / 2**20:,.1f} MiB"


def throughput_table(systems: Mapping[str, Figures], baseline: str, title: str) -> Table:
    """Events/s of each phase for each system, with each system's ratio to ``baseline``."""
    table = Table(title=title)
    table.add_column("phase")
    names = list(systems)
    for name in names:
        table.add_column(f"{name} events/s", justify="right")
    others = [name for name in names if name != baseline]
    for name in others:
        table.add_column(f"{name} / {baseline}", justify="right")
    for phase in PHASES:
        if not all(phase in systems[name] for name in names):
            continue
        cells = [_rate(systems[name][phase]) for name in names]
        cells += [f"{ratio(systems[n][phase]['events_per_s'], systems[baseline][phase]['events_per_s']):.2f}×"
                  for n in others]
        table.add_row(phase, *cells)
    return table


def detail_table(systems: Mapping[str, Figures]) -> Table:
    """Get latency percentiles and rebuild-all peak memory of each system."""
    table = Table(title="latency and memory")
    table.add_column("figure")
    for name in systems:
        table.add_column(name, justify="right")
    rows: list[tuple[str, Callable[[Figures], str]]] = [("get p50", lambda f: f"{f['get']['p50_us']:,.0f} µs"),
            ("get p99", lambda f: f"{f['get']['p99_us']:,.0f} µs"),
            ("rebuild-all peak memory", lambda f: _mib(f["rebuild"]["peak_memory_bytes"]))]
    for label, show in rows:
        table.add_row(label, *[show(figures) if "rebuild" in figures else "–" for figures in systems.values()])
    return table


def workload_heading(result: Figures) -> str:
    """The line a printed report starts with: the workload and the SQLite it ran on."""
    work = result["workload"]
    return (f"{work['negotiations']:,} negotiations × {work['events_per_negotiation']} events "
            f"= {work['events']:,} events on SQLite {result['environment']['sqlite']}")


def frames_table(systems: Mapping[str, Figures]) -> Table:
    """The write-ahead-log frames (pages written and synced) of one append, for each system that counted them."""
    table = Table(title="WAL frames per append (one negotiation)")
    for column in ("system", "frames", "per event", "appends counted"):
        table.add_column(column, justify="left" if column == "system" else "right")
    for name, figures in systems.items():
        counted = figures.get("wal_frames")
        if counted:
            table.add_row(name, f"{counted['frames_per_append']:.1f}",
                          f"{counted['frames'] / counted['events']:.2f}", f"{counted['appends']:,}")
    return table


def btree_table(systems: Mapping[str, Figures]) -> Table:
    """The frames of one append by the B-tree (table or index) whose page each wrote, for each system."""
    table = Table(title="WAL frames per append by B-tree (page 1, sqlite_schema, is the file's header)")
    for column in ("system", "B-tree", "frames"):
        table.add_column(column, justify="right" if column == "frames" else "left")
    for name, figures in systems.items():
        trees = (figures.get("wal_frames") or {}).get("by_btree", {})
        for index, (tree, frames) in enumerate(trees.items()):
            table.add_row(name if index == 0 else "", tree, f"{frames:.2f}", end_section=index == len(trees) - 1)
    return table


def split_table(systems: Mapping[str, Figures]) -> Table:
    """Where one append's time goes, for each system that split it: inside SQLite's calls, and the rest."""
    table = Table(title="where an append's time goes (µs per append)")
    for column in ("system", "wall", "inside SQLite", "Python", "CPU", "appends"):
        table.add_column(column, justify="left" if column == "system" else "right")
    for name, figures in systems.items():
        where = figures.get("split")
        if where:
            table.add_row(name, f"{where['wall_us_per_append']:,.0f}", f"{where['inside_sqlite_us_per_append']:,.0f}",
                          f"{where['python_us_per_append']:,.0f}", f"{where['cpu_us_per_append']:,.0f}",
                          f"{where['appends']:,}")
    return table


def growth_table(growth: Figures) -> Table:
    """Get p50 at each store size, and the long negotiation against a short one."""
    table = Table(title="growth (ledger)")
    table.add_column("store")
    table.add_column("get p50", justify="right")
    table.add_column("get p99", justify="right")
    table.add_column("build so far", justify="right")
    for point in growth["sizes"]:
        table.add_row(f"{point['events']:,} events", f"{point['get_p50_us']:,.0f} µs",
                      f"{point['get_p99_us']:,.0f} µs", f"{point['build_seconds_so_far']:,.1f} s")
    long = growth["long"]
    table.add_row(f"one negotiation of {long['events']:,} events", f"{long['get_seconds'] * 1e6:,.0f} µs",
                  "", f"{long['build_seconds']:,.1f} s")
    table.add_row(f"one negotiation of {long['short_events']} events",
                  f"{long['short_get_seconds'] * 1e6:,.0f} µs", "", "")
    return table


def targets_table(targets: Iterable[Figures]) -> Table:
    table = Table(title="targets")
    for column in ("target", "measured", "needed", "verdict"):
        table.add_column(column, justify="left" if column == "target" else "right")
    for verdict in targets:
        table.add_row(verdict["description"], f"{verdict['measured']:,.2f}",
                      f"{verdict['comparison']} {verdict['threshold']}",
                      "[green]pass[/green]" if verdict["pass"] else "[red]fail[/red]")
    return table
