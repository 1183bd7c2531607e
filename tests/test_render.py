"""The terminal's tables at 80 columns and piped: wrapped, never cut short; ids and dates never split.

And the words they use (``negotiation.views.words``), the same as the report's: states in plain
English, numbers with their thousands marked, amounts of money when a term's name gives the currency.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from rich.console import Console

from negotiation import Ledger
from negotiation.cli import main, render
from negotiation.files.loading import load_streams, read_streams
from negotiation.views import words

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "seeds").glob("*.yaml"))
#: A day or a moment as the tables write it.
ISO = re.compile(r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2})?")


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    database = f"sqlite:///{tmp_path_factory.mktemp('render') / 'seeded.db'}"
    with Ledger.open(database) as ledger:
        load_streams(ledger, read_streams(SEEDS))
    return database


@pytest.fixture(scope="module")
def ids(url: str) -> list[str]:
    with Ledger.open(url) as ledger:
        return ledger.negotiations()


def run(url: str, *args: str, columns: int = 80) -> Result:
    result = CliRunner(env={"COLUMNS": str(columns)}).invoke(main, ["--url", url, *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def assert_fits(output: str, columns: int) -> None:
    """Every line within the width, and nothing cut short with an ellipsis."""
    assert "…" not in output
    too_wide = [line for line in output.splitlines() if Console().measure(line).maximum > columns]
    assert not too_wide, too_wide[:3]


def whole(output: str) -> set[str]:
    """The days and moments written whole in ``output``."""
    return set(ISO.findall(output))


def test_history_at_80_columns_keeps_every_date_and_the_id_whole(url: str, ids: list[str]) -> None:
    with Ledger.open(url) as ledger:
        for negotiation_id in ids:
            result = run(url, "history", negotiation_id)

            assert_fits(result.output, 80)
            assert negotiation_id in result.output
            for event in ledger.history(negotiation_id):
                assert render.day(event.occurred_at) in result.output, (negotiation_id, event.version)
                assert render.day(event.reported_at) in result.output, (negotiation_id, event.version)
                assert event.type in result.output


@pytest.mark.parametrize("columns", [60, 80, 100])
def test_show_list_measures_and_deadlines_split_no_date_and_no_id_at_any_width(
        url: str, ids: list[str], columns: int) -> None:
    for args in (["list"], ["measures"], ["deadlines"], ["show", "us-korea-2025"], ["story", "us-eu-2025"],
                 ["details", "us-vietnam-2025"], ["views", "us-korea-2025"]):
        narrow, wide = run(url, *args, columns=columns), run(url, *args, columns=250)

        assert_fits(narrow.output, columns)
        assert whole(narrow.output) == whole(wide.output), args
        assert {i for i in ids if i in narrow.output} == {i for i in ids if i in wide.output}, args


def test_history_piped_with_no_terminal_is_100_columns_wide_and_cuts_nothing(url: str, ids: list[str]) -> None:
    env = {name: value for name, value in os.environ.items() if name not in ("COLUMNS", "LINES")}
    for negotiation_id in ("india-japan-summit-2025", "us-korea-2025"):
        piped = subprocess.run([sys.executable, "-m", "negotiation.cli", "--url", url, "history", negotiation_id],
                               stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, check=True,
                               timeout=120)

        assert_fits(piped.stdout, render.PIPED_WIDTH)
        assert max(len(line) for line in piped.stdout.splitlines()) > 80  # it uses the room a pipe has
        assert negotiation_id in piped.stdout
        assert whole(piped.stdout) == whole(run(url, "history", negotiation_id, columns=250).output)


def test_the_history_says_what_changed_an_entry_later_under_a_clear_heading(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'late.db'}"
    with Ledger.open(database) as ledger:
        ledger.record("us-japan-2025", "AgreedInPrinciple", {"parties": ["US", "JP"]}, occurred_at="2025-07-22")
        ledger.record("us-japan-2025", "VisitCancelled", {"envoy": "Ryosei Akazawa"}, occurred_at="2025-08-28")
        ledger.retract("us-japan-2025", 2, reason="the visit went ahead")

    result = run(database, "history", "us-japan-2025")

    assert "changed later" in result.output and "since" not in result.output
    assert "retracted by v3" in result.output


def test_record_prints_the_event_id_whole_on_one_line(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'record.db'}"
    long_id = "india-japan-special-strategic-and-global-partnership-2025"

    result = run(database, "record", long_id, "AgreedInPrinciple", "--data", '{"parties": ["IN", "JP"]}')

    with Ledger.open(database) as ledger:
        event = ledger.history(long_id)[0]
    assert f"event id {event.event_id}" in result.output.splitlines()
    assert "state now: agreed in principle" in result.output


def test_states_and_numbers_read_as_a_person_says_them_in_the_terminal(url: str) -> None:
    shown = run(url, "show", "us-japan-2025", columns=200).output
    listed = run(url, "list", columns=200).output

    assert "finalised" in shown and "working-level talks" in listed and "agreed in principle" in listed
    assert not re.search(r"\b(?:agreed_in_principle|working_level_talks|disputed_terms)\b", shown + listed)
    assert "$550 billion" in shown and "550000000000" not in shown


def test_the_json_keeps_the_machines_names_and_numbers(url: str) -> None:
    told = json.loads(run(url, "show", "us-japan-2025", "--json").output)

    assert told["state"] == "finalised"
    assert 550000000000 in told["terms"].values()


# -- the words -----------------------------------------------------------------------------------


def test_states_in_words() -> None:
    assert [words.state(s) for s in ("agreed_in_principle", "working_level_talks", "talks_suspended",
                                     "disputed_terms", "visit_cancelled", "finalised")] == [
        "agreed in principle", "working-level talks", "talks suspended", "terms disputed", "visit cancelled",
        "finalised"]
    assert words.change_of_state("working_level_talks", "finalised") == "working-level talks → finalised"


def test_numbers_and_amounts() -> None:
    assert words.number(550000000000) == "550,000,000,000"
    assert (words.number(2028), words.number(10000), words.number(2.5)) == ("2028", "10,000", "2.5")
    assert words.term("investment (USD)", 550000000000) == "$550 billion"
    assert words.term("US farm purchases (USD)", 4500000000) == "$4.5 billion"
    assert words.term("private investment goal (JPY)", 10000000000000) == "¥10 trillion"
    assert words.term("previous goal (JPY, set 2022)", 5000000000000) == "¥5 trillion"
    assert words.term("fund (KRW)", 1234567891) == "1,234,567,891 KRW"  # no scale says it exactly
    assert words.term("quota (t)", 10000) == "10,000"
    assert words.term("in force", True) == "yes"
    assert words.term("tariff", "15%") == "15%"


def test_days_later_and_descriptions_with_their_values() -> None:
    assert [words.days_later(n) for n in (0, 1, 10)] == ["the same day", "1 day later", "10 days later"]
    assert words.describe("TermsAmended", {"terms": {"framework": "15% ceiling"}}) == (
        "terms amended: framework → 15% ceiling")
    assert words.describe("TermsAmended", {"terms": {"investment (USD)": 550000000000, "quota (t)": 10000},
                                           "according_to": "JP"}) == (
        "terms amended according to JP: investment (USD) → $550 billion; quota (t) → 10,000")
    assert words.describe("TermsDisputed", {"point": "autos"}) == "point disputed: autos"
