"""The command line starts fast: ``negotiation --help`` imports neither the ledger nor SQLAlchemy nor
pydantic, ``show`` none of what only other commands need, and the commands loaded only when asked for
are listed by ``--help`` as they describe themselves. (What is imported is tested, never how long
it takes: timings vary with the machine.)"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from negotiation import Ledger
from negotiation.cli import main
from negotiation.cli.main import LAZY_COMMANDS, LAZY_DB_COMMANDS, Commands

#: What a command run in a fresh interpreter imported, by the names asked about: printed as JSON.
PROBE = """
import json, sys
from negotiation.cli import main
try:
    main(sys.argv[2:], prog_name="negotiation", terminal_width=80)
except SystemExit:
    pass
asked = json.loads(sys.argv[1])
print(json.dumps(sorted(name for name in sys.modules if name in asked or name.split(".")[0] in asked)),
      file=sys.stderr)
"""


def imported(*args: str, asking: list[str], cwd: Path) -> tuple[list[str], str]:
    """Which of ``asking`` (modules or top-level packages) running ``negotiation ARGS`` imports; and its output."""
    env = {**os.environ, "COLUMNS": "80"}
    env.pop("NEGOTIATION_DB_URL", None)
    ran = subprocess.run([sys.executable, "-c", PROBE, json.dumps(asking), *args], cwd=cwd, env=env,
                         capture_output=True, text=True, timeout=120, check=True)
    return json.loads(ran.stderr.strip().splitlines()[-1]), ran.stdout


def test_help_imports_neither_the_ledger_nor_sqlalchemy_nor_pydantic(tmp_path: Path) -> None:
    heavy = ["sqlalchemy", "pydantic", "pydantic_core", "negotiation.ledger", "negotiation.domain.aggregate",
             "negotiation.domain.payloads", "negotiation.store.sqlite", "rich.table", "pycountry", "alembic",
             "cryptography"]

    loaded, printed = imported("--help", asking=heavy, cwd=tmp_path)
    loaded_by_record, _ = imported("record", "--help", asking=["sqlalchemy"], cwd=tmp_path)

    assert "Commands:" in printed
    assert loaded == []
    assert loaded_by_record == []  # its list of event types needs the payload models, not the database


def test_show_imports_what_it_needs_and_nothing_that_serves_other_commands(tmp_path: Path) -> None:
    database = tmp_path / "talks.db"
    with Ledger.open(f"sqlite:///{database}") as ledger:
        ledger.record("us-japan-2025", "AgreedInPrinciple", {"parties": ["US", "JP"]}, occurred_at="2025-07-22")
    others = ["pycountry", "alembic", "yaml", "altair", "vl_convert", "markdown_it", "gherkin", "psycopg",
              "rich.progress", "negotiation.projections", "negotiation.views.model", "negotiation.views.timeline",
              "negotiation.views.report", "negotiation.views.pages", "negotiation.files",
              "negotiation.specbook", "negotiation.store.memory", "negotiation.cli.follow", "negotiation.cli.views"]

    loaded, printed = imported("--url", f"sqlite:///{database}", "show", "us-japan-2025",
                               asking=[*others, "sqlalchemy"], cwd=tmp_path)

    assert "agreed in principle" in printed
    assert "sqlalchemy" in loaded  # asked about, so that a probe importing nothing would not pass
    assert [name for name in loaded if name.split(".")[0] != "sqlalchemy"] == []


LAZY = [("", name, summary) for name, (_, summary) in sorted(LAZY_COMMANDS.items())] + [
    ("db", name, summary) for name, (_, summary) in sorted(LAZY_DB_COMMANDS.items())]


@pytest.mark.parametrize(("group", "name", "summary"), LAZY, ids=[f"{g} {n}".strip() for g, n, _ in LAZY])
def test_a_command_loaded_when_asked_for_is_listed_as_it_describes_itself(group: str, name: str,
                                                                          summary: str) -> None:
    parent = main.get_command(click.Context(main), group) if group else main
    assert isinstance(parent, click.Group)
    command = parent.get_command(click.Context(parent), name)

    assert command is not None and command.help
    first_paragraph = inspect.cleandoc(command.help).split("\n\n")[0]
    assert " ".join(first_paragraph.split()) == summary, (
        f"the help of {group} {name} changed: say the same in negotiation.cli.main.LAZY_COMMANDS")
    assert command.short_help is None


@pytest.mark.parametrize("group", ["", "db"])
def test_help_lists_every_command_as_it_would_with_all_of_them_loaded(group: str, tmp_path: Path) -> None:
    parent = main.get_command(click.Context(main), group) if group else main
    assert isinstance(parent, Commands)
    parent.load_all()
    registered = {name for name, command in parent.commands.items() if not command.hidden}

    _, fresh = imported(*group.split(), "--help", asking=[], cwd=tmp_path)
    loaded = CliRunner().invoke(main, [*group.split(), "--help"], prog_name="negotiation", terminal_width=80)

    assert fresh == loaded.stdout
    listed = fresh[fresh.index("Commands:"):].splitlines()[1:]
    assert {line.split()[0] for line in listed if line.startswith("  ") and not line.startswith("   ")} == registered


def test_a_command_not_loaded_yet_runs_and_is_offered_for_a_typo(tmp_path: Path) -> None:
    _, helped = imported("watch", "--help", asking=[], cwd=tmp_path)
    env = {**os.environ, "COLUMNS": "80"}
    typo = subprocess.run([sys.executable, "-m", "negotiation.cli", "watc"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120, check=False)

    assert "--timeout SECONDS" in helped
    assert typo.returncode == 2
    assert "Did you mean watch?" in typo.stderr or "Did you mean 'watch'?" in typo.stderr, typo.stderr
