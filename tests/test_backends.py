"""PostgreSQL tests skip with a reason on a machine without it, and fail under CI instead."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import NestedRun

# Each test starts a pytest session of its own.
pytestmark = pytest.mark.slow

# A test of the storage: it runs on every backend, so once on SQLite and once on PostgreSQL.
ONE_TEST = "tests/test_schema.py::test_opening_a_ledger_brings_an_empty_database_to_head"


def without_postgres(ci: str) -> Callable[[Path], tuple[list[str], dict[str, str]]]:
    """One test run with PostgreSQL out of reach (a nested run: see conftest)."""
    def command(directory: Path) -> tuple[list[str], dict[str, str]]:
        env = {**os.environ, "CI": ci, "NEGOTIATION_TEST_PG": "postgresql://postgres@127.0.0.1:1/test"}
        # The test uses no Hypothesis: without its plugin (which imports all of it) the run starts
        # seconds sooner.
        return [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
                "-p", "no:hypothesispytest", f"--basetemp={directory / 'tmp'}", ONE_TEST], env

    return command


def test_without_postgres_its_tests_skip_with_a_reason(
        nested_run: Callable[..., NestedRun], tmp_path: Path) -> None:
    result = nested_run(without_postgres(ci=""), tmp_path)

    assert result.returncode == 0, result.stdout
    assert "1 passed, 1 skipped" in result.stdout
    assert "PostgreSQL not reachable at postgresql://postgres@127.0.0.1:1/test" in result.stdout


def test_under_ci_missing_postgres_fails_the_run(
        nested_run: Callable[..., NestedRun], tmp_path: Path) -> None:
    result = nested_run(without_postgres(ci="true"), tmp_path)

    assert result.returncode == 1
    assert "1 passed, 1 error" in result.stdout
    assert "CI=true requires it" in result.stdout
