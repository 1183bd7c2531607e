"""The command line's time questions and corrections: story, show and list at a time, retract, correct."""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result

from negotiation import Ledger
from negotiation.cli import main


@pytest.fixture
def uk(sqlite_url: str) -> str:
    """US–UK 2025 as first reported: the deal of 8 May and the order of 16 June, each known that day."""
    with Ledger.open(sqlite_url) as ledger:
        ledger.record("us-uk-2025", "AgreedInPrinciple", {"parties": ["US", "GB"]},
                      occurred_at="2025-05-08", reported_at="2025-05-08")
        ledger.record("us-uk-2025", "AgreementFinalised", {"instruments": ["US executive order"]},
                      occurred_at="2025-06-16", reported_at="2025-06-16")
    return sqlite_url


def run(url: str, *args: str) -> Result:
    return CliRunner(env={"COLUMNS": "200"}).invoke(main, ["--url", url, *args])


def test_a_late_event_is_recorded_with_when_it_became_known(uk: str) -> None:
    late = run(uk, "record", "us-uk-2025", "TermsAmended", "--data", '{"terms": {"autos quota": 100000}}',
               "--occurred-at", "2025-05-20", "--reported-at", "2025-06-20")
    history = run(uk, "history", "us-uk-2025")

    assert late.exit_code == 0, late.output
    assert "recorded TermsAmended as version 3" in late.output
    assert "2025-06-20" in history.output


def test_a_late_event_that_breaks_the_story_is_refused_in_one_line(uk: str) -> None:
    refused = run(uk, "record", "us-uk-2025", "TermsDisputed", "--data", '{"point": "steel"}',
                  "--occurred-at", "2025-05-20")

    assert refused.exit_code == 1
    assert refused.output.strip().splitlines() == [
        "Error: the new TermsDisputed of 2025-05-20 would make the story of negotiation 'us-uk-2025' illegal: "
        "version 2, AgreementFinalised of 2025-06-16 would then come in state disputed_terms, where it is "
        "refused (disputed points are still open); nothing was written"]


def test_show_and_list_answer_as_of_a_day_and_as_known_at_a_day(uk: str) -> None:
    then = run(uk, "show", "us-uk-2025", "--as-of", "2025-06-01")
    known = run(uk, "list", "--known-at", "2025-06-01")
    before = run(uk, "show", "us-uk-2025", "--as-of", "2025-05-01")

    assert "us-uk-2025 as of 2025-06-01" in then.output and "agreed in principle" in then.output
    assert "agreed in principle" in known.output and "finalised" not in known.output
    assert before.exit_code == 1
    assert "it had not opened by 2025-05-01" in before.output


def test_retracting_a_wrongly_reported_finalisation_reopens_the_negotiation(uk: str) -> None:
    retracted = run(uk, "retract", "us-uk-2025", "2", "--reason", "the order was not signed that day",
                    "--source", "GOV.UK")
    history = run(uk, "history", "us-uk-2025")
    story = run(uk, "story", "us-uk-2025")

    assert retracted.exit_code == 0, retracted.output
    assert "recorded EventRetracted of version 2 as version 3" in retracted.output
    assert "state now: agreed in principle" in retracted.output
    assert "retracted by v3" in history.output
    assert "AgreementFinalised" not in story.output


def test_correcting_a_date_moves_the_event_in_the_story(uk: str) -> None:
    corrected = run(uk, "correct", "us-uk-2025", "2", "--occurred-at", "2025-06-17", "--reason", "signed a day later")
    story = run(uk, "story", "us-uk-2025")

    assert corrected.exit_code == 0, corrected.output
    assert "2025-06-17" in story.output
    assert "v3" in story.output  # the correction that moved it


def test_a_correction_with_nothing_new_is_refused_and_writes_nothing(uk: str) -> None:
    with Ledger.open(uk) as ledger:
        before = ledger.read_all()

    refused = run(uk, "correct", "us-uk-2025", "1", "--reason", "nothing")

    assert refused.exit_code == 1
    assert "a correction needs new data, a new occurred_at or a new event_reported_at" in refused.output
    with Ledger.open(uk) as ledger:
        assert ledger.read_all() == before


def test_show_refuses_a_version_and_a_time_together(uk: str) -> None:
    both = run(uk, "show", "us-uk-2025", "--at-version", "1", "--as-of", "2025-06-01")

    assert both.exit_code == 2
    assert "use one or the other" in both.output
