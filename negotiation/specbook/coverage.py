"""Which cells of the tables the behaviour specs exercise, checked against the machines.

While the feature suite runs, every step that records an event notes an
``Observation``: the state the negotiation was in, the event, and what the
ledger did with it. This module is the pure half: the cells the machine
defines and the comparison of observations with them. It knows nothing of
pytest, so unit tests and the docs generator use it too.

The rules, precisely:

* A cell (state, event) is **allowed** when the machine has at least one
  transition for it, else **refused**. An allowed cell is **guarded** when
  every one of its transitions has a condition: whether the machine takes the
  event then depends on the negotiation (its open points).
* An observation is one of three kinds:

  - *allowed*: the event was recorded;
  - *refused by the machine*: refused, and the event was not among those the
    negotiation would accept next (the refusal's "allowed" list);
  - *refused for its content*: refused although the machine would take the
    event, because of what it says (resolving a point that is not open,
    disputing one that already is).
* It agrees with the machine when: *allowed* happens in an allowed cell and
  ends in one of the cell's destinations; *refused by the machine* happens in
  a refused cell, or in a guarded cell (then a guard refused it); *refused for
  its content* happens in an allowed cell (the machine offered the event).
* A cell is **covered** when scenarios saw: a refused cell refused by the
  machine; an allowed cell allowed, once for each state it can lead to (so
  resolving the last open point and resolving one of several both have a
  scenario); a guarded cell also refused by each of its guards, so every
  outcome of every guard is specified (finalising talks is refused once for
  want of a deal and once for an open point).

Retractions, corrections and denials are no transitions of the machine: they
change the story (a denial only marks an event, which stays), and are accepted
only if the story after them is legal. Their matrix is small: each kind
(``EventRetracted``, ``EventCorrected``, ``ReportDenied``) × each state the
negotiation is in before it × each outcome. That includes ``not_opened``: a
negotiation known only from the pressure put on it (a measure, a deadline)
has events to retract, correct or deny before anything opens it. A
**correction cell** is covered when a scenario saw that kind in that state
*accepted* (recorded), and another saw it *refused* (the story would break, or
the request was invalid).

Beside the phase, a measure has a lifecycle of its own (``domain.measures``),
with a table of its own: each status × each measure event. A **measure cell**
is covered when a scenario saw the event recorded in that status (and leading
where the measure machine leads) if the machine allows it there, and refused
if it does not. The status is the one the measure had *at the event's date*,
time included: a pause that had lapsed by then finds the measure in force.

Two outcomes come from time, not from an event (``measures.TIME_RULES``), and
a deadline passes the same way. A **time rule** is covered when a scenario
asked on the rule's last day and saw the status still held, and another asked
after that day and saw it changed, with no event recorded to change it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ..domain import machine
from ..domain import measures as measure_machine
from ..domain.payloads import CORRECTION_TYPES

Outcome = Literal["allowed", "refused"]
CorrectionOutcome = Literal["accepted", "refused"]
CORRECTION_OUTCOMES: tuple[CorrectionOutcome, ...] = ("accepted", "refused")

MACHINE_REFUSAL = "refused by the machine"
CONTENT_REFUSAL = "refused for its content"


def refused_by(guard: str) -> str:
    """The kind of an observation refused because ``guard`` (e.g. ``has_deal``, ``not has_deal``) failed."""
    return f"refused by the guard {guard}"


def allowed_to(state: str) -> str:
    """The kind of an observation that recorded the event and ended in ``state``."""
    return f"allowed, leading to {state}"


def scenario_label(feature: str, scenario: str) -> str:
    """How a scenario is named in coverage reports and found again in the spec book."""
    return f"{feature}: {scenario}"


@dataclass(frozen=True)
class Route:
    """One transition of a cell: where it leads and the guards it needs (``not g`` for an ``unless``)."""

    dest: str
    guards: tuple[str, ...] = ()


@dataclass(frozen=True)
class Cell:
    """One state × event cell of the machine."""

    state: str
    event: str
    routes: tuple[Route, ...] = ()

    @property
    def expected(self) -> Outcome:
        return "allowed" if self.routes else "refused"

    @property
    def guarded(self) -> bool:
        return bool(self.routes) and all(route.guards for route in self.routes)

    @property
    def destinations(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(route.dest for route in self.routes))

    @property
    def guards(self) -> tuple[str, ...]:
        """Every guard of the cell's routes, once each, in table order."""
        return tuple(dict.fromkeys(guard for route in self.routes for guard in route.guards))

    @property
    def needs(self) -> tuple[str, ...]:
        """The kinds of observation that cover this cell."""
        if not self.routes:
            return (MACHINE_REFUSAL,)
        allowed = tuple(allowed_to(dest) for dest in self.destinations)
        return (*allowed, *(refused_by(guard) for guard in self.guards)) if self.guarded else allowed

    @property
    def name(self) -> str:
        return f"{self.state} × {self.event}"


