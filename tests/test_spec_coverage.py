"""Spec coverage: comparing with the machines (the phase table and the measure lifecycle), the rules of time
and the correction matrix, and the feature suite failing when specs fall short."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from negotiation import EVENT_TYPES, STATES
from negotiation.domain import measures
from negotiation.domain.machine import ROUTES
from negotiation.specbook.coverage import (
    Cell,
    CorrectionObservation,
    MeasureObservation,
    Observation,
    Report,
    TimeObservation,
    allowed_to,
    compare,
    correction_states,
    expected_cells,
    expected_correction_cells,
    expected_measure_cells,
    expected_time_cells,
    refused_by,
    scenarios_by_correction_cell,
    scenarios_by_measure_cell,
    scenarios_by_time_cell,
)
from negotiation.specbook.features import read_feature

if TYPE_CHECKING:
    from conftest import Command, NestedRun

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = "A feature: a scenario"
#: The summary of a feature suite that covers everything.
COMPLETE = ("56/56 transition cells covered, 7/7 guard refusals, 24/24 measure cells covered, "
            "4/4 time rules covered, 42/42 correction cells covered")


def cell(state: str, event: str) -> Cell:
    return next(c for c in expected_cells() if (c.state, c.event) == (state, event))


def covering(target: Cell) -> list[Observation]:
    """Observations that cover ``target`` the way a complete feature suite would."""
    seen = [Observation(target.state, target.event, "allowed", SCENARIO, after=dest)
            for dest in target.destinations]
    if not target.routes:
        seen.append(Observation(target.state, target.event, "refused", SCENARIO))
    if target.guarded:
        seen += [Observation(target.state, target.event, "refused", SCENARIO, guards=(guard,))
                 for guard in target.guards]
    return seen


def everything() -> list[Observation]:
    return [seen for c in expected_cells() for seen in covering(c)]


def every_correction() -> list[CorrectionObservation]:
    """Retractions, corrections and denials seen accepted and refused in every state, as the features show
    them."""
    return [CorrectionObservation(c.kind, c.state, c.outcome, SCENARIO) for c in expected_correction_cells()]


def every_measure_step() -> list[MeasureObservation]:
    """Each measure event seen in each status: recorded where the measure machine allows it, else refused."""
    return [MeasureObservation(c.status, c.event, c.expected, SCENARIO, c.dest)
            for c in expected_measure_cells()]


def every_time_outcome() -> list[TimeObservation]:
    """Each rule of time seen holding on its last day and changing after it."""
    return [seen for c in expected_time_cells() for seen in (
        TimeObservation(c.subject, c.before, c.before, "held", SCENARIO),
        TimeObservation(c.subject, c.before, c.after, "changed", SCENARIO))]


def complete(*, observations: list[Observation] | None = None,
             corrections: list[CorrectionObservation] | None = None,
             measures: list[MeasureObservation] | None = None,
             times: list[TimeObservation] | None = None) -> Report:
    """The comparison of a complete feature suite's observations, with those given instead."""
    return compare(everything() if observations is None else observations,
                   corrections=every_correction() if corrections is None else corrections,
                   measures=every_measure_step() if measures is None else measures,
                   times=every_time_outcome() if times is None else times)


# -- the cells ---------------------------------------------------------------------------------


def test_every_state_and_event_of_the_machine_is_one_cell() -> None:
    cells = expected_cells()

    assert [(c.state, c.event) for c in cells] == [(s, e) for s in STATES for e in EVENT_TYPES]
    assert len(cells) == 56


def test_a_cell_is_allowed_exactly_where_the_machine_has_a_transition() -> None:
    allowed = {(c.state, c.event) for c in expected_cells() if c.expected == "allowed"}

    assert allowed == set(ROUTES)


