"""The negotiation state machine, declared as data and run by ``transitions``.

One shared ``Machine`` holds the states and the transition table; it has no
models and no callbacks, so replaying history can never fire a side effect.
Negotiations are plain values: the machine is asked which transition an event
takes from a state, and the fold in ``aggregate`` follows the same table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, cast

from transitions import Machine, MachineError

NOT_OPENED = "not_opened"
AGREED = "agreed_in_principle"
DISPUTED = "disputed_terms"
VISIT_CANCELLED = "visit_cancelled"
TALKS = "working_level_talks"
SUSPENDED = "talks_suspended"
FINALISED = "finalised"

#: Every state, in the order the table reads; ``not_opened`` is a negotiation before its first phase event.
STATES: tuple[str, ...] = (NOT_OPENED, AGREED, DISPUTED, VISIT_CANCELLED, TALKS, SUSPENDED, FINALISED)

#: Every phase event type, in the order the table reads. The events beside the phase (meetings,
#: measures, deadlines, third-party acts) are no transitions: they keep the phase in every state.
EVENT_TYPES: tuple[str, ...] = (
    "AgreedInPrinciple",
    "TermsDisputed",
    "DisputeResolved",
    "VisitCancelled",
    "WorkingLevelTalksOpened",
    "TalksSuspended",
    "AgreementFinalised",
    "TermsAmended",
)


class Facts(Protocol):
    """What the guards read of a negotiation as it stands before the event."""

    @property
    def open_disputes(self) -> Sequence[str]: ...
    @property
    def has_deal(self) -> bool: ...


# Guards look only at the negotiation as it stands before the event.
def has_open_points(negotiation: Facts) -> bool:
    return len(negotiation.open_disputes) > 0


def has_no_open_point(negotiation: Facts) -> bool:
    return len(negotiation.open_disputes) == 0


def closes_last_point(negotiation: Facts) -> bool:
    # The resolved point is checked to be open before the machine runs, so a
    # single open point means this resolution closes the last one.
    return len(negotiation.open_disputes) == 1


def has_deal(negotiation: Facts) -> bool:
    """A deal in principle has been announced (an ``AgreedInPrinciple`` is in the story)."""
    return negotiation.has_deal


#: Why a guard refused, for the error a user reads: (guard, the outcome it needed) -> reason.
GUARD_REFUSALS: dict[tuple[Callable[[Facts], bool], bool], str] = {
    (has_open_points, True): "no disputed point is open",
    (has_no_open_point, True): "disputed points are still open",
    (has_deal, True): "no deal in principle has been announced",
}

_UNOPENED = "nothing has opened the negotiation"

#: Why some cells are refused outright, where the bare refusal would puzzle an analyst.
REFUSALS: dict[tuple[str, str], str] = {
    (NOT_OPENED, "TermsDisputed"): _UNOPENED,
    (NOT_OPENED, "DisputeResolved"): _UNOPENED,
    (NOT_OPENED, "TalksSuspended"): _UNOPENED,
    (NOT_OPENED, "AgreementFinalised"): _UNOPENED,
    (NOT_OPENED, "TermsAmended"): _UNOPENED,
    (AGREED, "DisputeResolved"): "no disputed point is open",
    (DISPUTED, "AgreementFinalised"): "disputed points are still open",
    (SUSPENDED, "AgreementFinalised"): "talks are off; they resume before a deal is finalised",
    (FINALISED, "DisputeResolved"): "no disputed point is open",
    (FINALISED, "AgreementFinalised"):
        "the agreement is already finalised; record new instruments as TermsAmended",
}

# One row per allowed (state, event) cell; ``dest=None`` keeps the state.
# Where a cell has several rows the first whose conditions pass wins.
# "Deal" means an AgreedInPrinciple is in the story: talks and a cancelled
# visit can open a negotiation before there is one, and the deal can follow.
# A deal may be announced again (a revised deal, a framework after a truce);
# announced while points are open, it leaves them open.
TRANSITIONS: list[dict[str, object]] = [
    {"trigger": "AgreedInPrinciple", "source": NOT_OPENED, "dest": AGREED},
    {"trigger": "VisitCancelled", "source": NOT_OPENED, "dest": VISIT_CANCELLED},
    {"trigger": "WorkingLevelTalksOpened", "source": NOT_OPENED, "dest": TALKS},

    {"trigger": "AgreedInPrinciple", "source": AGREED, "dest": None},
    {"trigger": "TermsDisputed", "source": AGREED, "dest": DISPUTED},
    {"trigger": "VisitCancelled", "source": AGREED, "dest": VISIT_CANCELLED},
    {"trigger": "WorkingLevelTalksOpened", "source": AGREED, "dest": TALKS},
    {"trigger": "TalksSuspended", "source": AGREED, "dest": SUSPENDED},
    {"trigger": "AgreementFinalised", "source": AGREED, "dest": FINALISED},
    {"trigger": "TermsAmended", "source": AGREED, "dest": None},

    {"trigger": "AgreedInPrinciple", "source": DISPUTED, "dest": None},
    {"trigger": "TermsDisputed", "source": DISPUTED, "dest": None},
    {"trigger": "DisputeResolved", "source": DISPUTED, "dest": AGREED, "conditions": [closes_last_point, has_deal]},
    {"trigger": "DisputeResolved", "source": DISPUTED, "dest": TALKS, "conditions": [closes_last_point],
     "unless": [has_deal]},
    {"trigger": "DisputeResolved", "source": DISPUTED, "dest": None},
    {"trigger": "VisitCancelled", "source": DISPUTED, "dest": VISIT_CANCELLED},
    {"trigger": "WorkingLevelTalksOpened", "source": DISPUTED, "dest": TALKS},
    {"trigger": "TalksSuspended", "source": DISPUTED, "dest": SUSPENDED},
    {"trigger": "TermsAmended", "source": DISPUTED, "dest": None},

    {"trigger": "AgreedInPrinciple", "source": VISIT_CANCELLED, "dest": DISPUTED, "conditions": [has_open_points]},
    {"trigger": "AgreedInPrinciple", "source": VISIT_CANCELLED, "dest": AGREED},
    {"trigger": "TermsDisputed", "source": VISIT_CANCELLED, "dest": DISPUTED},
    {"trigger": "DisputeResolved", "source": VISIT_CANCELLED, "dest": None, "conditions": [has_open_points]},
    {"trigger": "VisitCancelled", "source": VISIT_CANCELLED, "dest": None},
    {"trigger": "WorkingLevelTalksOpened", "source": VISIT_CANCELLED, "dest": TALKS},
    {"trigger": "TalksSuspended", "source": VISIT_CANCELLED, "dest": SUSPENDED},
    {"trigger": "AgreementFinalised", "source": VISIT_CANCELLED, "dest": FINALISED,
     "conditions": [has_deal, has_no_open_point]},
    {"trigger": "TermsAmended", "source": VISIT_CANCELLED, "dest": None},

    {"trigger": "AgreedInPrinciple", "source": TALKS, "dest": DISPUTED, "conditions": [has_open_points]},
    {"trigger": "AgreedInPrinciple", "source": TALKS, "dest": AGREED},
    {"trigger": "TermsDisputed", "source": TALKS, "dest": DISPUTED},
    {"trigger": "DisputeResolved", "source": TALKS, "dest": None, "conditions": [has_open_points]},
    {"trigger": "VisitCancelled", "source": TALKS, "dest": VISIT_CANCELLED},
    {"trigger": "WorkingLevelTalksOpened", "source": TALKS, "dest": None},
    {"trigger": "TalksSuspended", "source": TALKS, "dest": SUSPENDED},
    {"trigger": "AgreementFinalised", "source": TALKS, "dest": FINALISED, "conditions": [has_deal, has_no_open_point]},
    {"trigger": "TermsAmended", "source": TALKS, "dest": None},

    {"trigger": "AgreedInPrinciple", "source": SUSPENDED, "dest": DISPUTED, "conditions": [has_open_points]},
    {"trigger": "AgreedInPrinciple", "source": SUSPENDED, "dest": AGREED},
    {"trigger": "TermsDisputed", "source": SUSPENDED, "dest": None},
    {"trigger": "DisputeResolved", "source": SUSPENDED, "dest": None, "conditions": [has_open_points]},
    {"trigger": "VisitCancelled", "source": SUSPENDED, "dest": None},
    {"trigger": "WorkingLevelTalksOpened", "source": SUSPENDED, "dest": TALKS},
    {"trigger": "TalksSuspended", "source": SUSPENDED, "dest": None},
    {"trigger": "TermsAmended", "source": SUSPENDED, "dest": None},

    {"trigger": "AgreedInPrinciple", "source": FINALISED, "dest": AGREED},
    {"trigger": "TermsDisputed", "source": FINALISED, "dest": DISPUTED},
    {"trigger": "VisitCancelled", "source": FINALISED, "dest": None},
    {"trigger": "WorkingLevelTalksOpened", "source": FINALISED, "dest": TALKS},
    {"trigger": "TalksSuspended", "source": FINALISED, "dest": SUSPENDED},
    {"trigger": "TermsAmended", "source": FINALISED, "dest": None},
]

#: The phase events that may open a negotiation; each names the two parties then.
OPENING_EVENTS: tuple[str, ...] = ("AgreedInPrinciple", "VisitCancelled", "WorkingLevelTalksOpened")

MACHINE = Machine(
    model=None,
    states=list(STATES),
    transitions=TRANSITIONS,
    initial=NOT_OPENED,
    auto_transitions=False,
    ignore_invalid_triggers=False,
    name="negotiation",
)

Guard = Callable[[Facts], bool]
Route = tuple[str | None, tuple[tuple[Guard, bool], ...]]


def _compile_routes() -> dict[tuple[str, str], tuple[Route, ...]]:
    """Read the machine's own transitions into a lookup table for folding.

    Folding a long history through ``Event.trigger`` costs microseconds per
    event; this table is the same data, read once from the machine.
    """
    routes: dict[tuple[str, str], tuple[Route, ...]] = {}
    for event_type, event in MACHINE.events.items():
        for source, transitions in event.transitions.items():
            routes[(source, event_type)] = tuple(
                (t.dest, tuple((cast(Guard, c.func), c.target) for c in t.conditions)) for t in transitions
            )
    return routes


ROUTES = _compile_routes()

#: The cells whose one route has no guard, mapped straight to the state they lead to:
#: most steps of a replay are these, and need no guard evaluated.
UNGUARDED: dict[tuple[str, str], str] = {
    (source, event_type): source if routes[0][0] is None else str(routes[0][0])
    for (source, event_type), routes in ROUTES.items()
    if len(routes) == 1 and not routes[0][1]
}


class _Cursor:
    """The only thing the shared machine moves: a state name, nothing else."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


