"""Safe pages: text that looks like markup (a script, a comment, an image with a handler, a template
literal, line and paragraph separators) is shown on every page as the text it is, and runs nothing.

A negotiation whose every free-text field holds such text, a feature file and a coverage report holding it
too: the report, the timeline page and the spec book written from them are drawn in one Chromium, and each
page must still show all its tables and charts, the text as written, and no sign that any of it ran.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import feedparser
import pytest
from click.testing import CliRunner
from markdown_it import MarkdownIt
from test_docs import write_coverage
from test_timeline import measure

from negotiation import Ledger
from negotiation.cli import main
from negotiation.specbook import book as spec_book
from negotiation.views import files, report

#: Each piece would run script, end the page's script early or hide the rest of the page, were it markup.
#: A script that runs sets ``window.__pwned`` to say which piece it was.
HOSTILE = ("<!--<script> </script><script>window.__pwned='script'</script> "
           "<img src=x onerror=\"window.__pwned='img'\"> `${window.__pwned='template'}` "
           "\u2028 \u2029 ]]> \"'&amp; a | b")
HOSTILE_ID = "us-japan-2025"
PLAIN_ID = "us-korea-2025"
#: Asked of each page once its charts are drawn: what ran, and what a reader sees.
SEEN = ("{pwned: window.__pwned === undefined ? null : String(window.__pwned), title: document.title, "
        "text: document.body.innerText, tables: document.querySelectorAll('table').length, "
        "rows: Array.prototype.map.call(document.querySelectorAll('table'), function (t) { "
        "return t.querySelectorAll('tbody tr').length; })}")


#: An article whose every text holds the hostile text, and whose address holds what an attribute must escape.
ARTICLE_URL = "https://example.org/news?a=1&b=\"2\"&c='3'"


def hostile(what: str) -> str:
    """The hostile text, told apart by what it is for (names of measures, points… must differ)."""
    return f"{HOSTILE} {what}"


#: Each free-text field of the story, with the text it holds.
FIELDS = {name: hostile(name) for name in (
    "source", "title", "deal title", "deal summary", "term", "term value", "stated value", "measure",
    "measure value", "condition", "measure in force", "pause reason", "deadline", "venue", "participant",
    "meeting summary", "actor", "action", "point", "US position", "JP position", "resolution", "agenda",
    "round", "talks venue", "instrument", "suspension reason", "retraction reason", "correction reason",
    "denied by", "denial statement", "article outlet", "headline", "quote")}
ARTICLE = {"outlet": FIELDS["article outlet"], "url": ARTICLE_URL, "headline": FIELDS["headline"],
           "published": "2025-08-10", "quote": FIELDS["quote"]}
#: The fields the negotiation's page shows as they are (the rest feed the chart or the story's one line).
SHOWN = ("source", "title", "deal title", "term", "term value", "stated value", "measure", "measure value",
         "measure in force", "deadline", "venue", "participant", "meeting summary", "actor", "action", "point",
         "US position", "JP position", "resolution", "instrument", "suspension reason", "retraction reason",
         "correction reason", "denied by", "article outlet", "headline", "quote")


def tell_the_hostile_story(ledger: Ledger) -> None:
    said = FIELDS

    def record(event_type: str, on: str, data: dict[str, Any]) -> int:
        return ledger.record(HOSTILE_ID, event_type, data, occurred_at=on, sources=[said["source"]],
                             backfill=True).version

    record("MeasureThreatened", "2025-07-01", {"parties": ["US", "JP"], "measure": said["measure"], "by": "US",
                                               "value": said["measure value"], "condition": said["condition"]})
    record("AgreedInPrinciple", "2025-07-22", {"parties": ["US", "JP"], "title": said["deal title"],
                                               "summary": said["deal summary"],
                                               "terms": {said["term"]: said["term value"]}})
    record("MeasureImposed", "2025-07-25", {"measure": said["measure in force"], "by": "US",
                                            "value": said["measure value"]})
    record("DeadlineSet", "2025-07-26", {"what": said["deadline"], "due": "2025-09-20", "by": "US"})
    record("MeetingHeld", "2025-07-28", {"level": "ministerial", "venue": said["venue"],
                                         "participants": [said["participant"]], "summary": said["meeting summary"]})
    record("ThirdPartyActed", "2025-07-29", {"actor": said["actor"], "action": said["action"], "kind": "court",
                                             "of": "US"})
    record("TermsDisputed", "2025-08-01", {"point": said["point"],
                                           "positions": {"US": said["US position"], "JP": said["JP position"]}})
    amended = record("TermsAmended", "2025-08-05", {"terms": {said["term"]: said["stated value"]},
                                                    "according_to": "JP"})
    talks = record("WorkingLevelTalksOpened", "2025-08-06", {"agenda": [said["agenda"]], "venue": said["talks venue"],
                                                             "round": said["round"]})
    ledger.record(HOSTILE_ID, "DisputeResolved", {"point": said["point"], "resolution": said["resolution"]},
                  occurred_at="2025-08-10", backfill=True, sources=[said["source"], ARTICLE])
    record("MeasureImposed", "2025-08-11", {"measure": said["measure"], "by": "US"})
    record("MeasurePaused", "2025-08-12", {"measure": said["measure"], "until": "2025-12-01",
                                           "reason": said["pause reason"]})
    record("AgreementFinalised", "2025-08-14", {"instruments": [said["instrument"]]})
    record("TalksSuspended", "2025-08-15", {"by": "JP", "reason": said["suspension reason"]})
    ledger.retract(HOSTILE_ID, talks, reason=said["retraction reason"], sources=[said["source"]])
    ledger.correct(HOSTILE_ID, amended, reason=said["correction reason"], occurred_at="2025-08-04",
                   sources=[said["source"]])
    ledger.deny(HOSTILE_ID, amended, by=said["denied by"], statement=said["denial statement"])
    ledger.set_titles({HOSTILE_ID: said["title"]})
    ledger.record(PLAIN_ID, "AgreedInPrinciple", {"parties": ["US", "KR"]}, occurred_at="2025-07-30", backfill=True)


def write_hostile_features(features: Path) -> None:
    """A feature whose name, description, scenarios, steps and examples hold the hostile text; one step's
    outline-like parameter holds a backtick, which once ended the code it is shown in."""
    features.mkdir()
    cell = HOSTILE.replace("|", "\\|")
    (features / "hostile.feature").write_text(
        f"Feature: Markup in names {HOSTILE}\n"
        f"  A description holding {HOSTILE}\n\n"
        f"  Scenario: An analyst reads {HOSTILE}\n"
        f"    Given a note holding {HOSTILE}\n"
        "    Then the note <x`y> holds `<img src=x onerror=\"window.__pwned='step'\">`\n\n"
        f"  Scenario Outline: An outline of {HOSTILE}\n"
        "    Given the note <note>\n\n"
        f"    Examples: {HOSTILE}\n"
        "      | note |\n"
        f"      | {cell} |\n", encoding="utf-8")


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """The report (the spec book in it written from the hostile features and coverage report) and the
    hostile negotiation's timeline page."""
    here = tmp_path_factory.mktemp("hostile")
    url = f"sqlite:///{here / 'hostile.db'}"
    features = here / "features"
    write_hostile_features(features)
    coverage = write_coverage(here / "spec-coverage.json")
    covered = json.loads(coverage.read_text(encoding="utf-8"))
    coverage.write_text(json.dumps({**covered, "summary": hostile("coverage summary")}), encoding="utf-8")
    with Ledger.open(url) as ledger:
        tell_the_hostile_story(ledger)
        out = here / "report"
        report.write(ledger, out, features_dir=features, coverage=coverage, now=datetime(2025, 9, 1, tzinfo=UTC))
    timeline = here / "timeline.html"
    drawn = CliRunner().invoke(main, ["--url", url, "timeline", HOSTILE_ID, "--out", str(timeline)])
    assert drawn.exit_code == 0, drawn.output
    yield out, timeline