def test_only_cells_whose_every_transition_has_a_condition_are_guarded() -> None:
    guarded = {(c.state, c.event) for c in expected_cells() if c.guarded}

    assert guarded == {("visit_cancelled", "DisputeResolved"), ("working_level_talks", "DisputeResolved"),
                       ("talks_suspended", "DisputeResolved"), ("visit_cancelled", "AgreementFinalised"),
                       ("working_level_talks", "AgreementFinalised")}
    assert cell("disputed_terms", "DisputeResolved").destinations == (
        "agreed_in_principle", "working_level_talks", "disputed_terms")
    # A deal announced during talks leads to disputed terms while a point is open, else to agreed in
    # principle: a cell with two destinations and a guard, but not guarded (its last route has none).
    announced = cell("working_level_talks", "AgreedInPrinciple")
    assert (announced.destinations, announced.guards, announced.guarded) == (
        ("disputed_terms", "agreed_in_principle"), ("has_open_points",), False)


def test_every_status_and_event_of_the_measure_machine_is_one_measure_cell() -> None:
    cells = expected_measure_cells()

    assert [(c.status, c.event) for c in cells] == [(s, e) for s in measures.STATUSES
                                                     for e in measures.MEASURE_EVENTS]
    assert len(cells) == 24
    assert {(c.status, c.event): c.dest for c in cells if c.dest is not None} == measures.ROUTES
    assert {(c.status, c.event): c.reason for c in cells if c.dest is None} == measures.REFUSALS


def test_the_rules_of_time_are_the_measure_machines_and_a_deadline_passing() -> None:
    rules = [(c.subject, c.before, c.after) for c in expected_time_cells()]

    assert rules == [("measure", "paused", "in_force"), ("measure", "threatened", "threat_lapsed"),
                     ("measure", "in_force", "threatened"),
                     ("deadline", "pending", "passed")]
    assert [c.passes for c in expected_time_cells()[:3]] == [passes for _, passes, _ in measures.TIME_RULES]


# -- comparing observations --------------------------------------------------------------------


def test_observations_that_agree_everywhere_cover_every_cell_of_every_table() -> None:
    report = complete()

    assert report.ok, report.problems()
    assert report.summary() == COMPLETE
    assert report.tables() == [("transition cells covered", 56, 56), ("guard refusals", 7, 7),
                               ("measure cells covered", 24, 24), ("time rules covered", 4, 4),
                               ("correction cells covered", 42, 42)]


def test_no_observations_leave_every_cell_uncovered() -> None:
    report = compare([])

    assert not report.ok
    assert report.summary() == ("0/56 transition cells covered, 0/7 guard refusals, "
                                "0/24 measure cells covered, 0/4 time rules covered, "
                                "0/42 correction cells covered")
    assert len(report.problems()) == 56 + 24 + 4 + 42


def test_a_missing_cell_is_named() -> None:
    missing = ("working_level_talks", "WorkingLevelTalksOpened")
    seen = [o for o in everything() if (o.state, o.event) != missing]

    report = complete(observations=seen)

    assert report.summary() == COMPLETE.replace("56/56 transition", "55/56 transition")
    assert report.problems() == [("working_level_talks × WorkingLevelTalksOpened: no scenario shows it "
                                  "allowed, leading to working_level_talks (the machine: allowed)")]


def test_an_event_recorded_where_the_machine_refuses_it_disagrees() -> None:
    wrong = Observation("finalised", "DisputeResolved", "allowed", "Finalisation: reopened",
                        after="finalised")

    report = complete(observations=[*everything(), wrong])

    assert not report.ok
    assert report.disagreements == [("finalised × DisputeResolved: the machine refuses it, but it was "
                                     "recorded (seen in «Finalisation: reopened»)")]
    assert report.summary() == COMPLETE + ", 1 observed outcomes disagree with the machine"


def test_a_refusal_where_the_machine_always_allows_the_event_disagrees() -> None:
    wrong = Observation("agreed_in_principle", "TermsAmended", "refused", SCENARIO)

    report = compare([*everything(), wrong])

    assert report.disagreements == [("agreed_in_principle × TermsAmended: the machine always allows it, "
                                     f"but it was refused as not allowed (seen in «{SCENARIO}»)")]


