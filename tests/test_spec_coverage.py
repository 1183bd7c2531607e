"""Spec coverage: comparing with the machine and the correction matrix, and the feature suite failing when
specs fall short."""

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
from negotiation.domain.machine import ROUTES
from negotiation.specbook.coverage import (
    Cell,
    CorrectionObservation,
    Observation,
    allowed_to,
    compare,
    correction_states,
    expected_cells,
    expected_correction_cells,
    refused_by,
    scenarios_by_correction_cell,
)
from negotiation.specbook.features import read_feature

if TYPE_CHECKING:
    from conftest import Command, NestedRun

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = "A feature: a scenario"


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
    """Retractions and corrections seen accepted and refused in every state, as the features show them."""
    return [CorrectionObservation(c.kind, c.state, c.outcome, SCENARIO) for c in expected_correction_cells()]


# -- the cells ---------------------------------------------------------------------------------


def test_every_state_and_event_of_the_machine_is_one_cell() -> None:
    cells = expected_cells()

    assert [(c.state, c.event) for c in cells] == [(s, e) for s in STATES for e in EVENT_TYPES]
    assert len(cells) == 42


def test_a_cell_is_allowed_exactly_where_the_machine_has_a_transition() -> None:
    allowed = {(c.state, c.event) for c in expected_cells() if c.expected == "allowed"}

    assert allowed == set(ROUTES)


def test_only_cells_whose_every_transition_has_a_condition_are_guarded() -> None:
    guarded = {(c.state, c.event) for c in expected_cells() if c.guarded}

    assert guarded == {("visit_cancelled", "DisputeResolved"), ("working_level_talks", "DisputeResolved"),
                       ("working_level_talks", "AgreementFinalised"), ("visit_cancelled", "AgreedInPrinciple"),
                       ("working_level_talks", "AgreedInPrinciple")}
    assert cell("disputed_terms", "DisputeResolved").destinations == (
        "agreed_in_principle", "working_level_talks", "disputed_terms")
    assert cell("working_level_talks", "AgreedInPrinciple").guards == ("has_no_open_point", "not has_deal")


# -- comparing observations --------------------------------------------------------------------


def test_observations_that_agree_everywhere_cover_all_42_cells_and_all_20_correction_cells() -> None:
    report = compare(everything(), corrections=every_correction())

    assert report.ok, report.problems()
    assert report.summary() == ("42/42 transition cells covered, 8/8 guard refusals, "
                                "20/20 correction cells covered")


def test_no_observations_leave_every_cell_uncovered() -> None:
    report = compare([])

    assert not report.ok
    assert report.summary() == "0/42 transition cells covered, 0/8 guard refusals, 0/20 correction cells covered"
    assert len(report.problems()) == 42 + 20


def test_a_missing_cell_is_named() -> None:
    missing = ("working_level_talks", "WorkingLevelTalksOpened")
    seen = [o for o in everything() if (o.state, o.event) != missing]

    report = compare(seen, corrections=every_correction())

    assert report.summary() == ("41/42 transition cells covered, 8/8 guard refusals, "
                                "20/20 correction cells covered")
    assert report.problems() == [("working_level_talks × WorkingLevelTalksOpened: no scenario shows it "
                                  "refused by the machine (the machine: refused)")]


def test_an_event_recorded_where_the_machine_refuses_it_disagrees() -> None:
    wrong = Observation("finalised", "DisputeResolved", "allowed", "Finalisation: reopened", after="finalised")

    report = compare([*everything(), wrong], corrections=every_correction())

    assert not report.ok
    assert report.disagreements == [("finalised × DisputeResolved: the machine refuses it, but it was recorded "
                                     "(seen in «Finalisation: reopened»)")]
    assert report.summary() == ("42/42 transition cells covered, 8/8 guard refusals, "
                                "20/20 correction cells covered, 1 observed outcomes disagree with the machine")


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
    one_guard = ("working_level_talks", "AgreementFinalised", ("has_no_open_point",))
    without = [o for o in everything() if (o.state, o.event, o.guards) != one_guard]

    report = compare(without, corrections=every_correction())

    assert [r.cell.name for r in report.uncovered] == ["working_level_talks × AgreementFinalised"]
    assert report.uncovered[0].missing == (refused_by("has_no_open_point"),)
    assert report.summary() == ("41/42 transition cells covered, 7/8 guard refusals, "
                                "20/20 correction cells covered")


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
    seen.append(Observation("finalised", "AgreedInPrinciple", "refused", "Finalisation: announced once"))

    written = json.loads(json.dumps(compare(seen, corrections=every_correction()).to_json()))

    assert written["summary"] == ("36/42 transition cells covered, 8/8 guard refusals, "
                                  "20/20 correction cells covered")
    assert len(written["cells"]) == 42
    announced = next(c for c in written["cells"] if (c["state"], c["event"]) == ("finalised", "AgreedInPrinciple"))
    assert announced == {"state": "finalised", "event": "AgreedInPrinciple", "expected": "refused",
                         "guarded": False, "destinations": [], "observed": ["refused by the machine"],
                         "scenarios": ["Finalisation: announced once"]}
    assert {(u["state"], u["event"]) for u in written["uncovered"]} == {
        ("finalised", e) for e in EVENT_TYPES if e != "AgreedInPrinciple"}