@pytest.fixture(scope="module")
def seen(written: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Every page drawn in one Chromium, and what each showed."""
    out, timeline = written
    frames = [("index", out / "index.html", 1280), ("negotiation", out / "negotiations" / f"{HOSTILE_ID}.html", 1280),
              ("timeline", timeline, 1280), ("spec book", out / "spec" / "index.html", 1280)]
    return measure(frames, tmp_path_factory.mktemp("browsed"), also=SEEN)


@pytest.mark.slow
def test_no_text_of_the_story_runs_as_script_on_any_page(seen: dict[str, dict[str, Any]]) -> None:
    assert {name: page["pwned"] for name, page in seen.items()} == {name: None for name in seen}


@pytest.mark.slow
def test_the_index_still_draws_every_negotiations_timeline_and_its_tables(seen: dict[str, dict[str, Any]]) -> None:
    index = seen["index"]

    # Both small timelines, the hostile one's too, and the one time line of both, wide and the phone's.
    assert index["expected"] == 4 and index["drawn"] == 4
    assert index["tables"] == 3 and index["rows"] == [2, 1, 1]  # negotiations, deadlines, measures in force
    for name in ("title", "deadline", "measure in force"):
        assert FIELDS[name] in index["text"], name


@pytest.mark.slow
def test_the_negotiations_page_shows_every_table_its_charts_and_the_text_as_written(
        seen: dict[str, dict[str, Any]]) -> None:
    page = seen["negotiation"]

    assert page["expected"] == 2 and page["drawn"] == 2  # the wide chart and the phone's
    # Story, terms, deals, measures, how they went, deadlines, meetings, third parties, disputed points, how the
    # terms changed, corrections: each with its rows.
    assert page["tables"] == 11 and all(page["rows"]), page["rows"]
    assert page["title"].startswith(FIELDS["title"])
    assert [name for name in SHOWN if FIELDS[name] not in page["text"]] == []


@pytest.mark.slow
def test_the_timeline_page_draws_its_chart(seen: dict[str, dict[str, Any]]) -> None:
    timeline = seen["timeline"]

    assert timeline["expected"] == 2 and timeline["drawn"] == 2  # the wide chart and the phone's
    assert any("<img src=x" in t["text"] for t in timeline["texts"])  # a row named by the hostile point


@pytest.mark.slow
def test_the_spec_book_shows_the_hostile_summary_feature_and_steps_as_text(seen: dict[str, dict[str, Any]]) -> None:
    book = seen["spec book"]

    assert book["tables"] == 5 and all(book["rows"]), book["rows"]  # the four machine tables, the examples
    for said in (hostile("coverage summary"), f"Markup in names {HOSTILE}", f"A description holding {HOSTILE}",
                 f"An analyst reads {HOSTILE}", f"a note holding {HOSTILE}", f"An outline of {HOSTILE}",
                 f"Examples: {HOSTILE}", "the note <x`y> holds `<img src=x onerror=\"window.__pwned='step'\">`"):
        assert said in book["text"], said


# -- without a browser: what the pages are written from --------------------------------------------------

def test_the_feed_of_the_hostile_story_is_atom_holding_every_text_as_written(
        written: tuple[Path, Path]) -> None:
    out, _timeline = written

    feed = feedparser.parse((out / "feed.atom").read_bytes())

    assert not feed.bozo and feed.version == "atom10"
    resolved = next(e for e in feed.entries if "DisputeResolved" in e.title)
    assert FIELDS["point"] in resolved.title
    assert [(link.href, link.title) for link in resolved.links if link.rel == "related"] == [
        (ARTICLE_URL, FIELDS["headline"])]
    assert FIELDS["headline"] in resolved.content[0].value


def test_the_page_links_the_hostile_article_by_its_address_as_given(written: tuple[Path, Path]) -> None:
    out, _timeline = written
    page = (out / "negotiations" / f"{HOSTILE_ID}.html").read_text(encoding="utf-8")

    assert f'<a href="{escape(ARTICLE_URL, quote=True)}">{escape(FIELDS["headline"])}</a>' in page



class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text = ""

    def handle_data(self, data: str) -> None:
        self.text += data


def text_of(html: str) -> str:
    """What a reader reads in a piece of HTML (its entities read), without the line break that ends it."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return parser.text.strip("\n")


@pytest.mark.parametrize("value", [HOSTILE, {HOSTILE: [HOSTILE, 1]}, "a\\<b\\\\</script>"])
def test_json_in_a_script_holds_no_markup_and_means_what_it_did(value: Any) -> None:
    written = files.script_json(value)

    assert json.loads(written) == value
    assert not any(unsafe in written for unsafe in ("<", ">", "&", "\u2028", "\u2029"))


def test_a_chart_spec_holding_hostile_text_is_json_safe_in_a_script() -> None:
    written = files.spec_json({"title": HOSTILE, "data": {"values": [{"name": HOSTILE}]}})

    assert json.loads(written)["data"]["values"] == [{"name": HOSTILE}]
    assert "<" not in written and "\u2028" not in written


@pytest.mark.parametrize("render", [spec_book.md, spec_book.step_md])
def test_text_in_the_spec_book_renders_as_the_text_it_is(render: Any) -> None:
    html = MarkdownIt("commonmark", {"html": True}).render(render(HOSTILE))

    assert "<script" not in html and "<img" not in html and "<!--" not in html
    assert text_of(html) == HOSTILE


@pytest.mark.parametrize(("step", "code"), [
    ("the note <x`y> holds `<img src=x>`", ["<x`y>", "<img src=x>"]),
    ("the notes <a><b> and <c>", ["<a><b>", "<c>"]),
    ("a note <``x`>", ["<``x`>"]),
])
def test_a_steps_parameters_show_as_code_whatever_backticks_they_hold(step: str, code: list[str]) -> None:
    html = MarkdownIt("commonmark", {"html": True}).render(spec_book.step_md(step))

    assert re.findall(r"<code>(.*?)</code>", html) == [escape(c, quote=False) for c in code]
    assert text_of(html) == step