def test_an_allowed_event_that_ends_in_another_state_disagrees() -> None:
    wrong = Observation("working_level_talks", "TermsDisputed", "allowed", SCENARIO,
                        after="working_level_talks")

    report = compare([*everything(), wrong])

    assert report.disagreements == [("working_level_talks × TermsDisputed: it was recorded and led to "
                                     "working_level_talks, but the machine leads to disputed_terms "
                                     f"(seen in «{SCENARIO}»)")]


def test_a_refusal_by_a_guard_agrees_in_a_guarded_cell() -> None:
    seen = Observation("working_level_talks", "AgreementFinalised", "refused", SCENARIO, guards=("has_deal",))

    report = compare([seen])

    assert report.disagreements == []
    target = next(r for r in report.cells if (r.cell.state, r.cell.event) == ("working_level_talks",
                                                                              "AgreementFinalised"))
    assert target.seen == {refused_by("has_deal")}
    assert target.missing == (allowed_to("finalised"), refused_by("has_no_open_point"))


def test_a_guarded_cell_needs_a_refusal_by_each_of_its_guards() -> None:
    one_guard = ("visit_cancelled", "AgreementFinalised", ("has_deal",))
    without = [o for o in everything() if (o.state, o.event, o.guards) != one_guard]

    report = complete(observations=without)

    assert [r.cell.name for r in report.uncovered] == ["visit_cancelled × AgreementFinalised"]
    assert report.uncovered[0].missing == (refused_by("has_deal"),)
    assert report.summary() == COMPLETE.replace("56/56 transition cells covered, 7/7 guard",
                                                "55/56 transition cells covered, 6/7 guard")


def test_a_refusal_in_a_guarded_cell_that_no_guard_explains_disagrees() -> None:
    unexplained = Observation("working_level_talks", "AgreementFinalised", "refused", SCENARIO)

    report = compare([*everything(), unexplained])

    assert report.disagreements == [("working_level_talks × AgreementFinalised: the machine has guards here, "
                                     f"but no guard refused it (seen in «{SCENARIO}»)")]


def test_a_cell_with_two_destinations_needs_a_scenario_for_each() -> None:
    stays_only = [o for o in everything() if o.after != "agreed_in_principle" or o.state != "disputed_terms"]

    report = compare(stays_only)

    assert [(r.cell.name, r.missing) for r in report.uncovered] == [
        ("disputed_terms × DisputeResolved", (allowed_to("agreed_in_principle"),))]
    assert cell("disputed_terms", "DisputeResolved").needs == (
        allowed_to("agreed_in_principle"), allowed_to("working_level_talks"), allowed_to("disputed_terms"))


def test_a_deal_announced_during_talks_needs_a_scenario_with_a_point_open_and_one_without() -> None:
    point_open = ("talks_suspended", "AgreedInPrinciple", "disputed_terms")
    with_no_point = [o for o in everything() if (o.state, o.event, o.after) != point_open]

    report = compare(with_no_point)

    assert [(r.cell.name, r.missing) for r in report.uncovered] == [
        ("talks_suspended × AgreedInPrinciple", (allowed_to("disputed_terms"),))]


def test_a_refusal_for_its_content_agrees_only_where_the_machine_offers_the_event() -> None:
    fine = Observation("disputed_terms", "DisputeResolved", "refused", SCENARIO, offered=True)
    wrong = Observation("finalised", "DisputeResolved", "refused", SCENARIO, offered=True)

    report = compare([fine, wrong])

    assert report.disagreements == [("finalised × DisputeResolved: the machine refuses it, yet the refusal "
                                     f"listed it as allowed (seen in «{SCENARIO}»)")]