def guard_name(func: Any, target: bool) -> str:
    """A guard as the reports name it: ``has_deal``, or ``not has_deal`` for an ``unless``."""
    name = func if isinstance(func, str) else getattr(func, "__name__", repr(func))
    return name if target else f"not {name}"


def expected_cells() -> list[Cell]:
    """Every state × event cell, read from the machine's own transitions, in table order."""
    cells = []
    for state in machine.STATES:
        for event in machine.EVENT_TYPES:
            trigger = machine.MACHINE.events.get(event)
            transitions = trigger.transitions.get(state, []) if trigger is not None else []
            routes = tuple(
                Route(dest=t.dest or state, guards=tuple(guard_name(c.func, c.target) for c in t.conditions))
                for t in transitions
            )
            cells.append(Cell(state, event, routes))
    return cells


@dataclass(frozen=True)
class Observation:
    """What one scenario saw when it recorded one event.

    ``after`` is the state once the event was recorded (allowed only);
    ``offered`` says, for a refusal, whether the event was among those the
    negotiation would have accepted next; ``guards`` names the guards that
    refused it, when guards did.
    """

    state: str
    event: str
    outcome: Outcome
    scenario: str
    after: str | None = None
    offered: bool = False
    guards: tuple[str, ...] = ()


def correction_states() -> tuple[str, ...]:
    """The states a retraction, correction or denial can find a negotiation in: every state, ``not_opened``
    included (a negotiation known from the pressure before any talks)."""
    return machine.STATES


@dataclass(frozen=True)
class CorrectionCell:
    """One kind of correction (a retraction, a correction or a denial) in one state, with one outcome."""

    kind: str
    state: str
    outcome: CorrectionOutcome

    @property
    def name(self) -> str:
        return f"{self.kind} × {self.state}"


def expected_correction_cells() -> list[CorrectionCell]:
    """Every correction cell: kind × state before it × outcome, in table order."""
    return [CorrectionCell(kind, state, outcome)
            for kind in CORRECTION_TYPES for state in correction_states() for outcome in CORRECTION_OUTCOMES]


@dataclass(frozen=True)
class CorrectionObservation:
    """What one scenario saw when it retracted, corrected or denied an event: accepted, or refused."""

    kind: str
    state: str
    outcome: CorrectionOutcome
    scenario: str


# -- the measure lifecycle ---------------------------------------------------------------------


@dataclass(frozen=True)
class MeasureCell:
    """One status × measure event cell of the measure machine; ``dest`` is None where it is refused."""

    status: str
    event: str
    dest: str | None = None

    @property
    def expected(self) -> Outcome:
        return "allowed" if self.dest is not None else "refused"

    @property
    def reason(self) -> str | None:
        """Why the measure machine refuses the event here (``measures.REFUSALS``); None where it allows it."""
        return measure_machine.REFUSALS.get((self.status, self.event)) if self.dest is None else None

    @property
    def name(self) -> str:
        return f"{self.status} × {self.event}"


