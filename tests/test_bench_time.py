"""The time-travel benchmark: it runs as a module with tiny sizes and reports every figure; no timing is judged."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from benchmarks.time_travel import LEDGER_FILE, PLAIN_FILE, main, samples_for
from negotiation import Ledger

# Slow: seconds a test.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).parent.parent


def run_module(*args: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "benchmarks.time_travel", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def test_the_benchmark_runs_as_a_module_and_reports_every_figure_ratio_and_verdict(tmp_path: Path) -> None:
    report = run_module("--sizes", "10,50", "--samples", "3", "--json", "--dir", str(tmp_path))

    assert report["sizes"] == [10, 50]
    assert report["sqlite_settings"]["baseline"] == {"journal_mode": "wal", "synchronous": 2}
    assert report["sqlite_settings"]["ledger"]["journal_mode"] == "wal"
    assert "code" in report["environment"]
    measured = {(r["operation"], r["events"]): r for r in report["results"]}
    assert set(measured) == {(operation, size) for operation in ("get_as_of", "late_event", "correction")
                             for size in (10, 50)}
    for result in measured.values():
        assert result["samples"] == (3 if result["operation"] != "get_as_of" else 99)
        assert result["ledger_median_s"] > 0 and result["baseline_median_s"] > 0
        assert math.isfinite(result["ratio"]) and result["ratio"] > 0
        assert result["ledger_per_event_us"] > 0
    assert [(g["operation"], g["from_events"], g["to_events"]) for g in report["growth"]] == [
        ("late_event", 10, 50), ("correction", 10, 50), ("get_as_of", 10, 50)]
    assert [verdict["name"] for verdict in report["targets"]] == [
        "get_as_of_ratio", "late_event_ratio", "correction_ratio", "late_event_growth",
        "late_event_growth_against_baseline", "correction_growth", "correction_growth_against_baseline"]
    for grown in report["growth"]:
        assert grown["size_ratio"] == 5 and grown["time_ratio"] > 0 and grown["baseline_per_event_cost_ratio"] > 0
    assert all(isinstance(verdict["pass"], bool) for verdict in report["targets"])


def test_every_timed_write_went_to_a_negotiation_of_its_own_and_left_it_legal(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--sizes", "10", "--samples", "4", "--json", "--dir", str(tmp_path)])
    assert result.exit_code == 0, result.output

    with Ledger.open(f"sqlite:///{tmp_path / LEDGER_FILE}") as ledger:
        ids = ledger.negotiations()
        logs = [ledger.history(negotiation_id) for negotiation_id in ids]
        intact = ledger.verify().intact

    assert len(ids) == samples_for(10, 4) == 4
    assert all([entry.type for entry in log[10:]] == ["TermsAmended", "EventCorrected"] for log in logs)
    assert all(log[10].occurred_at < log[9].occurred_at for log in logs)  # the timed event was late
    assert intact
    assert (tmp_path / PLAIN_FILE).exists()


def test_the_table_names_each_operation_and_says_whether_each_target_was_met(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["--sizes", "5,10", "--samples", "3", "--dir", str(tmp_path)], terminal_width=200)

    assert result.exit_code == 0, result.output
    for expected in ("late event", "correction", "get(as_of) mid-history", "growth", "targets", "synchronous"):
        assert expected in result.output
    assert "met" in result.output or "missed" in result.output


def test_the_benchmark_refuses_a_directory_holding_an_earlier_run(tmp_path: Path) -> None:
    (tmp_path / LEDGER_FILE).touch()

    result = CliRunner().invoke(main, ["--sizes", "5", "--dir", str(tmp_path)])

    assert result.exit_code == 1
    assert "already holds time-travel-ledger.db" in result.output
