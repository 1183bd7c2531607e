"""Time and corrections on every backend: late events, reported and recorded times, retractions, corrections.

The story of a negotiation is its effective events in world order (``occurred_at``,
then version), retracted ones left out and corrections applied; its state is the
story folded through the machine. Every refusal here is checked to leave the
database exactly as it was.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from negotiation import (
    ConcurrencyConflict,
    CorruptHistory,
    DuplicateEvent,
    IllegalTransition,
    InvalidEvent,
    Ledger,
    UnknownNegotiation,
)
from negotiation.domain.aggregate import fold_log
from negotiation.errors import IllegalStory, UnknownTarget

Rows = Callable[[], list[tuple[object, ...]]]
US_JAPAN = "us-japan-2025"
US_KOREA = "us-korea-2025"
US_UK = "us-uk-2025"
PARTIES = ["US", "JP"]


def day(text_date: str) -> datetime:
    return datetime.fromisoformat(text_date).replace(tzinfo=UTC)


def told(ledger: Ledger, negotiation_id: str = US_JAPAN, **times: Any) -> list[tuple[int, str, str]]:
    """The story as (version, type, day) triples."""
    return [(event.version, event.type, event.occurred_at.date().isoformat())
            for event in ledger.story(negotiation_id, **times)]


def everything(ledger: Ledger, stored_rows: Rows) -> tuple[object, ...]:
    """What a refusal must leave untouched: the stored rows, the log as read back and the current state."""
    return stored_rows(), ledger.read_all(), ledger.get(US_JAPAN)


def deal(ledger: Ledger, on: str = "2025-07-22", **extra: Any) -> None:
    ledger.record(US_JAPAN, "AgreedInPrinciple", {"parties": PARTIES}, occurred_at=on, **extra)


def finalised_with_a_settled_dispute(ledger: Ledger) -> None:
    """Versions 1 to 5: deal, dispute, resolution, finalisation, amendment."""
    deal(ledger)
    ledger.record(US_JAPAN, "TermsDisputed", {"point": "profit sharing"}, occurred_at="2025-08-01")
    ledger.record(US_JAPAN, "DisputeResolved", {"point": "profit sharing"}, occurred_at="2025-08-10")
    ledger.record(US_JAPAN, "AgreementFinalised", {"instruments": ["executive order"]}, occurred_at="2025-09-04")
    ledger.record(US_JAPAN, "TermsAmended", {"terms": {"autos": "15%"}}, occurred_at="2025-09-10")


def test_a_late_event_takes_its_place_in_the_story_and_in_the_states_as_of_dates(ledger: Ledger) -> None:
    deal(ledger)
    ledger.record(US_JAPAN, "TermsAmended", {"terms": {"autos": "15%"}}, occurred_at="2025-09-01")

    late = ledger.record(US_JAPAN, "TermsDisputed", {"point": "profit sharing"}, occurred_at="2025-08-01")

    assert late.version == 3
    assert told(ledger) == [(1, "AgreedInPrinciple", "2025-07-22"), (3, "TermsDisputed", "2025-08-01"),
                            (2, "TermsAmended", "2025-09-01")]
    now = ledger.get(US_JAPAN)
    assert (now.state, now.version, now.open_disputes) == ("disputed_terms", 3, ("profit sharing",))
    assert now.updated_at == day("2025-09-01")
    assert ledger.get(US_JAPAN, as_of="2025-07-31").state == "agreed_in_principle"
    assert ledger.get(US_JAPAN, as_of="2025-08-01").state == "disputed_terms"
    assert ledger.get(US_JAPAN, as_of="2025-08-31").terms == {}
    assert ledger.get(US_JAPAN, as_of="2025-09-01").terms == {"autos": "15%"}
    assert ledger.replay(US_JAPAN, until_version=2).state == "agreed_in_principle"
    assert ledger.replay(US_JAPAN).state == "disputed_terms"


def test_events_of_the_same_day_are_told_in_recording_order(ledger: Ledger) -> None:
    deal(ledger)
    ledger.record(US_JAPAN, "TermsAmended", {"terms": {"autos": "25%"}}, occurred_at="2025-08-01")
    ledger.record(US_JAPAN, "TermsAmended", {"terms": {"rice": "75%"}}, occurred_at="2025-09-01")

    ledger.record(US_JAPAN, "TermsAmended", {"terms": {"autos": "15%"}}, occurred_at="2025-08-01")

    assert told(ledger) == [(1, "AgreedInPrinciple", "2025-07-22"), (2, "TermsAmended", "2025-08-01"),
                            (4, "TermsAmended", "2025-08-01"), (3, "TermsAmended", "2025-09-01")]
    assert ledger.get(US_JAPAN).terms == {"autos": "15%", "rice": "75%"}
    assert ledger.get(US_JAPAN, as_of="2025-08-01").terms == {"autos": "15%"}


def test_a_late_event_that_breaks_the_story_is_refused_naming_the_first_event_it_breaks(
    ledger: Ledger, stored_rows: Rows
) -> None:
    deal(ledger)
    ledger.record(US_JAPAN, "TermsAmended", {"terms": {"autos": "15%"}}, occurred_at="2025-08-15")
    ledger.record(US_JAPAN, "AgreementFinalised", {"instruments": ["executive order"]}, occurred_at="2025-09-04")
    ledger.record(US_JAPAN, "WorkingLevelTalksOpened", {"agenda": ["chips"]}, occurred_at="2025-09-10")
    ledger.record(US_JAPAN, "AgreementFinalised", {"instruments": ["memorandum"]}, occurred_at="2025-09-20")
    before = everything(ledger, stored_rows)

    with pytest.raises(IllegalStory) as refused:
        ledger.record(US_JAPAN, "TermsDisputed", {"point": "profit sharing"}, occurred_at="2025-08-01")

    error = refused.value
    assert isinstance(error, IllegalTransition)
    assert (error.version, error.event_type, error.occurred_at) == (3, "AgreementFinalised", "2025-09-04")
    assert (error.state, error.reason) == ("disputed_terms", "disputed points are still open")
    assert error.entry == "the new TermsDisputed of 2025-08-01"
    assert str(error) == (
        "the new TermsDisputed of 2025-08-01 would make the story of negotiation 'us-japan-2025' illegal: "
        "version 3, AgreementFinalised of 2025-09-04 would then come in state disputed_terms, where it is "
        "refused (disputed points are still open); nothing was written")
    assert everything(ledger, stored_rows) == before


def test_a_late_event_the_machine_refuses_where_it_lands_is_named_itself(ledger: Ledger, stored_rows: Rows) -> None:
    deal(ledger)
    ledger.record(US_JAPAN, "TermsDisputed", {"point": "profit sharing"}, occurred_at="2025-08-10")
    before = everything(ledger, stored_rows)

    with pytest.raises(IllegalStory) as refused:
        ledger.record(US_JAPAN, "DisputeResolved", {"point": "profit sharing"}, occurred_at="2025-08-01")

    error = refused.value
    assert (error.version, error.event_type, error.state) == (3, "DisputeResolved", "agreed_in_principle")
    assert error.reason == "no disputed point is open"
    assert "itself would then come in state agreed_in_principle" in str(error)
    assert everything(ledger, stored_rows) == before


@pytest.mark.parametrize(
    ("event_type", "data", "refusal", "named"),
    [
        ("TermsAmended", {"terms": {"autos": "15%"}}, IllegalStory, "itself would then come in state not_opened"),
        ("TermsDisputed", {"point": "profit sharing"}, IllegalStory, "nothing has opened the negotiation"),
        ("WorkingLevelTalksOpened", {"agenda": ["autos"]}, InvalidEvent, "must name the two parties"),
        ("VisitCancelled", {"envoy": "Ryosei Akazawa"}, InvalidEvent, "must name the two parties"),
        ("WorkingLevelTalksOpened", {"parties": ["US", "KR"]}, IllegalStory,
         "version 1, AgreedInPrinciple of 2025-07-22 would then come in state working_level_talks"),
    ],
    ids=["amendment", "dispute", "talks without parties", "visit without parties", "talks between others"],
)
def test_an_event_dated_before_the_opening_is_refused_when_it_cannot_open_the_negotiation(
    ledger: Ledger, stored_rows: Rows, event_type: str, data: dict[str, Any], refusal: type[Exception], named: str
) -> None:
    deal(ledger)
    before = everything(ledger, stored_rows)

    with pytest.raises(refusal, match=named):
        ledger.record(US_JAPAN, event_type, data, occurred_at="2025-07-01")

    assert everything(ledger, stored_rows) == before


@pytest.mark.parametrize(
    ("event_type", "data", "opened_in"),
    [
        ("WorkingLevelTalksOpened", {"parties": PARTIES, "agenda": ["autos"]}, "working_level_talks"),
        ("VisitCancelled", {"parties": ["JP", "US"], "envoy": "Ryosei Akazawa"}, "visit_cancelled"),
    ],
    ids=["talks", "visit"],
)
def test_an_event_dated_before_the_opening_that_names_the_parties_opens_the_negotiation(
    ledger: Ledger, event_type: str, data: dict[str, Any], opened_in: str
) -> None:
    deal(ledger)

    ledger.record(US_JAPAN, event_type, data, occurred_at="2025-07-01")

    assert told(ledger) == [(2, event_type, "2025-07-01"), (1, "AgreedInPrinciple", "2025-07-22")]
    now = ledger.get(US_JAPAN)
    assert (now.state, now.opened_at, now.deal_announced_at) == ("agreed_in_principle", day("2025-07-01"),
                                                                 day("2025-07-22"))
    assert ledger.get(US_JAPAN, as_of="2025-07-10").state == opened_in
    assert not ledger.get(US_JAPAN, as_of="2025-07-10").has_deal


@pytest.mark.parametrize("dispute_first", [True, False], ids=["in date order", "resolution recorded first"])
def test_a_late_batch_is_judged_as_a_whole(ledger: Ledger, stored_rows: Rows, dispute_first: bool) -> None:
    deal(ledger)
    ledger.record(US_JAPAN, "AgreementFinalised", {"instruments": ["executive order"]}, occurred_at="2025-09-04")
    dispute = {"type": "TermsDisputed", "data": {"point": "profit sharing"}, "occurred_at": "2025-08-01"}
    resolution = {"type": "DisputeResolved", "data": {"point": "profit sharing"}, "occurred_at": "2025-08-10"}
    before = everything(ledger, stored_rows)
    for alone in (dispute, resolution):
        with pytest.raises(IllegalStory):
            ledger.record_many(US_JAPAN, [alone])
    assert everything(ledger, stored_rows) == before

    recorded = ledger.record_many(US_JAPAN, [dispute, resolution] if dispute_first else [resolution, dispute])

    assert [event.version for event in recorded] == [3, 4]
    assert [entry[1:] for entry in told(ledger)] == [
        ("AgreedInPrinciple", "2025-07-22"), ("TermsDisputed", "2025-08-01"), ("DisputeResolved", "2025-08-10"),
        ("AgreementFinalised", "2025-09-04")]
    assert ledger.get(US_JAPAN).state == "finalised"
    assert ledger.get(US_JAPAN, as_of="2025-08-05").state == "disputed_terms"
    assert ledger.get(US_JAPAN, as_of="2025-08-10").state == "agreed_in_principle"
    assert ledger.replay(US_JAPAN, until_version=3).state == "finalised"
    assert ledger.verify().intact


def test_a_late_batch_that_breaks_the_story_writes_none_of_its_events(ledger: Ledger, stored_rows: Rows) -> None:
    deal(ledger)
    ledger.record(US_JAPAN, "AgreementFinalised", {"instruments": ["executive order"]}, occurred_at="2025-09-04")
    before = everything(ledger, stored_rows)

    with pytest.raises(IllegalStory) as refused:
        ledger.record_many(US_JAPAN, [
            {"type": "TermsAmended", "data": {"terms": {"autos": "15%"}}, "occurred_at": "2025-08-05"},
            {"type": "TermsDisputed", "data": {"point": "profit sharing"}, "occurred_at": "2025-08-01"},
            {"type": "DisputeResolved", "data": {"point": "currency"}, "occurred_at": "2025-08-10"},
        ])

    error = refused.value
    assert (error.version, error.event_type, error.state) == (5, "DisputeResolved", "disputed_terms")
    assert error.entry == ("the new events TermsAmended of 2025-08-05, TermsDisputed of 2025-08-01, "
                           "DisputeResolved of 2025-08-10")
    assert everything(ledger, stored_rows) == before


def a_day_from_now() -> datetime:
    return datetime.now(UTC) + timedelta(days=1)


@pytest.mark.parametrize("write", ["record", "record_many", "retract", "correct"])
def test_reported_at_later_than_now_is_refused_and_writes_nothing(
    ledger: Ledger, stored_rows: Rows, write: str
) -> None:
    deal(ledger)
    ledger.record(US_JAPAN, "TermsAmended", {"terms": {"autos": "15%"}}, occurred_at="2025-08-01")
    before = everything(ledger, stored_rows)
    attempts: dict[str, Callable[[], object]] = {
        "record": lambda: ledger.record(US_JAPAN, "TermsAmended", {"terms": {"rice": "0%"}},
                                        reported_at=a_day_from_now()),
        "record_many": lambda: ledger.record_many(US_JAPAN, [
            {"type": "TermsAmended", "data": {"terms": {"rice": "0%"}}},
            {"type": "TermsAmended", "data": {"terms": {"chips": "0%"}}, "reported_at": a_day_from_now()}]),
        "retract": lambda: ledger.retract(US_JAPAN, 2, reason="misreported", reported_at=a_day_from_now()),
        "correct": lambda: ledger.correct(US_JAPAN, 2, reason="misreported", data={"terms": {"autos": "25%"}},
                                          reported_at=a_day_from_now()),
    }

    with pytest.raises(InvalidEvent, match="reported_at: .* is later than now"):
        attempts[write]()

    assert everything(ledger, stored_rows) == before


def test_reported_at_defaults_to_when_the_entry_is_recorded(ledger: Ledger) -> None:
    deal(ledger)
    reported = ledger.record(US_JAPAN, "TermsAmended", {"terms": {"autos": "15%"}}, occurred_at="2025-08-01",
                             reported_at="2025-08-02")

    retraction = ledger.retract(US_JAPAN, 2, reason="misreported")

    opening, amendment, stored_retraction = ledger.history(US_JAPAN)
    assert opening.reported_at == opening.recorded_at
    assert stored_retraction.reported_at == stored_retraction.recorded_at == retraction.recorded_at
    assert amendment.reported_at == reported.reported_at == day("2025-08-02")
    assert amendment.recorded_at > day("2025-08-02")
    assert ledger.story(US_JAPAN)[0].reported_at == opening.recorded_at


@pytest.mark.parametrize("by", ["version", "event id"])
def test_retracting_a_wrongly_reported_finalisation_reopens_the_negotiation(ledger: Ledger, by: str) -> None:
    deal(ledger)
    wrong = ledger.record(US_JAPAN, "AgreementFinalised", {"instruments": ["executive order"]},
                          occurred_at="2025-08-01")
    ledger.record(US_JAPAN, "TermsAmended", {"terms": {"autos": "15%"}}, occurred_at="2025-08-20")
    assert ledger.get(US_JAPAN).state == "finalised"

    retraction = ledger.retract(US_JAPAN, 2 if by == "version" else wrong.event_id, reason="misreported",
                                sources=["Kyodo"])

    assert (retraction.type, retraction.version, retraction.sources) == ("EventRetracted", 4, ("Kyodo",))
    assert retraction.data == {"target": wrong.event_id, "target_version": 2, "reason": "misreported"}
    now = ledger.get(US_JAPAN)
    assert (now.state, now.version, now.instruments, now.terms) == ("agreed_in_principle", 4, (), {"autos": "15%"})
    assert "AgreementFinalised" in now.allowed_events
    assert told(ledger) == [(1, "AgreedInPrinciple", "2025-07-22"), (3, "TermsAmended", "2025-08-20")]
    assert ledger.replay(US_JAPAN, until_version=3).state == "finalised"
    ledger.record(US_JAPAN, "AgreementFinalised", {"instruments": ["memorandum"]}, occurred_at="2025-09-04")
    assert ledger.get(US_JAPAN).instruments == ("memorandum",)


Attempt = Callable[[Ledger], object]
REFUSALS: list[tuple[str, Attempt, type[Exception], str]] = [
    ("retract an unknown version", lambda ledger: ledger.retract(US_JAPAN, 99, reason="no such"),
     UnknownTarget, r"'us-japan-2025' has no version 99 \(it has versions 1 to 8\)"),
    ("correct an unknown event id",
     lambda ledger: ledger.correct(US_JAPAN, "00000000-0000-4000-8000-000000000000", reason="no such",
                                   data={"terms": {"autos": "10%"}}),
     UnknownTarget, "has no event 00000000-0000-4000-8000-000000000000"),
    ("retract a retraction", lambda ledger: ledger.retract(US_JAPAN, 7, reason="undo"),
     InvalidEvent, "version 7 is an EventRetracted, not an event"),
    ("correct a correction",
     lambda ledger: ledger.correct(US_JAPAN, 8, reason="again", data={"terms": {"autos": "10%"}}),
     InvalidEvent, "version 8 is an EventCorrected, not an event"),
    ("retract twice", lambda ledger: ledger.retract(US_JAPAN, 6, reason="again"),
     InvalidEvent, r"version 6 \(TermsAmended\) was already retracted by version 7"),
    ("correct a retracted event",
     lambda ledger: ledger.correct(US_JAPAN, 6, reason="late", data={"terms": {"rice": "5%"}}),
     InvalidEvent, "already retracted by version 7"),
    ("correct with nothing new", lambda ledger: ledger.correct(US_JAPAN, 5, reason="nothing"),
     InvalidEvent, "a correction needs new data, a new occurred_at or a new event_reported_at"),
    ("correct with invalid data", lambda ledger: ledger.correct(US_JAPAN, 5, reason="empty", data={"terms": {}}),
     InvalidEvent, "EventCorrected of version 5: TermsAmended data: terms"),
    ("correct with data of another type",
     lambda ledger: ledger.correct(US_JAPAN, 2, reason="wrong type", data={"terms": {"autos": "10%"}}),
     InvalidEvent, "TermsDisputed data"),
    ("correct a point so its resolution breaks",
     lambda ledger: ledger.correct(US_JAPAN, 2, reason="other point", data={"point": "currency"}),
     IllegalStory, (r"EventCorrected of version 2 would make the story .* version 3, DisputeResolved of "
                    r"2025-08-10 would then come in state disputed_terms.*'profit sharing' is not an open point")),
    ("move a dispute after its resolution",
     lambda ledger: ledger.correct(US_JAPAN, 2, reason="later", occurred_at="2025-08-11"),
     IllegalStory, r"version 3, DisputeResolved of 2025-08-10 would then come in state agreed_in_principle"),
    ("retract a dispute that was resolved", lambda ledger: ledger.retract(US_JAPAN, 2, reason="never disputed"),
     IllegalStory, r"EventRetracted of version 2 would make .* version 3, DisputeResolved"),
    ("retract the opening", lambda ledger: ledger.retract(US_JAPAN, 1, reason="no deal"),
     IllegalStory, r"version 2, TermsDisputed of 2025-08-01 would then come in state not_opened"),
    ("retract in another negotiation", lambda ledger: ledger.retract(US_KOREA, 1, reason="none"),
     UnknownNegotiation, "'us-korea-2025' has no recorded events"),
    ("correct an event of another negotiation",
     lambda ledger: ledger.correct(US_UK, ledger.history(US_JAPAN)[4].event_id, reason="wrong negotiation",
                                   data={"terms": {"steel": "25%"}}),
     UnknownTarget, "'us-uk-2025' has no event"),
    ("retract without a reason", lambda ledger: ledger.retract(US_JAPAN, 5, reason=" "),
     InvalidEvent, "EventRetracted of version 5: reason"),
]


@pytest.mark.parametrize(("attempt", "refusal", "named"), [case[1:] for case in REFUSALS],
                         ids=[case[0] for case in REFUSALS])
def test_a_refused_retraction_or_correction_writes_nothing(
    ledger: Ledger, stored_rows: Rows, attempt: Attempt, refusal: type[Exception], named: str
) -> None:
    finalised_with_a_settled_dispute(ledger)
    ledger.record(US_JAPAN, "TermsAmended", {"terms": {"rice": "0%"}}, occurred_at="2025-09-12")
    ledger.retract(US_JAPAN, 6, reason="misreported")
    ledger.correct(US_JAPAN, 5, reason="misread", data={"terms": {"autos": "12.5%"}})
    ledger.record(US_UK, "AgreedInPrinciple", {"parties": ["US", "GB"]}, occurred_at="2025-05-08")
    before = everything(ledger, stored_rows)

    with pytest.raises(refusal, match=named):
        attempt(ledger)

    assert everything(ledger, stored_rows) == before


def test_a_second_correction_applies_on_top_of_the_first(ledger: Ledger) -> None:
    deal(ledger, reported_at="2025-07-22")
    ledger.record(US_JAPAN, "TermsAmended", {"terms": {"autos": "15%"}}, occurred_at="2025-08-01",
                  reported_at="2025-08-01")
    ledger.record(US_JAPAN, "TermsAmended", {"terms": {"rice": "0%"}}, occurred_at="2025-08-03",
                  reported_at="2025-08-03")

    first = ledger.correct(US_JAPAN, 2, reason="misread", data={"terms": {"autos": "12.5%"}},
                           reported_at="2025-08-10")
    second = ledger.correct(US_JAPAN, 2, reason="misdated", occurred_at="2025-08-05", reported_at="2025-08-20")

    assert (first.version, second.version) == (4, 5)
    assert second.data == {"target": ledger.history(US_JAPAN)[1].event_id, "target_version": 2,
                           "reason": "misdated", "occurred_at": "2025-08-05T00:00:00+00:00"}
    corrected = ledger.story(US_JAPAN)[-1]
    assert (corrected.version, corrected.data, corrected.occurred_at) == (2, {"terms": {"autos": "12.5%"}},
                                                                         day("2025-08-05"))
    assert corrected.corrected_by == (4, 5)
    assert ledger.get(US_JAPAN).terms == {"autos": "12.5%", "rice": "0%"}
    assert ledger.get(US_JAPAN).updated_at == day("2025-08-05")
    assert ledger.get(US_JAPAN, as_of="2025-08-04").terms == {"rice": "0%"}
    assert ledger.get(US_JAPAN, as_of="2025-08-04", known_at="2025-08-15").terms == {"autos": "12.5%",
                                                                                     "rice": "0%"}
    assert ledger.get(US_JAPAN, as_of="2025-08-04", known_at="2025-08-05").terms == {"autos": "15%",
                                                                                     "rice": "0%"}


def test_a_correction_moves_an_event_to_its_true_date_in_the_story(ledger: Ledger) -> None:
    deal(ledger)
    ledger.record(US_JAPAN, "TermsDisputed", {"point": "profit sharing"}, occurred_at="2025-08-20")
    ledger.record(US_JAPAN, "DisputeResolved", {"point": "profit sharing"}, occurred_at="2025-08-25")
    ledger.record(US_JAPAN, "AgreementFinalised", {"instruments": ["executive order"]}, occurred_at="2025-09-04")
    assert ledger.get(US_JAPAN, as_of="2025-08-10").state == "agreed_in_principle"

    ledger.correct(US_JAPAN, 2, reason="disputed earlier than reported", occurred_at="2025-08-01")

    assert [entry[1:] for entry in told(ledger)] == [
        ("AgreedInPrinciple", "2025-07-22"), ("TermsDisputed", "2025-08-01"), ("DisputeResolved", "2025-08-25"),
        ("AgreementFinalised", "2025-09-04")]
    assert ledger.get(US_JAPAN, as_of="2025-08-10").state == "disputed_terms"
    assert ledger.get(US_JAPAN).state == "finalised"


def test_the_same_date_asked_at_two_knowledge_times_gives_two_states(ledger: Ledger) -> None:
    deal(ledger, reported_at="2025-07-22")
    ledger.record(US_JAPAN, "TermsDisputed", {"point": "profit sharing"}, occurred_at="2025-08-01",
                  reported_at="2025-08-20")
    ledger.correct(US_JAPAN, 2, reason="disputed later than first reported", occurred_at="2025-08-12",
                   reported_at="2025-08-30")

    before_the_report = ledger.get(US_JAPAN, as_of="2025-08-10", known_at="2025-08-15")
    after_the_report = ledger.get(US_JAPAN, as_of="2025-08-10", known_at="2025-08-25")
    after_the_correction = ledger.get(US_JAPAN, as_of="2025-08-10", known_at="2025-08-30")

    assert before_the_report.state == "agreed_in_principle"
    assert after_the_report.state == "disputed_terms"
    assert after_the_report.open_disputes == ("profit sharing",)
    assert after_the_correction.state == "agreed_in_principle"
    assert ledger.get(US_JAPAN, known_at="2025-08-15").state == "agreed_in_principle"
    assert ledger.get(US_JAPAN, known_at="2025-08-25").state == "disputed_terms"
    assert ledger.get(US_JAPAN, as_of="2025-08-11").state == "agreed_in_principle"
    assert ledger.get(US_JAPAN, as_of="2025-08-12").state == "disputed_terms"
    assert told(ledger, as_of="2025-08-10", known_at="2025-08-25") == [(1, "AgreedInPrinciple", "2025-07-22"),
                                                                       (2, "TermsDisputed", "2025-08-01")]
    assert told(ledger, known_at="2025-08-15") == [(1, "AgreedInPrinciple", "2025-07-22")]


@pytest.mark.parametrize(
    "as_of",
    ["2025-08-01", date(2025, 8, 1), datetime(2025, 8, 1, 23, 59, tzinfo=UTC), "2025-08-01T12:00:00+00:00"],
    ids=["date text", "date", "datetime", "datetime text"],
)
def test_as_of_takes_a_date_as_the_end_of_that_day_or_an_exact_time(ledger: Ledger, as_of: Any) -> None:
    deal(ledger)
    ledger.record(US_JAPAN, "TermsDisputed", {"point": "profit sharing"}, occurred_at="2025-08-01T09:00:00")
    ledger.record(US_JAPAN, "TermsAmended", {"terms": {"autos": "15%"}}, occurred_at="2025-08-02")

    negotiation = ledger.get(US_JAPAN, as_of=as_of)

    assert (negotiation.state, negotiation.terms) == ("disputed_terms", {})


def test_asking_before_the_opening_or_before_any_report_names_the_time(ledger: Ledger) -> None:
    deal(ledger, reported_at="2025-07-23")

    with pytest.raises(UnknownNegotiation) as not_opened:
        ledger.get(US_JAPAN, as_of="2025-07-21")
    with pytest.raises(UnknownNegotiation) as not_reported:
        ledger.get(US_JAPAN, known_at="2025-07-22")

    assert not_opened.value.negotiation_id == US_JAPAN
    assert str(not_opened.value) == ("negotiation 'us-japan-2025' is unknown then: it had not opened by "
                                     "2025-07-21T23:59:59.999999+00:00")
    assert str(not_reported.value) == ("negotiation 'us-japan-2025' is unknown then: nothing about it had been "
                                       "reported by 2025-07-22T23:59:59.999999+00:00")
    assert ledger.get(US_JAPAN, as_of="2025-07-22", known_at="2025-07-23").state == "agreed_in_principle"
    with pytest.raises(UnknownNegotiation, match="had not opened by 2025-07-21"):
        ledger.get(US_JAPAN, as_of="2025-07-21", known_at="2025-07-23")
    with pytest.raises(UnknownNegotiation, match="'nowhere' has no recorded events"):
        ledger.get("nowhere", as_of="2025-07-21")


def test_history_keeps_every_entry_and_marks_the_retracted_and_the_corrected(ledger: Ledger) -> None:
    finalised_with_a_settled_dispute(ledger)
    ledger.correct(US_JAPAN, 5, reason="misread", data={"terms": {"autos": "12.5%"}})
    ledger.record(US_JAPAN, "TermsAmended", {"terms": {"rice": "0%"}}, occurred_at="2025-09-12")
    ledger.retract(US_JAPAN, 7, reason="misreported")
    ledger.correct(US_JAPAN, 5, reason="misdated", occurred_at="2025-09-11")

    history = ledger.history(US_JAPAN)

    assert [(entry.version, entry.type) for entry in history] == [
        (1, "AgreedInPrinciple"), (2, "TermsDisputed"), (3, "DisputeResolved"), (4, "AgreementFinalised"),
        (5, "TermsAmended"), (6, "EventCorrected"), (7, "TermsAmended"), (8, "EventRetracted"),
        (9, "EventCorrected")]
    assert [(entry.retracted_by, entry.corrected_by) for entry in history] == [
        (None, ()), (None, ()), (None, ()), (None, ()), (None, (6, 9)), (None, ()), (8, ()), (None, ()), (None, ())]
    assert history[4].data == {"terms": {"autos": "15%"}}  # the log keeps what was recorded
    assert history[7].data["target"] == history[6].event_id


def test_verify_finds_the_log_intact_after_late_events_retractions_and_corrections(ledger: Ledger) -> None:
    finalised_with_a_settled_dispute(ledger)
    ledger.record(US_JAPAN, "WorkingLevelTalksOpened", {"parties": PARTIES}, occurred_at="2025-07-01")
    ledger.correct(US_JAPAN, 5, reason="misread", data={"terms": {"autos": "12.5%"}})
    ledger.retract(US_JAPAN, 5, reason="never happened")
    ledger.record(US_KOREA, "VisitCancelled", {"parties": ["US", "KR"], "envoy": "Howard Lutnick"},
                  occurred_at="2025-07-24")

    report = ledger.verify()

    assert report.intact, report.broken
    assert (report.negotiations, report.events) == (2, 9)


@pytest.mark.every_backend
def test_verify_catches_a_stored_state_that_is_the_log_order_fold_and_not_the_story(
    ledger: Ledger, database_url: str
) -> None:
    deal(ledger)
    ledger.record(US_JAPAN, "TermsAmended", {"terms": {"autos": "15%"}}, occurred_at="2025-09-01")
    ledger.record(US_JAPAN, "TermsAmended", {"terms": {"autos": "25%"}}, occurred_at="2025-08-01")
    assert ledger.get(US_JAPAN).terms == {"autos": "15%"}
    assert ledger.verify().intact
    engine = create_engine(database_url)
    as_recorded = ("jsonb_set(snapshot, '{terms,autos}', '\"25%\"')" if engine.dialect.name == "postgresql"
                   else "json_set(snapshot, '$.terms.autos', '25%')")
    try:
        with engine.begin() as conn:
            conn.execute(text(f"UPDATE negotiation_heads SET snapshot = {as_recorded} WHERE negotiation_id = :id"),
                         {"id": US_JAPAN})
    finally:
        engine.dispose()
    assert ledger.get(US_JAPAN).terms == {"autos": "25%"}

    report = ledger.verify()

    assert [(link.negotiation_id, link.version, link.reason) for link in report.broken] == [
        (US_JAPAN, 3, "the stored current state is not what its story gives")]


@pytest.mark.every_backend
def test_verify_catches_a_stored_state_that_ignores_a_retraction(ledger: Ledger, database_url: str) -> None:
    deal(ledger)
    ledger.record(US_JAPAN, "AgreementFinalised", {"instruments": ["executive order"]}, occurred_at="2025-08-01")
    ledger.retract(US_JAPAN, 2, reason="misreported")
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE negotiation_heads SET state = 'finalised' WHERE negotiation_id = :id"),
                         {"id": US_JAPAN})
    finally:
        engine.dispose()

    report = ledger.verify()

    assert [(link.negotiation_id, link.version) for link in report.broken] == [(US_JAPAN, 3)]


def three_timelines(ledger: Ledger) -> None:
    """Three negotiations opened, reported, corrected and finalised at different times."""
    deal(ledger, reported_at="2025-07-22")
    ledger.record(US_JAPAN, "TermsDisputed", {"point": "profit sharing"}, occurred_at="2025-08-01",
                  reported_at="2025-08-20")
    ledger.record(US_JAPAN, "DisputeResolved", {"point": "profit sharing"}, occurred_at="2025-09-01",
                  reported_at="2025-09-02")
    ledger.record(US_KOREA, "VisitCancelled", {"parties": ["US", "KR"], "envoy": "Howard Lutnick"},
                  occurred_at="2025-07-24", reported_at="2025-07-24")
    ledger.record(US_KOREA, "AgreedInPrinciple", {"parties": ["US", "KR"]}, occurred_at="2025-07-30",
                  reported_at="2025-07-31")
    ledger.record(US_KOREA, "AgreementFinalised", {"instruments": ["fact sheet"]}, occurred_at="2025-08-25",
                  reported_at="2025-08-26")
    ledger.correct(US_KOREA, 3, reason="signed later", occurred_at="2025-11-14", reported_at="2025-11-15")
    ledger.record(US_UK, "AgreedInPrinciple", {"parties": ["US", "GB"]}, occurred_at="2025-05-08",
                  reported_at="2025-08-05")


TIMES = [("2025-07-23", None), ("2025-08-10", None), (None, "2025-08-10"), ("2025-08-10", "2025-08-25"),
         ("2025-09-30", "2025-08-30"), ("2025-12-01", "2025-11-01"), ("2025-12-01", None), (None, "2025-12-01")]


@pytest.mark.parametrize(("as_of", "known_at"), TIMES)
def test_rebuild_all_at_times_gives_what_get_gives_at_them(ledger: Ledger, as_of: str | None,
                                                          known_at: str | None) -> None:
    three_timelines(ledger)
    expected = {}
    for negotiation_id in sorted(ledger.negotiations()):
        try:
            expected[negotiation_id] = ledger.get(negotiation_id, as_of=as_of, known_at=known_at)
        except UnknownNegotiation:
            pass

    rebuilt = list(ledger.rebuild_all(as_of=as_of, known_at=known_at))

    assert [negotiation.id for negotiation in rebuilt] == list(expected)
    assert rebuilt == list(expected.values())


def test_rebuild_all_at_times_leaves_out_what_had_not_opened_or_was_not_known(ledger: Ledger) -> None:
    three_timelines(ledger)

    states = {n.id: n.state for n in ledger.rebuild_all(as_of="2025-08-10", known_at="2025-08-25")}
    earlier = {n.id: n.state for n in ledger.rebuild_all(as_of="2025-07-23")}
    corrected = {n.id: n.state for n in ledger.rebuild_all(as_of="2025-09-30", known_at="2025-11-01")}

    assert states == {US_JAPAN: "disputed_terms", US_KOREA: "agreed_in_principle", US_UK: "agreed_in_principle"}
    assert earlier == {US_JAPAN: "agreed_in_principle", US_UK: "agreed_in_principle"}
    assert corrected == {US_JAPAN: "agreed_in_principle", US_KOREA: "finalised", US_UK: "agreed_in_principle"}
    assert {n.id: n.state for n in ledger.rebuild_all(as_of="2025-09-30")}[US_KOREA] == "agreed_in_principle"


Write = tuple[str, dict[str, Any], str]  # occurred_at, data, event id


def race(ledger: Ledger, expected_version: int, writes: dict[str, Write]) -> dict[str, object]:
    """Record each write from a thread of its own, all released at once; each one's event or conflict."""
    start = threading.Barrier(len(writes))
    results: dict[str, object] = {}

    def write(name: str) -> None:
        occurred_at, data, event_id = writes[name]
        start.wait()
        try:
            results[name] = ledger.record(US_JAPAN, "TermsAmended", data, occurred_at=occurred_at,
                                          expected_version=expected_version, event_id=event_id)
        except ConcurrencyConflict as conflict:
            results[name] = conflict

    threads = [threading.Thread(target=write, args=(name,)) for name in writes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


@pytest.mark.every_backend
def test_a_late_event_racing_an_in_order_append_loses_or_wins_and_nothing_is_lost_or_doubled(
    ledger: Ledger
) -> None:
    deal(ledger)
    ledger.record(US_JAPAN, "TermsAmended", {"terms": {"autos": "15%"}}, occurred_at="2025-09-01")
    rounds = 6
    written: list[str] = []

    for number in range(rounds):
        version = ledger.version(US_JAPAN)
        writes = {"late": (f"2025-08-{number + 1:02d}", {"terms": {f"late {number}": number}}, str(uuid.uuid4())),
                  "in order": (f"2025-10-{number + 1:02d}", {"terms": {f"in order {number}": number}},
                               str(uuid.uuid4()))}
        results = race(ledger, version, writes)
        losers = [name for name, result in results.items() if isinstance(result, ConcurrencyConflict)]
        assert len(results) == 2 and len(losers) == 1, results
        conflict = results[losers[0]]
        assert isinstance(conflict, ConcurrencyConflict)
        assert (conflict.expected, conflict.actual) == (version, version + 1)
        occurred_at, data, event_id = writes[losers[0]]
        ledger.record(US_JAPAN, "TermsAmended", data, occurred_at=occurred_at, expected_version=version + 1,
                      event_id=event_id)
        written += [event_id for _, _, event_id in writes.values()]

    history = ledger.history(US_JAPAN)
    assert sorted(entry.event_id for entry in history[2:]) == sorted(written)
    assert [entry.version for entry in history] == list(range(1, 2 + 2 * rounds + 1))
    expected_terms = {"autos": "15%"} | {f"late {n}": n for n in range(rounds)} | {
        f"in order {n}": n for n in range(rounds)}
    assert ledger.get(US_JAPAN).terms == expected_terms
    assert ledger.verify().intact


@pytest.mark.every_backend
def test_a_late_event_with_a_stale_expected_version_conflicts_and_writes_nothing(
    ledger: Ledger, stored_rows: Rows
) -> None:
    deal(ledger)
    seen = ledger.version(US_JAPAN)
    ledger.record(US_JAPAN, "TermsAmended", {"terms": {"autos": "15%"}}, occurred_at="2025-09-01",
                  expected_version=seen)
    before = everything(ledger, stored_rows)

    with pytest.raises(ConcurrencyConflict) as conflict:
        ledger.record(US_JAPAN, "TermsAmended", {"terms": {"autos": "25%"}}, occurred_at="2025-08-01",
                      expected_version=seen)
    with pytest.raises(ConcurrencyConflict):
        ledger.correct(US_JAPAN, 2, reason="misread", data={"terms": {"autos": "12.5%"}}, expected_version=seen)

    assert (conflict.value.expected, conflict.value.actual) == (1, 2)
    assert everything(ledger, stored_rows) == before
    ledger.record(US_JAPAN, "TermsAmended", {"terms": {"autos": "25%"}}, occurred_at="2025-08-01",
                  expected_version=seen + 1)
    assert ledger.get(US_JAPAN).terms == {"autos": "15%"}


# -- defects found and fixed: each test failed on the first version of time and corrections --


def test_rebuild_all_now_gives_what_get_gives_after_a_late_event(ledger: Ledger) -> None:
    deal(ledger)
    ledger.record(US_JAPAN, "TermsAmended", {"terms": {"autos": "15%"}}, occurred_at="2025-09-01")
    ledger.record(US_JAPAN, "TermsAmended", {"terms": {"autos": "25%"}}, occurred_at="2025-08-01")

    rebuilt = list(ledger.rebuild_all())

    assert rebuilt == [ledger.get(US_JAPAN)]


def test_rebuild_all_now_gives_what_get_gives_after_a_retraction(ledger: Ledger) -> None:
    deal(ledger)
    ledger.record(US_JAPAN, "AgreementFinalised", {"instruments": ["executive order"]}, occurred_at="2025-08-01")
    ledger.retract(US_JAPAN, 2, reason="misreported")

    rebuilt = list(ledger.rebuild_all())

    assert rebuilt == [ledger.get(US_JAPAN)]


def test_a_knowledge_time_whose_reports_are_out_of_step_is_named_not_guessed(ledger: Ledger) -> None:
    deal(ledger, reported_at="2025-08-01")
    ledger.record(US_JAPAN, "TermsAmended", {"terms": {"autos": "15%"}}, occurred_at="2025-07-24",
                  reported_at="2025-07-25")

    with pytest.raises(CorruptHistory) as out_of_step:
        ledger.get(US_JAPAN, known_at="2025-07-26")

    assert str(out_of_step.value).startswith("as known at 2025-07-26T23:59:59.999999+00:00, the reports do not "
                                             "yet make a legal story: negotiation 'us-japan-2025': the story "
                                             "breaks at version 2, TermsAmended")
    assert ledger.get(US_JAPAN, known_at="2025-08-01").terms == {"autos": "15%"}
    with pytest.raises(UnknownNegotiation):
        ledger.get(US_JAPAN, known_at="2025-07-24")


def test_retracting_a_negotiations_only_event_is_refused_and_verify_still_walks_the_log(
    ledger: Ledger, stored_rows: Rows
) -> None:
    deal(ledger)
    before = everything(ledger, stored_rows)

    with pytest.raises(InvalidEvent, match="would leave negotiation 'us-japan-2025' with no events in its story; "
                                           "nothing was written"):
        ledger.retract(US_JAPAN, 1, reason="never happened")

    assert everything(ledger, stored_rows) == before
    assert ledger.verify().intact


def test_a_correction_under_a_stored_event_id_with_other_content_is_refused(
    ledger: Ledger, stored_rows: Rows
) -> None:
    deal(ledger)
    ledger.record(US_JAPAN, "TermsAmended", {"terms": {"autos": "15%"}}, occurred_at="2025-08-01")
    ledger.record(US_JAPAN, "TermsAmended", {"terms": {"rice": "0%"}}, occurred_at="2025-08-02")
    event_id = str(uuid.uuid4())
    ledger.correct(US_JAPAN, 2, reason="misread", data={"terms": {"autos": "12.5%"}}, event_id=event_id)
    before = stored_rows()

    with pytest.raises(DuplicateEvent):
        ledger.correct(US_JAPAN, 3, reason="misread", data={"terms": {"rice": "5%"}}, event_id=event_id)

    assert stored_rows() == before


def test_a_retraction_reported_before_the_event_it_retracts_is_refused(ledger: Ledger, stored_rows: Rows) -> None:
    deal(ledger, reported_at="2025-07-22")
    ledger.record(US_JAPAN, "AgreementFinalised", {"instruments": ["executive order"]}, occurred_at="2025-08-30",
                  reported_at="2025-08-30")
    before = stored_rows()

    with pytest.raises(InvalidEvent, match=r"EventRetracted of version 2: reported_at 2025-01-01T00:00:00\+00:00 "
                                           r"is before the event itself was reported"):
        ledger.retract(US_JAPAN, 2, reason="never signed", reported_at="2025-01-01")

    assert stored_rows() == before


@pytest.mark.parametrize("late", [False, True], ids=["recorded in story order", "with a late event"])
def test_the_state_as_of_any_moment_is_the_fold_of_the_story_up_to_it(ledger: Ledger, late: bool) -> None:
    finalised_with_a_settled_dispute(ledger)
    ledger.record(US_JAPAN, "WorkingLevelTalksOpened", {"agenda": ["autos"]}, occurred_at="2025-09-10T12:00:00+09:00")
    if late:
        ledger.record(US_JAPAN, "TermsAmended", {"terms": {"rice": "quota"}}, occurred_at="2025-08-05")
    history = ledger.history(US_JAPAN)
    moments = sorted({moment + shift for entry in history for moment in (entry.occurred_at,)
                      for shift in (timedelta(microseconds=-1), timedelta(0), timedelta(hours=20))})

    states = [ledger.get(US_JAPAN, as_of=moment) for moment in moments[1:]]

    assert states == [fold_log(US_JAPAN, history, as_of=moment) for moment in moments[1:]]
    assert [state.state for state in states][-1] == "working_level_talks"
    # The version of each answer is that of what was told by then: the latest entry of the story by that moment.
    assert [state.version for state in states] == [
        max(e.version for e in history if e.occurred_at <= moment) for moment in moments[1:]]
    with pytest.raises(UnknownNegotiation, match="it had not opened by 2025-07-21T23:59:59.999999"):
        ledger.get(US_JAPAN, as_of=moments[0])
