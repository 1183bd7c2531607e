"""The offline report: an index of every negotiation, a page each, the spec book, and nothing to fetch.

The report of the seeded ledger is written once for the module and read back
in headless Chromium at 1280 and 390 pixels wide.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator, Sequence
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import vl_convert
from click.testing import CliRunner, Result
from test_timeline import (  # the seeded ledger and the browser, shared with the timeline's tests
    LATE,
    SEEDS,
    assert_every_word_clear,
    assert_nothing_cut_off,
    links,
    measure,
    png_pixels,
    tell_late_news,
)

from negotiation import Ledger, Source, SourceRecord, outlet_of
from negotiation.cli import main
from negotiation.files.loading import load_streams, read_streams
from negotiation.views import files, report, words


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    database = f"sqlite:///{tmp_path_factory.mktemp('report') / 'seeded.db'}"
    with Ledger.open(database) as ledger:
        load_streams(ledger, read_streams(SEEDS))
        tell_late_news(ledger)
    return database


@pytest.fixture(scope="module")
def written(url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result]:
    """The report of the seeded ledger, written by the command, and what the command said."""
    out = tmp_path_factory.mktemp("site") / "negotiation-report"
    return out, CliRunner().invoke(main, ["--url", url, "report", "--out", str(out)])


@pytest.fixture(scope="module")
def site(written: tuple[Path, Result]) -> Path:
    return written[0]


@pytest.fixture
def ledger(url: str) -> Iterator[Ledger]:
    with Ledger.open(url) as opened:
        yield opened


class Tables(HTMLParser):
    """The text of every table cell of a page, table by table and row by row, and the section of each."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        #: The id of the heading each table comes under, table by table.
        self.sections: list[str | None] = []
        self._heading: str | None = None
        self._cell: list[str] | None = None
        self.feed(page)

    def section(self, heading_id: str) -> list[list[str]]:
        """The first table under the heading with that id."""
        return self.tables[self.sections.index(heading_id)]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "h2":
            self._heading = dict(attrs).get("id")
        elif tag == "table":
            self.tables.append([])
            self.sections.append(self._heading)
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th") and self.tables:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def day(moment: datetime | None) -> str:
    assert moment is not None
    return f"{moment.day} {moment:%b %Y}"


def test_the_command_writes_an_index_a_page_per_negotiation_and_the_spec_book(
        written: tuple[Path, Result], ledger: Ledger) -> None:
    out, result = written

    assert result.exit_code == 0, result.output
    index = (out / "index.html").resolve()
    assert f"wrote the report of {len(ledger.negotiations())} negotiations: open {index}" in result.output
    assert sorted(p.stem for p in (out / "negotiations").glob("*.html")) == sorted(ledger.negotiations())
    assert (out / "spec" / "index.html").is_file() and (out / "spec" / "spec.md").is_file()
    assert (out / "assets" / "vega-embed.js").stat().st_size > 100_000
    page = index.read_text(encoding="utf-8")
    assert 'id="deadlines">Deadlines in the next 30 days' in page and 'id="measures">Measures in force' in page
    assert 'id="untold"' not in page  # every seeded negotiation is told


def test_the_seeded_index_lists_the_measures_in_force_now_as_each_negotiation_says(
        site: Path, ledger: Ledger) -> None:
    page = (site / "index.html").read_text(encoding="utf-8")

    listed = [(row[0], row[1]) for row in Tables(page).section("measures")[1:]]

    assert listed == [(n.id, m.name) for n in map(ledger.get, ledger.negotiations()) for m in n.measures_in_force]
    assert listed  # the seeds hold measures still in force


