"""Compare the ledger with plain sqlite3 and with the ``eventsourcing`` library, in one run.

The same workload as ``negotiation bench`` (N negotiations × K legal events)
goes through three systems, each on its own SQLite file:

* the ledger (``record_many`` per negotiation, ``get``, ``rebuild_all``);
* plain ``sqlite3`` (the bench's baseline);
* ``eventsourcing`` 9.x with its SQLite persistence: one aggregate per
  negotiation whose command methods check the same state machine, one
  ``save`` per aggregate, ``repository.get`` for each, and rebuild-all from
  the recorder's notifications projected per aggregate.

Every figure and ratio is printed, with ``--json`` as one JSON object.

    python -m benchmarks.compare --negotiations 2000 --events 10 --json   # from the repository's root
"""

from __future__ import annotations

import itertools
import sqlite3
import sys
from collections.abc import Sequence
from contextlib import ExitStack, closing
from datetime import datetime
from pathlib import Path
from typing import Any, cast
from uuid import UUID, uuid5

import click
import orjson
from rich.console import Console

from benchmarks import workload as bench_workload
from benchmarks.bench import (
    BENCH_FILES,
    LEDGER_FILE,
    SystemFactory,
    core_run,
    environment,
    sqlite_url,
    targets,
    workspace,
)
from benchmarks.measure import Figures, System
from benchmarks.report import btree_table, detail_table, frames_table, ratios, split_table, target, targets_table, throughput_table
from negotiation import Ledger
from negotiation.domain import machine

try:
    from eventsourcing.application import Application, project_aggregate
    from eventsourcing.domain import Aggregate, event
except ImportError:  # reported by main(), so --help still works without it
    Application = None  # type: ignore[assignment,misc]

ES_FILE = "eventsourcing.db"
#: Negotiations whose rebuilt state is compared between the ledger and eventsourcing.
STATES_CHECKED = 200
_NAMESPACE = UUID("5c6b1f0e-1f0b-4a59-9a57-3f1d3c0de0a1")
#: The aggregate's command method for each event type after the opening.
METHODS = {"TermsAmended": "amend_terms", "TermsDisputed": "dispute", "DisputeResolved": "resolve",
           "VisitCancelled": "cancel_visit", "WorkingLevelTalksOpened": "open_talks"}


def aggregate_id(negotiation_id: str) -> UUID:
    return uuid5(_NAMESPACE, negotiation_id)


if Application is not None:

    class EsNegotiation(Aggregate):
        """The negotiation as an eventsourcing aggregate: same payloads, same machine, same effects.

        Each decorated method body runs when the command is given and again on
        every replay, like the ledger's fold, so get does comparable work.
        """

        @staticmethod
        def create_id(negotiation_id: str) -> UUID:
            return aggregate_id(negotiation_id)

        @event("AgreedInPrinciple")
        def __init__(self, negotiation_id: str, data: dict[str, Any], occurred_at: datetime,
                     sources: list[str]) -> None:
            self.negotiation_id = negotiation_id
            self.state = machine.AGREED
            self.parties = tuple(data["parties"])
            self.terms = dict(data.get("terms", {}))
            self.open_disputes: list[str] = []
            self.has_deal = True
            self.opened_at = self.updated_at = occurred_at

        def _step(self, event_type: str, data: dict[str, Any], occurred_at: datetime) -> None:
            dest = machine.follow(self.state, event_type, cast(machine.Facts, self))
            if dest is None:
                raise ValueError(f"{event_type} is not allowed in state {self.state}")
            if event_type == "TermsDisputed":
                self.open_disputes.append(data["point"])
            elif event_type == "DisputeResolved":
                self.open_disputes.remove(data["point"])
            self.terms.update(data.get("terms", {}))
            self.state = dest
            self.updated_at = occurred_at

        @event("TermsAmended")
        def amend_terms(self, data: dict[str, Any], occurred_at: datetime, sources: list[str]) -> None:
            self._step("TermsAmended", data, occurred_at)

        @event("TermsDisputed")
        def dispute(self, data: dict[str, Any], occurred_at: datetime, sources: list[str]) -> None:
            self._step("TermsDisputed", data, occurred_at)

        @event("DisputeResolved")
        def resolve(self, data: dict[str, Any], occurred_at: datetime, sources: list[str]) -> None:
            self._step("DisputeResolved", data, occurred_at)

        @event("VisitCancelled")
        def cancel_visit(self, data: dict[str, Any], occurred_at: datetime, sources: list[str]) -> None:
            self._step("VisitCancelled", data, occurred_at)

        @event("WorkingLevelTalksOpened")
        def open_talks(self, data: dict[str, Any], occurred_at: datetime, sources: list[str]) -> None:
            self._step("WorkingLevelTalksOpened", data, occurred_at)

    class Negotiations(Application[UUID]):
        """An eventsourcing application holding nothing but the negotiation aggregates."""


def open_app(path: Path) -> Any:
    # Passed as the application's env, so nothing leaks into (or from) os.environ's other settings.
    return Negotiations(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)})


class EsSystem:
    """eventsourcing as a bench system: construct and save one aggregate per negotiation, get by id."""

    def __init__(self, app: Any, page_size: int) -> None:
        self.app = app
        self.page_size = page_size

    def append(self, negotiation_id: str, items: Sequence[dict[str, Any]]) -> None:
        first, *rest = items
        negotiation = EsNegotiation(negotiation_id=negotiation_id, data=first["data"],
                                    occurred_at=first["occurred_at"], sources=first["sources"])
        for item in rest:
            getattr(negotiation, METHODS[item["type"]])(data=item["data"], occurred_at=item["occurred_at"],
                                                        sources=item["sources"])
        self.app.save(negotiation)

    def get(self, negotiation_id: str) -> object:
        return self.app.repository.get(aggregate_id(negotiation_id))

    def rebuild_all(self) -> tuple[int, int | None]:
        events, states = es_rebuild_all(self.app, self.page_size)
        return events, len(states)


