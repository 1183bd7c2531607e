"""``--json`` on the commands that print data, ``--data`` from a file or a pipe, and the README's jq lines."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from negotiation import Ledger
from negotiation.cli import jsonout, main
from negotiation.files.loading import load_streams, read_streams

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
UTC_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z")

NEGOTIATION_KEYS = ["id", "state", "version", "parties", "opened_at", "updated_at", "has_deal", "deal_announced_at",
                    "terms", "open_disputes", "positions", "instruments", "allowed_events"]
ENTRY_KEYS = ["negotiation_id", "version", "position", "event_id", "type", "data", "occurred_at", "reported_at",
              "recorded_at", "sources", "schema_version", "hash", "retracted_by", "corrected_by"]
STORY_KEYS = ["negotiation_id", "version", "event_id", "type", "data", "occurred_at", "reported_at", "recorded_at",
              "sources", "corrected_by"]


def run(url: str, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, ["--url", url, *args], input=stdin)


def parsed(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def uk(sqlite_url: str) -> str:
    """US–UK 2025: the deal, the order, a dispute reported late, then the order retracted and the deal re-dated."""
    with Ledger.open(sqlite_url) as ledger:
        ledger.record("us-uk-2025", "AgreedInPrinciple", {"parties": ["US", "GB"], "terms": {"quota": 100000}},
                      occurred_at="2025-05-08", reported_at="2025-05-08", sources=["GOV.UK"])
        ledger.record("us-uk-2025", "AgreementFinalised", {"instruments": ["US executive order"]},
                      occurred_at="2025-06-16T12:30:00+02:00", reported_at="2025-06-16")
        ledger.record("us-uk-2025", "TermsDisputed", {"point": "steel", "positions": {"GB": "no quota"}},
                      occurred_at="2025-06-20", reported_at="2025-06-22")
        ledger.retract("us-uk-2025", 2, reason="not signed that day")
        ledger.correct("us-uk-2025", 1, reason="announced a day later", occurred_at="2025-05-09")
    return sqlite_url


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A SQLite database holding the seeds, as the README's examples assume."""
    url = f"sqlite:///{tmp_path_factory.mktemp('seeded') / 'negotiations.db'}"
    with Ledger.open(url) as ledger:
        load_streams(ledger, read_streams(sorted((ROOT / "seeds").glob("*.yaml"))))
    yield url


def test_show_prints_every_key_of_the_negotiation_with_utc_times(uk: str) -> None:
    shown = parsed(run(uk, "show", "us-uk-2025", "--json"))

    assert list(shown) == NEGOTIATION_KEYS
    assert shown["id"] == "us-uk-2025"
    assert shown["state"] == "disputed_terms"
    assert shown["version"] == 5
    assert shown["parties"] == ["US", "GB"]
    assert shown["terms"] == {"quota": 100000}
    assert shown["open_disputes"] == ["steel"]
    assert shown["positions"] == {"steel": {"GB": "no quota"}}
    assert shown["opened_at"] == "2025-05-09T00:00:00Z"
    assert shown["deal_announced_at"] == "2025-05-09T00:00:00Z"
    assert shown["has_deal"] is True
    assert "DisputeResolved" in shown["allowed_events"]


def test_show_answers_the_time_questions_in_json(uk: str) -> None:
    then = parsed(run(uk, "show", "us-uk-2025", "--as-of", "2025-06-21", "--known-at", "2025-06-21", "--json"))
    early = parsed(run(uk, "show", "us-uk-2025", "--at-version", "1", "--json"))

    assert (then["state"], then["open_disputes"], then["instruments"]) == ("finalised", [], ["US executive order"])
    assert (early["version"], early["opened_at"]) == (1, "2025-05-08T00:00:00Z")


