"""The load benchmark: it runs with tiny sizes and reports every figure; how fast is not judged."""

from __future__ import annotations

import gc
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from benchmarks.load import JSON_FILE, PROFILED_FILE, YAML_FILE, run
from negotiation.files.loading import read_streams

# Slow: seconds a test.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).parent.parent


def test_run_times_the_baseline_and_both_loads_and_judges_both_targets(tmp_path: Path) -> None:
    callbacks = list(gc.callbacks)
    result = run(tmp_path, negotiations=20, events=5, seed=3)

    assert result["workload"]["events"] == 100
    assert result["baseline"]["events"] == 100
    assert result["baseline"]["sqlite"] == {"journal_mode": "wal", "synchronous": 2}
    assert len(result["baseline"]["runs_events_per_s"]) == 2
    for name in ("ledger_json", "ledger_yaml"):
        assert (result[name]["events"], result[name]["already_stored"], result[name]["negotiations"]) == (100, 0, 20)
        assert result[name]["sqlite"]["journal_mode"] == "wal"
        assert 0 < result[name]["read_seconds"] < result[name]["seconds"]
        assert result[name]["read_seconds"] + result[name]["check_and_write_seconds"] == pytest.approx(
            result[name]["seconds"])
    for figures in (result["baseline"], result["ledger_json"], result["ledger_yaml"]):
        assert figures["seconds"] > 0 and math.isfinite(figures["events_per_s"]) and figures["events_per_s"] > 0
        # The collector's share, timed by its own callbacks: part of the load's time, never more.
        assert 0 <= figures["collector_seconds"] < figures["seconds"]
        assert isinstance(figures["full_collections"], int) and figures["full_collections"] >= 0
    assert gc.callbacks == callbacks  # the clock took its callback away
    for figures in (result["baseline"], result["ledger_json"]):  # where the time goes, from a profiled run
        assert figures["inside_sqlite_seconds"] > 0
        assert figures["outside_sqlite_seconds"] == pytest.approx(figures["seconds"] - figures["inside_sqlite_seconds"],
                                                                  abs=0.002)
    assert "inside_sqlite_seconds" not in result["ledger_yaml"]
    assert not (tmp_path / PROFILED_FILE).exists()  # the profiled run's file is removed
    assert set(result["ratios"]) == {"json", "yaml"}
    assert all(math.isfinite(value) and value > 0 for value in result["ratios"].values())
    assert [(t["name"], t["comparison"], t["threshold"]) for t in result["targets"]] == [
        ("json", ">=", 0.5), ("yaml", ">=", 0.25)]
    assert all(isinstance(t["pass"], bool) for t in result["targets"])


def test_the_json_and_yaml_files_hold_the_same_negotiations(tmp_path: Path) -> None:
    run(tmp_path, negotiations=3, events=4, seed=1)

    from_json, from_yaml = read_streams([tmp_path / JSON_FILE]), read_streams([tmp_path / YAML_FILE])

    assert [(s.negotiation_id, s.events) for s in from_json] == [(s.negotiation_id, s.events) for s in from_yaml]
    assert json.loads((tmp_path / JSON_FILE).read_text())[0]["negotiation"] == from_json[0].negotiation_id


def test_the_benchmark_runs_as_a_module_and_prints_one_json_object(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "benchmarks.load", "-n", "4", "-k", "3", "--json",
                           "--dir", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          check=False)

    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    assert report["workload"]["events"] == 12
    assert {"baseline", "ledger_json", "ledger_yaml", "ratios", "targets", "environment"} <= set(report)