def expected_measure_cells() -> list[MeasureCell]:
    """Every status × measure event cell, read from the measure machine's transitions, in table order."""
    cells = []
    for status in measure_machine.STATUSES:
        for event in measure_machine.MEASURE_EVENTS:
            trigger = measure_machine.MACHINE.events.get(event)
            transitions = trigger.transitions.get(status, []) if trigger is not None else []
            cells.append(MeasureCell(status, event, (transitions[0].dest or status) if transitions else None))
    return cells


@dataclass(frozen=True)
class MeasureObservation:
    """What one scenario saw when it recorded a measure event: the measure's status at the event's date,
    and, when it was recorded, the status it left the measure in."""

    status: str
    event: str
    outcome: Outcome
    scenario: str
    after: str | None = None


@dataclass
class MeasureCellReport:
    """One measure cell with the scenarios that showed it, and whether one showed its outcome."""

    cell: MeasureCell
    scenarios: list[str] = field(default_factory=list)
    seen: bool = False

    @property
    def covered(self) -> bool:
        return self.seen


# -- the outcomes of time ----------------------------------------------------------------------

TimeOutcome = Literal["held", "changed"]
#: What a scenario asking on a rule's last day sees, and what one asking after it sees.
TIME_OUTCOMES: tuple[TimeOutcome, ...] = ("held", "changed")

DEADLINE = "deadline"
MEASURE = "measure"


@dataclass(frozen=True)
class TimeCell:
    """One outcome time gives with no event: what had ``before`` becomes ``after`` once a day ``passes``."""

    subject: str
    before: str
    after: str
    passes: str

    @property
    def name(self) -> str:
        return f"{self.subject} {self.before} → {self.after}"

    def seen_as(self, outcome: TimeOutcome) -> str:
        """An outcome in words: ``still paused on that day``, ``in_force once the day ended``."""
        if self.before == measure_machine.IN_FORCE:  # an imposition announced ahead: it waits for its day
            return f"{self.before} from that day" if outcome == "held" else f"{self.after} before that day"
        if outcome == "held":
            return f"still {self.before} on that day"
        return f"{self.after} once that day ended"


def expected_time_cells() -> list[TimeCell]:
    """Every rule of time: the measure machine's ``TIME_RULES``, then a deadline passing."""
    rules = [TimeCell(MEASURE, before, after, passes) for before, passes, after in measure_machine.TIME_RULES]
    return [*rules, TimeCell(DEADLINE, "pending", "passed", "its day ends")]


@dataclass(frozen=True)
class TimeObservation:
    """What one scenario saw when it asked about a measure or a deadline on or after its rule's day.

    ``before`` is the status its events gave it, ``after`` the status it had at the moment asked;
    ``outcome`` says whether the moment was on the rule's last day (``held``) or after it (``changed``).
    """

    subject: str
    before: str
    after: str
    outcome: TimeOutcome
    scenario: str


@dataclass
class TimeCellReport:
    """One rule of time with the scenarios that showed each of its outcomes."""

    cell: TimeCell
    scenarios: dict[TimeOutcome, list[str]] = field(default_factory=lambda: {o: [] for o in TIME_OUTCOMES})

    @property
    def missing(self) -> tuple[TimeOutcome, ...]:
        return tuple(outcome for outcome in TIME_OUTCOMES if not self.scenarios[outcome])

    @property
    def covered(self) -> bool:
        return not self.missing


# -- the report --------------------------------------------------------------------------------


@dataclass
class CorrectionCellReport:
    """One correction cell with the scenarios that showed it."""

    cell: CorrectionCell
    scenarios: list[str] = field(default_factory=list)

    @property
    def covered(self) -> bool:
        return bool(self.scenarios)


@dataclass
class CellReport:
    """One cell with what the scenarios saw of it."""

    cell: Cell
    scenarios: list[str] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(kind for kind in self.cell.needs if kind not in self.seen)

    @property
    def covered(self) -> bool:
        return not self.missing


