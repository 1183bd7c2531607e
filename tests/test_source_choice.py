"""Whose word a story is told on: what leaving out a source does to corrections, and to denials."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from negotiation import Ledger

US_JAPAN = "us-japan-2025"


@pytest.fixture
def ledger() -> Iterator[Ledger]:
    with Ledger.open("memory://") as ledger:
        ledger.record(US_JAPAN, "AgreedInPrinciple", {"parties": ["US", "JP"]}, occurred_at="2025-07-22",
                      sources=["Reuters", "Kyodo"])
        ledger.record(US_JAPAN, "TermsAmended", {"terms": {"rice": "quota"}}, occurred_at="2025-08-01",
                      sources=["Reuters"])
        yield ledger


def test_an_event_left_out_with_its_source_stays_when_a_kept_source_corrected_it(ledger: Ledger) -> None:
    ledger.correct(US_JAPAN, 2, reason="the quota is 75%", data={"terms": {"rice": "75% quota"}}, sources=["NHK"])

    told = ledger.story(US_JAPAN, exclude_sources=["Reuters"])
    without_both = ledger.story(US_JAPAN, exclude_sources=["Reuters", "NHK"])

    assert [(event.version, event.data) for event in told][1:] == [(2, {"terms": {"rice": "75% quota"}})]
    assert told[1].corrected_by == (3,)
    assert [event.version for event in without_both] == [1]
    assert ledger.get(US_JAPAN, exclude_sources=["Reuters"]).terms == {"rice": "75% quota"}


def test_an_event_left_out_with_its_source_goes_when_only_its_own_source_corrected_it(ledger: Ledger) -> None:
    ledger.correct(US_JAPAN, 2, reason="the quota is 75%", data={"terms": {"rice": "75% quota"}},
                   sources=["Reuters"])

    assert [event.version for event in ledger.story(US_JAPAN, exclude_sources=["Reuters"])] == [1]


def test_a_denied_event_stays_marked_and_leaves_the_story_only_when_asked(ledger: Ledger) -> None:
    ledger.deny(US_JAPAN, 2, by="JP", statement="no quota was agreed", sources=["NHK"])

    told = ledger.story(US_JAPAN)
    without = ledger.story(US_JAPAN, exclude_denied=True)

    assert told[1].denied_by == ("JP",)
    assert [event.version for event in without] == [1]
    assert ledger.get(US_JAPAN, exclude_denied=True).terms == {}
    assert ledger.get(US_JAPAN).terms == {"rice": "quota"}
