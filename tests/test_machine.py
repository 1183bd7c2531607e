"""Every cell of the transition table, checked against the shared machine with no storage."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from negotiation.domain import machine
from negotiation.domain.machine import EVENT_TYPES, STATES


@dataclass
class Point:
    open_disputes: tuple[str, ...]
    has_deal: bool


# What the guards can see: how many points are open (0, 1, 2) and whether a deal was announced.
SITUATIONS = [Point(open_points, deal) for deal in (True, False)
              for open_points in ((), ("profit sharing",), ("profit sharing", "tariff stacking"))]

# The transition table of the README, written out again by hand so the machine
# is checked against the documented rules rather than against itself. Each
# cell maps (open points, deal announced) to the resulting state, or None when refused.
Cell = dict[tuple[int, bool], str | None]
REFUSED: Cell = {(n, deal): None for n in (0, 1, 2) for deal in (True, False)}


def goes(state: str) -> Cell:
    return {situation: state for situation in REFUSED}


def when(rule: str, then: str, otherwise: str | None = None) -> Cell:
    """A cell decided by a rule over (open points, deal)."""
    tests = {
        "a point is open": lambda n, deal: n > 0,
        "a deal and no point open": lambda n, deal: n == 0 and deal,
    }
    return {(n, deal): then if tests[rule](n, deal) else otherwise for n, deal in REFUSED}


def resolving_in_disputed_terms() -> Cell:
    # Disputed terms always has a point open: the last one closes to the deal, or to talks without one.
    cell: Cell = {(n, deal): "disputed_terms" for n, deal in REFUSED}
    cell[(1, True)], cell[(1, False)] = "agreed_in_principle", "working_level_talks"
    return cell


def a_deal_leaves_open_points_open() -> Cell:
    # A deal announced while a point is open leaves it open: the terms are disputed still.
    return when("a point is open", "disputed_terms", "agreed_in_principle")


EXPECTED: dict[str, dict[str, Cell]] = {
    "not_opened": {
        "AgreedInPrinciple": goes("agreed_in_principle"),
        "TermsDisputed": REFUSED, "DisputeResolved": REFUSED,
        "VisitCancelled": goes("visit_cancelled"),
        "WorkingLevelTalksOpened": goes("working_level_talks"),
        "TalksSuspended": REFUSED,
        "AgreementFinalised": REFUSED, "TermsAmended": REFUSED,
    },
    "agreed_in_principle": {
        "AgreedInPrinciple": goes("agreed_in_principle"),
        "TermsDisputed": goes("disputed_terms"),
        "DisputeResolved": REFUSED,
        "VisitCancelled": goes("visit_cancelled"),
        "WorkingLevelTalksOpened": goes("working_level_talks"),
        "TalksSuspended": goes("talks_suspended"),
        "AgreementFinalised": goes("finalised"),
        "TermsAmended": goes("agreed_in_principle"),
    },
    "disputed_terms": {
        "AgreedInPrinciple": goes("disputed_terms"),
        "TermsDisputed": goes("disputed_terms"),
        "DisputeResolved": resolving_in_disputed_terms(),
        "VisitCancelled": goes("visit_cancelled"),
        "WorkingLevelTalksOpened": goes("working_level_talks"),
        "TalksSuspended": goes("talks_suspended"),
        "AgreementFinalised": REFUSED,
        "TermsAmended": goes("disputed_terms"),
    },
    "visit_cancelled": {
        "AgreedInPrinciple": a_deal_leaves_open_points_open(),
        "TermsDisputed": goes("disputed_terms"),
        "DisputeResolved": when("a point is open", "visit_cancelled"),
        "VisitCancelled": goes("visit_cancelled"),
        "WorkingLevelTalksOpened": goes("working_level_talks"),
        "TalksSuspended": goes("talks_suspended"),
        "AgreementFinalised": when("a deal and no point open", "finalised"),
        "TermsAmended": goes("visit_cancelled"),
    },
    "working_level_talks": {
        "AgreedInPrinciple": a_deal_leaves_open_points_open(),
        "TermsDisputed": goes("disputed_terms"),
        "DisputeResolved": when("a point is open", "working_level_talks"),
        "VisitCancelled": goes("visit_cancelled"),
        "WorkingLevelTalksOpened": goes("working_level_talks"),
        "TalksSuspended": goes("talks_suspended"),
        "AgreementFinalised": when("a deal and no point open", "finalised"),
        "TermsAmended": goes("working_level_talks"),
    },
    "talks_suspended": {
        "AgreedInPrinciple": a_deal_leaves_open_points_open(),
        "TermsDisputed": goes("talks_suspended"),
        "DisputeResolved": when("a point is open", "talks_suspended"),
        "VisitCancelled": goes("talks_suspended"),
        "WorkingLevelTalksOpened": goes("working_level_talks"),
        "TalksSuspended": goes("talks_suspended"),
        "AgreementFinalised": REFUSED,
        "TermsAmended": goes("talks_suspended"),
    },
    "finalised": {
        "AgreedInPrinciple": goes("agreed_in_principle"),
        "TermsDisputed": goes("disputed_terms"),
        "DisputeResolved": REFUSED,
        "VisitCancelled": goes("finalised"),
        "WorkingLevelTalksOpened": goes("working_level_talks"),
        "TalksSuspended": goes("talks_suspended"),
        "AgreementFinalised": REFUSED,
        "TermsAmended": goes("finalised"),
    },
}

# "not_opened" with open points or a deal cannot happen; the table only matters at (0, no deal) there.
CASES = [
    (state, event, point)
    for state in STATES
    for event in EVENT_TYPES
    for point in SITUATIONS
    if not (state == "not_opened" and (point.open_disputes or point.has_deal))
]


def expected(state: str, event: str, point: Point) -> str | None:
    return EXPECTED[state][event][(len(point.open_disputes), point.has_deal)]


def test_the_table_names_every_state_and_every_event() -> None:
    assert tuple(EXPECTED) == STATES
    assert all(tuple(row) == EVENT_TYPES for row in EXPECTED.values())
    assert len(STATES) * len(EVENT_TYPES) == 56


@pytest.mark.parametrize(("state", "event", "point"), CASES)
def test_the_machine_follows_the_documented_table(state: str, event: str, point: Point) -> None:
    fired = machine.fire(state, event, point)
    followed = machine.follow(state, event, point)

    assert fired == expected(state, event, point)
    assert followed == fired  # the compiled table used for replay agrees with the machine


@pytest.mark.parametrize(("state", "point"), [(s, p) for s in STATES for p in SITUATIONS
                                              if s != "not_opened" or not (p.open_disputes or p.has_deal)])
def test_allowed_events_are_the_cells_that_accept(state: str, point: Point) -> None:
    allowed = machine.allowed_events(state, point)

    assert allowed == tuple(e for e in EVENT_TYPES if expected(state, e, point) is not None)


def test_no_state_is_final_for_a_negotiation_can_always_be_taken_up_again() -> None:
    finals = [name for name, state in machine.MACHINE.states.items() if state.final]

    assert finals == []


def test_the_machine_has_no_callbacks_that_replay_could_fire_again() -> None:
    shared = machine.MACHINE

    callbacks = [
        *shared.before_state_change, *shared.after_state_change, *shared.prepare_event,
        *shared.finalize_event, *shared.on_exception,
        *(cb for state in shared.states.values() for cb in (*state.on_enter, *state.on_exit)),
        *(cb for event in shared.events.values() for ts in event.transitions.values() for t in ts
          for cb in (*t.prepare, *t.before, *t.after)),
    ]

    assert callbacks == []
    assert shared.models == []


def test_a_guard_refusal_says_why() -> None:
    open_point = Point(("profit sharing",), has_deal=True)
    no_deal = Point((), has_deal=False)

    assert machine.refusal_reason("working_level_talks", "AgreementFinalised", open_point) == (
        "disputed points are still open")
    assert machine.refusal_reason("working_level_talks", "AgreementFinalised", no_deal) == (
        "no deal in principle has been announced")
    assert machine.refusal_reason("talks_suspended", "DisputeResolved", no_deal) == "no disputed point is open"


def test_every_refused_cell_says_why_in_words() -> None:
    refused = [(state, event) for state in STATES for event in EVENT_TYPES
               if all(expected(state, event, p) is None for p in SITUATIONS)]

    reasons = {cell: machine.refusal_reason(*cell, Point(("profit sharing",), has_deal=True)) for cell in refused}

    assert [cell for cell, reason in reasons.items() if not reason] == []


def test_which_guards_refused_is_asked_of_the_machine() -> None:
    both_wrong = Point(("profit sharing",), has_deal=False)

    guards = machine.refusing_guards("working_level_talks", "AgreementFinalised", both_wrong)

    assert guards == ((machine.has_deal, True), (machine.has_no_open_point, True))
    assert machine.refusing_guards("working_level_talks", "AgreementFinalised", Point((), True)) == ()


def test_the_unguarded_shortcut_used_by_replay_agrees_with_the_machine() -> None:
    for (state, event), dest in machine.UNGUARDED.items():
        for point in SITUATIONS:
            assert machine.fire(state, event, point) == dest, (state, event)
