"""The life of a measure (a tariff, a quota, an export ban), declared as data and run by ``transitions``.

A measure is threatened, put in force, paused and lifted by events beside the
phase; this machine says which of those can follow which, as the phase
machine does for the negotiation. Two outcomes come from time, not from an
event (``TIME_RULES``): a pause lapses when its ``until`` day ends, and the
measure is in force again; a threat whose ``effective`` day ends with nothing
else recorded is a lapsed threat. So the status of a measure is always asked
*at* a moment (``status_at``), and the fold asks it at each event's date.

Deadlines are simpler: pending until their day ends, then passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from transitions import Machine

from .times import end_of, to_utc

NONE_YET = "not_announced"
THREATENED = "threatened"
LAPSED = "threat_lapsed"
IN_FORCE = "in_force"
PAUSED = "paused"
LIFTED = "lifted"

#: Every status of a measure, in the order the table reads; ``not_announced`` is a measure
#: no event has named yet.
STATUSES: tuple[str, ...] = (NONE_YET, THREATENED, LAPSED, IN_FORCE, PAUSED, LIFTED)

#: The events of a measure's life, in the order the table reads.
MEASURE_EVENTS: tuple[str, ...] = ("MeasureThreatened", "MeasureImposed", "MeasurePaused", "MeasureLifted")

# One row per allowed (status, event) cell; ``dest=None`` keeps the status. A threat on a measure
# in force or paused is a threat to raise or reimpose it: the measure stays as it is.
TRANSITIONS: list[dict[str, object]] = [
    {"trigger": "MeasureThreatened", "source": NONE_YET, "dest": THREATENED},
    {"trigger": "MeasureImposed", "source": NONE_YET, "dest": IN_FORCE},
    {"trigger": "MeasureThreatened", "source": THREATENED, "dest": None},
    {"trigger": "MeasureImposed", "source": THREATENED, "dest": IN_FORCE},
    {"trigger": "MeasureLifted", "source": THREATENED, "dest": LIFTED},
    {"trigger": "MeasureThreatened", "source": LAPSED, "dest": THREATENED},
    {"trigger": "MeasureImposed", "source": LAPSED, "dest": IN_FORCE},
    {"trigger": "MeasureLifted", "source": LAPSED, "dest": LIFTED},
    {"trigger": "MeasureThreatened", "source": IN_FORCE, "dest": None},
    {"trigger": "MeasureImposed", "source": IN_FORCE, "dest": None},
    {"trigger": "MeasurePaused", "source": IN_FORCE, "dest": PAUSED},
    {"trigger": "MeasureLifted", "source": IN_FORCE, "dest": LIFTED},
    {"trigger": "MeasureThreatened", "source": PAUSED, "dest": None},
    {"trigger": "MeasureImposed", "source": PAUSED, "dest": IN_FORCE},
    {"trigger": "MeasurePaused", "source": PAUSED, "dest": None},
    {"trigger": "MeasureLifted", "source": PAUSED, "dest": LIFTED},
    {"trigger": "MeasureThreatened", "source": LIFTED, "dest": THREATENED},
    {"trigger": "MeasureImposed", "source": LIFTED, "dest": IN_FORCE},
]

#: Why the refused cells are refused, in an analyst's words.
REFUSALS: dict[tuple[str, str], str] = {
    (NONE_YET, "MeasurePaused"): "nothing has put it in force",
    (NONE_YET, "MeasureLifted"): "nothing has threatened or imposed it",
    (THREATENED, "MeasurePaused"): "it is only threatened, not in force",
    (LAPSED, "MeasurePaused"): "the threat lapsed; it was never in force",
    (LIFTED, "MeasurePaused"): "it was lifted; impose it again first",
    (LIFTED, "MeasureLifted"): "it was already lifted",
}

#: The outcomes time gives, with no event: (status its events gave, what passes, the status it becomes).
#: The third reads the other way: an imposition announced ahead (``effective_from`` after the act) is
#: threatened, with that day, until the day comes; then it is in force.
TIME_RULES: tuple[tuple[str, str, str], ...] = (
    (PAUSED, "the day it was paused until ends", IN_FORCE),
    (THREATENED, "the day it would take effect ends unacted", LAPSED),
    (IN_FORCE, "an imposition announced ahead is only threatened until its effective_from day", THREATENED),
)

MACHINE = Machine(
    model=None,
    states=list(STATUSES),
    transitions=TRANSITIONS,
    initial=NONE_YET,
    auto_transitions=False,
    ignore_invalid_triggers=False,
    name="measure",
)

#: The status each (status, event) leads to, read once from the machine: a measure's steps have no guards.
ROUTES: dict[tuple[str, str], str] = {
    (source, event_type): transitions[0].dest or source
    for event_type, event in MACHINE.events.items()
    for source, transitions in event.transitions.items()
}


def passed(day: str | None, at: datetime) -> bool:
    """Whether the day ``day`` (ISO text) had ended by ``at``."""
    return day is not None and at > end_of(date.fromisoformat(day), "day")


def begun(day: str, at: datetime) -> bool:
    """Whether the day ``day`` (ISO text) had begun by ``at``."""
    return at >= to_utc(day, "day")


@dataclass(frozen=True, slots=True)
class Measure:
    """A measure as its events leave it; its status at any moment is ``status_at``.

    ``status`` is what the last event made it; ``effective`` is the day a threat
    would take effect, ``paused_until`` the last day of a pause.
    """

    name: str
    status: str
    by: str | None = None
    value: str | None = None
    #: The day of the event that gave it its status.
    since: str | None = None
    effective_from: str | None = None
    effective: str | None = None
    #: The value threatened for a measure already in force or paused (a threat to raise or reimpose it).
    threatened_value: str | None = None
    paused_until: str | None = None
    condition: str | None = None
    lifted_by: str | None = None
    reason: str | None = None
    #: The version of the entry that gave it its status.
    version: int = 0
    #: For an imposition announced ahead of its ``effective_from``: the status the measure had before it.
    prior: str | None = None

    @property
    def scheduled(self) -> bool:
        """Imposed with an ``effective_from`` later than the act: not in force before that day."""
        return self.status == IN_FORCE and self.prior is not None and self.effective_from is not None

    def status_at(self, at: datetime) -> str:
        """The status at ``at``: what the events made it, then what time made of that."""
        if self.status == PAUSED and passed(self.paused_until, at):
            return IN_FORCE
        if self.status == THREATENED and passed(self.effective, at):
            return LAPSED
        if self.scheduled and not begun(self.effective_from, at):  # type: ignore[arg-type]  # scheduled
            return self.prior if self.prior in (IN_FORCE, PAUSED) else THREATENED
        return self.status

    def as_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__ if getattr(self, name) is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Measure:
        return cls(**data)


@dataclass(frozen=True, slots=True)
class Deadline:
    """A target or ultimatum: pending until its day ends, then passed."""

    what: str
    due: str
    by: str | None = None
    #: The day it was set (or last moved), and the version of that entry.
    set_on: str | None = None
    version: int = 0

    def status_at(self, at: datetime) -> str:
        return "passed" if passed(self.due, at) else "pending"

    def as_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__ if getattr(self, name) is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Deadline:
        return cls(**data)