def test_history_prints_every_entry_with_its_three_times_and_what_later_entries_did(uk: str) -> None:
    with Ledger.open(uk) as ledger:
        log = ledger.history("us-uk-2025")

    entries = parsed(run(uk, "history", "us-uk-2025", "--json"))

    assert [list(entry) for entry in entries] == [ENTRY_KEYS] * 5
    assert [entry["version"] for entry in entries] == [1, 2, 3, 4, 5]
    assert [entry["event_id"] for entry in entries] == [entry.event_id for entry in log]
    assert [entry["hash"] for entry in entries] == [entry.hash for entry in log]
    assert entries[0]["corrected_by"] == [5] and entries[0]["retracted_by"] is None
    assert entries[1]["retracted_by"] == 4
    assert entries[1]["occurred_at"] == "2025-06-16T10:30:00Z"
    assert entries[2]["reported_at"] == "2025-06-22T00:00:00Z"
    assert entries[3]["data"]["reason"] == "not signed that day"
    for entry, stored in zip(entries, log):
        assert all(UTC_TIME.fullmatch(entry[key]) for key in ("occurred_at", "reported_at", "recorded_at"))
        assert datetime.fromisoformat(entry["recorded_at"]) == stored.recorded_at


def test_story_prints_the_effective_events_in_world_order_as_corrected(uk: str) -> None:
    story = parsed(run(uk, "story", "us-uk-2025", "--json"))

    assert [list(event) for event in story] == [STORY_KEYS] * 2
    assert [(event["version"], event["type"], event["occurred_at"]) for event in story] == [
        (1, "AgreedInPrinciple", "2025-05-09T00:00:00Z"), (3, "TermsDisputed", "2025-06-20T00:00:00Z")]
    assert story[0]["corrected_by"] == [5]


def test_list_prints_every_negotiation_and_an_empty_array_when_there_is_none(uk: str, tmp_path: Path) -> None:
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    Ledger.open(empty).close()

    listed = parsed(run(uk, "list", "--json"))
    then = parsed(run(uk, "list", "--as-of", "2025-05-10", "--json"))
    nothing = parsed(run(empty, "list", "--json"))

    assert [(n["id"], n["state"]) for n in listed] == [("us-uk-2025", "disputed_terms")]
    assert [list(n) for n in listed] == [NEGOTIATION_KEYS]
    assert [(n["id"], n["state"]) for n in then] == [("us-uk-2025", "agreed_in_principle")]
    assert nothing == []


def test_watch_prints_json_lines_each_entry_with_the_negotiation_after_it(uk: str) -> None:
    result = run(uk, "watch", "--timeout", "0", "--json")

    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    history = parsed(run(uk, "history", "us-uk-2025", "--json"))
    with Ledger.open(uk) as ledger:
        told = [jsonout.negotiation(ledger.replay("us-uk-2025", until_version=v)) for v in range(1, 6)]
    assert [list(line) for line in lines] == [[*ENTRY_KEYS, "after"]] * 5
    assert [line["after"] for line in lines] == told
    assert [line["after"]["state"] for line in lines] == [
        "agreed_in_principle", "finalised", "disputed_terms", "disputed_terms", "disputed_terms"]
    # the entry as the log held it when it landed: what later entries did to it is history's to say
    assert [{**line, "retracted_by": None, "corrected_by": []} for line in lines] == [
        {**entry, "retracted_by": None, "corrected_by": [], "after": after} for entry, after in zip(history, told)]


def test_verify_prints_an_intact_report(uk: str) -> None:
    report = parsed(run(uk, "verify", "--json"))

    assert report == {"intact": True, "negotiations": 1, "events": 5, "broken": []}


def test_verify_prints_what_is_broken_and_still_fails(uk: str) -> None:
    path = uk.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:  # behind the ledger's back
        conn.execute("DROP TRIGGER negotiation_events_no_update")
        conn.execute("UPDATE negotiation_events SET data = json_set(data, '$.point', 'aluminium') WHERE version = 3")

    result = run(uk, "verify", "--json")

    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["intact"] is False
    assert [(b["negotiation_id"], b["version"], b["position"]) for b in report["broken"]] == [("us-uk-2025", 3, 3)]
    assert "hash does not match" in report["broken"][0]["reason"]