# -- the correction matrix ---------------------------------------------------------------------


def test_the_correction_matrix_is_each_kind_in_each_opened_state_accepted_and_refused() -> None:
    cells = expected_correction_cells()

    assert correction_states() == tuple(state for state in STATES if state != "not_opened")
    assert [(c.kind, c.state, c.outcome) for c in cells] == [
        (kind, state, outcome) for kind in ("EventRetracted", "EventCorrected")
        for state in correction_states() for outcome in ("accepted", "refused")]
    assert len(cells) == 20


def test_a_missing_correction_cell_is_named_and_fails() -> None:
    seen = [c for c in every_correction() if (c.kind, c.state, c.outcome) != ("EventRetracted", "finalised",
                                                                            "refused")]

    report = compare(everything(), corrections=seen)

    assert not report.ok
    assert report.problems() == ["EventRetracted × finalised: no scenario shows it refused"]
    assert report.summary() == ("42/42 transition cells covered, 8/8 guard refusals, "
                                "19/20 correction cells covered")


def test_a_correction_seen_only_accepted_is_not_covered_for_its_refusal() -> None:
    accepted_only = [c for c in every_correction() if c.kind == "EventCorrected" and c.outcome == "accepted"]

    report = compare(everything(), corrections=accepted_only)

    assert report.problems() == [f"{kind} × {state}: no scenario shows it {outcome}"
                                 for kind in ("EventRetracted", "EventCorrected") for state in correction_states()
                                 for outcome in ("accepted", "refused")
                                 if (kind, outcome) != ("EventCorrected", "accepted")]


def test_a_correction_seen_where_there_is_nothing_to_correct_disagrees() -> None:
    stray = CorrectionObservation("EventRetracted", "not_opened", "refused", SCENARIO)

    report = compare(everything(), corrections=[*every_correction(), stray])

    assert not report.ok
    assert report.disagreements == [("EventRetracted × not_opened, refused, is not a correction cell "
                                     f"(seen in «{SCENARIO}»)")]


def test_the_report_lists_every_correction_cell_with_its_scenarios_and_what_is_uncovered() -> None:
    seen = [c for c in every_correction() if c.state != "visit_cancelled"]
    seen.append(CorrectionObservation("EventCorrected", "visit_cancelled", "accepted", "Corrections: a date"))

    written = json.loads(json.dumps(compare(everything(), corrections=seen).to_json()))

    assert written["summary"].endswith("17/20 correction cells covered")
    assert len(written["corrections"]["cells"]) == 20
    assert {"kind": "EventCorrected", "state": "visit_cancelled", "outcome": "accepted",
            "scenarios": ["Corrections: a date"]} in written["corrections"]["cells"]
    assert written["corrections"]["uncovered"] == [
        {"kind": "EventRetracted", "state": "visit_cancelled", "outcome": "accepted"},
        {"kind": "EventRetracted", "state": "visit_cancelled", "outcome": "refused"},
        {"kind": "EventCorrected", "state": "visit_cancelled", "outcome": "refused"}]
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


#: Three scenarios, each the only one of what it shows, cut out of one copy of the features: one
#: run of the feature suite shows that each cut is found (the summary counts them all).
CUTS = (("04_working_level_talks.feature", "Talks under way cannot be opened again"),
        ("05_finalisation.feature", "Talks held before any deal cannot end in a signed agreement"),
        ("12_retractions_and_corrections.feature",
         "The deal cannot be retracted while what followed it stands"))
CUT_SUMMARY = "40/42 transition cells covered, 7/8 guard refusals, 17/20 correction cells covered"


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
    assert ("working_level_talks × WorkingLevelTalksOpened: no scenario shows it refused by the machine"
            in run.stdout)
    assert CUT_SUMMARY in run.stdout
    written = json.loads(report.read_text(encoding="utf-8"))
    assert [(u["state"], u["event"]) for u in written["uncovered"]] == [
        ("working_level_talks", "WorkingLevelTalksOpened"), ("working_level_talks", "AgreementFinalised")]


@pytest.mark.slow
def test_deleting_the_only_scenario_of_a_guard_refusal_fails_the_feature_suite(
        cut_features: NestedRun) -> None:
    run = cut_features

    assert run.returncode != 0, run.stdout
    assert ("working_level_talks × AgreementFinalised: no scenario shows it refused by the guard has_deal"
            in run.stdout)
    assert CUT_SUMMARY in run.stdout


@pytest.mark.slow
def test_deleting_the_scenarios_of_refused_retractions_fails_the_feature_suite(
        cut_features: NestedRun) -> None:
    run, report = cut_features, cut_features.directory / "coverage.json"

    assert run.returncode != 0, run.stdout
    assert "passed" in run.stdout and "failed" not in run.stdout  # every remaining scenario still passes
    assert "spec coverage FAILED" in run.stdout
    for state in ("disputed_terms", "visit_cancelled", "working_level_talks"):
        assert f"EventRetracted × {state}: no scenario shows it refused" in run.stdout
    assert CUT_SUMMARY in run.stdout
    written = json.loads(report.read_text(encoding="utf-8"))
    assert [(u["kind"], u["state"], u["outcome"]) for u in written["corrections"]["uncovered"]] == [
        ("EventRetracted", state, "refused") for state in ("disputed_terms", "visit_cancelled",
                                                          "working_level_talks")]


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