def test_an_observation_outside_the_table_disagrees() -> None:
    report = compare([Observation("suspended", "TermsAmended", "refused", SCENARIO)])

    assert report.disagreements == [
        f"suspended × TermsAmended is not a cell of the machine (seen in «{SCENARIO}»)"]


def test_the_report_lists_every_cell_with_its_scenarios_and_what_is_uncovered() -> None:
    seen = [o for o in everything() if o.state != "finalised"]
    seen.append(Observation("finalised", "DisputeResolved", "refused", "Finalisation: nothing open"))

    written = json.loads(json.dumps(complete(observations=seen).to_json()))

    assert written["summary"] == COMPLETE.replace("56/56 transition", "49/56 transition")
    assert len(written["cells"]) == 56
    resolved = next(c for c in written["cells"]
                    if (c["state"], c["event"]) == ("finalised", "DisputeResolved"))
    assert resolved == {"state": "finalised", "event": "DisputeResolved", "expected": "refused",
                        "guarded": False, "destinations": [], "observed": ["refused by the machine"],
                        "scenarios": ["Finalisation: nothing open"]}
    assert {(u["state"], u["event"]) for u in written["uncovered"]} == {
        ("finalised", e) for e in EVENT_TYPES if e != "DisputeResolved"}


# -- the measure lifecycle ---------------------------------------------------------------------


def test_a_missing_measure_cell_is_named_and_fails() -> None:
    seen = [o for o in every_measure_step() if (o.status, o.event) != ("threat_lapsed", "MeasureImposed")]

    report = complete(measures=seen)

    assert not report.ok
    assert report.problems() == [
        "measure threat_lapsed × MeasureImposed: no scenario shows it allowed, leading to in_force"]
    assert report.summary() == COMPLETE.replace("24/24 measure", "23/24 measure")


def test_a_refused_measure_cell_is_covered_only_by_a_refusal() -> None:
    seen = [o for o in every_measure_step() if (o.status, o.event) != ("lifted", "MeasureLifted")]

    report = complete(measures=seen)

    assert report.problems() == ["measure lifted × MeasureLifted: no scenario shows it refused"]


def test_a_measure_event_recorded_where_the_measure_machine_refuses_it_disagrees() -> None:
    wrong = MeasureObservation("threatened", "MeasurePaused", "allowed", SCENARIO, after="paused")

    report = complete(measures=[*every_measure_step(), wrong])

    assert not report.ok
    assert report.disagreements == [("measure threatened × MeasurePaused: the measure machine refuses it, "
                                     f"but it was recorded (seen in «{SCENARIO}»)")]


def test_a_measure_event_refused_where_the_measure_machine_allows_it_disagrees() -> None:
    wrong = MeasureObservation("paused", "MeasureLifted", "refused", SCENARIO)

    report = complete(measures=[*every_measure_step(), wrong])

    assert report.disagreements == [("measure paused × MeasureLifted: the measure machine allows it "
                                     f"(to lifted), but it was refused (seen in «{SCENARIO}»)")]


def test_a_measure_event_that_leaves_the_measure_elsewhere_disagrees_and_covers_nothing() -> None:
    seen = [o for o in every_measure_step() if (o.status, o.event) != ("in_force", "MeasureThreatened")]
    wrong = MeasureObservation("in_force", "MeasureThreatened", "allowed", SCENARIO, after="threatened")

    report = complete(measures=[*seen, wrong])

    assert report.disagreements == [("measure in_force × MeasureThreatened: it was recorded and left the "
                                     "measure threatened, but the measure machine leads to in_force "
                                     f"(seen in «{SCENARIO}»)")]
    assert [r.cell.name for r in report.uncovered_measures] == ["in_force × MeasureThreatened"]