def test_an_error_with_json_is_still_one_line_on_stderr(uk: str) -> None:
    result = run(uk, "show", "us-gb-2030", "--json")

    assert result.exit_code == 1
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and "us-gb-2030" in result.stderr


def test_a_time_is_written_in_utc_with_a_z_and_fractions_only_when_it_has_them() -> None:
    assert jsonout.moment(datetime(2025, 7, 22, tzinfo=UTC)) == "2025-07-22T00:00:00Z"
    assert jsonout.moment(datetime(2025, 7, 22, 1, 2, 3, 4500, tzinfo=UTC)) == "2025-07-22T01:02:03.004500Z"
    assert jsonout.moment(datetime.fromisoformat("2025-07-22T09:00:00+09:00")) == "2025-07-22T00:00:00Z"
    assert jsonout.moment(None) is None


def test_json_lines_print_one_compact_document_a_line(capsys: pytest.CaptureFixture[str]) -> None:
    jsonout.emit_lines([{"a": 1, "b": [1, 2]}, {"a": 2, "b": []}])

    lines = capsys.readouterr().out.splitlines()

    assert lines == ['{"a":1,"b":[1,2]}', '{"a":2,"b":[]}']


# -- --data from a file or a pipe ------------------------------------------------------------------------------


def test_record_reads_the_data_from_a_file(uk: str, tmp_path: Path) -> None:
    data = tmp_path / "amendment.json"
    data.write_text('{"terms": {"autos quota": 100000, "beef": "duty-free"}}', encoding="utf-8")

    result = run(uk, "record", "us-uk-2025", "TermsAmended", "--data", f"@{data}")

    assert result.exit_code == 0, result.output
    assert parsed(run(uk, "show", "us-uk-2025", "--json"))["terms"]["beef"] == "duty-free"


@pytest.mark.parametrize("option", ["-", "@-"])
def test_record_reads_the_data_from_stdin(uk: str, option: str) -> None:
    result = run(uk, "record", "us-uk-2025", "DisputeResolved", "--data", option,
                 stdin='{"point": "steel", "resolution": "quota agreed"}\n')

    assert result.exit_code == 0, result.output
    assert parsed(run(uk, "show", "us-uk-2025", "--json"))["open_disputes"] == []


def test_correct_reads_the_new_data_from_a_file(uk: str, tmp_path: Path) -> None:
    data = tmp_path / "dispute.json"
    data.write_text('{"point": "steel", "positions": {"GB": "quota of 500,000 tonnes"}}', encoding="utf-8")

    result = run(uk, "correct", "us-uk-2025", "3", "--reason", "misquoted", "--data", f"@{data}")


    assert result.exit_code == 0, result.output
    assert parsed(run(uk, "story", "us-uk-2025", "--json"))[1]["data"]["positions"] == {
        "GB": "quota of 500,000 tonnes"}


@pytest.mark.parametrize(("given", "content", "words"), [
    ("@{dir}/missing.json", None, "cannot read {dir}/missing.json: No such file or directory"),
    ("@{dir}/broken.json", '{"terms": ', "not valid JSON in {dir}/broken.json"),
    ("-", "{nope", "not valid JSON in stdin"),
])
def test_unreadable_data_is_refused_naming_where_it_came_from_and_writes_nothing(
    uk: str, tmp_path: Path, given: str, content: str | None, words: str
) -> None:
    if content is not None and given.startswith("@"):
        Path(given.format(dir=tmp_path)[1:]).write_text(content, encoding="utf-8")
    with Ledger.open(uk) as ledger:
        before = ledger.history("us-uk-2025")

    result = run(uk, "record", "us-uk-2025", "TermsAmended", "--data", given.format(dir=tmp_path),
                 stdin=content if given == "-" else None)

    assert result.exit_code == 2
    assert words.format(dir=tmp_path) in result.output
    with Ledger.open(uk) as ledger:
        assert ledger.history("us-uk-2025") == before