def test_every_link_of_the_report_is_a_file_of_the_report_and_every_anchor_exists(site: Path, ledger: Ledger
                                                                                 ) -> None:
    pages = [site / "index.html", *sorted((site / "negotiations").glob("*.html"))]
    # The one way out: the article a source names, for a reader to check the fact.
    articles = {source.url for entry in ledger.read_all() for source in entry.sources
                if isinstance(source, SourceRecord)}
    reached: set[str] = set()

    for page in pages:
        for link in links(page.read_text(encoding="utf-8")):
            parts = urlsplit(link)
            if link in articles:
                reached.add(link)
                continue
            assert not parts.scheme and not parts.netloc, f"{page.name} reaches out to {link}"
            target = (page.parent / parts.path).resolve() if parts.path else page
            assert target.is_file() and site.resolve() in target.parents, f"{page.name}: {link} leads nowhere"
            if parts.fragment:
                assert f'id="{parts.fragment}"' in target.read_text(encoding="utf-8"), f"{page.name}: {link}"
    assert reached == articles and articles  # every article the seeds name is linked from its page
    spec = (site / "spec" / "index.html").read_text(encoding="utf-8")
    assert not re.findall(r"<(?:script|img|link)\b[^>]*\b(?:src|href)=[\"']https?:", spec)


