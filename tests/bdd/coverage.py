"""A pytest plugin that measures which cells of the specification's tables the feature suite exercises.

Each scenario's recording step reports what it saw: a phase event in its
state (``observe``), a measure event in the measure's status (``observe_measure``),
and each retraction, correction or denial whether it was accepted in the
negotiation's state (``observe_correction``); each step asking for a measure or
a deadline at a time reports what time had made of it (``observe_time``).
When the session ends, the observations are compared with the machines' own
tables, the rules of time and the correction matrix
(``negotiation.specbook.coverage``), the report is written (``--spec-coverage FILE``,
else ``$NEGOTIATION_SPEC_COVERAGE``, else ``negotiation-spec-coverage.json`` in the system's temporary
directory: never into the checkout) and one summary line is printed. The session
fails when a cell has no scenario or an outcome disagrees with the machine.

Under pytest-xdist each worker sends what it saw to the controller, which checks the whole.

The check needs the whole feature suite, so it runs only when every scenario
of every feature file (every row of every Examples table) ran on at least one
backend; a run narrowed with ``-k``, a node id or ``-x`` prints why it was not
checked instead. ``-m "not postgres"`` runs every scenario, so it is checked.

Environment: ``NEGOTIATION_FEATURES_DIR`` runs the features of another
directory; ``NEGOTIATION_SPEC_COVERAGE`` writes the report elsewhere.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import astuple
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd.feature import get_features
from pytest_bdd.parser import Feature, Scenario

from negotiation.specbook.coverage import (
    CorrectionObservation,
    CorrectionOutcome,
    MeasureObservation,
    Observation,
    Outcome,
    Report,
    TimeObservation,
    TimeOutcome,
    compare,
    scenario_label,
)

PLUGIN_NAME = "negotiation-spec-coverage"
FEATURES_ENV = "NEGOTIATION_FEATURES_DIR"
REPORT_ENV = "NEGOTIATION_SPEC_COVERAGE"

Seen = Observation | CorrectionObservation | MeasureObservation | TimeObservation

# A scenario as run: its file, its line and its steps with the Examples row filled in.
Instance = tuple[str, int, tuple[str, ...]]


def feature_paths() -> list[str]:
    """What ``scenarios()`` collects: the override directory, else the configured base directory."""
    override = os.environ.get(FEATURES_ENV)
    return [str(Path(override).resolve())] if override else [""]


def features_dir(config: pytest.Config) -> Path:
    override = os.environ.get(FEATURES_ENV)
    if override:
        return Path(override).resolve()
    return (config.rootpath / str(config.getini("bdd_features_base_dir") or "features")).resolve()


def instance(filename: str, scenario: Scenario) -> Instance:
    return (os.path.abspath(filename), scenario.line_number, tuple(step.name for step in scenario.steps))


def all_instances(directory: Path) -> set[Instance]:
    """Every scenario the feature files hold, one per Examples row, as pytest-bdd runs them."""
    found = set()
    for feature in get_features([str(directory)]):
        for template in feature.scenarios.values():
            contexts = [context for examples in template.examples for context in examples.as_contexts()]
            for context in contexts or [{}]:
                found.add(instance(feature.filename, template.render(context)))
    return found


class SpecCoverage:
    """Collects observations during the run and checks them against the machine at the end."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.observations: list[Observation] = []
        self.corrections: list[CorrectionObservation] = []
        self.measures: list[MeasureObservation] = []
        self.times: list[TimeObservation] = []
        self.ran: set[Instance] = set()
        self.current: str | None = None
        self.report: Report | None = None
        self.not_checked: str | None = None
        self.written: Path | None = None
        # Where each scenario is written (file, line): observations are checked in that order,
        # however the run was spread over processes.
        self.where: dict[str, tuple[str, int]] = {}

    @pytest.hookimpl
    def pytest_bdd_before_scenario(self, feature: Feature, scenario: Scenario) -> None:
        # Name the scenario as written (an outline's name before its Examples fill it in).
        templates = feature.scenarios.values()
        template = next((t for t in templates if t.line_number == scenario.line_number), None)
        self.current = scenario_label(feature.name, template.name if template else scenario.name)
        self.ran.add(instance(feature.filename, scenario))
        self.where.setdefault(self.current, (os.path.abspath(feature.filename), scenario.line_number))

    @pytest.hookimpl
    def pytest_bdd_after_scenario(self) -> None:
        self.current = None

    def observe(self, state: str, event: str, outcome: Outcome, *, after: str | None = None,
                offered: bool = False, guards: tuple[str, ...] = ()) -> None:
        """Note what the running scenario saw when it recorded one event."""
        if self.current is None:
            raise RuntimeError("an event was recorded outside a scenario")
        self.observations.append(Observation(state, event, outcome, self.current, after, offered, guards))

    def observe_correction(self, kind: str, state: str, outcome: CorrectionOutcome) -> None:
        """Note what the running scenario saw when it retracted, corrected or denied an event in ``state``."""
        self.corrections.append(CorrectionObservation(kind, state, outcome, self._scenario("a correction")))

    def observe_measure(self, status: str, event: str, outcome: Outcome, *, after: str | None = None) -> None:
        """Note what the running scenario saw when it recorded a measure event on a measure in ``status``."""
        scenario = self._scenario("a measure event")
        self.measures.append(MeasureObservation(status, event, outcome, scenario, after))

    def observe_time(self, subject: str, before: str, after: str, outcome: TimeOutcome) -> None:
        """Note what the running scenario saw time make of a measure or a deadline its events left
        ``before``."""
        scenario = self._scenario("a question of time")
        self.times.append(TimeObservation(subject, before, after, outcome, scenario))

    def _scenario(self, what: str) -> str:
        if self.current is None:
            raise RuntimeError(f"{what} was observed outside a scenario")
        return self.current

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        """An xdist worker is done: take in what its scenarios saw."""
        seen = getattr(node, "workeroutput", {}).get(PLUGIN_NAME)
        if seen is None:
            return
        self.observations += [Observation(*fields[:-1], tuple(fields[-1])) for fields in seen["observations"]]
        self.corrections += [CorrectionObservation(*fields) for fields in seen["corrections"]]
        self.measures += [MeasureObservation(*fields) for fields in seen["measures"]]
        self.times += [TimeObservation(*fields) for fields in seen["times"]]
        self.ran |= {(filename, line, tuple(steps)) for filename, line, steps in seen["ran"]}
        for label, (filename, line) in seen["where"].items():
            self.where.setdefault(label, (filename, line))

    def report_path(self) -> Path:
        chosen = self.config.getoption("spec_coverage", None) or os.environ.get(REPORT_ENV)
        if chosen:
            return Path(chosen).resolve()
        # Outside the checkout, where the last run's report can still be read after the session.
        return Path(tempfile.gettempdir()) / "negotiation-spec-coverage.json"

    @pytest.hookimpl
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if hasattr(self.config, "workeroutput"):  # an xdist worker: the controller checks
            self.config.workeroutput[PLUGIN_NAME] = {
                "observations": [astuple(seen) for seen in self.observations],
                "corrections": [astuple(seen) for seen in self.corrections],
                "measures": [astuple(seen) for seen in self.measures],
                "times": [astuple(seen) for seen in self.times],
                "ran": sorted(self.ran), "where": self.where}
            return
        if not self.ran:
            return
        expected = all_instances(features_dir(self.config))
        missing = expected - self.ran
        if missing:
            self.not_checked = f"{len(missing)} of {len(expected)} feature scenarios did not run"
            return
        last = (os.sep, 0)

        def where(seen: Seen) -> tuple[str, int]:
            return self.where.get(seen.scenario, last)

        self.report = compare(sorted(self.observations, key=where),
                              corrections=sorted(self.corrections, key=where),
                              measures=sorted(self.measures, key=where), times=sorted(self.times, key=where))
        out = self.written = self.report_path()
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(self.report.to_json(), indent=2, ensure_ascii=False) + "\n",
                       encoding="utf-8")
        if not self.report.ok and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    @pytest.hookimpl
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.report is None:
            if self.not_checked:
                terminalreporter.write_line(f"spec coverage not checked: {self.not_checked}")
            return
        terminalreporter.write_line(f"spec coverage report: {self.written}")
        if self.report.ok:
            terminalreporter.write_line(self.report.summary(), green=True)
            return
        terminalreporter.write_sep("=", "spec coverage FAILED: the features do not match the machines",
                                   red=True)
        for problem in self.report.problems():
            terminalreporter.write_line(f"  {problem}", red=True)
        terminalreporter.write_line(self.report.summary(), red=True)