def test_the_report_lists_every_measure_cell_with_its_scenarios() -> None:
    seen = [o for o in every_measure_step() if o.status != "lifted"]
    seen.append(MeasureObservation("lifted", "MeasureImposed", "allowed", "Measures: imposed again",
                                   "in_force"))

    written = json.loads(json.dumps(complete(measures=seen).to_json()))

    assert written["summary"] == COMPLETE.replace("24/24 measure", "21/24 measure")
    assert len(written["measures"]["cells"]) == 24
    assert {"status": "lifted", "event": "MeasureImposed", "expected": "allowed", "dest": "in_force",
            "scenarios": ["Measures: imposed again"]} in written["measures"]["cells"]
    assert written["measures"]["uncovered"] == [
        {"status": "lifted", "event": event, "expected": expected} for event, expected in (
            ("MeasureThreatened", "allowed"), ("MeasurePaused", "refused"), ("MeasureLifted", "refused"))]
    assert scenarios_by_measure_cell(written)[("lifted", "MeasureImposed")] == ["Measures: imposed again"]


# -- the rules of time -------------------------------------------------------------------------


def test_a_missing_time_rule_is_named_and_fails() -> None:
    seen = [o for o in every_time_outcome() if o.before != "threatened"]

    report = complete(times=seen)

    assert not report.ok
    assert report.problems() == [
        "measure threatened → threat_lapsed (the day it would take effect ends unacted): no scenario "
        "shows it still threatened on that day, nor threat_lapsed once that day ended"]
    assert report.summary() == COMPLETE.replace("4/4 time", "3/4 time")


def test_a_rule_of_time_needs_its_last_day_as_well_as_the_day_after() -> None:
    seen = [o for o in every_time_outcome() if (o.subject, o.outcome) != ("deadline", "held")]

    report = complete(times=seen)

    assert report.problems() == ["deadline pending → passed (its day ends): no scenario shows it still "
                                 "pending on that day"]


def test_a_change_no_rule_of_time_makes_disagrees() -> None:
    wrong = TimeObservation("measure", "threatened", "in_force", "changed", SCENARIO)
    still = TimeObservation("measure", "paused", "in_force", "held", SCENARIO)

    report = complete(times=[*every_time_outcome(), wrong, still])

    assert report.disagreements == [
        f"measure threatened → in_force (changed) is no rule of time (seen in «{SCENARIO}»)",
        f"measure paused → in_force (held) is no rule of time (seen in «{SCENARIO}»)"]


def test_the_report_lists_every_rule_of_time_with_the_scenarios_of_each_outcome() -> None:
    last_day = TimeObservation("measure", "paused", "paused", "held", "Time: the last day")
    seen = [*every_time_outcome()[2:], last_day]

    written = json.loads(json.dumps(complete(times=seen).to_json()))

    assert written["summary"] == COMPLETE.replace("4/4 time", "3/4 time")
    assert written["time"]["rules"][0] == {
        "subject": "measure", "before": "paused", "after": "in_force",
        "passes": "the day it was paused until ends",
        "scenarios": {"held": ["Time: the last day"], "changed": []}}
    assert written["time"]["uncovered"] == [
        {"subject": "measure", "before": "paused", "after": "in_force", "missing": ["changed"]}]
    held = scenarios_by_time_cell(written)[("measure", "paused", "in_force", "held")]
    assert held == ["Time: the last day"]


# -- the correction matrix ---------------------------------------------------------------------


def test_the_correction_matrix_is_each_kind_in_each_state_accepted_and_refused() -> None:
    cells = expected_correction_cells()

    assert correction_states() == STATES
    assert [(c.kind, c.state, c.outcome) for c in cells] == [
        (kind, state, outcome) for kind in ("EventRetracted", "EventCorrected", "ReportDenied")
        for state in STATES for outcome in ("accepted", "refused")]
    assert len(cells) == 42


def test_a_missing_correction_cell_is_named_and_fails() -> None:
    seen = [c for c in every_correction() if (c.kind, c.state, c.outcome) != ("ReportDenied", "finalised",
                                                                            "refused")]

    report = complete(corrections=seen)

    assert not report.ok
    assert report.problems() == ["ReportDenied × finalised: no scenario shows it refused"]
    assert report.summary() == COMPLETE.replace("42/42 correction", "41/42 correction")