@pytest.fixture(scope="module")
def browsed(site: Path, url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[
        dict[str, dict[str, Any]], str, Path]:
    """The index and every negotiation's page drawn in one Chromium at 1280 and 390 pixels wide, and what
    each measured; the us-japan page; a screenshot of the index and the us-japan page at both widths."""
    here = tmp_path_factory.mktemp("browsed")
    with Ledger.open(url) as ledger:
        told = ledger.negotiations()
    pages = [("index", site / "index.html"),
             *((n, site / "negotiations" / f"{n}.html") for n in ["us-japan-2025", *told])]
    frames = [(f"{name} at {width}", page, width) for name, page in dict(pages).items() for width in (1280, 390)]
    shot = here / "report.png"
    measured = measure(frames, here, screenshot=shot, window=(1700, 2800))
    return measured, (site / "negotiations" / "us-japan-2025.html").read_text(encoding="utf-8"), shot


@pytest.mark.slow
def test_the_report_in_chromium_fits_1280_and_390_pixels_with_no_word_of_a_chart_over_another(
        browsed: tuple[dict[str, dict[str, Any]], str, Path], ledger: Ledger) -> None:
    measured, _, shot = browsed

    assert_nothing_cut_off(measured)
    assert_every_word_clear(measured)
    for name, seen_there in measured.items():
        if name.endswith(" at 390"):
            assert min(t["size"] for t in seen_there["texts"]) >= 10, name  # nothing shrunk to specks
            assert all(chart["scale"] == 1 for chart in seen_there["charts"]), name
    index = measured["index at 1280"]
    # A mini chart in each row of the table, then the one time line of them all under it.
    assert len(index["charts"]) == len(ledger.negotiations()) + 1
    dates = [t["text"] for t in index["texts"] if t["chart"] < len(ledger.negotiations())]
    assert len(dates) >= len(ledger.negotiations()) and all(re.fullmatch(r"\d{1,2} \w{3} \d{4}", d) for d in dates)
    width, height, colours = png_pixels(shot.read_bytes())
    assert (width, height) == (1700, 2800) and colours >= 30


def test_the_index_lists_every_negotiation_by_its_title_with_its_state_in_words_and_a_legend(
        site: Path, ledger: Ledger) -> None:
    page = (site / "index.html").read_text(encoding="utf-8")

    rows = Tables(page).tables[0]
    assert rows[0] == ["negotiation", "parties", "state now", "opened", "last event", "open points", "timeline"]
    titles = ledger.titles()
    listed = {row[0].rsplit(" ", 1)[-1]: row for row in rows[1:]}
    assert sorted(listed) == sorted(ledger.negotiations())
    for negotiation_id, row in listed.items():
        now = ledger.get(negotiation_id)
        assert row[0] == (f"{titles[negotiation_id]} {negotiation_id}" if negotiation_id in titles
                          else negotiation_id)
        assert row[1:6] == [" – ".join(now.parties), words.state(now.state), day(now.opened_at),
                            day(now.updated_at), ", ".join(now.open_disputes) or "none"], negotiation_id
    assert page.count('class="mini chart') == len(ledger.negotiations())
    legend = page.split('id="legend"')[1].split("</p>")[0]
    assert all(words.state(s) in legend for s in ("agreed_in_principle", "working_level_talks", "finalised"))


def cell_of(sources: Sequence[Source]) -> str:
    """A story's sources as the cell's text reads: names after commas; an article, its headline, outlet and
    day, on a line of its own (a line break is no text)."""
    if all(isinstance(source, str) for source in sources):
        return ", ".join(map(outlet_of, sources))
    return "".join(source if isinstance(source, str) else
                     f"{source.headline} ({source.outlet}, {words.published(source)})" for source in sources)


@pytest.mark.slow
def test_the_us_japan_page_in_chromium_shows_its_timeline_story_and_terms(
        browsed: tuple[dict[str, dict[str, Any]], str, Path], ledger: Ledger) -> None:
    measured, page, _ = browsed

    shown = [t["text"] for t in measured["us-japan-2025 at 1280"]["texts"]]
    assert {"agreed in principle", "terms disputed", "finalised"} <= set(shown)  # the bands' names, in words
    tables = Tables(page)
    story, disputes, terms, changes = (tables.section(s) for s in ("story", "disputes", "terms", "term-changes"))
    assert story[0] == ["date", "event", "what", "sources", "reported", "state", "notes"]
    assert [(row[0], row[1], row[3]) for row in story[1:]] == [
        (day(e.occurred_at), e.type, cell_of(e.sources)) for e in ledger.story("us-japan-2025")]
    assert [row[5] for row in story if row[1] == "AgreementFinalised"] == ["working-level talks → finalised"]
    assert [row[0] for row in disputes[1:]] == ["tariff stacking", "profit sharing"]
    assert terms[0] == ["term", "common", "as US tells it", "as JP tells it", "the views"]
    assert ["reciprocal tariff", *["15% ceiling on most Japanese goods"] * 3, "agree"] in terms
    assert ["investment package (USD)", *["$550 billion"] * 3, "agree"] in terms
    assert ["22 Jul 2025", "reciprocal tariff", "common", "—", "15%", "AgreedInPrinciple"] in changes
    assert ["4 Sep 2025", "reciprocal tariff", "common", "15%", "15% ceiling on most Japanese goods",
            "AgreementFinalised"] in changes
    amended = [row[2] for row in story[1:] if row[1] == "TermsAmended"]
    assert amended and all("→" in what for what in amended)  # the values, not only the names
    assert "550000000000" not in page and "_" not in "".join(row[5] for row in story[1:])
    assert "Nothing has been retracted, corrected or denied." in page


def test_the_pages_are_titled_by_the_negotiations_stored_titles_and_say_tap_or_hover(
        site: Path, ledger: Ledger) -> None:
    for negotiation_id, title in ledger.titles().items():
        page = (site / "negotiations" / f"{negotiation_id}.html").read_text(encoding="utf-8")
        state = words.state(ledger.get(negotiation_id).state)

        assert f"<title>{html.escape(title)}: {state}</title>" in page
        assert f"<h1>{html.escape(title)}</h1>" in page
        assert "Tap or hover over a mark" in page and "Hover over" not in page
        assert 'class="chart wide"' in page and 'class="chart narrow"' in page


def test_the_spec_book_gives_readers_no_developer_commands(site: Path) -> None:
    book = (site / "spec" / "index.html").read_text(encoding="utf-8") + (site / "spec" / "spec.md").read_text(
        encoding="utf-8")

    assert "pytest" not in book


def test_the_late_negotiations_page_says_what_came_late_and_what_was_corrected(site: Path) -> None:
    page = (site / "negotiations" / f"{LATE}.html").read_text(encoding="utf-8")

    tables = Tables(page)
    story, corrections = tables.section("story"), tables.section("corrections")
    notes = {row[1] + " " + row[0]: row[6] for row in story[1:]}
    assert notes["TermsDisputed 10 Mar 2025"] == "reported 10 days later"
    assert notes["TermsAmended 25 Mar 2025"] == "reported 21 days later"
    assert notes["TermsAmended 19 Mar 2025"] == ("corrected by version 8 (12 Apr 2025: amended a week later); "
                                                 "at first dated 12 Mar 2025")
    assert "VisitCancelled" not in [row[1] for row in story[1:]]
    assert [row[:4] for row in corrections[1:]] == [
        ["7", "12 Apr 2025", "EventRetracted", "retracts version 5: the visit went ahead"],
        ["8", "12 Apr 2025", "EventCorrected", "corrects the occurred_at of version 3: amended a week later"]]


def test_writing_the_report_again_tells_its_progress_and_reuses_the_chart_scripts(
        site: Path, ledger: Ledger) -> None:
    scripts = site / "assets" / "vega-embed.js"
    before = scripts.stat().st_mtime_ns
    told: list[tuple[int, int, str]] = []

    written = report.write(ledger, site, progress=lambda done, total, what: told.append((done, total, what)))

    assert scripts.stat().st_mtime_ns == before
    assert [done for done, _, _ in told] == list(range(len(ledger.negotiations()) + 4))
    assert {total for _, total, _ in told} == {len(ledger.negotiations()) + 3}
    assert [what for _, _, what in told[2:-2]] == ledger.negotiations()
    assert written.index == site / "index.html" and sorted(written.pages) == sorted(ledger.negotiations())


@pytest.fixture
def bundler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """A cache directory of the test's own, and vl-convert's bundler counting its calls (each a text of its own)."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    calls: list[str | None] = []

    def javascript_bundle(snippet: str | None = None, vl_version: str | None = None) -> str:
        calls.append(vl_version)
        return f"{snippet}\n// bundle number {len(calls)}"

    monkeypatch.setattr(vl_convert, "javascript_bundle", javascript_bundle)
    return calls


def test_the_chart_scripts_are_bundled_once_and_kept_in_the_users_cache(
        tmp_path: Path, bundler: list[str | None]) -> None:
    first = files.vega_script()
    again = files.vega_script()

    assert len(bundler) == 1 and again == first and "// bundle number 1" in first
    kept = list((tmp_path / "cache" / "negotiation").glob("vega-bundle-*.js"))
    assert len(kept) == 1 and kept[0].read_text(encoding="utf-8") == first


def test_a_cached_bundle_cut_short_or_of_other_versions_is_made_again(
        tmp_path: Path, bundler: list[str | None]) -> None:
    files.vega_script()
    kept = next((tmp_path / "cache" / "negotiation").glob("vega-bundle-*.js"))
    whole = kept.read_text(encoding="utf-8")

    kept.write_text(whole[:len(whole) // 2], encoding="utf-8")  # a disk that filled up
    assert "// bundle number 2" in files.vega_script()
    kept.write_text(whole.replace("Vega ", "Vega 0.", 1), encoding="utf-8")  # another Vega's bundle
    assert "// bundle number 3" in files.vega_script()
    assert kept.read_text(encoding="utf-8").count("// bundle number 3") == 1


def test_a_cache_that_cannot_be_written_still_gives_the_page_its_scripts(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bundler: list[str | None]) -> None:
    (tmp_path / "not-a-directory").write_text("", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "not-a-directory"))

    assert "// bundle number 1" in files.vega_script()
    assert "// bundle number 2" in files.vega_script()  # nothing kept: made each time
    written = files.write_vega_script(tmp_path / "site" / "assets" / "vega-embed.js")
    assert "// bundle number 3" in written.read_text(encoding="utf-8")


def test_the_demo_ends_by_writing_the_report_and_saying_where_it_is(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(main, ["--url", f"sqlite:///{tmp_path / 'demo.db'}", "demo"])

    assert result.exit_code == 0, result.output
    index = tmp_path.resolve() / "negotiation-report" / "index.html"
    assert result.output.rstrip().endswith(f"open {index}")
    assert index.is_file() and (index.parent / "negotiations" / "us-japan-2025.html").is_file()


def test_the_report_command_writes_the_report_as_of_a_day(url: str, tmp_path: Path) -> None:
    out = tmp_path / "then"

    result = CliRunner().invoke(main, ["--url", url, "report", "--out", str(out), "--as-of", "2025-07-15"])

    assert result.exit_code == 0, result.output
    with Ledger.open(url) as ledger:
        every = ledger.negotiations()
        opened = [n for n in every if any(e.occurred_at.date().isoformat() <= "2025-07-15" for e in ledger.story(n))]
    assert sorted(p.stem for p in (out / "negotiations").glob("*.html")) == sorted(opened)
    assert len(opened) < len(every)  # some had nothing by then


def test_a_bad_time_for_the_report_is_refused_in_one_line_before_anything_is_written(url: str, tmp_path: Path
                                                                                     ) -> None:
    out = tmp_path / "never"

    result = CliRunner().invoke(main, ["--url", url, "report", "--out", str(out), "--known-at", "last week"])

    assert result.exit_code == 1
    assert result.output.strip() == "Error: known_at: 'last week' is not an ISO 8601 date or datetime"
    assert not out.exists()


# -- the feed and the negotiations on one time line -----------------------------------------------------------


def test_the_report_has_an_atom_feed_of_the_log_newest_first_linked_from_the_index(site: Path, ledger: Ledger
                                                                                    ) -> None:
    import feedparser

    feed = feedparser.parse((site / "feed.atom").read_bytes())
    log = ledger.read_all()

    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.version == "atom10"
    assert len(feed.entries) == len(log)
    assert [e.id for e in feed.entries] == [f"urn:uuid:{entry.event_id}" for entry in reversed(log)]
    newest = [datetime.fromisoformat(e.updated) for e in feed.entries]
    assert newest == sorted(newest, reverse=True)
    assert newest[0] == log[-1].recorded_at
    disputed = next(e for e in feed.entries if e.title.startswith("us-japan-2025 v5 TermsDisputed"))
    assert disputed.title == "us-japan-2025 v5 TermsDisputed 2025-08-05: point disputed: tariff stacking"
    assert disputed.content[0].value.splitlines()[0] == (
        "agreed in principle → terms disputed (open: tariff stacking)")
    assert disputed.link == "negotiations/us-japan-2025.html"
    index = (site / "index.html").read_text(encoding="utf-8")
    assert '<link rel="alternate" type="application/atom+xml" href="feed.atom"' in index


def test_the_index_draws_every_negotiation_it_tells_on_one_time_line_a_row_each(site: Path, ledger: Ledger
                                                                                 ) -> None:
    index = (site / "index.html").read_text(encoding="utf-8")
    drawn = re.search(r'vegaEmbed\("#together-chart", (\{.*?\}), \{"renderer"', index)
    phone = re.search(r'vegaEmbed\("#together-chart-narrow", (\{.*?\}), \{"renderer"', index)

    assert '<div id="together-chart" class="chart wide"></div>' in index and drawn is not None
    assert '<div id="together-chart-narrow" class="chart narrow"></div>' in index and phone is not None
    assert json.loads(phone[1])["layer"][0]["encoding"]["y"]["scale"]["domain"] == \
        json.loads(drawn[1])["layer"][0]["encoding"]["y"]["scale"]["domain"]
    spec = json.loads(drawn[1])
    rows = spec["layer"][0]["encoding"]["y"]["scale"]["domain"]
    assert [row.split("|", 1)[1] for row in rows] == ledger.negotiations()
