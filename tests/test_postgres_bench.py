"""benchmarks/postgres.py: every figure reported for both systems, its databases dropped; no timing judged."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner

# Slow: seconds a test.
pytestmark = pytest.mark.slow

IN_CI = os.environ.get("CI", "").lower() == "true"
NEGOTIATIONS, EVENTS = 6, 4


def _eventsourcing_postgres() -> None:
    """eventsourcing's PostgreSQL persistence (it needs psycopg_pool): skipped when absent, an error under CI."""
    missing = [name for name in ("eventsourcing", "psycopg_pool") if importlib.util.find_spec(name) is None]
    if missing:
        problem = f"{' and '.join(missing)} not installed (eventsourcing's PostgreSQL persistence needs both)"
        if IN_CI:
            pytest.fail(f"{problem}; CI=true requires it")
        pytest.skip(problem)


def _existing(admin: str, names: list[str]) -> list[str]:
    with psycopg.connect(admin, autocommit=True) as conn:
        return [name for (name,) in conn.execute("SELECT datname FROM pg_database WHERE datname = ANY(%s)",
                                                 (names,))]


def _recording_databases(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the databases the benchmark makes from now on (other runs may make theirs meanwhile)."""
    from benchmarks import postgres

    made: list[str] = []
    original = postgres.temporary_database

    @contextmanager
    def recorded(admin: str, label: str) -> Iterator[str]:
        with original(admin, label) as name:
            made.append(name)
            yield name

    monkeypatch.setattr(postgres, "temporary_database", recorded)
    return made


def _check(result: dict[str, Any], negotiations: int, events: int) -> None:
    total = negotiations * events
    assert result["workload"]["events"] == total
    for system in ("ledger", "eventsourcing"):
        figures = result[system]
        for phase in ("append", "get", "rebuild"):
            assert figures[phase]["events"] == total
            assert figures[phase]["events_per_s"] > 0
        assert figures["get"]["calls"] == negotiations
        assert figures["get"]["p50_us"] > 0 and figures["get"]["p99_us"] >= figures["get"]["p50_us"]
        assert figures["events_stored"] == total
    assert result["states_agree"] is True
    assert set(result["ratios_vs_eventsourcing"]) == {"append", "get", "get_loop", "rebuild"}
    assert all(value > 0 for value in result["ratios_vs_eventsourcing"].values())
    verdicts = {verdict["name"]: verdict for verdict in result["targets"]}
    assert set(verdicts) == {"append_vs_eventsourcing_postgresql", "get_vs_eventsourcing_postgresql"}
    assert verdicts["append_vs_eventsourcing_postgresql"]["threshold"] == 1.0
    assert verdicts["get_vs_eventsourcing_postgresql"]["threshold"] == 1.5
    for verdict in verdicts.values():
        assert verdict["measured"] > 0 and isinstance(verdict["pass"], bool)
    assert result["environment"]["postgresql"]["server_version"]


def test_run_reports_every_figure_and_drops_its_databases(postgres_admin: str,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    _eventsourcing_postgres()
    from benchmarks import postgres

    made = _recording_databases(monkeypatch)
    result = postgres.run(NEGOTIATIONS, EVENTS, seed=3, admin=postgres_admin)

    _check(result, NEGOTIATIONS, EVENTS)
    assert result["workload"]["seed"] == 3
    assert len(made) == 2 and _existing(postgres_admin, made) == []


def test_the_command_prints_one_json_object(postgres_admin: str) -> None:
    _eventsourcing_postgres()
    from benchmarks import postgres

    outcome = CliRunner().invoke(postgres.main, ["--negotiations", "3", "--events", "2", "--admin", postgres_admin,
                                                 "--json"], catch_exceptions=False)

    assert outcome.exit_code == 0, outcome.output
    _check(json.loads(outcome.stdout), 3, 2)


def test_the_databases_are_dropped_when_the_run_fails(postgres_admin: str, monkeypatch: pytest.MonkeyPatch) -> None:
    _eventsourcing_postgres()
    from benchmarks import postgres

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("the measurement broke")

    monkeypatch.setattr(postgres, "measure", broken)
    made = _recording_databases(monkeypatch)
    with pytest.raises(RuntimeError, match="the measurement broke"):
        postgres.run(2, 2, admin=postgres_admin)

    assert len(made) == 2 and _existing(postgres_admin, made) == []


def test_the_module_runs_as_a_command() -> None:
    shown = subprocess.run([sys.executable, "-m", "benchmarks.postgres", "--help"], check=False,
                           capture_output=True, text=True, timeout=60, cwd=Path(__file__).parent.parent)

    assert shown.returncode == 0, shown.stderr
    assert "--negotiations" in shown.stdout and "--json" in shown.stdout
