"""The spec book: generated from the features and the machines, readable on a code host and offline."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from negotiation import EVENT_TYPES, STATES
from negotiation.cli import main
from negotiation.domain import machine, measures
from negotiation.specbook import book as docs
from negotiation.specbook.coverage import (
    TIME_OUTCOMES,
    CorrectionObservation,
    MeasureObservation,
    Observation,
    TimeObservation,
    compare,
    correction_states,
    expected_cells,
    expected_correction_cells,
    expected_measure_cells,
    expected_time_cells,
    scenario_label,
)
from negotiation.specbook.diagram import mermaid
from negotiation.specbook.features import read_features

ROOT = Path(__file__).resolve().parent.parent
FEATURES = ROOT / "features"
IN_CI = os.environ.get("CI", "").lower() == "true"


def labels() -> list[str]:
    return [scenario_label(f.name, s.name) for f in read_features(FEATURES) for s in f.scenarios]


def write_coverage(path: Path) -> Path:
    """A coverage report as the feature suite writes it, naming real scenarios (independent of test order)."""
    names = labels()
    seen = []
    for i, cell in enumerate(expected_cells()):
        seen += [Observation(cell.state, cell.event, "allowed", names[i % len(names)], after=dest)
                 for dest in cell.destinations]
        if not cell.routes:
            seen.append(Observation(cell.state, cell.event, "refused", names[(i + 7) % len(names)]))
        seen += [Observation(cell.state, cell.event, "refused", names[(i + 7) % len(names)], guards=(guard,))
                 for guard in cell.guards if cell.guarded]
    corrections = [CorrectionObservation(c.kind, c.state, c.outcome, names[(i + 3) % len(names)])
                   for i, c in enumerate(expected_correction_cells())]
    steps = [MeasureObservation(c.status, c.event, c.expected, names[(i + 5) % len(names)], c.dest)
             for i, c in enumerate(expected_measure_cells())]
    times = [TimeObservation(c.subject, c.before, c.before if outcome == "held" else c.after, outcome,
                             names[(i + 11) % len(names)])
             for i, c in enumerate(expected_time_cells()) for outcome in TIME_OUTCOMES]
    report = compare(seen, corrections=corrections, measures=steps, times=times)
    path.write_text(json.dumps(report.to_json()), encoding="utf-8")
    return path


@pytest.fixture
def coverage(tmp_path: Path) -> Path:
    """The coverage report, in the test's own directory: the test may change it."""
    return write_coverage(tmp_path / "spec-coverage.json")


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The book written from the features and that coverage report, once for the module: its tests only read it."""
    here = tmp_path_factory.mktemp("book")
    out = here / "spec"
    docs.write(out, FEATURES, write_coverage(here / "spec-coverage.json"))
    return out


def table_rows(markdown: str, title: str = "Transition table") -> list[list[str]]:
    section = markdown.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines]


# -- spec.md -----------------------------------------------------------------------------------


def test_the_book_opens_with_a_mermaid_state_diagram_naming_every_state(book: Path) -> None:
    markdown = (book / "spec.md").read_text(encoding="utf-8")

    block = re.search(r"```mermaid\n(.*?)\n```", markdown, re.DOTALL)

    assert block, "no mermaid block"
    assert "stateDiagram-v2" in block[1]
    for state in STATES:
        assert f'state "{state}" as {state}' in block[1]


def test_the_mermaid_diagram_draws_every_transition_of_the_machine() -> None:
    drawn = mermaid()

    for transition in machine.TRANSITIONS:
        source, trigger = transition["source"], transition["trigger"]
        dest = transition["dest"] or source
        assert re.search(rf"^\s*{source} --> {dest}: .*\b{trigger}\b", drawn, re.MULTILINE), (source, trigger)
    assert f"[*] --> {machine.NOT_OPENED}" in drawn
    assert "s_active" not in drawn.split("classDef s_previous", 1)[1], "a spec marks no state as current"


def test_the_transition_table_has_a_row_per_state_and_a_column_per_event(book: Path) -> None:
    rows = table_rows((book / "spec.md").read_text(encoding="utf-8"))

    assert rows[0] == ["state \\ event", *EVENT_TYPES]
    assert [row[0].replace("\\_", "_") for row in rows[1:]] == list(STATES)
    finalised = rows[1 + STATES.index("finalised")]
    assert [cell.startswith("✗") for cell in finalised[1:]] == [False, False, True, False, False, False, True,
                                                                False]
    suspended = rows[1 + STATES.index("talks_suspended")]
    assert [cell.startswith("✗") for cell in suspended[1:]] == [False] * 6 + [True, False]
    talks = rows[1 + STATES.index("working_level_talks")]
    finalising = talks[1 + EVENT_TYPES.index("AgreementFinalised")].replace("\\_", "_")
    assert "finalised with a deal in principle and once no point is open" in finalising
    announcing = talks[1 + EVENT_TYPES.index("AgreedInPrinciple")].replace("\\_", "_")
    assert announcing.startswith("→\u00a0disputed_terms while a point is open<br>"
                                 "otherwise →\u00a0agreed_in_principle")


def test_every_cell_links_to_scenario_headings_further_down(book: Path) -> None:
    markdown = (book / "spec.md").read_text(encoding="utf-8")
    anchors = set(re.findall(r'<a id="([^"]+)"></a>', markdown))

    cells = [cell for row in table_rows(markdown)[1:] for cell in row[1:]]
    targets = [re.findall(r"\]\(#([^)]+)\)", cell) for cell in cells]

    assert len(cells) == 56
    assert all(targets), "a cell without a link to its scenarios"
    for anchor in {t for found in targets for t in found}:
        assert anchor in anchors
        assert re.search(rf'<a id="{anchor}"></a>\n\n#### S\d+\. ', markdown)


def test_the_correction_table_has_a_row_per_state_and_a_column_per_kind_and_outcome(book: Path) -> None:
    rows = table_rows((book / "spec.md").read_text(encoding="utf-8"), "Correction table")

    assert rows[0] == ["state \\ correction", "EventRetracted accepted", "EventRetracted refused",
                       "EventCorrected accepted", "EventCorrected refused", "ReportDenied accepted",
                       "ReportDenied refused"]
    assert [row[0].replace("\\_", "_") for row in rows[1:]] == list(correction_states()) == list(STATES)


def test_every_correction_cell_links_to_scenario_headings_further_down(book: Path) -> None:
    markdown = (book / "spec.md").read_text(encoding="utf-8")
    anchors = set(re.findall(r'<a id="([^"]+)"></a>', markdown))

    cells = [cell for row in table_rows(markdown, "Correction table")[1:] for cell in row[1:]]
    targets = [re.findall(r"\]\(#([^)]+)\)", cell) for cell in cells]

    assert len(cells) == 42
    assert all(targets), "a correction cell without a link to its scenarios"
    for anchor in {t for found in targets for t in found}:
        assert anchor in anchors
        assert re.search(rf'<a id="{anchor}"></a>\n\n#### S\d+\. ', markdown)
    assert "[EventRetracted × finalised refused](#correction-table)" in markdown.replace("\\_", "_")
    assert "[ReportDenied × not_opened accepted](#correction-table)" in markdown.replace("\\_", "_")


def test_a_correction_cell_no_scenario_shows_says_so(tmp_path: Path, coverage: Path) -> None:
    report = json.loads(coverage.read_text(encoding="utf-8"))
    for cell in report["corrections"]["cells"]:
        if (cell["kind"], cell["state"], cell["outcome"]) == ("EventCorrected", "finalised", "refused"):
            cell["scenarios"] = []
    coverage.write_text(json.dumps(report), encoding="utf-8")

    rows = table_rows(docs.build(FEATURES, coverage).markdown, "Correction table")

    finalised = next(row for row in rows if row[0].replace("\\_", "_") == "finalised")
    assert finalised[4] == "**no scenario**"
    assert [cell for row in rows[1:] for cell in row[1:]].count("**no scenario**") == 1


def links_of(markdown: str, title: str) -> list[list[str]]:
    """The anchors each cell of a table links to, checked to be scenario headings further down."""
    anchors = set(re.findall(r'<a id="([^"]+)"></a>', markdown))
    cells = [cell for row in table_rows(markdown, title)[1:] for cell in row[1:]]
    targets = [re.findall(r"\]\(#([^)]+)\)", cell) for cell in cells]
    for anchor in {t for found in targets for t in found}:
        assert anchor in anchors
        assert re.search(rf'<a id="{anchor}"></a>\n\n#### S\d+\. ', markdown)
    return targets


def test_the_measure_lifecycle_table_has_a_row_per_status_and_a_column_per_measure_event(book: Path) -> None:
    rows = table_rows((book / "spec.md").read_text(encoding="utf-8"), "Measure lifecycle table")

    assert rows[0] == ["status \\ measure event", *measures.MEASURE_EVENTS]
    assert [row[0].replace("\\_", "_") for row in rows[1:]] == list(measures.STATUSES)
    for row in rows[1:]:
        status = row[0].replace("\\_", "_")
        for event, text in zip(measures.MEASURE_EVENTS, row[1:]):
            shown = text.split("<br>", 1)[0].replace("\\_", "_")
            if (status, event) in measures.REFUSALS:
                assert shown == f"✗ {measures.REFUSALS[(status, event)]}", (status, event)
            else:
                dest = measures.ROUTES[(status, event)]
                assert shown == ("↺" if dest == status else f"→\u00a0{dest}"), (status, event)


def test_every_measure_cell_links_to_scenario_headings_further_down(book: Path) -> None:
    markdown = (book / "spec.md").read_text(encoding="utf-8")

    targets = links_of(markdown, "Measure lifecycle table")

    assert len(targets) == 24
    assert all(targets), "a measure cell without a link to its scenarios"
    assert "[measure lifted × MeasureLifted](#measure-table)" in markdown.replace("\\_", "_")


def test_a_measure_cell_no_scenario_shows_says_so(coverage: Path) -> None:
    report = json.loads(coverage.read_text(encoding="utf-8"))
    for cell in report["measures"]["cells"]:
        if (cell["status"], cell["event"]) == ("threat_lapsed", "MeasurePaused"):
            cell["scenarios"] = []
    coverage.write_text(json.dumps(report), encoding="utf-8")

    rows = table_rows(docs.build(FEATURES, coverage).markdown, "Measure lifecycle table")

    lapsed = next(row for row in rows if row[0].replace("\\_", "_") == "threat_lapsed")
    assert lapsed[3] == "✗ the threat lapsed; it was never in force<br>**no scenario**"
    assert sum("**no scenario**" in cell for row in rows[1:] for cell in row[1:]) == 1


def test_the_rules_of_time_have_a_row_each_and_every_outcome_links_to_its_scenarios(book: Path) -> None:
    markdown = (book / "spec.md").read_text(encoding="utf-8")
    rows = table_rows(markdown, "Rules of time")

    assert rows[0] == ["what", "when", "becomes", "on that day", "after it"]
    plain = [[cell.replace("\\_", "_") for cell in row[:3]] for row in rows[1:]]
    assert [tuple(row) for row in plain] == [
        ("measure paused", "the day it was paused until ends", "in_force"),
        ("measure threatened", "the day it would take effect ends unacted", "threat_lapsed"),
        ("measure in_force", "an imposition announced ahead is only threatened until its effective_from day",
         "threatened"),
        ("deadline pending", "its day ends", "passed")]
    assert rows[1][3].startswith("still paused on that day<br>[S")
    assert rows[3][3].replace("\\_", "_").startswith("in_force from that day<br>[S")
    assert rows[3][4].startswith("threatened before that day<br>[S")
    assert rows[4][4].startswith("passed once that day ended<br>[S")
    targets = [found[2:] for found in zip(*[iter(links_of(markdown, "Rules of time"))] * 4)]
    assert len(targets) == 4 and all(all(outcome) for outcome in targets), "an outcome without its scenarios"
    assert "[deadline pending → passed changed](#time-rules)" in markdown


def test_an_outcome_of_time_no_scenario_shows_says_so(coverage: Path) -> None:
    report = json.loads(coverage.read_text(encoding="utf-8"))
    report["time"]["rules"][1]["scenarios"]["held"] = []
    coverage.write_text(json.dumps(report), encoding="utf-8")

    rows = table_rows(docs.build(FEATURES, coverage).markdown, "Rules of time")

    assert rows[2][3] == "still threatened on that day<br>**no scenario**"
    assert sum("**no scenario**" in cell for row in rows[1:] for cell in row[1:]) == 1


def test_every_feature_and_scenario_reads_as_prose(book: Path) -> None:
    markdown = (book / "spec.md").read_text(encoding="utf-8")

    for feature in read_features(FEATURES):
        assert f"### {docs.md(feature.name)}" in markdown
        for scenario in feature.scenarios:
            assert re.search(rf"#### S\d+\. {re.escape(docs.md(scenario.name))}\n", markdown), scenario.name
    assert '- **When** "`<event>`" is recorded' in markdown  # an outline's parameter survives Markdown
    assert "| reciprocal tariff | 15% |" in markdown  # a step's data table
    assert "**Examples**" in markdown


def test_without_a_coverage_report_the_book_says_how_to_link_the_cells(tmp_path: Path) -> None:
    book = docs.build(FEATURES, tmp_path / "missing.json")

    assert "No coverage report was found" in book.markdown
    assert "](#s" not in book.markdown.split("## Features", 1)[0]
    assert "no scenario" not in book.markdown.split("## Features", 1)[0]
    assert book.summary is None


def test_a_coverage_report_naming_an_unknown_scenario_is_a_warning(tmp_path: Path, coverage: Path) -> None:
    report = json.loads(coverage.read_text(encoding="utf-8"))
    report["cells"][0]["scenarios"].append("Opening a negotiation: a scenario since renamed")
    coverage.write_text(json.dumps(report), encoding="utf-8")

    book = docs.build(FEATURES, coverage)

    assert book.warnings == [("the coverage report names «Opening a negotiation: a scenario since renamed», "
                              "which no feature has (a stale report?)")]


def test_two_scenarios_with_one_name_are_a_warning(tmp_path: Path) -> None:
    features = tmp_path / "features"
    features.mkdir()
    (features / "a.feature").write_text(
        "Feature: Twins\n\n  Scenario: Same\n    Given it is in state \"finalised\"\n\n"
        "  Scenario: Same\n    Given it is in state \"disputed_terms\"\n", encoding="utf-8")

    book = docs.build(features, tmp_path / "none.json")

    assert book.warnings == ["two scenarios are named «Twins: Same»; pytest-bdd runs only the last"]


def test_the_readmes_measure_lifecycle_table_says_what_the_measure_machine_does() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## The state machine\n", 1)[1].split("\n## ", 1)[0]  # beside the phase table
    lifecycle = section.split("| status \\ event | MeasureThreatened |", 1)[1].split("\n\n", 1)[0]
    told = [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lifecycle.splitlines()[2:]]

    assert [row[0] for row in told] == list(measures.STATUSES)
    for status, *cells in told:
        for event, text in zip(measures.MEASURE_EVENTS, cells, strict=True):
            if (status, event) in measures.REFUSALS:
                assert text == f"✗ ({measures.REFUSALS[(status, event)]})", (status, event)
            elif measures.ROUTES[(status, event)] == status:
                assert text.startswith("↺"), (status, event)
            else:
                assert text.split(" (", 1)[0] == f"→ {measures.ROUTES[(status, event)]}", (status, event)


# -- index.html --------------------------------------------------------------------------------


def test_the_html_page_needs_no_network_and_no_script(book: Path) -> None:
    html = (book / "index.html").read_text(encoding="utf-8")

    assert "<script" not in html
    assert re.findall(r"(?:src|href)=\"https?:", html) == []
    assert "<svg" in html and "```mermaid" not in html


class _Rendered(HTMLParser):
    """The names drawn in the diagram and the rows of the book's tables, from a DOM dump."""

    def __init__(self) -> None:
        super().__init__()
        self.svg_text: list[str] = []
        self.tables: dict[str, list[list[str]]] = {"cells": [], "corrections": [], "measures": [],
                                                   "time-rules": []}
        self._in: list[str] = []
        self._table: list[list[str]] | None = None

    @property
    def rows(self) -> list[list[str]]:
        return self.tables["cells"]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in.append(tag)
        if tag == "table":
            self._table = self.tables.get(dict(attrs).get("class") or "")
        if self._table is not None and tag == "tr":
            self._table.append([])
        if self._table and tag in ("td", "th"):
            self._table[-1].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        while self._in and self._in.pop() != tag:
            pass

    def handle_data(self, data: str) -> None:
        if "svg" in self._in and self._in[-1] == "text":
            self.svg_text.append(data)
        elif self._table and self._table[-1] and self._in[-1] in ("td", "th", "a", "br", "wbr", "strong"):
            self._table[-1][-1] += data


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if IN_CI:
        pytest.fail("chromium is not installed (CI=true requires it: apt-get install chromium)")
    pytest.skip("chromium is not installed: apt-get install chromium chromium-driver")