@dataclass
class Report:
    """The comparison of observations with the machines: the phase, the measures, time and corrections."""

    cells: list[CellReport]
    disagreements: list[str]
    corrections: list[CorrectionCellReport] = field(default_factory=list)
    measures: list[MeasureCellReport] = field(default_factory=list)
    times: list[TimeCellReport] = field(default_factory=list)

    @property
    def uncovered(self) -> list[CellReport]:
        return [report for report in self.cells if not report.covered]

    @property
    def uncovered_corrections(self) -> list[CorrectionCellReport]:
        return [report for report in self.corrections if not report.covered]

    @property
    def uncovered_measures(self) -> list[MeasureCellReport]:
        return [report for report in self.measures if not report.covered]

    @property
    def uncovered_times(self) -> list[TimeCellReport]:
        return [report for report in self.times if not report.covered]

    @property
    def ok(self) -> bool:
        return not (self.uncovered or self.uncovered_corrections or self.uncovered_measures
                    or self.uncovered_times or self.disagreements)

    def tables(self) -> list[tuple[str, int, int]]:
        """Each table as (what it counts, covered, all), in the order the summary reads."""
        outcomes = [(r, refused_by(g)) for r in self.cells if r.cell.guarded for g in r.cell.guards]
        return [
            ("transition cells covered", len(self.cells) - len(self.uncovered), len(self.cells)),
            ("guard refusals", sum(kind in report.seen for report, kind in outcomes), len(outcomes)),
            ("measure cells covered", len(self.measures) - len(self.uncovered_measures), len(self.measures)),
            ("time rules covered", len(self.times) - len(self.uncovered_times), len(self.times)),
            ("correction cells covered", len(self.corrections) - len(self.uncovered_corrections),
             len(self.corrections)),
        ]

    def summary(self) -> str:
        text = ", ".join(f"{covered}/{total} {what}" for what, covered, total in self.tables())
        if self.disagreements:
            text += f", {len(self.disagreements)} observed outcomes disagree with the machine"
        return text

    def problems(self) -> list[str]:
        """One line per uncovered cell and per disagreement, for the failure message."""
        lines = [
            f"{report.cell.name}: no scenario shows it {', nor '.join(report.missing)} "
            f"(the machine: {report.cell.expected}{', guarded' if report.cell.guarded else ''})"
            for report in self.uncovered
        ]
        lines += [f"measure {report.cell.name}: no scenario shows it {report.cell.expected}"
                  + (f", leading to {report.cell.dest}" if report.cell.dest else "")
                  for report in self.uncovered_measures]
        lines += [f"{report.cell.name} ({report.cell.passes}): no scenario shows it "
                  + ", nor ".join(report.cell.seen_as(outcome) for outcome in report.missing)
                  for report in self.uncovered_times]
        lines += [f"{report.cell.name}: no scenario shows it {report.cell.outcome}"
                  for report in self.uncovered_corrections]
        return lines + self.disagreements

    def to_json(self) -> dict[str, Any]:
        return {
            "summary": self.summary(),
            "cells": [
                {
                    "state": r.cell.state,
                    "event": r.cell.event,
                    "expected": r.cell.expected,
                    "guarded": r.cell.guarded,
                    "destinations": list(r.cell.destinations),
                    "observed": sorted(r.seen),
                    "scenarios": r.scenarios,
                }
                for r in self.cells
            ],
            "uncovered": [
                {"state": r.cell.state, "event": r.cell.event, "expected": r.cell.expected,
                 "missing": list(r.missing)}
                for r in self.uncovered
            ],
            "disagreements": self.disagreements,
            "corrections": {
                "cells": [
                    {"kind": r.cell.kind, "state": r.cell.state, "outcome": r.cell.outcome,
                     "scenarios": r.scenarios}
                    for r in self.corrections
                ],
                "uncovered": [
                    {"kind": r.cell.kind, "state": r.cell.state, "outcome": r.cell.outcome}
                    for r in self.uncovered_corrections
                ],
            },
            "measures": {
                "cells": [
                    {"status": r.cell.status, "event": r.cell.event, "expected": r.cell.expected,
                     "dest": r.cell.dest, "scenarios": r.scenarios}
                    for r in self.measures
                ],
                "uncovered": [
                    {"status": r.cell.status, "event": r.cell.event, "expected": r.cell.expected}
                    for r in self.uncovered_measures
                ],
            },
            "time": {
                "rules": [
                    {"subject": r.cell.subject, "before": r.cell.before, "after": r.cell.after,
                     "passes": r.cell.passes, "scenarios": {o: r.scenarios[o] for o in TIME_OUTCOMES}}
                    for r in self.times
                ],
                "uncovered": [
                    {"subject": r.cell.subject, "before": r.cell.before, "after": r.cell.after,
                     "missing": list(r.missing)}
                    for r in self.uncovered_times
                ],
            },
        }


