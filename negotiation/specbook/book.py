"""The spec book: the machines and every feature, as Markdown for a code host and as one HTML page.

Both come from the sources the tests run: the diagram and the transition
table from ``negotiation.domain.machine``; the measure lifecycle table (each
status of a measure × each measure event) and the rules of time (what a day
passing does to a pause, a threat and a deadline) from
``negotiation.domain.measures``; the correction table (each kind of
retraction, correction or denial in each state, accepted and refused) from the
machine's states; the scenarios from ``features/`` (read with the official
Gherkin parser), and each cell's links from the coverage report the feature
suite writes (``build/spec-coverage.json``). The HTML page is
self-contained: styles inline, the diagram an inline SVG, no script.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt

from ..bundled import bundled
from ..domain import machine, measures
from ..domain.payloads import CORRECTION_TYPES
from ..outfiles import write_whole
from . import diagram
from .coverage import (
    CORRECTION_OUTCOMES,
    TIME_OUTCOMES,
    Cell,
    MeasureCell,
    correction_states,
    expected_cells,
    expected_measure_cells,
    expected_time_cells,
    scenario_label,
    scenarios_by_cell,
    scenarios_by_correction_cell,
    scenarios_by_measure_cell,
    scenarios_by_time_cell,
)
from .features import Feature, Scenario, Step, Table, read_features

TITLE = "The negotiation spec book"
#: An outline's ``<parameter>``s; parameters side by side are one code span (two would run their backticks
#: together into one fence).
_PARAMS = re.compile(r"((?:<[^<>]+>)+)")
# ``<`` and ``&`` too: the HTML page is rendered with raw HTML allowed (its anchors and line breaks), so
# text must never read as a tag, a comment or an entity.
_SPECIAL = re.compile(r"([\\`*_\[\]<>|#&])")
_BACKTICKS = re.compile(r"`+")


@dataclass
class Book:
    """The generated book, and what the generator noticed on the way (a stale coverage report…)."""

    markdown: str
    html: str
    warnings: list[str] = field(default_factory=list)
    summary: str | None = None


def default_features_dir() -> Path:
    """The features shipped with the package (or the checkout's ``features/``)."""
    return bundled("features")


def default_coverage_path(features_dir: Path) -> Path:
    """Where the feature suite writes its report: ``build/`` beside ``features/``."""
    return features_dir.resolve().parent / "build" / "spec-coverage.json"


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def md(text: str) -> str:
    """Text as Markdown that shows it literally (also inside a table cell)."""
    return _SPECIAL.sub(r"\\\1", text)


def code_md(text: str) -> str:
    """Text as a Markdown code span: fenced by more backticks than any run of them it holds, so none ends it."""
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""  # one space each side is not shown
    return f"{fence}{pad}{text}{pad}{fence}"


def step_md(text: str) -> str:
    """A step's text; an outline's ``<parameter>`` shows as code, so a code host does not drop it as HTML."""
    parts = _PARAMS.split(text)
    return "".join(md(part) if i % 2 == 0 else code_md(part) for i, part in enumerate(parts))


def table_md(table: Table, indent: str = "") -> list[str]:
    header, *body = table
    lines = ["| " + " | ".join(md(cell) for cell in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(md(cell) for cell in row) + " |" for row in body]
    return [indent + line for line in lines]


def steps_md(steps: Sequence[Step]) -> list[str]:
    lines = []
    for step in steps:
        lines.append(f"- **{step.keyword}** {step_md(step.text)}")
        if step.table:
            lines += ["", *table_md(step.table, "  "), ""]
    return lines


def cell_md(cell: Cell) -> str:
    """What the machine does in a cell, in the table's notation."""
    if not cell.routes:
        return "✗"
    texts, guarded = [], False
    for route in cell.routes:
        move = "↺" if route.dest == cell.state else f"→\u00a0{route.dest}"  # keep the arrow with its state
        guard = diagram.guard_text(route)
        texts.append(("otherwise " if guarded else "") + (f"{move} {guard}" if guard else move))
        guarded = bool(route.guards)
    return "<br>".join(md(text) for text in texts)


def measure_cell_md(cell: MeasureCell) -> str:
    """What the measure machine does in a cell, in the table's notation, a refusal with its reason."""
    if cell.dest is None:
        return md(f"✗ {cell.reason}" if cell.reason else "✗")
    return "↺" if cell.dest == cell.status else md(f"→\u00a0{cell.dest}")


CorrectionKey = tuple[str, str, str]
TimeKey = tuple[str, str, str, str]


class _Index:
    """Scenario numbers and anchors, and which cells (transitions, measures, time, corrections) each shows."""

    def __init__(self, features: Sequence[Feature], coverage: dict[tuple[str, str], list[str]],
                 corrections: dict[CorrectionKey, list[str]] | None = None,
                 lifecycle: dict[tuple[str, str], list[str]] | None = None,
                 times: dict[TimeKey, list[str]] | None = None) -> None:
        self.number: dict[str, int] = {}
        self.anchor: dict[str, str] = {}
        self.problems: list[str] = []
        for feature in features:
            for scenario in feature.scenarios:
                label = scenario_label(feature.name, scenario.name)
                if label in self.number:
                    self.problems.append(f"two scenarios are named «{label}»; pytest-bdd runs only the last")
                    continue
                self.number[label] = len(self.number) + 1
                self.anchor[label] = f"s{self.number[label]}-{slug(scenario.name)}"
        #: For each scenario, what it shows: (the cell's name, the anchor of its table).
        self.shows: dict[str, list[tuple[str, str]]] = defaultdict(list)
        self.cells = {key: self._known(labels, f"{key[0]} × {key[1]}", "transition-table")
                      for key, labels in coverage.items()}
        self.measures = {key: self._known(labels, f"measure {key[0]} × {key[1]}", "measure-table")
                         for key, labels in (lifecycle or {}).items()}
        self.times = {key: self._known(labels, f"{key[0]} {key[1]} → {key[2]} {key[3]}", "time-rules")
                      for key, labels in (times or {}).items()}
        self.corrections = {key: self._known(labels, f"{key[0]} × {key[1]} {key[2]}", "correction-table")
                            for key, labels in (corrections or {}).items()}

    def _known(self, labels: Sequence[str], shown: str, table: str) -> list[str]:
        """The scenarios of a cell that the features have, in book order; any other is a problem."""
        known = [label for label in labels if label in self.number]
        self.problems += [f"the coverage report names «{label}», which no feature has (a stale report?)"
                          for label in labels if label not in self.number]
        for label in known:
            self.shows[label].append((shown, table))
        return sorted(known, key=self.number.__getitem__)

    def links(self, labels: Sequence[str]) -> str:
        return " ".join(f"[S{self.number[label]}](#{self.anchor[label]})" for label in labels)


def _table(index: _Index, covered: bool) -> list[str]:
    events = machine.EVENT_TYPES
    lines = ["| state \\ event | " + " | ".join(events) + " |", "|---" * (len(events) + 1) + "|"]
    cells = {(c.state, c.event): c for c in expected_cells()}
    for state in machine.STATES:
        row = [_linked(cell_md(cells[(state, event)]), index.cells.get((state, event), []), index, covered)
               for event in events]
        lines.append(f"| {md(state)} | " + " | ".join(row) + " |")
    return lines


def _linked(text: str, scenarios: Sequence[str], index: _Index, covered: bool) -> str:
    """A cell's text followed by the links to its scenarios, or by a warning when a run found none."""
    if scenarios:
        return (text + "<br>" if text else "") + index.links(scenarios)
    if covered:
        return (text + "<br>" if text else "") + "**no scenario**"
    return text


def _measure_table(index: _Index, covered: bool) -> list[str]:
    events = measures.MEASURE_EVENTS
    lines = ["| status \\ measure event | " + " | ".join(events) + " |", "|---" * (len(events) + 1) + "|"]
    cells = {(c.status, c.event): c for c in expected_measure_cells()}
    for status in measures.STATUSES:
        row = [_linked(measure_cell_md(cells[(status, event)]), index.measures.get((status, event), []),
                       index, covered) for event in events]
        lines.append(f"| {md(status)} | " + " | ".join(row) + " |")
    return lines


def _time_table(index: _Index, covered: bool) -> list[str]:
    lines = ["| what | when | becomes | " + " | ".join(("on that day", "after it")) + " |", "|---" * 5 + "|"]
    for cell in expected_time_cells():
        row = [_linked(md(cell.seen_as(outcome)),
                       index.times.get((cell.subject, cell.before, cell.after, outcome), []), index, covered)
               for outcome in TIME_OUTCOMES]
        lines.append(f"| {md(f'{cell.subject} {cell.before}')} | {md(cell.passes)} | {md(cell.after)} | "
                     + " | ".join(row) + " |")
    return lines


def _correction_table(index: _Index, covered: bool) -> list[str]:
    columns = [(kind, outcome) for kind in CORRECTION_TYPES for outcome in CORRECTION_OUTCOMES]
    lines = ["| state \\ correction | " + " | ".join(f"{kind} {outcome}" for kind, outcome in columns) + " |",
             "|---" * (len(columns) + 1) + "|"]
    for state in correction_states():
        row = [_linked("", index.corrections.get((kind, state, outcome), []), index, covered)
               for kind, outcome in columns]
        lines.append(f"| {md(state)} | " + " | ".join(row) + " |")
    return lines


def _scenario(index: _Index, feature: Feature, scenario: Scenario) -> list[str]:
    label = scenario_label(feature.name, scenario.name)
    if label not in index.anchor:
        return []
    lines = [f'<a id="{index.anchor[label]}"></a>', "",
             f"#### S{index.number[label]}. {md(scenario.name)}", ""]
    if scenario.keyword != "Scenario":
        lines += [f"*{md(scenario.keyword)}: one run per row of its examples.*", ""]
    if scenario.description:
        lines += [md(scenario.description), ""]
    lines += [*steps_md(scenario.steps), ""]
    for examples in scenario.examples:
        title = f"Examples: {md(examples.name)}" if examples.name else "Examples"
        lines += [f"**{title}**", "", *table_md(examples.table), ""]
    if index.shows.get(label):
        shown = ", ".join(f"[{md(cell)}](#{table})" for cell, table in index.shows[label])
        lines += [f"*Shows:* {shown}", ""]
    return lines


def _markdown(features: Sequence[Feature], index: _Index, report: dict[str, Any] | None,
              features_dir: Path, picture: str) -> str:
    summary = (f"The feature suite's last run: **{md(str(report['summary']))}**." if report
               else "No coverage report was found, so the tables' cells do not link to the scenarios that "
                    "show them: the links are filled in once the behaviour specs have been run.")
    lines = [f"# {TITLE}", "",
             f"Generated by `negotiation docs` from `{md(features_dir.name)}/` and the state machine in "
             "`negotiation/domain/machine.py`: do not edit it, edit the features. " + summary, "",
             "- [The state machine](#the-state-machine)", "- [Transition table](#transition-table)",
             "- [Measure lifecycle table](#measure-table)", "- [Rules of time](#time-rules)",
             "- [Correction table](#correction-table)"]
    lines += [f"- [{md(f.name)}](#feature-{slug(f.name)})" for f in features]
    lines += ["", '<a id="the-state-machine"></a>', "", "## The state machine", "", picture, "",
              '<a id="transition-table"></a>', "", "## Transition table", "",
              ("Rows are the state before the event, columns the event. `→ X`: the negotiation moves to X; "
               "`↺`: the event is recorded and the state stays; `✗`: refused, with a message naming the "
               "negotiation, its state, the event and what is allowed, and nothing is recorded. "
               "S-numbers link to the scenarios that show the cell."), "",
              *_table(index, report is not None), "",
              '<a id="measure-table"></a>', "", "## Measure lifecycle table", "",
              ("Beside the phase, each measure (a tariff, a quota, port fees) has a life of its own, run "
               "by a second machine in `negotiation/domain/measures.py`; no measure event moves the phase. "
               "Rows are the status of the measure at the event's date (time included: a pause that has "
               "lapsed finds the measure in force), columns the measure event. `→ X`: the measure is then "
               "X; `↺`: recorded, the status stays; `✗`: refused, with the reason the message gives, and "
               "nothing is recorded."), "",
              *_measure_table(index, report is not None), "",
              '<a id="time-rules"></a>', "", "## Rules of time", "",
              ("Some outcomes come from the calendar, with no event: a pause lapses, a threat lapses, a "
               "deadline passes, once its day has ended. Each rule is shown on its last day (the status "
               "still holds) and after it (the status has changed, with nothing recorded that day)."), "",
              *_time_table(index, report is not None), "",
              '<a id="correction-table"></a>', "", "## Correction table", "",
              ("Retractions, corrections and denials are no steps of the machine: they change the story, "
               "the negotiation's events in the order they happened (a denial only marks the event denied, "
               "which stays). Each is accepted when the story after it is legal, and refused, with nothing "
               "recorded, when it would break the story or asks for what cannot be (a version the "
               "negotiation does not have, an event already retracted, a correction that changes nothing, a "
               "denial of a correction). Rows are the state the negotiation is in before it (`not_opened` "
               "included: a negotiation known only from the pressure put on it), columns each kind and "
               "outcome; S-numbers link to the scenarios that show it."), "",
              *_correction_table(index, report is not None), "", "## Features", ""]
    for feature in features:
        lines += [f'<a id="feature-{slug(feature.name)}"></a>', "", f"### {md(feature.name)}", "",
                  f"*{md(features_dir.name + '/' + feature.path.relative_to(features_dir).as_posix())}*", ""]
        if feature.description:
            paragraphs = feature.description.split("\n\n")
            lines += [md(paragraph.replace("\n", " ")) + "\n" for paragraph in paragraphs]
        if feature.background:
            lines += ["**Every scenario below starts from:**", "", *steps_md(feature.background), ""]
        for scenario in feature.scenarios:
            lines += _scenario(index, feature, scenario)
    return "\n".join(lines).rstrip() + "\n"


_CSS = """
body{margin:0;font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
  color:#1f2328;background:#f6f8fa}
main{max-width:1480px;margin:0 auto;padding:28px 40px 80px;background:#fff;min-height:100vh;
  box-shadow:0 0 0 1px #e4e7eb}
h1{font-size:2em;margin:.2em 0 .4em}h2{margin-top:2em;padding-bottom:.3em;border-bottom:1px solid #d8dee4}
h3{margin-top:2.2em;font-size:1.35em;color:#0b4f79}h4{margin:1.6em 0 .5em;font-size:1.05em}
code{font:.88em ui-monospace,"DejaVu Sans Mono",monospace;background:#eff1f3;padding:.1em .35em;
  border-radius:4px}
table{border-collapse:collapse;margin:.6em 0 1em;font-size:.9em}
th,td{border:1px solid #d0d7de;padding:5px 9px;vertical-align:top;text-align:left;overflow-wrap:anywhere}
th{background:#f3f5f7}tr:nth-child(even) td{background:#fafbfc}
a{color:#0969da;text-decoration:none}a:hover{text-decoration:underline}
ul{padding-left:1.4em}li{margin:.15em 0}li strong{color:#6f42c1}
.diagram{overflow-x:auto;border:1px solid #e4e7eb;border-radius:8px;padding:8px;background:#fcfcfd}
.diagram svg{display:block;margin:0 auto;width:100%;height:auto}
table.cells,table.measures{table-layout:fixed;width:100%}
table.cells th,table.measures th{overflow-wrap:anywhere;font-size:.92em}
table.cells td:first-child,table.measures td:first-child,table.time-rules td:first-child{font-weight:600;
  overflow-wrap:anywhere}
td.allowed{background:#eef8f0 !important}td.refused{background:#f6f6f7 !important;color:#57606a}
.edge{fill:none;stroke:#6a737d;stroke-width:1.4}.label-bg{fill:#fff;opacity:.92}
.label{font:12px system-ui,"DejaVu Sans",sans-serif;text-anchor:middle;fill:#24292f}
.name{font:600 15px system-ui,"DejaVu Sans",sans-serif;text-anchor:middle;fill:#1f2328}
.loop{font:12px system-ui,"DejaVu Sans",sans-serif;fill:#444}
.note{font:italic 12px system-ui,sans-serif;fill:#6a737d}
"""


def _html(body_md: str) -> str:
    body = MarkdownIt("commonmark", {"html": True}).enable("table").render(body_md)
    # Tint the transition table's cells by outcome; its header row is the only one naming "state \ event".
    head = "<thead>\n<tr>\n<th>state \\ event</th>"
    body = body.replace(f"<table>\n{head}", f'<table class="cells">\n{head}', 1)
    corrections = "<thead>\n<tr>\n<th>state \\ correction</th>"
    body = body.replace(f"<table>\n{corrections}", f'<table class="corrections">\n{corrections}', 1)
    lifecycle = "<thead>\n<tr>\n<th>status \\ measure event</th>"
    body = body.replace(f"<table>\n{lifecycle}", f'<table class="measures">\n{lifecycle}', 1)
    rules = "<thead>\n<tr>\n<th>what</th>\n<th>when</th>"
    body = body.replace(f"<table>\n{rules}", f'<table class="time-rules">\n{rules}', 1)
    body = re.sub(r"<th>([A-Z][a-z]+(?:[A-Z][a-z]+)+)</th>",  # break long event names between words only
                  lambda m: "<th>" + re.sub(r"(?<=[a-z])(?=[A-Z])", "<wbr>", m.group(1)) + "</th>", body)
    body = re.sub(r"<td>(?=[→↺])", '<td class="allowed">', body)
    body = re.sub(r"<td>(?=✗)", '<td class="refused">', body)
    return ("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{TITLE}</title><style>{_CSS}</style></head>\n<body><main>\n{body}</main></body></html>\n")


def build(features_dir: Path, coverage: Path | None = None) -> Book:
    """Generate the book from ``features_dir`` and, when it exists, the coverage report at ``coverage``."""
    features_dir = features_dir.resolve()
    features = read_features(features_dir)
    coverage = coverage or default_coverage_path(features_dir)
    report = json.loads(coverage.read_text(encoding="utf-8")) if coverage.is_file() else None
    try:
        links = scenarios_by_cell(report) if report else {}
        corrections = scenarios_by_correction_cell(report) if report else {}
        lifecycle = scenarios_by_measure_cell(report) if report else {}
        times = scenarios_by_time_cell(report) if report else {}
    except (KeyError, TypeError, AttributeError) as e:
        raise ValueError(f"not the feature suite's coverage JSON (no {e})") from e
    index = _Index(features, links, corrections, lifecycle, times)
    mermaid = f"```mermaid\n{diagram.mermaid()}\n```"
    svg = f'<div class="diagram">{diagram.svg()}</div>'
    return Book(_markdown(features, index, report, features_dir, mermaid),
                _html(_markdown(features, index, report, features_dir, svg)), index.problems,
                report["summary"] if report else None)


def write(out: Path, features_dir: Path, coverage: Path | None = None) -> Book:
    """Write ``spec.md`` and ``index.html`` into ``out``."""
    book = build(features_dir, coverage)
    write_whole(out / "spec.md", book.markdown)
    write_whole(out / "index.html", book.html)
    return book
