"""The command line's questions: measures, deadlines, views and details, what show adds, and list, deadlines and
measures answering for every negotiation they can, naming the others on stderr with exit status 3."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from negotiation import Ledger
from negotiation.cli import main
from negotiation.cli.main import PARTIAL

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
VIETNAM, CANADA, UK = "us-vietnam-2025", "us-canada-2025", "us-uk-2025"

MEASURE_KEYS = ["negotiation_id", "name", "status", "value", "by", "against", "since", "effective_from",
                "paused_until", "threatened_value", "effective", "condition", "lifted_by", "reason", "version"]
DEADLINE_KEYS = ["negotiation_id", "due", "status", "kind", "what", "measure", "by", "version"]
DETAILS_KEYS = ["negotiation", "at", "measures", "deadlines", "deals", "meetings", "views", "suspensions",
                "third_party_acts", "denied"]


def run(url: str, *args: str) -> Result:
    # A wide terminal, so table cells are not wrapped mid-phrase.
    return CliRunner(env={"COLUMNS": "200"}).invoke(main, ["--url", url, *args])


def parsed(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def talks(sqlite_url: str, at_head: None) -> str:
    """US–Vietnam (a 46% tariff paused until 9 July, a deal due that day, a meeting, each side's terms),
    US–Canada (a 35% threat for 1 August) and US–UK (a deal, and an amendment reported before it)."""
    day = {"occurred_at": "2025-04-09", "reported_at": "2025-04-09"}
    with Ledger.open(sqlite_url) as ledger:
        ledger.record_many(VIETNAM, [
            {"type": "MeasureImposed", "data": {"parties": ["US", "VN"], "measure": "reciprocal tariff", "by": "US",
                                                "value": "46%"}, **day},
            {"type": "MeasurePaused", "data": {"measure": "reciprocal tariff", "until": "2025-07-09"}, **day},
            {"type": "DeadlineSet", "data": {"what": "a deal", "due": "2025-07-09", "by": "US"}, **day},
            {"type": "MeetingHeld", "data": {"level": "ministerial", "venue": "Washington",
                                             "participants": ["Ho Duc Phoc", "Jamieson Greer"]},
             "occurred_at": "2025-04-10", "reported_at": "2025-04-10"},
            {"type": "AgreedInPrinciple", "data": {"terms": {"reciprocal tariff": "20%"}, "according_to": "US"},
             "occurred_at": "2025-07-02", "reported_at": "2025-07-02"},
            {"type": "TermsAmended", "data": {"terms": {"reciprocal tariff": "no rate given"}, "according_to": "VN"},
             "occurred_at": "2025-07-03", "reported_at": "2025-07-03"},
        ])
        ledger.record(CANADA, "MeasureThreatened", {"parties": ["US", "CA"], "measure": "tariff on Canadian goods",
                                                    "by": "US", "value": "35%", "effective": "2025-08-01"},
                      occurred_at="2025-07-10", reported_at="2025-07-10")
        ledger.record(UK, "AgreedInPrinciple", {"parties": ["US", "GB"]}, occurred_at="2025-07-22",
                      reported_at="2025-08-01")
        ledger.record(UK, "TermsAmended", {"terms": {"autos": "10%"}}, occurred_at="2025-07-24",
                      reported_at="2025-07-25")
    return sqlite_url


def test_show_adds_the_sections_that_have_content_and_only_those(talks: str) -> None:
    vietnam = run(talks, "show", VIETNAM, "--as-of", "2025-07-10")
    uk = run(talks, "show", UK)

    assert vietnam.exit_code == 0, vietnam.output
    for expected in ("measures", "reciprocal tariff", "in force", "US → VN", "2025-07-10", "falling due",
                     "pause of reciprocal tariff ends", "passed", "deals", "in principle", "meetings",
                     "Ho Duc Phoc, Jamieson Greer", "each party's terms", "≠ reciprocal tariff",
                     "the views differ on: reciprocal tariff"):
        assert expected in vietnam.output, expected
    assert "suspended" not in vietnam.output and "third-party acts" not in vietnam.output
    assert "denied reports" not in vietnam.output
    assert uk.exit_code == 0, uk.output
    assert "deals" in uk.output
    for absent in ("measures", "falling due", "meetings", "each party's terms"):
        assert absent not in uk.output, absent


def test_measures_across_negotiations_and_in_force_against_whom(talks: str) -> None:
    every = run(talks, "measures", "--as-of", "2025-07-20")
    in_force = parsed(run(talks, "measures", "--in-force", "--as-of", "2025-07-10", "--json"))
    paused = parsed(run(talks, "measures", VIETNAM, "--as-of", "2025-07-09", "--json"))

    assert every.exit_code == 0, every.output
    assert VIETNAM in every.output and CANADA in every.output and "threatened" in every.output
    assert [list(row) for row in in_force] == [MEASURE_KEYS]
    assert [(r["negotiation_id"], r["name"], r["status"], r["by"], r["against"], r["since"]) for r in in_force] == [
        (VIETNAM, "reciprocal tariff", "in_force", "US", "VN", "2025-07-10")]
    assert [(r["status"], r["paused_until"]) for r in paused] == [("paused", "2025-07-09")]
    assert run(talks, "measures", "--in-force", "--as-of", "2025-07-09").output.strip() == \
        "no measures in force as of 2025-07-09"


def test_deadlines_pending_then_passed_as_of_a_day_and_as_known_at_one(talks: str) -> None:
    on_the_day = parsed(run(talks, "deadlines", "--as-of", "2025-07-09", "--json"))
    after = parsed(run(talks, "deadlines", "--as-of", "2025-07-10", "--json"))
    known = parsed(run(talks, "deadlines", "--known-at", "2025-07-09", "--json"))
    table = run(talks, "deadlines", "--as-of", "2025-07-10")

    assert [list(row) for row in on_the_day] == [DEADLINE_KEYS] * 2
    assert [(r["due"], r["kind"], r["status"], r["version"]) for r in on_the_day] == [
        ("2025-07-09", "deadline", "pending", 3), ("2025-07-09", "pause", "pending", 2)]
    assert [(r["negotiation_id"], r["kind"], r["status"]) for r in after] == [
        (VIETNAM, "deadline", "passed"), (VIETNAM, "pause", "passed"), (CANADA, "threat", "pending")]
    assert [r["negotiation_id"] for r in known] == [VIETNAM, VIETNAM]  # the threat was not reported yet
    assert table.exit_code == 0, table.output
    assert "falling due as of 2025-07-10" in table.output
    assert "tariff on Canadian goods of 35% would take effect" in table.output


def test_within_keeps_what_falls_due_from_the_time_asked_up_to_that_much_later(talks: str) -> None:
    month = parsed(run(talks, "deadlines", "--within", "30d", "--as-of", "2025-07-10", "--json"))
    weeks = parsed(run(talks, "deadlines", "--within", "3w", "--as-of", "2025-07-10", "--json"))
    one = parsed(run(talks, "deadlines", VIETNAM, "--within", "30d", "--as-of", "2025-07-09", "--json"))
    nothing = run(talks, "deadlines", VIETNAM, "--within", "30d", "--as-of", "2025-07-10")

    assert [(r["negotiation_id"], r["due"]) for r in month] == [(CANADA, "2025-08-01")]
    assert weeks == []  # 21 days from 10 July is 31 July
    assert [r["kind"] for r in one] == ["deadline", "pause"]
    assert nothing.output.strip() == f"nothing falling due within 30 days as of 2025-07-10 in {VIETNAM}"


@pytest.mark.parametrize("args", [["list"], ["deadlines"], ["measures"], ["list", "--json"],
                                  ["deadlines", "--json"], ["measures", "--in-force", "--json"]])
def test_one_negotiation_not_legal_as_known_then_is_named_and_the_others_answered(talks: str,
                                                                                 args: list[str]) -> None:
    result = run(talks, *args, "--known-at", "2025-07-26")

    assert result.exit_code == PARTIAL == 3
    assert VIETNAM in result.stdout and UK not in result.stdout
    if "--json" in args:
        assert json.loads(result.stdout)
    [line] = result.stderr.splitlines()
    assert line.startswith("could not answer for us-uk-2025: as known at 2025-07-26T23:59:59.999999+00:00, the "
                           "reports do not yet make a legal story: negotiation 'us-uk-2025': the story breaks at "
                           "version 2, TermsAmended")
    assert "Traceback" not in result.output


def test_list_answers_every_negotiation_when_each_can_be_answered(talks: str) -> None:
    listed = parsed(run(talks, "list", "--known-at", "2025-08-01", "--json"))
    before = run(talks, "list", "--known-at", "2025-04-01")

    assert [n["id"] for n in listed] == [VIETNAM, CANADA, UK]
    assert (before.exit_code, before.output.strip()) == (0, "no negotiation is known as known at 2025-04-01")


@pytest.mark.parametrize(("args", "message"), [
    (["deadlines", "--within", "abc"],
     "Invalid value for '--within': 'abc' is not a span of days: give a number of days or weeks, such as 30d or 2w"),
    (["deadlines", "--within", "-3d"], "Invalid value for '--within': '-3d' is not a span of days"),
    (["deadlines", "--as-of", "July"], "as_of: 'July' is not an ISO 8601 date or datetime"),
    (["measures", "--known-at", "soon"], "known_at: 'soon' is not an ISO 8601 date or datetime"),
    (["measures", "nowhere-2025"], "negotiation 'nowhere-2025' has no recorded events"),
])
def test_bad_input_is_one_line_on_stderr_and_changes_nothing(talks: str, args: list[str], message: str) -> None:
    with Ledger.open(talks) as ledger:
        before = ledger.read_all()

    result = run(talks, *args)

    assert result.exit_code in (1, 2)
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and message in errors[0], result.stderr
    assert "Traceback" not in result.output
    with Ledger.open(talks) as ledger:
        assert ledger.read_all() == before


def test_a_bad_span_is_refused_before_any_database_is_opened(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"

    result = CliRunner().invoke(main, ["--url", f"sqlite:///{missing}", "deadlines", "--within", "abc"])

    assert result.exit_code == 2
    assert not missing.exists()


def test_views_show_each_partys_terms_and_where_they_differ(talks: str) -> None:
    seen = parsed(run(talks, "views", VIETNAM, "--json"))
    table = run(talks, "views", VIETNAM)
    none = run(talks, "views", CANADA)

    assert seen == {"parties": ["US", "VN"], "common": {},
                    "views": {"US": {"reciprocal tariff": "20%"}, "VN": {"reciprocal tariff": "no rate given"}},
                    "differences": ["reciprocal tariff"]}
    assert "according to US" in table.output and "no rate given" in table.output
    assert none.output.strip() == f"{CANADA}: no terms yet"


def test_details_prints_every_section_as_json_and_the_denied_reports(talks: str) -> None:
    with Ledger.open(talks) as ledger:
        ledger.deny(VIETNAM, 4, by="VN", statement="no such meeting")

    told = parsed(run(talks, "details", VIETNAM, "--as-of", "2025-07-10", "--json"))
    without = parsed(run(talks, "details", VIETNAM, "--without-denied", "--json"))
    table = run(talks, "details", VIETNAM)
    shown = run(talks, "show", VIETNAM, "--without-denied")

    assert list(told) == DETAILS_KEYS
    assert told["at"] == "2025-07-10T23:59:59.999999Z"
    assert told["negotiation"]["id"] == VIETNAM and told["negotiation"]["state"] == "agreed_in_principle"
    assert [m["status"] for m in told["measures"]] == ["in_force"]
    assert told["meetings"] == [{"on": "2025-04-10", "ends_on": None, "level": "ministerial", "format": None,
                                 "venue": "Washington", "participants": ["Ho Duc Phoc", "Jamieson Greer"],
                                 "summary": None, "version": 4}]
    assert told["deals"] == [{"kind": "in principle", "on": "2025-07-02", "title": None, "instruments": [],
                              "according_to": "US", "version": 5}]
    assert told["denied"] == [{"version": 4, "type": "MeetingHeld", "occurred_at": "2025-04-10T00:00:00Z",
                               "denied_by": ["VN"], "summary": "ministerial meeting held in Washington"}]
    assert told["suspensions"] == told["third_party_acts"] == []
    assert without["meetings"] == [] and [d["version"] for d in without["denied"]] == [4]
    assert "denied reports" in table.output and "no such meeting" not in table.output
    assert "without the denied events" in shown.output and "meetings" not in shown.output


def test_the_json_of_show_and_list_keeps_its_keys(talks: str) -> None:
    shown = parsed(run(talks, "show", VIETNAM, "--json"))
    listed = parsed(run(talks, "list", "--json"))

    assert list(shown) == list(listed[0])
    assert "measures" not in shown


# -- the README's examples -------------------------------------------------------------------------------------

def _section() -> str:
    return README.split("## Measures, deadlines and what goes on beside the phase", 1)[1].split("\n## ", 1)[0]


def test_the_readmes_python_example_of_the_questions_runs_as_written() -> None:
    block = _section().split("```python\n", 1)[1].split("```", 1)[0]

    exec(compile(block, "README.md", "exec"), {})  # its asserts are the check


def readme_commands() -> list[str]:
    block = _section().split("```sh\n", 1)[1].split("```", 1)[0]
    return [line.split("  #", 1)[0].strip() for line in block.splitlines() if line.startswith("negotiation ")]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The seeds in a SQLite file, as the README's commands assume."""
    url = f"sqlite:///{tmp_path_factory.mktemp('seeded') / 'negotiations.db'}"
    assert run(url, "load", *map(str, sorted((ROOT / "seeds").glob("*.yaml")))).exit_code == 0
    return url


@pytest.mark.parametrize("command", readme_commands())
def test_a_readme_command_of_the_questions_runs_as_written(seeded: str, command: str) -> None:
    result = run(seeded, *shlex.split(command)[1:])

    assert result.exit_code == 0, result.output
    assert result.stdout.strip()


def test_the_readme_shows_every_question_command() -> None:
    named = {shlex.split(command)[1] for command in readme_commands()}

    assert {"show", "measures", "deadlines", "views", "details", "list"} <= named
