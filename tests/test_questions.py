"""The questions of negotiation.questions on the Python API: measures, what falls due, a negotiation's details,
and questions about many negotiations that answer for those they can and name the others."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from negotiation import CorruptHistory, InvalidEvent, Ledger, questions
from negotiation.questions import DeadlineRow, Unanswered

VIETNAM, CANADA, UK = "us-vietnam-2025", "us-canada-2025", "us-uk-2025"


@pytest.fixture
def ledger() -> Iterator[Ledger]:
    with Ledger.open("memory://") as opened:
        yield opened


def truce(ledger: Ledger) -> None:
    """The 46% on Vietnam imposed and paused until 9 July on 9 April, with a deal due the same day."""
    day = {"occurred_at": "2025-04-09", "reported_at": "2025-04-09"}
    ledger.record_many(VIETNAM, [
        {"type": "MeasureImposed", "data": {"parties": ["US", "VN"], "measure": "reciprocal tariff", "by": "US",
                                            "value": "46%"}, **day},
        {"type": "MeasurePaused", "data": {"measure": "reciprocal tariff", "until": "2025-07-09"}, **day},
        {"type": "DeadlineSet", "data": {"what": "a deal", "due": "2025-07-09", "by": "US"}, **day},
    ])


def threat(ledger: Ledger, reported_at: str = "2025-07-10") -> None:
    """The 35% threatened against Canada on 10 July, to take effect on 1 August."""
    ledger.record(CANADA, "MeasureThreatened", {"parties": ["US", "CA"], "measure": "tariff on Canadian goods",
                                                "by": "US", "value": "35%", "effective": "2025-08-01"},
                  occurred_at="2025-07-10", reported_at=reported_at)


def out_of_step(ledger: Ledger) -> None:
    """US–UK: a deal reported on 1 August, and an amendment of it reported earlier, on 25 July."""
    ledger.record(UK, "AgreedInPrinciple", {"parties": ["US", "GB"]}, occurred_at="2025-07-22",
                  reported_at="2025-08-01")
    ledger.record(UK, "TermsAmended", {"terms": {"autos": "10%"}}, occurred_at="2025-07-24",
                  reported_at="2025-07-25")


def due(rows: tuple[DeadlineRow, ...]) -> list[tuple[str, str, str, str, int]]:
    return [(row.due.isoformat(), row.kind, row.negotiation_id, row.status, row.version) for row in rows]


# -- measures ------------------------------------------------------------------------------------------------

def test_a_paused_measure_is_in_force_again_the_day_after_its_pause_ends_with_no_event_that_day(
        ledger: Ledger) -> None:
    truce(ledger)

    last_day = ledger.measures(as_of="2025-07-09")
    day_after = ledger.measures(as_of="2025-07-10")

    assert [(row.name, row.status, row.since) for row in last_day.rows] == [
        ("reciprocal tariff", "paused", date(2025, 4, 9))]
    [row] = day_after.rows
    assert (row.status, row.since, row.paused_until) == ("in_force", date(2025, 7, 10), date(2025, 7, 9))
    assert (row.by, row.against, row.value, row.version) == ("US", "VN", "46%", 2)
    assert ledger.measures(as_of="2025-07-09", in_force=True).rows == ()
    assert ledger.measures(as_of="2025-07-10", in_force=True).rows == (row,)
    assert len(ledger.history(VIETNAM)) == 3  # nothing was recorded on 10 July


def test_measures_across_negotiations_name_each_one_and_the_party_each_is_against(ledger: Ledger) -> None:
    truce(ledger)
    threat(ledger)

    every = ledger.measures(as_of="2025-07-20")
    lapsed = ledger.measures(as_of="2025-08-02")

    assert [(r.negotiation_id, r.name, r.status, r.by, r.against) for r in every.rows] == [
        (VIETNAM, "reciprocal tariff", "in_force", "US", "VN"),
        (CANADA, "tariff on Canadian goods", "threatened", "US", "CA")]
    assert every.rows[1].effective == date(2025, 8, 1)
    assert [(r.name, r.status, r.since) for r in lapsed.rows if r.negotiation_id == CANADA] == [
        ("tariff on Canadian goods", "threat_lapsed", date(2025, 8, 2))]
    assert every.complete and every.unanswered == ()


# -- what falls due ------------------------------------------------------------------------------------------

def test_deadlines_threats_and_pause_ends_are_pending_until_their_day_ends_then_passed(ledger: Ledger) -> None:
    truce(ledger)
    threat(ledger)

    on_the_day = ledger.deadlines(as_of="2025-07-09")
    after = ledger.deadlines(as_of="2025-07-10")
    later = ledger.deadlines(as_of="2025-08-02")

    assert due(on_the_day.rows) == [("2025-07-09", "deadline", VIETNAM, "pending", 3),
                                    ("2025-07-09", "pause", VIETNAM, "pending", 2)]
    assert due(after.rows) == [("2025-07-09", "deadline", VIETNAM, "passed", 3),
                               ("2025-07-09", "pause", VIETNAM, "passed", 2),
                               ("2025-08-01", "threat", CANADA, "pending", 1)]
    assert [row.status for row in later.rows] == ["passed"] * 3
    assert after.rows[2].what == "tariff on Canadian goods of 35% would take effect"
    assert (after.rows[2].measure, after.rows[2].by) == ("tariff on Canadian goods", "US")


def test_what_falls_due_is_as_known_at_a_time_and_a_moved_deadline_names_the_entry_that_moved_it(
        ledger: Ledger) -> None:
    ledger.record(VIETNAM, "DeadlineSet", {"parties": ["US", "VN"], "what": "a deal", "due": "2025-07-09"},
                  occurred_at="2025-04-09", reported_at="2025-04-10")
    ledger.record(VIETNAM, "DeadlineSet", {"what": "a deal", "due": "2025-08-01"},
                  occurred_at="2025-07-07", reported_at="2025-07-08")
    threat(ledger, reported_at="2025-07-12")

    assert due(ledger.deadlines(known_at="2025-04-10").rows) == [("2025-07-09", "deadline", VIETNAM, "pending", 1)]
    assert due(ledger.deadlines(known_at="2025-07-07").rows) == [("2025-07-09", "deadline", VIETNAM, "pending", 1)]
    assert due(ledger.deadlines(known_at="2025-07-11").rows) == [("2025-08-01", "deadline", VIETNAM, "pending", 2)]
    assert due(ledger.deadlines(known_at="2025-07-12").rows) == [("2025-08-01", "threat", CANADA, "pending", 1),
                                                                ("2025-08-01", "deadline", VIETNAM, "pending", 2)]
    # As of 10 July, as known on 7 July: the move was not known yet, so the 9 July deadline had passed.
    assert due(ledger.deadlines(as_of="2025-07-10", known_at="2025-07-07").rows) == [
        ("2025-07-09", "deadline", VIETNAM, "passed", 1)]
    assert ledger.deadlines(known_at="2025-04-09").rows == ()  # nothing had been reported


def test_a_restated_threat_names_the_entry_that_set_its_day(ledger: Ledger) -> None:
    threat(ledger)
    ledger.record(CANADA, "MeasureThreatened", {"measure": "tariff on Canadian goods", "by": "US", "value": "35%",
                                                "effective": "2025-08-07"}, occurred_at="2025-07-31")

    [row] = ledger.deadlines(as_of="2025-08-02").rows

    assert (row.due, row.status, row.version) == (date(2025, 8, 7), "pending", 2)


def test_within_keeps_what_is_due_from_the_time_asked_up_to_that_much_later(ledger: Ledger) -> None:
    truce(ledger)
    threat(ledger)

    month = ledger.deadlines(as_of="2025-07-09", within=timedelta(days=30))
    week = ledger.deadlines(as_of="2025-07-09", within=timedelta(days=7))
    after_the_truce = ledger.deadlines(as_of="2025-07-10", within=timedelta(days=22))
    a_day_short = ledger.deadlines(as_of="2025-07-10", within=timedelta(days=21))

    assert due(month.rows) == [("2025-07-09", "deadline", VIETNAM, "pending", 3),
                               ("2025-07-09", "pause", VIETNAM, "pending", 2)]  # the threat was made on 10 July
    assert due(week.rows) == due(month.rows)
    assert due(after_the_truce.rows) == [("2025-08-01", "threat", CANADA, "pending", 1)]  # the passed ones go
    assert a_day_short.rows == ()


@pytest.mark.parametrize("within", [timedelta(days=-1), 30, "30d"])
def test_within_must_be_a_span_that_is_not_negative(ledger: Ledger, within: object) -> None:
    truce(ledger)

    with pytest.raises(InvalidEvent, match="within: expected a span of time"):
        ledger.deadlines(within=within)  # type: ignore[arg-type]


def test_a_time_that_cannot_be_read_is_refused_before_anything_is_read(ledger: Ledger) -> None:
    truce(ledger)

    with pytest.raises(InvalidEvent, match="as_of: 'July' is not an ISO 8601 date"):
        ledger.deadlines(as_of="July")
    with pytest.raises(InvalidEvent, match="known_at"):
        questions.all_negotiations(ledger, known_at="soon")


# -- many negotiations: answered for those that can be, the others named ------------------------------------

def test_one_negotiation_not_yet_legal_as_known_then_does_not_stop_the_others(ledger: Ledger) -> None:
    truce(ledger)
    out_of_step(ledger)
    threat(ledger)

    with pytest.raises(CorruptHistory):
        list(ledger.rebuild_all(known_at="2025-07-26"))  # the old way: nothing for anyone
    listed = questions.all_negotiations(ledger, known_at="2025-07-26")
    falling_due = ledger.deadlines(known_at="2025-07-26")
    in_force = ledger.measures(known_at="2025-07-26", in_force=True)

    assert [n.id for n in listed.rows] == [VIETNAM, CANADA]
    assert [n.state for n in listed.rows] == ["not_opened", "not_opened"]
    assert {row.negotiation_id for row in falling_due.rows} == {VIETNAM, CANADA}
    assert [(row.negotiation_id, row.name) for row in in_force.rows] == [(VIETNAM, "reciprocal tariff")]
    for answers in (listed, falling_due, in_force):
        assert not answers.complete
        [(negotiation_id, reason)] = answers.unanswered
        assert negotiation_id == UK
        assert reason.startswith("as known at 2025-07-26T23:59:59.999999+00:00, the reports do not yet make a "
                                 "legal story: negotiation 'us-uk-2025': the story breaks at version 2, TermsAmended")
        assert "\n" not in reason
    assert listed.unanswered == (Unanswered(UK, listed.unanswered[0].reason),)
    assert questions.all_negotiations(ledger, known_at="2025-08-01").complete


def test_a_negotiation_with_nothing_by_the_time_asked_is_left_out_not_named(ledger: Ledger) -> None:
    truce(ledger)
    threat(ledger)

    listed = questions.all_negotiations(ledger, as_of="2025-05-01")
    falling_due = ledger.deadlines(as_of="2025-05-01")

    assert [n.id for n in listed.rows] == [VIETNAM]
    assert {row.negotiation_id for row in falling_due.rows} == {VIETNAM}
    assert listed.unanswered == falling_due.unanswered == ()


def test_every_negotiation_of_one_question_is_answered_at_one_moment(ledger: Ledger) -> None:
    truce(ledger)
    threat(ledger)

    answers = ledger.deadlines(as_of="2025-07-09")
    now = ledger.deadlines()

    assert answers.at.isoformat() == "2025-07-09T23:59:59.999999+00:00"
    assert ledger.deadlines(known_at="2025-07-31").at.isoformat() == "2025-07-31T23:59:59.999999+00:00"
    assert now.at.year >= 2026 and {row.status for row in now.rows} == {"passed"}


def test_negotiations_are_listed_in_the_order_each_was_first_recorded(ledger: Ledger) -> None:
    threat(ledger)   # recorded first, dated 10 July
    truce(ledger)    # recorded second, dated 9 April: it opened earlier in the world
    ledger.record(CANADA, "MeetingHeld", {"parties": ["US", "CA"], "level": "leaders"},
                  occurred_at="2025-03-01")  # late news, earlier still

    assert ledger.negotiations() == [CANADA, VIETNAM]
    assert [n.id for n in questions.all_negotiations(ledger).rows] == [CANADA, VIETNAM]
    assert [n.id for n in questions.all_negotiations(ledger, as_of="2025-07-20").rows] == [CANADA, VIETNAM]
    assert sorted(ledger.negotiations(), key=lambda n: ledger.get(n).opened_at) == [CANADA, VIETNAM]


# -- one negotiation's details -------------------------------------------------------------------------------

def test_details_tell_deals_meetings_each_partys_terms_suspensions_acts_and_denials(ledger: Ledger) -> None:
    ledger.record(UK, "MeetingHeld", {"parties": ["US", "GB"], "level": "ministerial", "format": "in person",
                                      "venue": "London", "participants": ["Jamieson Greer", "Jonathan Reynolds"],
                                      "ends_on": "2025-05-02"}, occurred_at="2025-05-01")
    ledger.record(UK, "AgreedInPrinciple", {"title": "Economic Prosperity Deal", "terms": {"autos quota": 100000}},
                  occurred_at="2025-05-08")
    ledger.record(UK, "TermsAmended", {"terms": {"steel": "zero tariff"}, "according_to": "GB"},
                  occurred_at="2025-05-09")
    ledger.record(UK, "TermsAmended", {"terms": {"steel": "quota, to be set"}, "according_to": "US"},
                  occurred_at="2025-05-09")
    ledger.record(UK, "ThirdPartyActed", {"actor": "House of Commons", "action": "debates the deal", "of": "GB",
                                          "kind": "legislature"}, occurred_at="2025-05-12")
    ledger.record(UK, "TalksSuspended", {"by": "US", "reason": "digital services tax"}, occurred_at="2025-06-01")
    ledger.deny(UK, 6, by="GB", statement="talks go on")
    ledger.record(UK, "WorkingLevelTalksOpened", {}, occurred_at="2025-06-05")
    ledger.record(UK, "AgreementFinalised", {"instruments": ["US executive order"]}, occurred_at="2025-06-16")

    told = questions.details(ledger, UK, as_of="2025-06-30")

    assert [(d.kind, d.on, d.title, d.instruments, d.version) for d in told.deals] == [
        ("in principle", date(2025, 5, 8), "Economic Prosperity Deal", (), 2),
        ("finalised", date(2025, 6, 16), None, ("US executive order",), 9)]
    [meeting] = told.meetings
    assert (meeting.on, meeting.ends_on, meeting.level, meeting.format, meeting.venue, meeting.participants) == (
        date(2025, 5, 1), date(2025, 5, 2), "ministerial", "in person", "London",
        ("Jamieson Greer", "Jonathan Reynolds"))
    assert told.views.common == {"autos quota": 100000}
    assert told.views.views == {"US": {"autos quota": 100000, "steel": "quota, to be set"},
                                "GB": {"autos quota": 100000, "steel": "zero tariff"}}
    assert told.views.differences == ("steel",) and told.views.stated
    [act] = told.third_party_acts
    assert (act.actor, act.of, act.kind, act.version) == ("House of Commons", "GB", "legislature", 5)
    [suspension] = told.suspensions
    assert (suspension.on, suspension.by, suspension.terminated, suspension.version) == (
        date(2025, 6, 1), "US", False, 6)
    [denied] = told.denied
    assert (denied.version, denied.type, denied.denied_by) == (6, "TalksSuspended", ("GB",))
    assert denied.occurred_at.date() == date(2025, 6, 1)
    assert told.measures == () and told.deadlines == ()
    assert told.negotiation.state == "finalised"

    without = questions.details(ledger, UK, as_of="2025-06-30", exclude_denied=True)
    assert without.suspensions == () and [e.version for e in without.denied] == [6]  # still listed


def test_details_at_a_version_are_what_the_ledger_held_after_that_entry(ledger: Ledger) -> None:
    truce(ledger)
    ledger.deny(VIETNAM, 2, by="VN")

    held = questions.details(ledger, VIETNAM, at_version=2)
    after = questions.details(ledger, VIETNAM, at_version=4)

    assert [row.name for row in held.measures] == ["reciprocal tariff"] and held.deadlines[0].kind == "pause"
    assert held.denied == () and [e.version for e in after.denied] == [2]
    with pytest.raises(InvalidEvent, match="use one or the other"):
        questions.details(ledger, VIETNAM, at_version=2, as_of="2025-05-01")


def test_a_database_lists_negotiations_in_the_order_each_was_first_recorded_too(sqlite_url: str,
                                                                              at_head: None) -> None:
    with Ledger.open(sqlite_url) as stored:
        threat(stored)
        truce(stored)

        assert stored.negotiations() == [CANADA, VIETNAM]