def test_a_correction_seen_only_accepted_is_not_covered_for_its_refusal() -> None:
    accepted_only = [c for c in every_correction() if c.kind == "EventCorrected" and c.outcome == "accepted"]

    report = complete(corrections=accepted_only)

    assert report.problems() == [f"{kind} × {state}: no scenario shows it {outcome}"
                                 for kind in ("EventRetracted", "EventCorrected", "ReportDenied")
                                 for state in correction_states() for outcome in ("accepted", "refused")
                                 if (kind, outcome) != ("EventCorrected", "accepted")]


def test_a_correction_seen_in_no_state_of_the_machine_disagrees() -> None:
    stray = CorrectionObservation("ReportDenied", "suspended", "refused", SCENARIO)

    report = complete(corrections=[*every_correction(), stray])

    assert not report.ok
    assert report.disagreements == [("ReportDenied × suspended, refused, is not a correction cell "
                                     f"(seen in «{SCENARIO}»)")]


def test_the_report_lists_every_correction_cell_with_its_scenarios_and_what_is_uncovered() -> None:
    seen = [c for c in every_correction() if c.state != "visit_cancelled"]
    seen.append(CorrectionObservation("EventCorrected", "visit_cancelled", "accepted", "Corrections: a date"))

    written = json.loads(json.dumps(complete(corrections=seen).to_json()))

    assert written["summary"].endswith("37/42 correction cells covered")
    assert len(written["corrections"]["cells"]) == 42
    assert {"kind": "EventCorrected", "state": "visit_cancelled", "outcome": "accepted",
            "scenarios": ["Corrections: a date"]} in written["corrections"]["cells"]
    assert written["corrections"]["uncovered"] == [
        {"kind": "EventRetracted", "state": "visit_cancelled", "outcome": "accepted"},
        {"kind": "EventRetracted", "state": "visit_cancelled", "outcome": "refused"},
        {"kind": "EventCorrected", "state": "visit_cancelled", "outcome": "refused"},
        {"kind": "ReportDenied", "state": "visit_cancelled", "outcome": "accepted"},
        {"kind": "ReportDenied", "state": "visit_cancelled", "outcome": "refused"}]
    assert scenarios_by_correction_cell(written)[("EventCorrected", "visit_cancelled", "accepted")] == [
        "Corrections: a date"]


# -- the feature suite, run in a subprocess on a copy of features/ ------------------------------


def delete_scenario(path: Path, name: str) -> None:
    """Cut one scenario (up to the next one, or the end of the file) out of a feature file."""
    starts = [s.line for s in read_feature(path).scenarios]
    first = next(s.line for s in read_feature(path).scenarios if s.name == name)
    after = min([line for line in starts if line > first], default=None)
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:first - 1] + (lines[after - 1:] if after else [])), encoding="utf-8")


def without(*cuts: tuple[str, str]) -> Callable[[Path], None]:
    """Cut each (feature file, scenario) out of the copy of features/."""
    def change(features: Path) -> None:
        for feature, scenario in cuts:
            delete_scenario(features / feature, scenario)

    return change


