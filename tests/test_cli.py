"""The command line: every command, readable output, one-line errors and no tracebacks."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from negotiation import Ledger
from negotiation.cli import main

OPENING = '{"parties": ["US", "JP"], "terms": {"reciprocal tariff": "15%"}}'


@pytest.fixture
def run(database_url: str, at_head: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Runner:
    """The command line on the test's database, already migrated, run in a directory of the test's own."""
    monkeypatch.chdir(tmp_path)  # what a command writes by default (demo's report) stays out of the checkout
    return Runner(database_url)


class Runner:
    def __init__(self, url: str) -> None:
        self.url = url

    def __call__(self, *args: str) -> Result:
        # A wide terminal, so table cells are not wrapped mid-phrase.
        return CliRunner(env={"COLUMNS": "200"}).invoke(main, ["--url", self.url, *args], catch_exceptions=False)


def test_record_show_history_and_list(run: Runner) -> None:
    recorded = run("record", "us-japan-2025", "AgreedInPrinciple", "--data", OPENING,
                   "--occurred-at", "2025-07-22", "--source", "Reuters", "--source", "Kyodo")
    disputed = run("record", "us-japan-2025", "TermsDisputed", "--data", '{"point": "profit sharing"}',
                   "--expect-version", "1")
    shown = run("show", "us-japan-2025")
    history = run("history", "us-japan-2025")
    listed = run("list")

    assert recorded.exit_code == 0, recorded.output
    assert "recorded AgreedInPrinciple as version 1 of us-japan-2025" in recorded.output
    assert "state now: agreed in principle" in recorded.output
    assert "state now: terms disputed" in disputed.output
    for expected in ("terms disputed", "US – JP", "reciprocal tariff", "15%", "profit sharing",
                     "DisputeResolved", "VisitCancelled"):
        assert expected in shown.output
    assert "2025-07-22" in history.output and "Reuters, Kyodo" in history.output
    assert "point disputed: profit sharing" in history.output
    assert "us-japan-2025" in listed.output and "terms disputed" in listed.output


def test_show_at_an_earlier_version(run: Runner) -> None:
    run("record", "us-japan-2025", "AgreedInPrinciple", "--data", OPENING)
    run("record", "us-japan-2025", "TermsDisputed", "--data", '{"point": "profit sharing"}')

    earlier = run("show", "us-japan-2025", "--at-version", "1")

    assert "after entry 1" in earlier.output
    assert "agreed in principle" in earlier.output
    assert "profit sharing" not in earlier.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["record", "us-japan-2025", "TermsDisputed", "--data", '{"point": "x"}'],
         "TermsDisputed is not allowed for negotiation 'us-japan-2025' in state not_opened"),
        (["record", "us-japan-2025", "AgreedInPrinciple", "--data", "{parties"], "--data"),
        (["record", "us-japan-2025", "AgreedInPrinciple", "--data", '{"parties": ["US"]}'], "parties"),
        (["record", "us-japan-2025", "AgreedInPrinciple", "--data", OPENING, "--expect-version", "4"],
         "expected version 4"),
        (["record", "us-japan-2025", "AgreedInPrinciple", "--data", OPENING, "--occurred-at", "July"],
         "occurred_at"),
        (["show", "nowhere"], "'nowhere' has no recorded events"),
        (["history", "Bad Id"], "negotiation id 'Bad Id' is malformed"),
        (["load", "missing.yaml"], "missing.yaml"),
    ],
)
def test_errors_are_one_line_on_stderr_with_a_failing_exit(
    run: Runner, args: list[str], message: str
) -> None:
    run("db", "upgrade")

    result = CliRunner().invoke(main, ["--url", run.url, *args])

    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert len([line for line in result.stderr.splitlines() if line.strip()]) <= 3  # usage hint + error


def test_a_storage_failure_is_reported_not_raised(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'x.db'}"

    result = CliRunner().invoke(main, ["--url", url, "record", "x-talks", "AgreedInPrinciple",
                                       "--data", '{"parties": ["US", "JP"]}'])

    assert result.exit_code == 1
    assert result.stderr.startswith("Error: database error: unable to open database file")


def test_load_is_idempotent_and_reports_counts(run: Runner, seeds: list[Path]) -> None:
    first = run("load", *map(str, seeds))
    second = run("load", *map(str, seeds))

    assert first.exit_code == 0, first.output
    assert "loaded 8 negotiations: 183 events recorded, 0 already stored" in first.output
    assert "loaded 8 negotiations: 0 events recorded, 183 already stored" in second.output
    with Ledger.open(run.url) as ledger:
        assert len(ledger.read_all()) == 183


def test_demo_loads_the_story_and_replays_us_japan_step_by_step(run: Runner) -> None:
    result = run("demo")

    assert result.exit_code == 0, result.output
    for expected in ("us-japan-2025", "india-japan-summit-2025", "replaying us-japan-2025",
                     "visit cancelled", "working-level talks", "finalised", "2025-08-28", "Ryosei Akazawa"):
        assert expected in result.output
    assert result.output.index("visit cancelled") < result.output.rindex("finalised")


@pytest.mark.empty_database
@pytest.mark.every_backend
def test_db_upgrade_reports_what_it_did(run: Runner) -> None:
    first = run("db", "upgrade")
    second = run("db", "upgrade")

    assert "upgraded from an empty database to revision" in first.output
    assert "already at revision" in second.output


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    """Every command and subcommand, those the group loads only when asked for included."""
    found = []
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        assert command is not None, name
        found.append((f"{prefix}{name}", command))
        if isinstance(command, click.Group):
            found.extend(_commands(command, f"{prefix}{name} "))
    return found


@pytest.mark.parametrize(("name", "command"), _commands(main))
def test_every_command_has_help_ending_in_an_example(name: str, command: click.Command) -> None:
    result = CliRunner().invoke(main, [*name.split(), "--help"])

    assert result.exit_code == 0
    assert command.help and "Example: negotiation" in command.help.strip().splitlines()[-1], name


def test_text_that_looks_like_markup_is_shown_as_written(run: Runner) -> None:
    run("record", "x-talks", "AgreedInPrinciple", "--data",
        '{"parties": ["US", "JP"], "terms": {"[bold]rate": "[/]"}}')
    run("record", "x-talks", "TermsDisputed", "--data", '{"point": "[red]beef"}', "--source", "[i]Kyodo")

    shown = run("show", "x-talks")
    history = run("history", "x-talks")

    assert shown.exit_code == 0, shown.output
    assert "[bold]rate" in shown.output and "[/]" in shown.output and "[red]beef" in shown.output
    assert "point disputed: [red]beef" in history.output and "[i]Kyodo" in history.output


def test_huge_numbers_in_data_are_refused_not_rounded(run: Runner) -> None:
    result = run("record", "x-talks", "AgreedInPrinciple", "--data",
                 '{"parties": ["US", "JP"], "terms": {"x": 123456789012345678901234567890}}')

    assert result.exit_code == 1
    assert "within ±2**53" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--url", "sqlite:talks.db", "list"], "'sqlite:talks.db' is not a database URL"),
        (["--url", "postgresql:/db-host/talks", "list"], "is not a database URL"),
        (["--url", "mysql://u@h/db", "list"], "unsupported database 'mysql'"),
    ],
)
def test_a_bad_url_is_one_line(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, args)

    assert result.exit_code == 1
    assert message in result.stderr


def test_reading_commands_never_create_or_migrate_a_database(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"

    result = CliRunner().invoke(main, ["--url", f"sqlite:///{missing}", "show", "us-japan-2025"])

    assert result.exit_code == 1
    assert f"no database at {missing}" in result.stderr
    assert not missing.exists()


def test_a_log_in_memory_has_no_schema_to_upgrade_and_starts_empty() -> None:
    upgraded = CliRunner().invoke(main, ["--url", "memory://", "db", "upgrade"])
    listed = CliRunner().invoke(main, ["--url", "memory://", "list"])

    assert (upgraded.exit_code, upgraded.output) == (0, "memory://: a log in memory has no schema to upgrade\n")
    assert (listed.exit_code, listed.output) == (0, "no negotiations recorded yet\n")