# -- the README's jq examples ----------------------------------------------------------------------------------

#: Each jq filter of the README's examples done in Python, to check the same paths where jq is not installed.
IN_PYTHON: dict[str, Callable[[Any], str]] = {
    ".state": lambda doc: doc["state"],
    '.[] | select(.state == "working_level_talks") | .id':
        lambda doc: "\n".join(n["id"] for n in doc if n["state"] == "working_level_talks"),
    '.open_disputes | join(", ")': lambda doc: ", ".join(doc["open_disputes"]),
    '.[] | select(.type == "TermsDisputed") | "\\(.version) \\(.data.point)"':
        lambda doc: "\n".join(f"{e['version']} {e['data']['point']}" for e in doc if e["type"] == "TermsDisputed"),
    'map(select(.type == "AgreementFinalised")) | last | "\\(.type) \\(.occurred_at)"':
        lambda doc: next(f"{e['type']} {e['occurred_at']}" for e in reversed(doc) if e["type"] == "AgreementFinalised"),
    ".deal_announced_at | fromdate":
        lambda doc: str(int(datetime.strptime(doc["deal_announced_at"], "%Y-%m-%dT%H:%M:%SZ")
                            .replace(tzinfo=UTC).timestamp())),
    ".intact": lambda doc: json.dumps(doc["intact"]),
}


def readme_examples() -> list[tuple[str, str]]:
    """The README's jq examples: each command line with the output the comment lines under it show."""
    section = README.split("## JSON output", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    examples: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("# "):
            examples[-1][1].append(line[2:])
        else:
            examples.append((line, []))
    return [(command, "\n".join(output)) for command, output in examples]


def test_the_readme_has_a_python_equivalent_of_every_jq_example() -> None:
    filters = [shlex.split(command.split(" | jq ", 1)[1])[-1] for command, _ in readme_examples()]

    assert sorted(filters) == sorted(IN_PYTHON)


def jq_on(printed: str, jq: str) -> str | None:
    """What the jq part of an example prints for ``printed``: jq itself where it is installed, else None."""
    if not shutil.which("jq"):
        return None
    return subprocess.run(["bash", "-o", "pipefail", "-c", f"jq {jq}"], input=printed, capture_output=True,
                          text=True, check=True, timeout=60).stdout


@pytest.mark.parametrize(("command", "output"), readme_examples(), ids=[c for c, _ in readme_examples()])
def test_a_readme_jq_example_prints_what_the_readme_says(seeded: str, command: str, output: str) -> None:
    negotiation, jq = command.split(" | jq ", 1)
    words = shlex.split(negotiation)  # as the shell splits it: the command line holds nothing else for it to do
    assert not re.search(r"[$`\\*?<>;&|(){}~]", negotiation), f"{negotiation}: more than words for the shell"
    assert words[0] == "negotiation"

    result = CliRunner(env={"NEGOTIATION_DB_URL": seeded}).invoke(main, words[1:])

    assert result.exit_code == 0, result.output
    printed = result.stdout
    assert IN_PYTHON[shlex.split(jq)[-1]](json.loads(printed)) == output
    assert jq_on(printed, jq) in (None, output + "\n")  # jq itself, where it is installed


def test_the_first_readme_jq_example_typed_in_a_shell_prints_what_the_readme_says(seeded: str) -> None:
    # The installed command, on the PATH, as the shell runs the line: the other examples run in this process.
    (command, output), *_ = readme_examples()
    negotiation, jq = command.split(" | jq ", 1)
    env = {**os.environ, "NEGOTIATION_DB_URL": seeded,
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}

    printed = subprocess.run(["bash", "-c", negotiation], env=env, capture_output=True, text=True, check=True,
                             timeout=60).stdout

    assert IN_PYTHON[shlex.split(jq)[-1]](json.loads(printed)) == output
    assert jq_on(printed, jq) in (None, output + "\n")
