"""The package keeps its layers: import-linter's contracts in pyproject.toml hold, and break when
the domain reaches up into storage or out to a database library."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
LAYERS = next(c["name"] for c in CONTRACTS if c["type"] == "layers")
FORBIDDEN = next(c["name"] for c in CONTRACTS if c["type"] == "forbidden")
NO_BACKEND_ABOVE = next(c["name"] for c in CONTRACTS if "negotiation.store.sqlite" in c.get("forbidden_modules", ()))
RECORDERS_APART = next(c["name"] for c in CONTRACTS if c["type"] == "independence")
ROOMS = next(c["name"] for c in CONTRACTS if c.get("containers") == ["negotiation.domain"])
# The console script the package installs; ``python -m importlinter.cli`` runs nothing at all.
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run lint-imports on the package found first on the path from ``cwd``, with the pyproject there."""
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", str(cwd / "pyproject.toml")],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False,
    )


def copy_of_the_package(into: Path) -> Path:
    shutil.copytree(ROOT / "negotiation", into / "negotiation", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", into / "pyproject.toml")
    return into


def test_the_package_keeps_every_import_contract() -> None:
    result = lint_imports(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in result.stdout
    assert f"{LAYERS} KEPT" in result.stdout
    assert f"{FORBIDDEN} KEPT" in result.stdout
    assert f"{ROOMS} KEPT" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "broken", "chain"),
    [
        ("domain/machine.py", "import sqlalchemy", FORBIDDEN, "negotiation.domain.machine -> sqlalchemy"),
        ("domain/chain.py", "from ..store import schema", LAYERS,
         "negotiation.domain.chain -> negotiation.store.schema"),
        ("store/schema.py", "from ..ledger import Ledger", LAYERS,
         "negotiation.store.schema -> negotiation.ledger"),
        ("files/reading.py", "from ..specbook import book", LAYERS,
         "negotiation.files.reading -> negotiation.specbook.book"),
        ("ledger.py", "from .store import sqlite", NO_BACKEND_ABOVE, "negotiation.ledger -> negotiation.store.sqlite"),
        ("writer.py", "import psycopg", NO_BACKEND_ABOVE, "negotiation.writer -> psycopg"),
        ("store/memory.py", "from . import sqlite", RECORDERS_APART,
         "negotiation.store.memory -> negotiation.store.sqlite"),
        ("domain/times.py", "from . import payloads", ROOMS,
         "negotiation.domain.times -> negotiation.domain.payloads"),
        ("domain/entries.py", "from .story import StoryEvent", ROOMS,
         "negotiation.domain.entries -> negotiation.domain.story"),
    ],
    ids=["domain-imports-sqlalchemy", "domain-imports-store", "store-imports-ledger",
         "files-imports-specbook", "ledger-imports-a-recorder", "writer-imports-a-driver",
         "a-recorder-imports-another", "times-imports-payloads", "entries-import-the-story"],
)
def test_an_import_against_the_layers_breaks_a_contract(
    tmp_path: Path, module: str, line: str, broken: str, chain: str
) -> None:
    copy = copy_of_the_package(tmp_path)
    source = copy / "negotiation" / module
    source.write_text(source.read_text() + f"\n{line}  # against the architecture\n")

    result = lint_imports(copy)

    assert result.returncode != 0
    assert f"{broken} BROKEN" in result.stdout, result.stdout + result.stderr
    assert re.search(rf"^-\s+{re.escape(chain)} \(l\.\d+\)$", result.stdout, re.MULTILINE), result.stdout
