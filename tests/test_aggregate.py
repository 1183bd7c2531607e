"""Folding and deciding: the aggregate is rebuilt from events and guards every new one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from negotiation import CorruptHistory, IllegalTransition, InvalidEvent
from negotiation.domain.aggregate import Negotiation, decide, fold
from negotiation.domain.checks import new_event

DAY = datetime(2025, 7, 22, tzinfo=UTC)


@dataclass
class Stored:
    version: int
    type: str
    data: dict[str, Any]
    occurred_at: datetime = DAY


HISTORY = [
    Stored(1, "AgreedInPrinciple", {"parties": ["US", "JP"], "terms": {"reciprocal tariff": "15%"}}),
    Stored(2, "TermsDisputed", {"point": "tariff stacking"}),
    Stored(3, "TermsDisputed", {"point": "profit sharing"}),
    Stored(4, "VisitCancelled", {"envoy": "Ryosei Akazawa"}),
    Stored(5, "WorkingLevelTalksOpened", {}),
    Stored(6, "DisputeResolved", {"point": "tariff stacking"}),
    Stored(7, "TermsAmended", {"terms": {"reciprocal tariff": "15% ceiling"}}),
]


def step(current: Negotiation, event_type: str, data: dict[str, Any]) -> Negotiation:
    return decide(current, [(new_event(current.id, event_type, data), DAY)])


def test_folding_the_history_gives_state_parties_terms_and_open_points() -> None:
    negotiation = fold("us-japan-2025", HISTORY)

    assert negotiation.state == "working_level_talks"
    assert negotiation.version == 7
    assert negotiation.parties == ("US", "JP")
    assert negotiation.terms == {"reciprocal tariff": "15% ceiling"}
    assert negotiation.open_disputes == ("profit sharing",)
    assert "AgreementFinalised" not in negotiation.allowed_events


def test_a_gap_in_versions_is_corrupt_history_not_skipped() -> None:
    gapped = [HISTORY[0], HISTORY[2]]

    with pytest.raises(CorruptHistory, match="expected version 2, found 3"):
        fold("us-japan-2025", gapped)


def test_an_illegal_step_in_stored_history_is_reported() -> None:
    illegal = [HISTORY[0], Stored(2, "AgreementFinalised", {"instruments": ["order"]}),
               Stored(3, "AgreementFinalised", {"instruments": ["order"]})]

    with pytest.raises(CorruptHistory, match="version 3: AgreementFinalised cannot follow in state "
                                              "finalised"):
        fold("us-japan-2025", illegal)


@pytest.mark.parametrize(("data", "why"), [
    ({"point": "beef"}, r"'beef' is not an open point"),
    ({"resolution": "no point named"}, r"DisputeResolved data cannot be replayed \(KeyError"),
])
def test_a_stored_resolution_of_a_point_never_open_is_corrupt_history_not_a_crash(
        data: dict[str, Any], why: str) -> None:
    damaged = [*HISTORY[:2], Stored(3, "DisputeResolved", data)]

    with pytest.raises(CorruptHistory, match=why):
        fold("us-japan-2025", damaged)


def test_stored_data_of_the_wrong_shape_is_corrupt_history_not_a_crash() -> None:
    damaged = [HISTORY[0], Stored(2, "AgreementFinalised", {"instruments": 7})]

    with pytest.raises(CorruptHistory, match="version 2: AgreementFinalised data cannot be replayed"):
        fold("us-japan-2025", damaged)


def test_resolving_the_last_open_point_returns_to_agreed_in_principle() -> None:
    disputed = fold("us-japan-2025", HISTORY[:2])

    resolved = step(disputed, "DisputeResolved", {"point": "tariff stacking"})

    assert disputed.state == "disputed_terms"
    assert resolved.state == "agreed_in_principle"
    assert resolved.open_disputes == ()


def test_finalising_with_open_disputes_is_refused_naming_them() -> None:
    talks = fold("us-japan-2025", HISTORY)

    with pytest.raises(IllegalTransition) as refused:
        step(talks, "AgreementFinalised", {"instruments": ["executive order"]})

    error = refused.value
    assert (error.negotiation_id, error.state, error.event_type) == (
        "us-japan-2025", "working_level_talks", "AgreementFinalised")
    assert "disputed points are still open" in str(error)
    assert "DisputeResolved" in error.allowed


def test_resolving_a_point_that_is_not_open_is_refused() -> None:
    talks = fold("us-japan-2025", HISTORY)

    with pytest.raises(IllegalTransition, match="'tariff stacking' is not an open point; open: profit sharing"):
        step(talks, "DisputeResolved", {"point": "tariff stacking"})


def test_disputing_a_point_already_open_restates_the_stance() -> None:
    talks = fold("us-japan-2025", [*HISTORY[:2], Stored(3, "TermsDisputed", {
        "point": "profit sharing", "positions": {"US": "90% of returns", "JP": "shared returns"}}), *HISTORY[3:]])

    restated = step(talks, "TermsDisputed", {"point": "profit sharing", "positions": {"US": "accept or pay"}})

    assert restated.state == "disputed_terms"
    assert restated.open_disputes == ("profit sharing",)
    assert restated.positions == {"profit sharing": {"US": "accept or pay", "JP": "shared returns"}}


def test_a_content_refusal_says_what_is_wrong_not_that_the_event_type_is_barred() -> None:
    disputed = fold("us-japan-2025", HISTORY[:2])

    with pytest.raises(IllegalTransition) as refused:
        step(disputed, "DisputeResolved", {"point": "beef"})

    assert str(refused.value) == ("DisputeResolved is refused for negotiation 'us-japan-2025' in state "
                                  "disputed_terms: 'beef' is not an open point; open: tariff stacking")


def test_positions_must_belong_to_the_parties() -> None:
    opened = fold("us-japan-2025", HISTORY[:1])

    with pytest.raises(InvalidEvent, match="positions: KR not a party"):
        step(opened, "TermsDisputed", {"point": "beef", "positions": {"KR": "no"}})


def test_deciding_does_not_change_the_negotiation_it_was_given() -> None:
    opened = fold("us-japan-2025", HISTORY[:1])

    after = step(opened, "TermsAmended", {"terms": {"auto tariff": "15%"}})

    assert opened.terms == {"reciprocal tariff": "15%"}
    assert after.terms == {"reciprocal tariff": "15%", "auto tariff": "15%"}
    assert (opened.version, after.version) == (1, 2)


def test_a_finalised_negotiation_can_be_amended_contested_or_taken_back_to_talks() -> None:
    opened = fold("us-japan-2025", HISTORY[:1])

    done = step(opened, "AgreementFinalised", {"instruments": ["executive order"], "terms": {"stacking": "none"}})

    assert done.state == "finalised"
    assert done.allowed_events == ("AgreedInPrinciple", "TermsDisputed", "VisitCancelled", "WorkingLevelTalksOpened",
                                   "TalksSuspended", "TermsAmended")
    assert done.instruments == ("executive order",)
    assert step(done, "TermsAmended", {"terms": {"a": 1}}).state == "finalised"
    with pytest.raises(IllegalTransition, match="the agreement is already finalised"):
        step(done, "AgreementFinalised", {"instruments": ["another order"]})


def test_talks_then_a_deal_open_a_negotiation_and_the_deal_is_dated() -> None:
    talks = decide(Negotiation(id="us-korea-2025"), [
        (new_event("us-korea-2025", "WorkingLevelTalksOpened", {"parties": ["US", "KR"]}), DAY)])

    dealt = step(talks, "AgreedInPrinciple", {"parties": ["KR", "US"]})

    assert (talks.has_deal, talks.parties, talks.opened_at) == (False, ("US", "KR"), DAY)
    assert (dealt.state, dealt.has_deal, dealt.deal_announced_at) == ("agreed_in_principle", True, DAY)
