"""Fixtures shared by every test: databases on each backend and ledgers opened on them."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import create_engine, text

from negotiation import Ledger

POSTGRES_ADMIN = os.environ.get("NEGOTIATION_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _postgres_unreachable() -> str | None:
    try:
        psycopg.connect(POSTGRES_ADMIN, connect_timeout=3).close()
    except psycopg.Error as e:
        return f"PostgreSQL not reachable at {POSTGRES_ADMIN}: {str(e).strip().splitlines()[0]}"
    return None


@pytest.fixture(scope="session")
def postgres_admin() -> str:
    """The admin URL of the local PostgreSQL; skipped when absent, an error under CI."""
    problem = _postgres_unreachable()
    if problem and IN_CI:
        pytest.fail(f"{problem} (CI=true requires it)")
    if problem:
        pytest.skip(problem)
    return POSTGRES_ADMIN


@pytest.fixture
def postgres_url(postgres_admin: str) -> Iterator[str]:
    """A fresh PostgreSQL database of its own, dropped afterwards."""
    name = f"negotiation_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_admin, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(postgres_admin, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'negotiations.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """One database per test, on each backend the ledger supports."""
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
def ledger(database_url: str) -> Iterator[Ledger]:
    with Ledger.open(database_url) as opened:
        yield opened


def read_rows(url: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            query = text("SELECT * FROM negotiation_events ORDER BY position")
            return [tuple(row) for row in conn.execute(query)]
    finally:
        engine.dispose()


@pytest.fixture
def stored_rows(database_url: str) -> Callable[[], list[tuple[object, ...]]]:
    """Every stored row, read behind the ledger's back: compare before and after a refusal."""
    return lambda: read_rows(database_url)


@pytest.fixture
def seeds() -> list[Path]:
    """The seed files of the repository."""
    found = sorted((Path(__file__).parent.parent / "seeds").glob("*.yaml"))
    assert found, "seeds/ holds no seed files"
    return found


#: Figures measured by the concurrency and fault tests, printed after the run.
FIGURES: dict[str, str] = {}


@pytest.fixture
def report_figure() -> Callable[[str, str], None]:
    def report(name: str, value: str) -> None:
        FIGURES[name] = value

    return report


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("measured figures")
        for name, value in sorted(FIGURES.items()):
            terminalreporter.write_line(f"{name}: {value}")
