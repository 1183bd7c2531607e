"""Which cells of the transition table the behaviour specs exercise, checked against the machine.

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

Retractions and corrections are no transitions of the machine: they change
the story, and are accepted only if the story after them is legal. Their
matrix is small: each kind (``EventRetracted``, ``EventCorrected``) × each
state the negotiation is in before it (every state but ``not_opened``, where
there is nothing to correct) × each outcome. A **correction cell** is covered
when a scenario saw that kind in that state *accepted* (recorded), and another
saw it *refused* (the story would break, or the request was invalid).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ..domain import machine
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
    """The states a retraction or correction can find a negotiation in: all but ``not_opened``."""
    return tuple(state for state in machine.STATES if state != machine.NOT_OPENED)


@dataclass(frozen=True)
class CorrectionCell:
    """One kind of correction (a retraction or a correction) in one state, with one outcome."""

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
    """What one scenario saw when it retracted or corrected an event: accepted, or refused."""

    kind: str
    state: str
    outcome: CorrectionOutcome
    scenario: str


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
    """The comparison of observations with the machine."""

    cells: list[CellReport]
    disagreements: list[str]
    corrections: list[CorrectionCellReport] = field(default_factory=list)

    @property
    def uncovered(self) -> list[CellReport]:
        return [report for report in self.cells if not report.covered]

    @property
    def uncovered_corrections(self) -> list[CorrectionCellReport]:
        return [report for report in self.corrections if not report.covered]

    @property
    def ok(self) -> bool:
        return not self.uncovered and not self.uncovered_corrections and not self.disagreements

    def summary(self) -> str:
        covered = len(self.cells) - len(self.uncovered)
        outcomes = [(r, refused_by(g)) for r in self.cells if r.cell.guarded for g in r.cell.guards]
        seen = sum(kind in report.seen for report, kind in outcomes)
        corrected = len(self.corrections) - len(self.uncovered_corrections)
        text = (f"{covered}/{len(self.cells)} transition cells covered, "
                f"{seen}/{len(outcomes)} guard refusals, "
                f"{corrected}/{len(self.corrections)} correction cells covered")
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


def compare(observations: Iterable[Observation], cells: Sequence[Cell] | None = None, *,
            corrections: Iterable[CorrectionObservation] = (),
            correction_cells: Sequence[CorrectionCell] | None = None) -> Report:
    """Compare what the scenarios observed with the machine's cells, and their corrections with the matrix."""
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
    matrix = {(c.kind, c.state, c.outcome): CorrectionCellReport(c)
              for c in (expected_correction_cells() if correction_cells is None else correction_cells)}
    for correction in corrections:
        found = matrix.get((correction.kind, correction.state, correction.outcome))
        if found is None:
            disagreements.append(f"{correction.kind} × {correction.state}, {correction.outcome}, is not a "
                                 f"correction cell (seen in «{correction.scenario}»)")
        elif correction.scenario not in found.scenarios:
            found.scenarios.append(correction.scenario)
    return Report(list(reports.values()), disagreements, list(matrix.values()))


def scenarios_by_cell(report: Mapping[str, Any]) -> dict[tuple[str, str], list[str]]:
    """Read a coverage report written by ``Report.to_json``: the scenarios of each cell."""
    return {(cell["state"], cell["event"]): list(cell["scenarios"]) for cell in report.get("cells", ())}


def scenarios_by_correction_cell(report: Mapping[str, Any]) -> dict[tuple[str, str, str], list[str]]:
    """Read a coverage report written by ``Report.to_json``: the scenarios of each correction cell."""
    cells = report.get("corrections", {}).get("cells", ())
    return {(cell["kind"], cell["state"], cell["outcome"]): list(cell["scenarios"]) for cell in cells}