def run_features(*args: str, only: str | None = None, change: Callable[[Path], None] | None = None,
                 plugin: tuple[str, str] | None = None) -> Command:
    """The feature suite on its one backend (not the PostgreSQL smoke run), on a copy of features/
    that ``change`` edits, with an extra ``plugin`` module (name, source) importable; it writes its
    coverage to coverage.json.
    """
    def command(directory: Path) -> tuple[list[str], dict[str, str]]:
        features = directory / "features"
        shutil.copytree(ROOT / "features", features)
        if change is not None:
            change(features)
        env = {**os.environ, "NEGOTIATION_FEATURES_DIR": str(features),
               "NEGOTIATION_SPEC_COVERAGE": str(directory / "coverage.json")}
        if plugin is not None:
            name, source = plugin
            (directory / "plugins").mkdir()
            (directory / "plugins" / f"{name}.py").write_text(source, encoding="utf-8")
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(directory / "plugins"),
                                                              env.get("PYTHONPATH")]))
        # The features use no Hypothesis: without its plugin (which imports all of it) a run starts
        # seconds sooner.
        return [sys.executable, "-m", "pytest", "tests/bdd", "-q", "-p", "no:cacheprovider",
                "-p", "no:hypothesispytest", f"--basetemp={directory / 'tmp'}", "-m", "not postgres",
                "--tb=no",  # what is checked is the summary: no tracebacks to format for failing scenarios
                *(["-k", only] if only else []), *args], env

    return command


# A plugin that breaks the ledger, not the machine's table: the ledger stops taking TermsAmended.
BROKEN_LEDGER = textwrap.dedent("""
    from negotiation.domain import machine

    _fire, _follow, _allowed = machine.fire, machine.follow, machine.allowed_events
    machine.fire = lambda state, event, negotiation: (
        None if event == "TermsAmended" else _fire(state, event, negotiation))
    machine.follow = lambda state, event, negotiation: (
        None if event == "TermsAmended" else _follow(state, event, negotiation))
    machine.allowed_events = lambda state, negotiation: tuple(
        e for e in _allowed(state, negotiation) if e != "TermsAmended")
    for cell in [cell for cell in machine.UNGUARDED if cell[1] == "TermsAmended"]:
        del machine.UNGUARDED[cell]  # the table new events are decided with
""")


#: Scenarios, each the only one of what it shows, cut out of one copy of the features: one run of the
#: feature suite shows that each cut is found (the summary counts them all). A phase cell, a guard's
#: refusal, the refused cells of the measure lifecycle, a rule of time and refused denials.
CUTS = (("03_visits.feature", "Another visit is called off while one already is"),
        ("05_finalisation.feature", "A visit called off before any deal cannot end in a signed agreement"),
        ("16_measures.feature", "What cannot happen to a measure, and why"),
        ("17_time_decides.feature", "A threat whose day passes with nothing done lapses"),
        ("17_time_decides.feature", "A measure imposed ahead cannot be paused before it takes effect"),
        ("22_denied_reports.feature", "A retracted report cannot be denied"))
CUT_SUMMARY = ("54/56 transition cells covered, 6/7 guard refusals, 18/24 measure cells covered, "
               "3/4 time rules covered, 37/42 correction cells covered")
#: The states where only the cut outline refuses a denial (``Only an event can be denied`` does so too,
#: in agreed_in_principle).
DENIALS_CUT = ("disputed_terms", "visit_cancelled", "working_level_talks", "talks_suspended", "finalised")


@pytest.fixture(scope="module")
def cut_features(nested_run: Callable[[Command, Path], NestedRun],
                 tmp_path_factory: pytest.TempPathFactory) -> NestedRun:
    """The feature suite run once on a copy of features/ without the scenarios of ``CUTS`` (once per
    module: under xdist, ``--dist loadfile`` runs this file on one worker)."""
    return nested_run(run_features(change=without(*CUTS)), tmp_path_factory.mktemp("cut-features"))


@pytest.mark.slow
def test_deleting_the_only_scenario_of_a_cell_fails_the_feature_suite(cut_features: NestedRun) -> None:
    run, report = cut_features, cut_features.directory / "coverage.json"

    assert run.returncode != 0, run.stdout
    assert "passed" in run.stdout and "failed" not in run.stdout  # every remaining scenario still passes
    assert "spec coverage FAILED" in run.stdout
    assert ("visit_cancelled × VisitCancelled: no scenario shows it allowed, leading to visit_cancelled"
            in run.stdout)
    assert CUT_SUMMARY in run.stdout
    written = json.loads(report.read_text(encoding="utf-8"))
    assert [(u["state"], u["event"]) for u in written["uncovered"]] == [
        ("visit_cancelled", "VisitCancelled"), ("visit_cancelled", "AgreementFinalised")]