def es_rebuild_all(app: Any, page_size: int) -> tuple[int, dict[UUID, Any]]:
    """Every aggregate from the recorder's notifications, in pages, projected per aggregate."""
    states: dict[UUID, Any] = {}
    after = 0
    seen = 0
    while page := app.recorder.select_notifications(start=after, limit=page_size, inclusive_of_start=False):
        domain_events = [app.mapper.to_domain_event(notification) for notification in page]
        for originator, run in itertools.groupby(domain_events, key=lambda e: e.originator_id):
            states[originator] = project_aggregate(states.get(originator), run)
        seen += len(page)
        after = page[-1].id
    return seen, states


def es_factory(page_size: int) -> SystemFactory:
    def make(directory: Path, stack: ExitStack) -> tuple[System, Path]:
        app = open_app(directory / ES_FILE)
        stack.callback(app.close)
        return EsSystem(app, page_size), directory / ES_FILE
    return make


def states_agree(directory: Path, ids: Sequence[str]) -> bool:
    """Whether both libraries rebuilt the same negotiations: state, open points and terms.

    A comparison is only fair if both did the same work, so this is checked after the timed runs.
    """
    app = open_app(directory / ES_FILE)
    try:
        with Ledger.open(sqlite_url(directory / LEDGER_FILE)) as ledger:
            for negotiation_id in ids:
                ours, theirs = ledger.get(negotiation_id), app.repository.get(aggregate_id(negotiation_id))
                if (ours.state, list(ours.open_disputes), ours.terms, ours.version) != (
                        theirs.state, theirs.open_disputes, theirs.terms, theirs.version):
                    return False
    finally:
        app.close()
    return True


def compare(directory: Path, negotiations: int, events: int, page_size: int, seed: int) -> Figures:
    result: Figures = {
        "workload": {"negotiations": negotiations, "events_per_negotiation": events,
                     "events": negotiations * events, "seed": seed, "page_size": page_size},
        "environment": environment(),
        **core_run(directory, negotiations, events, page_size, seed, {"eventsourcing": es_factory(page_size)}),
        "growth": None,
    }
    # eventsourcing leaves synchronous at SQLite's default; a connection of the same library reports it.
    with closing(sqlite3.connect(directory / ES_FILE)) as es_file:
        result["synchronous"]["eventsourcing"] = es_file.execute("PRAGMA synchronous").fetchone()[0]
    ids = [bench_workload.negotiation_id(index) for index in range(min(negotiations, STATES_CHECKED))]
    result["states_agree"] = states_agree(directory, ids)
    led, es, plain = result["ledger"], result["eventsourcing"], result["sqlite3"]
    result["ratios_vs_eventsourcing"] = ratios(led, es)
    result["ratios_given_ids_vs_eventsourcing"] = ratios(result["ledger_given_ids"], es)
    result["ratios_eventsourcing_vs_sqlite3"] = ratios(es, plain)
    vs_es = result["ratios_vs_eventsourcing"]
    result["targets"] = [
        *targets(result),
        target("append_vs_eventsourcing", "ledger append, ids made by the ledger, ≥ 1 × eventsourcing (events/s)",
               vs_es["append"], ">=", 1.0),
        target("append_given_ids_vs_eventsourcing",
               "ledger append, random ids given by the caller, ≥ 0.8 × eventsourcing (events/s)",
               result["ratios_given_ids_vs_eventsourcing"]["append"], ">=", 0.8),
        target("get_vs_eventsourcing", "ledger get ≥ 4 × eventsourcing (events/s)", vs_es["get"], ">=", 4),
    ]
    return result


@click.command()
@click.option("--negotiations", "-n", default=5_000, show_default=True, type=click.IntRange(min=1))
@click.option("--events", "-k", default=10, show_default=True, type=click.IntRange(min=1))
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to put the SQLite files and keep them (default: a temporary directory).")
@click.option("--page-size", default=1000, show_default=True, type=click.IntRange(min=1))
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with every figure.")
def main(negotiations: int, events: int, directory: Path | None, page_size: int, seed: int,
         as_json: bool) -> None:
    """Run one workload through the ledger, plain sqlite3 and eventsourcing; print every ratio.

    Example: python -m benchmarks.compare --negotiations 2000 --events 10 --json
    """
    if Application is None:
        raise click.ClickException("eventsourcing is not installed: pip install 'eventsourcing>=9.3,<10'")
    with workspace(directory, (*BENCH_FILES, ES_FILE)) as where:
        result = compare(where, negotiations, events, page_size, seed)
    result["workload"]["dir"] = str(directory) if directory else None
    if as_json:
        click.echo(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
        return
    out = Console()
    systems = {name: result[name] for name in ("ledger", "ledger_given_ids", "eventsourcing", "sqlite3",
                                               "sqlite3_given_ids")}
    out.print(f"{negotiations:,} negotiations × {events} events = {negotiations * events:,} events")
    out.print(throughput_table(systems, "sqlite3", "throughput (ratios to plain sqlite3)"))
    out.print(throughput_table({n: systems[n] for n in ("ledger", "eventsourcing")}, "eventsourcing",
                               "ledger against eventsourcing"))
    out.print(detail_table(systems))
    out.print(frames_table(systems))
    out.print(btree_table(systems))
    out.print(split_table(systems))
    out.print(targets_table(result["targets"]))


if __name__ == "__main__":
    sys.exit(main())
