"""PostgreSQL tests skip with a reason on a machine without it, and fail under CI instead."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ONE_TEST = "tests/test_ledger.py::test_reading_an_unknown_negotiation_is_an_error"


def without_postgres(ci: str) -> Callable[[Path], tuple[list[str], dict[str, str]]]:
    """One test run with PostgreSQL out of reach (started early: see conftest)."""
    def command(directory: Path) -> tuple[list[str], dict[str, str]]:
        env = {**os.environ, "CI": ci, "NEGOTIATION_TEST_PG": "postgresql://postgres@127.0.0.1:1/test"}
        # The test uses no Hypothesis: without its plugin (which imports all of it) the run starts
        # seconds sooner.
        return [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                "-p", "no:hypothesispytest", f"--basetemp={directory / 'tmp'}", ONE_TEST], env

    return command


@pytest.mark.early(command=without_postgres(ci=""))
def test_without_postgres_its_tests_skip_with_a_reason(early_run: subprocess.CompletedProcess[str]) -> None:
    result = early_run

    assert result.returncode == 0, result.stdout
    assert "1 passed, 1 skipped" in result.stdout
    assert "PostgreSQL not reachable at postgresql://postgres@127.0.0.1:1/test" in result.stdout


@pytest.mark.early(command=without_postgres(ci="true"))
def test_under_ci_missing_postgres_fails_the_run(early_run: subprocess.CompletedProcess[str]) -> None:
    result = early_run

    assert result.returncode == 1
    assert "1 passed, 1 error" in result.stdout
    assert "CI=true requires it" in result.stdout