@pytest.mark.slow
def test_the_html_page_renders_the_diagram_and_the_table_in_headless_chromium(
        book: Path, tmp_path: Path) -> None:
    browser = chromium()
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run",
             f"--user-data-dir={tmp_path / 'profile'}"]
    page = (book / "index.html").as_uri()

    # One launch: the page drawn at 1400 by 1800 pixels, its DOM printed and its picture taken.
    dom = subprocess.run([*flags, "--window-size=1400,1800", "--dump-dom", f"--screenshot={tmp_path / 'page.png'}",
                          page], capture_output=True, text=True, timeout=120, check=False)

    assert dom.returncode == 0, dom.stderr[-2000:]
    rendered = _Rendered()
    rendered.feed(dom.stdout)
    for state in STATES:
        assert state in rendered.svg_text, f"{state} is not drawn"
    assert [row[0] for row in rendered.rows] == ["state \\ event", *STATES]
    assert ["".join(cell.split()) for cell in rendered.rows[0][1:]] == list(EVENT_TYPES)
    corrections = rendered.tables["corrections"]
    assert [row[0] for row in corrections] == ["state \\ correction", *correction_states()]
    assert all(re.fullmatch(r"S\d+( S\d+)*", cell.strip()) for row in corrections[1:] for cell in row[1:])
    lifecycle = rendered.tables["measures"]
    assert [row[0] for row in lifecycle] == ["status \\ measure event", *measures.STATUSES]
    assert all(re.search(r"S\d+$", cell.strip()) for row in lifecycle[1:] for cell in row[1:])
    rules = rendered.tables["time-rules"]
    assert [row[0] for row in rules] == ["what", "measure paused", "measure threatened", "measure in_force",
                                         "deadline pending"]
    png = (tmp_path / "page.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000  # a page with a drawing, not a blank one


# -- the command -------------------------------------------------------------------------------


def test_the_docs_command_writes_the_book(tmp_path: Path, coverage: Path) -> None:
    out = tmp_path / "book"

    result = CliRunner().invoke(main, ["docs", "--out", str(out), "--features", str(FEATURES),
                                       "--coverage", str(coverage)])

    assert result.exit_code == 0, result.output
    assert ("56/56 transition cells covered, 7/7 guard refusals, 24/24 measure cells covered, "
            "4/4 time rules covered, 42/42 correction cells covered") in result.output
    assert (out / "spec.md").is_file() and (out / "index.html").is_file()


def test_the_docs_command_without_features_fails_in_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "features"
    empty.mkdir()

    result = CliRunner().invoke(main, ["docs", "--out", str(tmp_path / "book"), "--features", str(empty)])

    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [f"Error: no feature files in: {empty}"]


def test_the_docs_command_finds_the_features_of_this_checkout() -> None:
    assert docs.default_features_dir() == FEATURES


@pytest.mark.parametrize("content", ["not json at all", "[1, 2, 3]"])
def test_the_docs_command_refuses_a_coverage_file_that_is_not_a_report_in_one_line(
        tmp_path: Path, content: str) -> None:
    bogus = tmp_path / "coverage.json"
    bogus.write_text(content, encoding="utf-8")

    result = CliRunner().invoke(main, ["docs", "--out", str(tmp_path / "book"), "--coverage", str(bogus)])

    assert result.exit_code == 1
    assert f"{bogus}: not a coverage report" in result.stderr
    assert "Traceback" not in result.output
