"""``negotiation diff``: what changed in what was known between two times, of one negotiation or of every one;
bad input refused in one line, the database left as it was."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from negotiation import Ledger
from negotiation.cli import main

ROOT = Path(__file__).resolve().parent.parent
KOREA = "us-korea-2025"


def run(url: str, *args: str) -> Result:
    return CliRunner(env={"COLUMNS": "200"}).invoke(main, ["--url", url, *args])


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The seed stories in a SQLite file."""
    url = f"sqlite:///{tmp_path_factory.mktemp('seeded') / 'negotiations.db'}"
    assert run(url, "load", *map(str, sorted((ROOT / "seeds").glob("*.yaml")))).exit_code == 0
    return url


def log_of(url: str) -> list[Any]:
    with Ledger.open(url) as ledger:
        return ledger.read_all()


def test_the_late_report_of_the_currency_swap_dispute_is_what_changed_the_open_points(seeded: str) -> None:
    result = run(seeded, "diff", KOREA, "--known-at", "2025-09-20", "--known-at", "2025-09-22")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"{KOREA}: 2 changes from 20 Sep 2025 to 22 Sep 2025, 1 entry reported in between"
    assert "  open point currency swap: not open → open, by version 8 (late news)" in lines
    assert "  story, version 8: not in the story → TermsDisputed of 19 Sep 2025, by version 8 (late news)" in lines
    assert ("  version 8, late news of 19 Sep 2025, reported 22 Sep 2025 (Reuters, KBS, Asia Today): "
            "point disputed: currency swap") in lines
    assert lines[-1] == "state: terms disputed, as before"


def test_diff_json_names_the_entries_behind_each_change(seeded: str) -> None:
    result = run(seeded, "diff", KOREA, "--known-at", "2025-09-20", "--known-at", "2025-09-22", "--json")

    assert result.exit_code == 0, result.output
    told = json.loads(result.stdout)
    assert (told["known_at_1"], told["known_at_2"], told["changed"]) == (
        "2025-09-20T23:59:59.999999Z", "2025-09-22T23:59:59.999999Z", True)
    assert [(c["aspect"], c["subject"], c["before"], c["after"], c["because"]) for c in told["changes"]][1] == (
        "open point", "currency swap", None, "open", [8])
    assert [(e["version"], e["kind"], e["occurred_at"], e["reported_at"]) for e in told["reported"]] == [
        (8, "late news", "2025-09-19T00:00:00Z", "2025-09-22T00:00:00Z")]
    assert told["before"]["open_disputes"] == ["investment structure"]
    assert told["after"]["open_disputes"] == ["investment structure", "currency swap"]
    assert len(told["story_after"]) == len(told["story_before"]) + 1


def test_diff_json_gives_an_article_back_as_it_was_given(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'article.db'}"
    article = {"outlet": "BBC", "url": "https://www.bbc.co.uk/news/articles/c0deal",
               "headline": "US and UK agree trade deal", "published": "2025-05-08"}
    with Ledger.open(url) as ledger:
        ledger.record("us-uk-2025", "AgreedInPrinciple", {"parties": ["US", "GB"]}, occurred_at="2025-05-08",
                      reported_at="2025-05-08", sources=["Reuters", article])

    result = run(url, "diff", "us-uk-2025", "--known-at", "2025-05-01", "--known-at", "2025-05-09", "--json")

    assert result.exit_code == 0, result.output
    assert [e["sources"] for e in json.loads(result.stdout)["reported"]] == [["Reuters", article]]


def test_a_week_with_no_reports_says_nothing_changed(seeded: str) -> None:
    result = run(seeded, "diff", KOREA, "--known-at", "2025-09-23", "--known-at", "2025-09-28")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"{KOREA}: nothing changed from 23 Sep 2025 to 28 Sep 2025",
                                          "state: terms disputed, as before"]


def test_since_names_every_negotiation_with_what_changed_or_that_nothing_did(seeded: str) -> None:
    result = run(seeded, "diff", "--since", "2026-03-01")

    assert result.exit_code == 0, result.output
    with Ledger.open(seeded) as ledger:
        ids = ledger.negotiations()
    headers = [line.split(": ", 1) for line in result.stdout.splitlines() if line.split(": ", 1)[0] in ids]
    assert [name for name, _ in headers] == ids
    said = dict(headers)
    assert said[KOREA].startswith("4 changes from 1 Mar 2026 to ")
    assert said["us-japan-2025"].startswith("nothing changed from 1 Mar 2026 to ")
    assert "  state: terms disputed → agreed in principle, by version 23 (new event)" in result.stdout.splitlines()


@pytest.mark.parametrize(("args", "status", "message"), [
    (["diff", KOREA, "--known-at", "2025-09-20"], 2,
     "Error: give --known-at twice (the earlier time first) or --since, not once"),
    (["diff", KOREA], 2, "Error: give --known-at twice (the earlier time first) or --since"),
    (["diff", KOREA, "--since", "2025-09-20", "--known-at", "2025-09-22"], 2,
     "Error: give --known-at twice or --since once, not both"),
    (["diff", KOREA, "--known-at", "2025-09-22", "--known-at", "2025-09-20"], 1,
     ("Error: known_at_2 (2025-09-20T23:59:59.999999+00:00) is before known_at_1 "
      "(2025-09-22T23:59:59.999999+00:00): give the earlier time first")),
    (["diff", "--since", "2999-01-01"], 1, "Error: known_at_2 ("),
    (["diff", "us-china-2025", "--known-at", "2025-09-20", "--known-at", "2025-09-22"], 1,
     "Error: negotiation 'us-china-2025' has no recorded events"),
    (["diff", KOREA, "--known-at", "2025-09-xx", "--known-at", "2025-09-22"], 1,
     "Error: known_at_1: '2025-09-xx' is not an ISO 8601 date or datetime"),
], ids=["one-known-at", "no-time", "both-forms", "backwards", "since-the-future", "unknown", "bad-time"])
def test_bad_input_is_one_line_and_writes_nothing(seeded: str, args: list[str], status: int, message: str) -> None:
    before = log_of(seeded)

    result = run(seeded, *args)

    assert result.exit_code == status, result.output
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()[-1:]
    assert line.startswith(message)
    if status == 1:
        assert len(result.stderr.strip().splitlines()) == 1
    assert log_of(seeded) == before