def fire(state: str, event_type: str, negotiation: Facts) -> str | None:
    """Run ``event_type`` from ``state`` on the shared machine.

    Returns the state the negotiation ends in, or None when the machine refuses.
    """
    event = MACHINE.events.get(event_type)
    if event is None:
        return None
    cursor = _Cursor(state)
    try:
        moved = event.trigger(cursor, negotiation)
    except MachineError:
        return None
    return cursor.state if moved else None


def follow(state: str, event_type: str, negotiation: Facts) -> str | None:
    """The state ``event_type`` leads to from ``state``, read from the compiled table."""
    for dest, guards in ROUTES.get((state, event_type), ()):
        if not guards or all(guard(negotiation) is target for guard, target in guards):
            return state if dest is None else dest
    return None


def allowed_events(state: str, negotiation: Facts) -> tuple[str, ...]:
    """Event types the machine would accept next, in table order."""
    return tuple(e for e in EVENT_TYPES if follow(state, e, negotiation) is not None)


def refusing_guards(state: str, event_type: str, negotiation: Facts) -> tuple[tuple[Guard, bool], ...]:
    """The guards (with the outcome each needed) that stopped ``event_type`` in ``state``; () if none did."""
    routes = ROUTES.get((state, event_type), ())
    if any(all(guard(negotiation) is target for guard, target in guards) for _dest, guards in routes):
        return ()
    failed = (pair for _dest, guards in routes for pair in guards if pair[0](negotiation) is not pair[1])
    return tuple(dict.fromkeys(failed))


def refusal_reason(state: str, event_type: str, negotiation: Facts) -> str | None:
    """Why the machine refused ``event_type`` in ``state``, in an analyst's words, when it can say."""
    for pair in refusing_guards(state, event_type, negotiation):
        if pair in GUARD_REFUSALS:
            return GUARD_REFUSALS[pair]
    return REFUSALS.get((state, event_type))
