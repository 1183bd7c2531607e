"""PostgreSQL tests skip with a reason on a machine without it, and fail under CI instead."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ONE_TEST = "tests/test_ledger.py::test_reading_an_unknown_negotiation_is_an_error"


def run_without_postgres(ci: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CI": ci, "NEGOTIATION_TEST_PG": "postgresql://postgres@127.0.0.1:1/test"}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", ONE_TEST],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_without_postgres_its_tests_skip_with_a_reason() -> None:
    result = run_without_postgres(ci="")

    assert result.returncode == 0, result.stdout
    assert "1 passed, 1 skipped" in result.stdout
    assert "PostgreSQL not reachable at postgresql://postgres@127.0.0.1:1/test" in result.stdout


def test_under_ci_missing_postgres_fails_the_run() -> None:
    result = run_without_postgres(ci="true")

    assert result.returncode == 1
    assert "1 passed, 1 error" in result.stdout
    assert "CI=true requires it" in result.stdout
