"""What the report's index shows across negotiations: the deadlines coming up and the measures in force.

Plain rows, worked out at one moment (the report's time: now, or the time it
was asked about), so they can be checked without drawing anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ..domain.aggregate import Negotiation
from ..domain.measures import IN_FORCE
from .beside import PENDING, in_force_since, measure_spans
from .model import Picture

#: How many days ahead the index looks for deadlines.
DAYS = 30


@dataclass(frozen=True, slots=True)
class DeadlineRow:
    """A deadline falling due in the days ahead."""

    negotiation: str
    parties: tuple[str, ...]
    what: str
    due: date
    #: Days from the report's day to the due day: 0 when it is due that day.
    days_left: int
    by: str | None
    set_on: str | None


@dataclass(frozen=True, slots=True)
class MeasureRow:
    """A measure in force at the report's time."""

    negotiation: str
    measure: str
    by: str | None
    against: str | None
    value: str | None
    #: When its run in force began (the day after a pause ran out, when that is what put it back).
    since: datetime | None
    effective_from: str | None
    #: A higher value threatened while it is in force.
    threatened_value: str | None


@dataclass(frozen=True, slots=True)
class Overview:
    """Everything the index shows beside its list of negotiations."""

    at: datetime
    deadlines: tuple[DeadlineRow, ...]
    measures: tuple[MeasureRow, ...]
    #: The negotiations the report could not tell, each with why: (id, reason).
    failed: tuple[tuple[str, str], ...] = ()
    days: int = DAYS
    #: The times the report was asked about, in words ("as of 1 Apr 2025"); empty for now.
    when: str = ""

    @property
    def last_day(self) -> date:
        return self.at.date() + timedelta(days=self.days)


def deadlines_due(negotiations: Iterable[Negotiation], at: datetime, days: int = DAYS) -> tuple[DeadlineRow, ...]:
    """The deadlines still pending at ``at`` and due within ``days`` days of its day, soonest first."""
    first = at.date()
    rows = []
    for n in negotiations:
        for d in n.deadlines.values():
            due = date.fromisoformat(d.due)
            if first <= due <= first + timedelta(days=days) and d.status_at(at) == PENDING:
                rows.append(DeadlineRow(n.id, n.parties, d.what, due, (due - first).days, d.by, d.set_on))
    return tuple(sorted(rows, key=lambda r: (r.due, r.negotiation, r.what)))


def _other(parties: tuple[str, ...], by: str | None) -> str | None:
    others = [p for p in parties if p != by]
    return others[0] if by in parties and len(others) == 1 else None


def measures_in_force(views: Iterable[Picture], at: datetime) -> tuple[MeasureRow, ...]:
    """Every measure in force at ``at``, by negotiation then measure: by whom, against whom, value, since."""
    rows = []
    for view in views:
        n = view.negotiation
        spans = measure_spans(view.measure_changes, at, at)
        for name, m in sorted(n.measures.items()):
            if m.status_at(at) != IN_FORCE:
                continue
            rows.append(MeasureRow(n.id, name, m.by, _other(n.parties, m.by), m.value,
                                   in_force_since(spans, name, at), m.effective_from, m.threatened_value))
    return tuple(rows)


def overview(views: Iterable[Picture], at: datetime, failed: Iterable[tuple[str, str]] = (),
             days: int = DAYS, when: str = "") -> Overview:
    """The index's deadlines and measures for ``views`` at ``at``, naming the negotiations that ``failed``."""
    told = list(views)
    return Overview(at, deadlines_due((v.negotiation for v in told), at, days), measures_in_force(told, at),
                    tuple(failed), days, when)
