"""The command line as a new user reaches for it: ``--url`` before or after the command, a file path
as the database, every event type in ``record --help``, a batch of events from stdin in one
transaction, the story at a version, sources as JSON, and a notice when ``occurred_at`` is left out."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from negotiation import Ledger
from negotiation.cli import main
from negotiation.domain.payloads import ENTRY_PAYLOADS, EVENT_KINDS
from negotiation.store import memory
from negotiation.store.opening import MEMORY_URL, is_file_path, resolve_url

OPENING = {"parties": ["US", "JP"], "terms": {"reciprocal tariff": "15%"}}
NOW_NOTICE = re.compile(r"occurred_at not given: recorded as happening now, 20\d\d-\d\d-\d\dT[\d:.]+Z$")


def invoke(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> Result:
    return CliRunner(env={"COLUMNS": "200", **(env or {})}).invoke(main, list(args), input=stdin)


@pytest.fixture
def url(sqlite_url: str, at_head: None) -> str:
    """A migrated SQLite database with US–Japan opened on 22 July 2025."""
    with Ledger.open(sqlite_url) as ledger:
        ledger.record("us-japan-2025", "AgreedInPrinciple", OPENING, occurred_at="2025-07-22",
                      reported_at="2025-07-22", sources=["Reuters"])
    return sqlite_url


def log_of(url: str, negotiation_id: str = "us-japan-2025") -> list[dict[str, Any]]:
    shown = invoke("--url", url, "history", negotiation_id, "--json")
    assert shown.exit_code == 0, shown.output
    return list(json.loads(shown.stdout))


# -- --url before or after the command; a file path is a SQLite file -------------------------------------


def test_url_is_taken_after_the_command_as_before_it(url: str) -> None:
    before = invoke("--url", url, "show", "us-japan-2025", "--json")
    after = invoke("show", "us-japan-2025", "--json", "--url", url)
    listed = invoke("list", "--url", url)

    assert after.exit_code == 0, after.output
    assert json.loads(after.stdout) == json.loads(before.stdout)
    assert "us-japan-2025" in listed.stdout


def test_url_after_the_command_overrides_the_one_before_and_the_environment(url: str, tmp_path: Path) -> None:
    elsewhere = f"sqlite:///{tmp_path / 'elsewhere.db'}"

    overridden = invoke("--url", elsewhere, "show", "us-japan-2025", "--url", url)
    from_env = invoke("show", "us-japan-2025", env={"NEGOTIATION_DB_URL": url})
    env_overridden = invoke("show", "us-japan-2025", "--url", elsewhere, env={"NEGOTIATION_DB_URL": url})

    assert overridden.exit_code == 0, overridden.output
    assert from_env.exit_code == 0, from_env.output
    assert env_overridden.exit_code == 1
    assert f"no database at {tmp_path / 'elsewhere.db'}" in env_overridden.stderr


def test_url_after_a_subcommand_of_a_group(tmp_path: Path) -> None:
    target = tmp_path / "fresh.db"

    upgraded = invoke("db", "upgrade", "--url", str(target))

    assert upgraded.exit_code == 0, upgraded.output
    assert "upgraded from an empty database" in upgraded.stdout
    assert target.exists()


@pytest.mark.parametrize("given", ["mydata.db", "./x/y.sqlite", "x/y.sqlite"])
def test_a_plain_path_is_a_sqlite_file(given: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x").mkdir()

    recorded = invoke("record", "x-talks", "AgreedInPrinciple", "--data", json.dumps(OPENING),
                      "--occurred-at", "2025-07-22", "--url", given)
    shown = invoke("--url", given, "show", "x-talks", "--json")

    assert recorded.exit_code == 0, recorded.output
    assert (tmp_path / given).is_file()
    assert json.loads(shown.stdout)["state"] == "agreed_in_principle"


def test_an_absolute_path_is_a_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "talks.sqlite"

    recorded = invoke("--url", str(path), "record", "x-talks", "AgreedInPrinciple", "--data", json.dumps(OPENING),
                      "--occurred-at", "2025-07-22")
    with Ledger.open(f"sqlite:///{path}", upgrade=False) as ledger:
        assert ledger.get("x-talks").state == "agreed_in_principle"
    assert recorded.exit_code == 0, recorded.output


def test_a_missing_file_path_is_reported_not_created(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    shown = invoke("show", "x-talks", "--url", "typo.db")

    assert shown.exit_code == 1
    assert shown.stderr == "Error: no database at typo.db: record or load events first, or check --url\n"
    assert not (tmp_path / "typo.db").exists()


@pytest.mark.parametrize(
    ("given", "resolved"),
    [
        ("talks.db", "sqlite:///talks.db"),
        ("./x/y.sqlite", "sqlite:///./x/y.sqlite"),
        ("/var/lib/talks.db", "sqlite:////var/lib/talks.db"),
        ("sqlite:///talks.db", "sqlite:///talks.db"),
        ("memory://", "memory://"),
        ("postgresql://u@db-host/talks", "postgresql+psycopg://u@db-host/talks"),
        ("postgresql+psycopg://u:secret@db-host:5433/talks", "postgresql+psycopg://u:secret@db-host:5433/talks"),
    ],
)
def test_resolve_url_takes_a_path_as_a_sqlite_file_and_leaves_urls_as_they_were(given: str, resolved: str) -> None:
    assert resolve_url(given) == resolved


@pytest.mark.parametrize(("text", "is_path"), [
    ("talks.db", True), ("nonsense", True), ("C:\\data\\talks.db", True), ("D:/talks.db", True),
    ("sqlite:talks.db", False), ("sqlite:///talks.db", False), ("memory://", False),
])
def test_what_is_a_file_path(text: str, is_path: bool) -> None:
    assert is_file_path(text) is is_path


def test_the_memory_url_is_the_memory_recorders() -> None:
    assert MEMORY_URL == memory.MEMORY_URL


def test_every_command_takes_url() -> None:
    import click

    context = click.Context(main)
    for name in main.list_commands(context):
        command = main.get_command(context, name)
        assert command is not None
        assert "--url" in [opt for param in command.params for opt in getattr(param, "opts", [])], name


# -- record --help lists every event type and its fields --------------------------------------------------


def test_record_help_lists_every_event_type_with_its_fields_required_ones_marked() -> None:
    helped = CliRunner(env={"COLUMNS": "500"}).invoke(main, ["record", "--help"])

    assert helped.exit_code == 0
    listed = helped.stdout[helped.stdout.index("Event types and their --data fields (* required):"):]
    rows: dict[str, str] = {}
    for line in listed.splitlines()[1:]:
        if not line.strip():
            break
        if line.split()[0] in EVENT_KINDS and line.startswith("  " + line.split()[0]):
            kind = line.split()[0]
            rows[kind] = line.split(None, 1)[1]
        else:  # a row wrapped onto the next line
            rows[kind] += " " + line.strip()
    assert list(rows) == list(EVENT_KINDS)
    for kind in EVENT_KINDS:
        said = [re.sub(r" \(.*\)$", "", field) for field in re.split(r", (?![^(]*\))", rows[kind])]
        expected = [name + ("*" if info.is_required() else "")
                    for name, info in ENTRY_PAYLOADS[kind].model_fields.items()]
        assert said == expected, kind
    assert "level* (working | ministerial | leaders)" in rows["MeetingHeld"]
    assert "EventRetracted" not in listed  # recorded by retract, not record


def test_record_help_still_ends_its_description_with_an_example() -> None:
    command = main.get_command(None, "record")  # type: ignore[arg-type]

    assert command is not None and command.help
    assert command.help.strip().splitlines()[-1].strip().startswith("Example: negotiation record")


# -- record --batch: several events in one transaction -----------------------------------------------------


def lines(*items: dict[str, Any] | str) -> str:
    return "".join((item if isinstance(item, str) else json.dumps(item)) + "\n" for item in items)


def test_a_batch_from_stdin_is_recorded_in_one_transaction(url: str) -> None:
    batch = lines(
        {"type": "TermsDisputed", "data": {"point": "beef"}, "occurred_at": "2025-07-24", "sources": ["NHK"]},
        "",
        {"type": "TermsDisputed", "data": {"point": "rice"}, "occurred_at": "2025-07-25",
         "reported_at": "2025-07-26", "event_id": "0b5c8f6e-77f3-4c7e-9b1e-4b0ad1d7a001"},
        {"type": "DisputeResolved", "data": {"point": "beef"}, "occurred_at": "2025-07-27"},
    )

    recorded = invoke("--url", url, "record", "us-japan-2025", "--batch", "-", stdin=batch)

    assert recorded.exit_code == 0, recorded.output
    assert recorded.stdout.splitlines() == ["recorded 3 events in one transaction as versions 2–4 of us-japan-2025",
                                            "state now: terms disputed"]
    assert "occurred_at not given" not in recorded.stderr  # every line gave its occurred_at
    log = log_of(url)
    assert [entry["type"] for entry in log] == ["AgreedInPrinciple", "TermsDisputed", "TermsDisputed",
                                                "DisputeResolved"]
    assert log[1]["sources"] == ["NHK"] and log[2]["reported_at"] == "2025-07-26T00:00:00Z"
    assert log[2]["event_id"] == "0b5c8f6e-77f3-4c7e-9b1e-4b0ad1d7a001"
    with Ledger.open(url, upgrade=False) as ledger:
        assert len({entry.commit_id for entry in ledger.history("us-japan-2025")[1:]}) == 1


def test_a_batch_from_a_file_opens_a_negotiation(sqlite_url: str, tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text(lines({"type": "AgreedInPrinciple", "data": OPENING, "occurred_at": "2025-07-22"},
                            {"type": "TermsDisputed", "data": {"point": "beef"}, "occurred_at": "2025-07-23"}))

    recorded = invoke("record", "us-japan-2025", "--batch", str(events), "--expect-version", "0", "--url", sqlite_url)

    assert recorded.exit_code == 0, recorded.output
    assert "as versions 1, 2 of us-japan-2025" in recorded.stdout


@pytest.mark.parametrize(
    ("batch", "refusal"),
    [
        (lines({"type": "TermsDisputed", "data": {"point": "beef"}, "occurred_at": "2025-07-24"}, '{"type": "Ter'),
         "line 2 of stdin: not valid JSON (Unterminated string starting at column 10); nothing was written"),
        (lines({"type": "TermsDisputed", "data": {"point": "beef"}}, "", "[1, 2]"),
         'line 3 of stdin: not a JSON object but an array; each line is one event: {"type": ..., "data": {...}}; '
         "nothing was written"),
        (lines({"type": "TermsDisputed", "data": {"point": "beef"}}, {"type": "TermsDisputed", "data": {"pint": "x"}}),
         "line 2 of stdin: TermsDisputed data: point: Field required; pint: not a field of TermsDisputed (its "
         "fields: point, positions, parties); nothing was written"),
        (lines({"type": "TermsDisputed", "data": {"point": "beef"}}, {"type": "Nope"}),
         "line 2 of stdin: unknown event type 'Nope'"),
        (lines({"type": "TermsDisputed", "data": {"point": "beef"}}, {"type": "TermsDisputed", "when": "today"}),
         "line 2 of stdin: has unknown keys: when; nothing was written"),
        (lines({"type": "TermsDisputed", "data": {"point": "beef"}, "occurred_at": "2025-07-24"},
               {"type": "DisputeResolved", "data": {"point": "beef"}, "occurred_at": "2025-07-25"},
               {"type": "DisputeResolved", "data": {"point": "rice"}, "occurred_at": "2025-07-26"}),
         "line 3 of stdin: DisputeResolved is not allowed for negotiation 'us-japan-2025' in state "
         "agreed_in_principle (no disputed point is open)"),
        # The ledger does not say which event contradicts the negotiation: the line is found by checking.
        (lines({"type": "TermsDisputed", "data": {"point": "beef"}, "occurred_at": "2025-07-24"},
               {"type": "TermsDisputed", "data": {"point": "rice", "positions": {"KR": "no"}},
                "occurred_at": "2025-07-25"},
               {"type": "DisputeResolved", "data": {"point": "beef"}, "occurred_at": "2025-07-26"}),
         "line 2 of stdin: TermsDisputed data: positions: KR not a party to 'us-japan-2025' (US, JP)"),
        # A late event that breaks the story at an event already recorded.
        (lines({"type": "TermsDisputed", "data": {"point": "beef"}, "occurred_at": "2025-07-24"},
               {"type": "TermsDisputed", "data": {"point": "rice"}, "occurred_at": "2025-07-01"}),
         "line 2 of stdin: the new events TermsDisputed of 2025-07-24, TermsDisputed of 2025-07-01 would make the "
         "story of negotiation 'us-japan-2025' illegal"),
        ("\n\n", "no events in stdin: give one JSON object a line; nothing was written"),
    ],
)
def test_a_bad_line_is_refused_in_one_line_naming_it_and_nothing_is_written(url: str, batch: str,
                                                                            refusal: str) -> None:
    before = log_of(url)

    refused = invoke("--url", url, "record", "us-japan-2025", "--batch", "-", stdin=batch)

    assert refused.exit_code == 1, refused.output
    assert refused.stdout == ""
    assert len(refused.stderr.splitlines()) == 1, refused.stderr
    assert refused.stderr.startswith(f"Error: {refusal}"), refused.stderr
    assert refused.stderr.rstrip().endswith("nothing was written")
    assert log_of(url) == before


def test_a_taken_event_id_is_refused_naming_its_line(url: str) -> None:
    taken = log_of(url)[0]["event_id"]
    before = log_of(url)

    refused = invoke("--url", url, "record", "us-japan-2025", "--batch", "-", stdin=lines(
        {"type": "TermsDisputed", "data": {"point": "beef"}, "occurred_at": "2025-07-24"},
        {"type": "TermsDisputed", "data": {"point": "rice"}, "occurred_at": "2025-07-25", "event_id": taken.upper()}))

    assert refused.exit_code == 1
    assert refused.stderr.startswith(f"Error: line 2 of stdin: event {taken} is already recorded with different")
    assert log_of(url) == before


def test_a_batch_at_the_wrong_version_is_refused_whole(url: str) -> None:
    before = log_of(url)

    refused = invoke("--url", url, "record", "us-japan-2025", "--batch", "-", "--expect-version", "3",
                     stdin=lines({"type": "TermsDisputed", "data": {"point": "beef"}}))

    assert refused.exit_code == 1
    assert refused.stderr == "Error: negotiation 'us-japan-2025' is at version 1, expected version 3\n"
    assert log_of(url) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["TermsDisputed", "--batch", "-"], "leave out EVENT_TYPE"),
        (["--batch", "-", "--data", "{}", "--source", "NHK"], "leave out --data, --source"),
        (["--batch", "-", "--occurred-at", "2025-07-24"], "leave out --occurred-at"),
        ([], "name the EVENT_TYPE to record, or give --batch FILE (- for stdin)"),
    ],
)
def test_batch_and_one_event_options_are_not_mixed(url: str, args: list[str], message: str) -> None:
    before = log_of(url)

    refused = invoke("--url", url, "record", "us-japan-2025", *args,
                     stdin=lines({"type": "TermsDisputed", "data": {"point": "beef"}}))

    assert refused.exit_code == 2
    assert message in refused.stderr
    assert log_of(url) == before


# -- the notice when occurred_at is left out ---------------------------------------------------------------


def test_leaving_out_occurred_at_is_said_on_stderr(url: str) -> None:
    recorded = invoke("--url", url, "record", "us-japan-2025", "TermsDisputed", "--data", '{"point": "beef"}')

    assert recorded.exit_code == 0, recorded.output
    assert NOW_NOTICE.fullmatch(recorded.stderr.strip()), recorded.stderr
    assert "occurred_at" not in recorded.stdout
    stored = log_of(url)[-1]["occurred_at"]
    assert recorded.stderr.strip().endswith(stored)


def test_giving_occurred_at_gives_no_notice(url: str) -> None:
    recorded = invoke("--url", url, "record", "us-japan-2025", "TermsDisputed", "--data", '{"point": "beef"}',
                      "--occurred-at", "2025-07-24")

    assert recorded.exit_code == 0, recorded.output
    assert "occurred_at not given" not in recorded.stderr


def test_a_batch_names_the_lines_that_left_out_occurred_at(url: str) -> None:
    recorded = invoke("--url", url, "record", "us-japan-2025", "--batch", "-", stdin=lines(
        {"type": "TermsDisputed", "data": {"point": "beef"}},
        {"type": "TermsDisputed", "data": {"point": "rice"}, "occurred_at": "2025-07-24"},
        {"type": "TermsDisputed", "data": {"point": "autos"}}))

    assert recorded.exit_code == 0, recorded.output
    (notice,) = [line for line in recorded.stderr.splitlines() if line.startswith("occurred_at")]
    assert re.fullmatch(r"occurred_at not given on lines 1, 3: recorded as happening now, 20[\d:.T-]+Z", notice)
    assert "occurred_at" not in recorded.stdout


# -- story --at-version and sources --json -------------------------------------------------------------------


@pytest.fixture
def corrected(url: str) -> str:
    """US–Japan with a dispute recorded as version 2 and corrected to another point as version 3."""
    with Ledger.open(url) as ledger:
        ledger.record("us-japan-2025", "TermsDisputed", {"point": "beef"}, occurred_at="2025-07-24",
                      reported_at="2025-07-24", sources=["NHK"])
        ledger.correct("us-japan-2025", 2, reason="it was rice", data={"point": "rice"}, sources=["Kyodo"],
                       reported_at="2025-07-25")
    return url


def test_story_at_a_version_is_the_story_as_the_ledger_held_it_then(corrected: str) -> None:
    then = invoke("--url", corrected, "story", "us-japan-2025", "--at-version", "2", "--json")
    now = invoke("--url", corrected, "story", "us-japan-2025", "--json")
    first = invoke("--url", corrected, "story", "us-japan-2025", "--at-version", "1", "--json")
    table = invoke("--url", corrected, "story", "us-japan-2025", "--at-version", "2")

    assert then.exit_code == 0, then.output
    assert [(event["type"], event["data"], event["corrected_by"]) for event in json.loads(then.stdout)] == [
        ("AgreedInPrinciple", OPENING, []), ("TermsDisputed", {"point": "beef"}, [])]
    assert json.loads(now.stdout)[1]["data"] == {"point": "rice"}
    assert [event["type"] for event in json.loads(first.stdout)] == ["AgreedInPrinciple"]
    assert "us-japan-2025 after entry 2" in table.stdout and "beef" in table.stdout and "rice" not in table.stdout


def test_story_at_the_last_version_is_the_story(corrected: str) -> None:
    at_last = invoke("--url", corrected, "story", "us-japan-2025", "--at-version", "3", "--json")
    now = invoke("--url", corrected, "story", "us-japan-2025", "--json")

    assert json.loads(at_last.stdout) == json.loads(now.stdout)


def test_story_at_a_version_of_a_batch_is_as_show_answers(url: str) -> None:
    """A batch is judged whole: the entries of it before the last may never have been a story alone."""
    with Ledger.open(url) as ledger:
        ledger.record_many("us-japan-2025", [
            {"type": "TermsDisputed", "data": {"point": "beef"}, "occurred_at": "2025-07-24"},
            {"type": "DisputeResolved", "data": {"point": "beef"}, "occurred_at": "2025-07-25"},
        ])
    for version in (1, 2, 3):
        story = json.loads(invoke("--url", url, "story", "us-japan-2025", "--at-version", str(version),
                                  "--json").stdout)
        shown = json.loads(invoke("--url", url, "show", "us-japan-2025", "--at-version", str(version),
                                  "--json").stdout)
        assert len(story) == version
        assert shown["version"] == version


@pytest.mark.parametrize(
    ("args", "message", "status"),
    [
        (["--at-version", "9"], "negotiation 'us-japan-2025' has only 3 events, not 9", 1),
        (["--at-version", "0"], "0 is not in the range x>=1", 2),
        (["--at-version", "2", "--as-of", "2025-07-24"], "--at-version reads the log", 2),
        (["--at-version", "2", "--source", "NHK"], "--at-version reads the log as recorded", 2),
    ],
)
def test_story_at_a_version_refuses_what_it_cannot_answer(corrected: str, args: list[str], message: str,
                                                          status: int) -> None:
    refused = invoke("--url", corrected, "story", "us-japan-2025", *args)

    assert refused.exit_code == status
    assert message in refused.stderr


def test_sources_as_json(corrected: str) -> None:
    listed = invoke("--url", corrected, "sources", "--json")

    assert listed.exit_code == 0, listed.output
    assert json.loads(listed.stdout) == [
        {"source": "Kyodo", "entries": 1, "negotiations": 1, "retracted": 0, "corrected": 0},
        {"source": "NHK", "entries": 1, "negotiations": 1, "retracted": 0, "corrected": 1},
        {"source": "Reuters", "entries": 1, "negotiations": 1, "retracted": 0, "corrected": 0},
    ]


def test_sources_as_json_of_a_log_naming_none() -> None:
    listed = invoke("--url", "memory://", "sources", "--json")

    assert (listed.exit_code, json.loads(listed.stdout)) == (0, [])
