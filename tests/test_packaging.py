"""Packaging: the type hints ship, and PostgreSQL's driver is an extra with a message naming it."""

from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from negotiation import Ledger, StorageError
from negotiation.cli import main
from negotiation.store import opening

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def without_psycopg(monkeypatch: pytest.MonkeyPatch) -> None:
    """This environment as it is after a plain ``pip install .``: no PostgreSQL driver."""
    real = importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "psycopg" else real(name, *args)

    monkeypatch.setattr(opening.importlib.util, "find_spec", find_spec)


def test_the_package_ships_its_type_hints() -> None:
    assert (ROOT / "negotiation" / "py.typed").is_file()


def test_the_postgresql_driver_is_an_extra_not_a_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]

    assert not any(d.startswith("psycopg") for d in project["dependencies"])
    assert any(d.startswith("psycopg") for d in project["optional-dependencies"]["postgresql"])


def test_a_postgresql_url_without_the_driver_names_the_extra(without_psycopg: None) -> None:
    with pytest.raises(StorageError) as refused:
        Ledger.open("postgresql://postgres@127.0.0.1:5432/test")

    assert str(refused.value) == ("PostgreSQL needs the psycopg driver, which is not installed: "
                                  "pip install -e '.[postgresql]' (in a clone of the project)")


def test_the_command_line_says_it_in_one_line(without_psycopg: None) -> None:
    result = CliRunner().invoke(main, ["--url", "postgresql://postgres@127.0.0.1/test", "list"])

    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: PostgreSQL needs the psycopg driver, which is not installed: "
        "pip install -e '.[postgresql]' (in a clone of the project)"]


def test_sqlite_needs_no_driver_beyond_python(without_psycopg: None, tmp_path: Path) -> None:
    with Ledger.open(f"sqlite:///{tmp_path / 'plain.db'}") as ledger:
        ledger.record("us-japan-2025", "AgreedInPrinciple", {"parties": ["US", "JP"]})

        assert ledger.get("us-japan-2025").state == "agreed_in_principle"