def _kinds(cell: Cell, seen: Observation) -> tuple[tuple[str, ...], str | None]:
    """Classify an observation in its cell; the second item says why it disagrees, if it does."""
    if seen.outcome == "refused" and not seen.offered and cell.guarded:
        if not seen.guards:
            return (MACHINE_REFUSAL,), "the machine has guards here, but no guard refused it"
        return tuple(refused_by(guard) for guard in seen.guards), None
    kind, problem = _kind(cell, seen)
    return (kind,), problem


def _kind(cell: Cell, seen: Observation) -> tuple[str, str | None]:
    if seen.outcome == "allowed":
        kind = allowed_to(str(seen.after))
        if not cell.routes:
            return kind, "the machine refuses it, but it was recorded"
        if seen.after not in cell.destinations:
            return kind, (f"it was recorded and led to {seen.after}, but the machine leads to "
                          f"{' or '.join(cell.destinations)}")
        return kind, None
    if seen.offered:
        if not cell.routes:
            return CONTENT_REFUSAL, "the machine refuses it, yet the refusal listed it as allowed"
        return CONTENT_REFUSAL, None
    if not cell.routes:
        return MACHINE_REFUSAL, None
    return MACHINE_REFUSAL, "the machine always allows it, but it was refused as not allowed"


def _measure_problem(cell: MeasureCell, seen: MeasureObservation) -> str | None:
    """Why a measure observation disagrees with the measure machine, if it does."""
    if seen.outcome == "refused":
        if cell.dest is None:
            return None
        return f"the measure machine allows it (to {cell.dest}), but it was refused"
    if cell.dest is None:
        return "the measure machine refuses it, but it was recorded"
    if seen.after != cell.dest:
        return (f"it was recorded and left the measure {seen.after}, but the measure machine leads to "
                f"{cell.dest}")
    return None