@pytest.mark.slow
def test_deleting_the_only_scenario_of_a_guard_refusal_fails_the_feature_suite(
        cut_features: NestedRun) -> None:
    run = cut_features

    assert run.returncode != 0, run.stdout
    assert ("visit_cancelled × AgreementFinalised: no scenario shows it refused by the guard has_deal"
            in run.stdout)
    assert CUT_SUMMARY in run.stdout


@pytest.mark.slow
def test_deleting_the_scenarios_of_refused_measure_events_fails_the_feature_suite(
        cut_features: NestedRun) -> None:
    run, report = cut_features, cut_features.directory / "coverage.json"

    assert run.returncode != 0, run.stdout
    assert "measure lifted × MeasureLifted: no scenario shows it refused" in run.stdout
    written = json.loads(report.read_text(encoding="utf-8"))
    assert [(u["status"], u["event"]) for u in written["measures"]["uncovered"]] == [
        (c.status, c.event) for c in expected_measure_cells() if c.dest is None]


@pytest.mark.slow
def test_deleting_the_only_scenario_of_a_rule_of_time_fails_the_feature_suite(
        cut_features: NestedRun) -> None:
    run, report = cut_features, cut_features.directory / "coverage.json"

    assert run.returncode != 0, run.stdout
    assert ("measure threatened → threat_lapsed (the day it would take effect ends unacted): no scenario "
            "shows it still threatened on that day, nor threat_lapsed once that day ended") in run.stdout
    written = json.loads(report.read_text(encoding="utf-8"))
    assert written["time"]["uncovered"] == [{"subject": "measure", "before": "threatened",
                                             "after": "threat_lapsed", "missing": ["held", "changed"]}]


@pytest.mark.slow
def test_deleting_the_scenarios_of_refused_denials_fails_the_feature_suite(cut_features: NestedRun) -> None:
    run, report = cut_features, cut_features.directory / "coverage.json"

    assert run.returncode != 0, run.stdout
    for state in DENIALS_CUT:
        assert f"ReportDenied × {state}: no scenario shows it refused" in run.stdout
    assert CUT_SUMMARY in run.stdout
    written = json.loads(report.read_text(encoding="utf-8"))
    assert [(u["kind"], u["state"], u["outcome"]) for u in written["corrections"]["uncovered"]] == [
        ("ReportDenied", state, "refused") for state in DENIALS_CUT]


@pytest.mark.slow
def test_an_outcome_that_disagrees_with_the_machine_fails_the_feature_suite(
        nested_run: Callable[[Command, Path], NestedRun], tmp_path: Path) -> None:
    run = nested_run(run_features("-p", "broken_ledger", plugin=("broken_ledger", BROKEN_LEDGER)), tmp_path)

    assert run.returncode != 0
    assert "spec coverage FAILED" in run.stdout
    assert ("agreed_in_principle × TermsAmended: the machine always allows it, "
            "but it was refused as not allowed") in run.stdout


@pytest.mark.slow
def test_a_run_of_part_of_the_feature_suite_does_not_check_coverage(
        nested_run: Callable[[Command, Path], NestedRun], tmp_path: Path) -> None:
    run = nested_run(run_features(only="calling_off_a_planned_visit"), tmp_path)
    report = run.directory / "coverage.json"

    assert run.returncode == 0, run.stdout
    not_checked = re.search(r"spec coverage not checked: (\d+) of (\d+) feature scenarios did not run",
                            run.stdout)
    assert not_checked, run.stdout
    assert int(not_checked[2]) - int(not_checked[1]) == 3  # the three rows of the outline that ran
    assert not report.exists()
