"""The ledger against the ``eventsourcing`` library, both on PostgreSQL, in one run.

The same workload as ``negotiation bench`` (N negotiations × K legal events,
``benchmarks/workload.py``) goes through two systems, each in a database of
its own that this module creates on the server and drops at the end (also
when the run fails):

* the ledger (``Ledger.open(url)``, ``record_many`` per negotiation, ``get``);
* ``eventsourcing`` 9.x with its PostgreSQL persistence: the aggregate of
  ``benchmarks/compare.py`` (the same machine), one ``save`` per negotiation,
  ``repository.get`` for each.

They take turns every ``TURN`` negotiations (``benchmarks/measure.py``),
so a slower moment of the server slows both alike. Every figure, the ratios and the
targets are printed, with ``--json`` as one JSON object; ``run()`` returns
the same dict to another module.

    python -m benchmarks.postgres --negotiations 2000 --events 10 --json

The server is ``$NEGOTIATION_BENCH_PG`` (an admin URL, default
``postgresql://postgres@127.0.0.1:5432/test``); the user must be allowed to
create databases.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import click
import orjson
from rich.console import Console

from benchmarks import workload as bench_workload
from benchmarks.bench import environment
from benchmarks.measure import LedgerSystem, System, measure
from benchmarks.report import ratios, target, targets_table, throughput_table
from negotiation import Ledger

#: The server to measure on: an admin URL (the database named in it is only connected to).
ADMIN_VARIABLE = "NEGOTIATION_BENCH_PG"
DEFAULT_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
#: The issue's targets: the ledger against eventsourcing on PostgreSQL, events/s over events/s.
APPEND_TARGET = 1.0
GET_TARGET = 1.5
#: Negotiations per turn: short turns, so a burst of load on a shared server falls on both systems alike.
TURN = 50
#: Negotiations whose state is compared between the two systems after the timed runs.
STATES_CHECKED = 200


def admin_url() -> str:
    return os.environ.get(ADMIN_VARIABLE) or DEFAULT_ADMIN


def _admin(url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(statement)


@contextmanager
def temporary_database(admin: str, label: str) -> Iterator[str]:
    """A new, empty database on the admin URL's server, dropped on the way out whatever happened.

    Yields its name.
    """
    name = f"negotiation_bench_{label}_{uuid.uuid4().hex[:10]}"
    _admin(admin, f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        _admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _server(admin: str) -> dict[str, Any]:
    """Where the databases live and how commits reach the disk there (figures only travel as ratios)."""
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        shown = {setting: conn.execute(f"SHOW {setting}").fetchone()[0]  # type: ignore[index]
                 for setting in ("server_version", "synchronous_commit", "fsync")}
        info = conn.info
        return {"host": info.host, "port": info.port, **shown}


def _ledger_url(admin: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(admin).set(drivername="postgresql+psycopg", database=name).render_as_string(
        hide_password=False)


def open_es_app(admin: str, name: str) -> Any:
    """eventsourcing's application on database ``name`` of the admin URL's server, PostgreSQL persistence."""
    from sqlalchemy.engine import make_url

    from benchmarks.compare import Negotiations

    parsed = make_url(admin)
    # Passed as the application's env, so nothing leaks into (or from) os.environ's other settings.
    return Negotiations(env={
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": name,
        "POSTGRES_HOST": parsed.host or "127.0.0.1",
        "POSTGRES_PORT": str(parsed.port or 5432),
        "POSTGRES_USER": parsed.username or "postgres",
        "POSTGRES_PASSWORD": parsed.password or "",
    })


def states_agree(ledger: Ledger, app: Any, ids: list[str]) -> bool:
    """Whether both systems hold the same negotiations (state, open points, terms, version)."""
    from benchmarks.compare import aggregate_id

    for negotiation_id in ids:
        ours, theirs = ledger.get(negotiation_id), app.repository.get(aggregate_id(negotiation_id))
        if (ours.state, list(ours.open_disputes), ours.terms, ours.version) != (
                theirs.state, theirs.open_disputes, theirs.terms, theirs.version):
            return False
    return True


def run(negotiations: int, events: int, seed: int = 0, *, admin: str | None = None,
        page_size: int = 1000) -> dict[str, Any]:
    """Measure the ledger and eventsourcing on PostgreSQL; every figure, ratio and target as a dict."""
    missing = [name for name in ("eventsourcing", "psycopg_pool") if importlib.util.find_spec(name) is None]
    if missing:
        raise RuntimeError(f"{' and '.join(missing)} not installed, which eventsourcing's PostgreSQL persistence "
                           "needs: pip install 'eventsourcing[postgres]>=9.3,<10'")
    from benchmarks import compare

    server = admin or admin_url()
    work = list(bench_workload.workload(negotiations, events, seed))
    with ExitStack() as stack:
        ledger_db = stack.enter_context(temporary_database(server, "ledger"))
        es_db = stack.enter_context(temporary_database(server, "es"))
        ledger = stack.enter_context(Ledger.open(_ledger_url(server, ledger_db)))
        app = open_es_app(server, es_db)
        stack.callback(app.close)
        systems: dict[str, System] = {"ledger": LedgerSystem(ledger),
                                      "eventsourcing": compare.EsSystem(app, page_size)}
        measured = measure(systems, work, chunk=TURN)
        agree = states_agree(ledger, app, [negotiation_id for negotiation_id, _ in work[:STATES_CHECKED]])
    led, es = measured["ledger"], measured["eventsourcing"]
    vs_es = ratios(led, es)
    return {
        "workload": {"negotiations": negotiations, "events_per_negotiation": events,
                     "events": negotiations * events, "seed": seed, "page_size": page_size, "turn": TURN},
        "environment": {**environment(), "postgresql": _server(server)},
        "ledger": led,
        "eventsourcing": es,
        "states_agree": agree,
        "ratios_vs_eventsourcing": vs_es,
        "targets": [
            target("append_vs_eventsourcing_postgresql",
                   f"ledger append ≥ {APPEND_TARGET:g} × eventsourcing on PostgreSQL (events/s)",
                   vs_es["append"], ">=", APPEND_TARGET),
            target("get_vs_eventsourcing_postgresql",
                   f"ledger get ≥ {GET_TARGET:g} × eventsourcing on PostgreSQL (events/s)",
                   vs_es["get"], ">=", GET_TARGET),
        ],
    }


@click.command()
@click.option("--negotiations", "-n", default=2_000, show_default=True, type=click.IntRange(min=1))
@click.option("--events", "-k", default=10, show_default=True, type=click.IntRange(min=1))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--admin", default=None, help=f"Admin URL of the server (default ${ADMIN_VARIABLE} or {DEFAULT_ADMIN}).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with every figure.")
def main(negotiations: int, events: int, seed: int, admin: str | None, as_json: bool) -> None:
    """Run one workload through the ledger and eventsourcing on PostgreSQL; print the ratios and targets.

    Example: python -m benchmarks.postgres --negotiations 2000 --events 10 --json
    """
    try:
        result = run(negotiations, events, seed, admin=admin)
    except RuntimeError as e:
        raise click.ClickException(str(e)) from None
    if as_json:
        click.echo(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
        return
    out = Console()
    out.print(f"PostgreSQL {result['environment']['postgresql']['server_version']}: "
              f"{negotiations:,} negotiations × {events} events = {negotiations * events:,} events")
    out.print(throughput_table({name: result[name] for name in ("ledger", "eventsourcing")}, "eventsourcing",
                               "ledger against eventsourcing on PostgreSQL"))
    out.print(f"get p50: ledger {result['ledger']['get']['p50_us']:,.0f} µs, "
              f"eventsourcing {result['eventsourcing']['get']['p50_us']:,.0f} µs; "
              f"states agree: {result['states_agree']}")
    out.print(targets_table(result["targets"]))


if __name__ == "__main__":
    sys.exit(main())