def compare(observations: Iterable[Observation], cells: Sequence[Cell] | None = None, *,
            corrections: Iterable[CorrectionObservation] = (),
            correction_cells: Sequence[CorrectionCell] | None = None,
            measures: Iterable[MeasureObservation] = (),
            measure_cells: Sequence[MeasureCell] | None = None,
            times: Iterable[TimeObservation] = (),
            time_cells: Sequence[TimeCell] | None = None) -> Report:
    """Compare what the scenarios observed with the machines' cells: the phase table, the measure lifecycle,
    the rules of time and the correction matrix."""
    reports = {(c.state, c.event): CellReport(c) for c in (expected_cells() if cells is None else cells)}
    disagreements: list[str] = []
    for seen in observations:
        report = reports.get((seen.state, seen.event))
        if report is None:
            disagreements.append(f"{seen.state} × {seen.event} is not a cell of the machine "
                                 f"(seen in «{seen.scenario}»)")
            continue
        kinds, problem = _kinds(report.cell, seen)
        if problem:
            disagreements.append(f"{report.cell.name}: {problem} (seen in «{seen.scenario}»)")
        report.seen.update(kinds)
        if seen.scenario not in report.scenarios:
            report.scenarios.append(seen.scenario)
    lifecycle = {(c.status, c.event): MeasureCellReport(c)
                 for c in (expected_measure_cells() if measure_cells is None else measure_cells)}
    for step in measures:
        found = lifecycle.get((step.status, step.event))
        if found is None:
            disagreements.append(f"measure {step.status} × {step.event} is not a cell of the measure machine "
                                 f"(seen in «{step.scenario}»)")
            continue
        problem = _measure_problem(found.cell, step)
        if problem:
            disagreements.append(f"measure {found.cell.name}: {problem} (seen in «{step.scenario}»)")
        else:
            found.seen = True
        if step.scenario not in found.scenarios:
            found.scenarios.append(step.scenario)
    rules = {(c.subject, c.before, c.after): TimeCellReport(c)
             for c in (expected_time_cells() if time_cells is None else time_cells)}
    for asked in times:
        # On the rule's last day the status still holds: the rule is the one that turns it later.
        key = next((k for k in rules if k[:2] == (asked.subject, asked.before)), None) \
            if asked.outcome == "held" else (asked.subject, asked.before, asked.after)
        rule = rules.get(key) if key is not None else None
        if rule is None or (asked.outcome == "held" and asked.after != asked.before):
            disagreements.append(f"{asked.subject} {asked.before} → {asked.after} ({asked.outcome}) is no "
                                 f"rule of time (seen in «{asked.scenario}»)")
        elif asked.scenario not in rule.scenarios[asked.outcome]:
            rule.scenarios[asked.outcome].append(asked.scenario)
    matrix = {(c.kind, c.state, c.outcome): CorrectionCellReport(c)
              for c in (expected_correction_cells() if correction_cells is None else correction_cells)}
    for correction in corrections:
        found_correction = matrix.get((correction.kind, correction.state, correction.outcome))
        if found_correction is None:
            disagreements.append(f"{correction.kind} × {correction.state}, {correction.outcome}, is not a "
                                 f"correction cell (seen in «{correction.scenario}»)")
        elif correction.scenario not in found_correction.scenarios:
            found_correction.scenarios.append(correction.scenario)
    return Report(list(reports.values()), disagreements, list(matrix.values()), list(lifecycle.values()),
                  list(rules.values()))


def scenarios_by_cell(report: Mapping[str, Any]) -> dict[tuple[str, str], list[str]]:
    """Read a coverage report written by ``Report.to_json``: the scenarios of each cell."""
    return {(cell["state"], cell["event"]): list(cell["scenarios"]) for cell in report.get("cells", ())}


def scenarios_by_correction_cell(report: Mapping[str, Any]) -> dict[tuple[str, str, str], list[str]]:
    """Read a coverage report written by ``Report.to_json``: the scenarios of each correction cell."""
    cells = report.get("corrections", {}).get("cells", ())
    return {(cell["kind"], cell["state"], cell["outcome"]): list(cell["scenarios"]) for cell in cells}


def scenarios_by_measure_cell(report: Mapping[str, Any]) -> dict[tuple[str, str], list[str]]:
    """Read a coverage report written by ``Report.to_json``: the scenarios of each measure cell."""
    cells = report.get("measures", {}).get("cells", ())
    return {(cell["status"], cell["event"]): list(cell["scenarios"]) for cell in cells}


def scenarios_by_time_cell(report: Mapping[str, Any]) -> dict[tuple[str, str, str, str], list[str]]:
    """Read a coverage report written by ``Report.to_json``: the scenarios of each outcome of each rule of
    time, keyed by (subject, before, after, outcome)."""
    rules = report.get("time", {}).get("rules", ())
    return {(rule["subject"], rule["before"], rule["after"], outcome):
            list(rule["scenarios"].get(outcome, ())) for rule in rules for outcome in TIME_OUTCOMES}
