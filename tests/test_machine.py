"""Every cell of the transition table, checked against the shared machine with no storage."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from negotiation.domain import machine
from negotiation.domain.machine import EVENT_TYPES, STATES


@dataclass
class Point:
    open_disputes: tuple[str, ...]


NONE_OPEN = Point(())
ONE_OPEN = Point(("profit sharing",))
TWO_OPEN = Point(("profit sharing", "tariff stacking"))

# The table of DOMAIN.md, written out again by hand so the machine is checked
# against the document rather than against itself. Each cell maps how many
# points are open (0, 1, 2) to the resulting state, or None when refused.
REFUSED = {0: None, 1: None, 2: None}


def goes(state: str) -> dict[int, str | None]:
    return {0: state, 1: state, 2: state}


EXPECTED: dict[str, dict[str, dict[int, str | None]]] = {
    "not_opened": {
        "AgreedInPrinciple": {0: "agreed_in_principle", 1: None, 2: None},
        "TermsDisputed": REFUSED, "DisputeResolved": REFUSED, "VisitCancelled": REFUSED,
        "WorkingLevelTalksOpened": REFUSED, "AgreementFinalised": REFUSED, "TermsAmended": REFUSED,
    },
    "agreed_in_principle": {
        "AgreedInPrinciple": REFUSED,
        "TermsDisputed": goes("disputed_terms"),
        "DisputeResolved": REFUSED,
        "VisitCancelled": goes("visit_cancelled"),
        "WorkingLevelTalksOpened": goes("working_level_talks"),
        "AgreementFinalised": goes("finalised"),
        "TermsAmended": goes("agreed_in_principle"),
    },
    "disputed_terms": {
        "AgreedInPrinciple": REFUSED,
        "TermsDisputed": goes("disputed_terms"),
        "DisputeResolved": {0: "disputed_terms", 1: "agreed_in_principle", 2: "disputed_terms"},
        "VisitCancelled": goes("visit_cancelled"),
        "WorkingLevelTalksOpened": goes("working_level_talks"),
        "AgreementFinalised": REFUSED,
        "TermsAmended": goes("disputed_terms"),
    },
    "visit_cancelled": {
        "AgreedInPrinciple": REFUSED,
        "TermsDisputed": goes("disputed_terms"),
        "DisputeResolved": {0: None, 1: "visit_cancelled", 2: "visit_cancelled"},
        "VisitCancelled": REFUSED,
        "WorkingLevelTalksOpened": goes("working_level_talks"),
        "AgreementFinalised": REFUSED,
        "TermsAmended": goes("visit_cancelled"),
    },
    "working_level_talks": {
        "AgreedInPrinciple": REFUSED,
        "TermsDisputed": goes("disputed_terms"),
        "DisputeResolved": {0: None, 1: "working_level_talks", 2: "working_level_talks"},
        "VisitCancelled": goes("visit_cancelled"),
        "WorkingLevelTalksOpened": REFUSED,
        "AgreementFinalised": {0: "finalised", 1: None, 2: None},
        "TermsAmended": goes("working_level_talks"),
    },
    "finalised": {event: REFUSED for event in EVENT_TYPES},
}

# "not_opened" with open points cannot happen; the table above only matters at 0 there.
CASES = [
    (state, event, count, point)
    for state in STATES
    for event in EVENT_TYPES
    for count, point in enumerate((NONE_OPEN, ONE_OPEN, TWO_OPEN))
    if not (state == "not_opened" and count)
]


def test_the_table_names_every_state_and_every_event() -> None:
    assert tuple(EXPECTED) == STATES
    assert all(tuple(row) == EVENT_TYPES for row in EXPECTED.values())
    assert len(STATES) * len(EVENT_TYPES) == 42


@pytest.mark.parametrize(("state", "event", "count", "point"), CASES)
def test_the_machine_follows_the_documented_table(state: str, event: str, count: int, point: Point) -> None:
    expected = EXPECTED[state][event][count]

    fired = machine.fire(state, event, point)
    followed = machine.follow(state, event, point)

    assert fired == expected
    assert followed == expected  # the compiled table used for replay agrees with the machine


@pytest.mark.parametrize("state", STATES)
def test_allowed_events_are_the_cells_that_accept(state: str) -> None:
    point = NONE_OPEN if state != "disputed_terms" else ONE_OPEN

    allowed = machine.allowed_events(state, point)

    count = len(point.open_disputes)
    assert allowed == tuple(e for e in EVENT_TYPES if EXPECTED[state][e][count] is not None)


def test_finalised_is_the_machines_only_final_state() -> None:
    finals = [name for name, state in machine.MACHINE.states.items() if state.final]

    assert finals == ["finalised"]


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
    reason = machine.refusal_reason("working_level_talks", "AgreementFinalised", ONE_OPEN)

    assert reason == "disputed points are still open"


def test_the_unguarded_shortcut_used_by_replay_agrees_with_the_machine() -> None:
    for (state, event), dest in machine.UNGUARDED.items():
        for point in (NONE_OPEN, ONE_OPEN, TWO_OPEN):
            assert machine.fire(state, event, point) == dest, (state, event)
