"""The timeline: a negotiation's states, events, disputes and what was known when, as SVG, PNG and HTML.

The seeded ledger is built once for the module; the pictures are read back as
a person would see them (the SVG's text, the PNG's pixels, the HTML page drawn
by headless Chromium at 1280 and 390 pixels wide).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import struct
import subprocess
import zlib
from collections.abc import Iterator
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from negotiation import Ledger, outlet_of
from negotiation.cli import main
from negotiation.errors import UnknownNegotiation
from negotiation.files.loading import load_streams, read_streams
from negotiation.specbook.diagram import STATE_COLOURS
from negotiation.views import lettering, words
from negotiation.views.model import picture
from negotiation.views.rows import NARROW, WIDE, rows_of
from negotiation.views.timeline import NARROW_WIDTH, WIDTH, chart_of, timeline_chart, timelines_chart

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "seeds").glob("*.yaml"))
SEED_IDS = [stream.negotiation_id for stream in read_streams(SEEDS)]
IN_CI = os.environ.get("CI", "").lower() == "true"
#: A negotiation told late: a dispute reported ten days on, an amendment three weeks on, a cancelled visit
#: retracted and an amendment's date corrected.
LATE = "us-india-2025"
US_JAPAN_BANDS = [("agreed in principle", "22 Jul 2025"), ("terms disputed", "5 Aug 2025"),
                  ("visit cancelled", "28 Aug 2025"), ("working-level talks", "28 Aug 2025"),
                  ("finalised", "4 Sep 2025")]


def tell_late_news(ledger: Ledger) -> None:
    """Record the late negotiation: out of order, late reports, a retraction and a correction."""
    def record(event_type: str, data: dict[str, object], occurred: str, reported: str, source: str) -> None:
        ledger.record(LATE, event_type, data, occurred_at=occurred, reported_at=reported, sources=[source])

    record("AgreedInPrinciple", {"parties": ["US", "IN"], "terms": {"tariff": "20%"}}, "2025-03-01", "2025-03-01",
           "Reuters")
    record("TermsDisputed", {"point": "dairy", "positions": {"IN": "no market access"}}, "2025-03-10", "2025-03-20",
           "Mint")
    record("TermsAmended", {"terms": {"tariff": "18%"}}, "2025-03-12", "2025-03-12", "PTI")
    record("DisputeResolved", {"point": "dairy", "resolution": "a quota"}, "2025-04-02", "2025-04-02", "Mint")
    record("VisitCancelled", {"envoy": "Jamieson Greer"}, "2025-04-05", "2025-04-05", "ANI")
    record("WorkingLevelTalksOpened", {"agenda": ["autos"]}, "2025-04-10", "2025-04-10", "PTI")
    ledger.retract(LATE, 5, reason="the visit went ahead", reported_at="2025-04-12", sources=["PTI"])
    ledger.correct(LATE, 3, reason="amended a week later", occurred_at="2025-03-19", reported_at="2025-04-12")
    record("TermsAmended", {"terms": {"quota (t)": 10000}}, "2025-03-25", "2025-04-15", "Mint")
    record("AgreementFinalised", {"instruments": ["joint statement"]}, "2025-04-20", "2025-04-20", "White House")


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite ledger holding every seed negotiation and the late one."""
    database = f"sqlite:///{tmp_path_factory.mktemp('timeline') / 'seeded.db'}"
    with Ledger.open(database) as ledger:
        load_streams(ledger, read_streams(SEEDS))
        tell_late_news(ledger)
    return database


@pytest.fixture
def ledger(url: str) -> Iterator[Ledger]:
    with Ledger.open(url) as opened:
        yield opened


def run(url: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["--url", url, *args])


def day(moment: datetime) -> str:
    return f"{moment.day} {moment:%b %Y}"


def svg_texts(svg: str) -> list[str]:
    """The words of an SVG drawing, in document order: a text of several lines as one, its lines joined."""
    return [html.unescape(" ".join(re.findall(r">([^<]+)<", f">{t}<")))
            for t in re.findall(r"<text[^>]*>(.*?)</text>", svg)]


def band_labels(svg: str) -> list[tuple[float, str]]:
    """Each state band's left edge and description (``state: finalised, from 4 Sep 2025``), left to right."""
    found = re.findall(r'<path aria-label="(state: [^"]+)"[^>]*? d="M(-?[\d.]+),', svg)
    return sorted((float(x), label) for label, x in found)


def band_states(svg: str) -> list[str]:
    """The states of the bands, left to right."""
    return [label.split(": ", 1)[1].split(",")[0] for _, label in band_labels(svg)]


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [value for name, value in attrs if name in ("src", "href") and value]


def links(page: str) -> list[str]:
    """Every address a page's elements point to (what a browser would fetch or follow); scripts' text aside."""
    parser = _Links()
    parser.feed(page)
    return parser.found


class _Lanes:
    """Rows of a PNG as Python integers, one byte a lane: whole rows added byte by byte (mod 256) at once."""

    def __init__(self, stride: int) -> None:
        self.stride, self.bits = stride, 8 * stride
        self.high = int.from_bytes(b"\x80" * stride, "little")
        self.low = int.from_bytes(b"\x7f" * stride, "little")

    def add(self, x: int, y: int) -> int:
        """Each byte of ``x`` plus the same byte of ``y``, modulo 256, no carry between bytes."""
        return ((x & self.low) + (y & self.low)) ^ ((x ^ y) & self.high)

    def sub(self, line: int, bpp: int) -> int:
        """PNG's Sub filter undone: each byte plus the byte ``bpp`` before it once that is undone (a prefix sum)."""
        shift, mask = bpp, (1 << self.bits) - 1
        while shift < self.stride:
            line = self.add(line, (line << 8 * shift) & mask)
            shift *= 2
        return line


def _unfilter(kind: int, line: bytearray, previous: bytearray, bpp: int, lanes: _Lanes) -> bytearray:
    """One row of an 8-bit PNG as its pixels: its filter (None, Sub, Up, Average or Paeth) undone."""
    if kind == 0:
        return line
    if kind in (1, 2):
        row = int.from_bytes(line, "little")
        row = lanes.sub(row, bpp) if kind == 1 else lanes.add(row, int.from_bytes(previous, "little"))
        return bytearray(row.to_bytes(lanes.stride, "little"))
    for i in range(len(line)):
        a = line[i - bpp] if i >= bpp else 0
        b, c = previous[i], previous[i - bpp] if i >= bpp else 0
        if kind == 3:
            line[i] = (line[i] + ((a + b) >> 1)) & 255
        else:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    return line


def png_pixels(data: bytes) -> tuple[int, int, int]:
    """Width, height and the number of distinct colours (on a sample of pixels) of an 8-bit PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, [], (0, 0, 0, 0, 0, 0, 0)
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", data[pos + 8:pos + 8 + length])
        elif kind == b"IDAT":
            idat.append(data[pos + 8:pos + 8 + length])
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    bpp, raw = (4 if colour == 6 else 3), zlib.decompress(b"".join(idat))
    stride, colours = width * bpp, set()
    previous, lanes = bytearray(stride), _Lanes(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        assert kind <= 4, f"row {y}: no such filter {kind}"
        line = _unfilter(kind, line, previous, bpp, lanes)
        colours.update(bytes(line[i:i + bpp]) for i in range(0, stride, bpp * 5))
        previous = line
    return width, height, len(colours)


# -- the browser -------------------------------------------------------------------------------

#: Appended to a copy of a page: once its charts are drawn, it tells the page holding it what a person would
#: see: how wide the page is, what sticks out, and the box of every word of every chart shown.
PROBE = """<script>
(function measure(tries) {
  var expected = document.querySelectorAll(".chart").length;  // a page with none (the spec book) waits for none
  var drawn = document.querySelectorAll("svg.marks");
  if (drawn.length < expected && tries < 600) { setTimeout(function () { measure(tries + 1); }, 25); return; }
  var right = 0;
  document.querySelectorAll("body *").forEach(function (e) {
    var r = e.getBoundingClientRect(); if (r.width && r.height) right = Math.max(right, r.right); });
  function hidden(e) {
    for (; e && e.nodeType === 1; e = e.parentNode) {
      var o = e.getAttribute("opacity"), s = getComputedStyle(e);
      if ((o !== null && parseFloat(o) === 0) || s.opacity === "0" || s.visibility === "hidden") return true;
    }
    return false;
  }
  var texts = [], charts = [];
  drawn.forEach(function (svg) {
    var box = svg.getBoundingClientRect();
    if (!box.width) return;  // a chart not shown at this width
    var scale = box.width / svg.width.baseVal.value;
    charts.push({left: box.left, right: box.right, scale: scale});
    svg.querySelectorAll("text").forEach(function (t) {
      var r = t.getBoundingClientRect();
      if (!r.width || !r.height || !t.textContent.trim() || hidden(t)) return;
      var lines = Array.prototype.map.call(t.querySelectorAll("tspan"), function (l) { return l.textContent; });
      texts.push({text: lines.length ? lines.join(" ") : t.textContent, chart: charts.length - 1, left: r.left, right: r.right, top: r.top,
                  bottom: r.bottom, size: parseFloat(getComputedStyle(t).fontSize) * scale});
    });
  });
  window.parent.postMessage(JSON.stringify(Object.assign({
    name: decodeURIComponent(location.hash.slice(1)), innerWidth: window.innerWidth,
    scrollWidth: document.documentElement.scrollWidth, right: Math.ceil(right), drawn: drawn.length,
    expected: expected, charts: charts, texts: texts}, (function () { return ALSO; })())), "*");
})(0);
</script>"""
#: The page Chromium opens: each page to measure in a frame of its width (headless Chromium makes no window
#: narrower than 500 pixels: a phone's 390 is a frame), what each one tells written out once all have.
FRAMES = """<!DOCTYPE html><html><body style="margin:0;display:flex;flex-wrap:wrap;align-items:flex-start">%s
<pre id="measured" style="display:none"></pre><pre id="arrived" style="display:none"></pre>
<script>var told = [];
addEventListener("message", function (e) {
  told.push(JSON.parse(e.data));
  document.getElementById("arrived").textContent = JSON.stringify(told.map(function (t) { return t.name; }));
  if (told.length === %d) document.getElementById("measured").textContent = JSON.stringify(told);
});</script></body></html>"""
#: How far two words' boxes may meet, in pixels, before they count as overlapping (rounding).
TOUCH = 0.5

Frame = tuple[str, Path, int]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if IN_CI:
        pytest.fail("chromium is not installed (CI=true requires it: apt-get install chromium)")
    pytest.skip("chromium is not installed: apt-get install chromium")


def browse(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Open ``page`` in headless Chromium, letting its scripts run to the end, with no network."""
    flags = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
             f"--user-data-dir={profile}", "--virtual-time-budget=30000"]
    done = subprocess.run([*flags, *args, page.as_uri()], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def _probed(page: Path, also: str) -> Path:
    """A copy of ``page`` beside it (its links still work) that measures itself, and tells what the script
    expression ``also`` gives besides; an SVG is put in a page."""
    if page.suffix == ".svg":
        source = ('<!DOCTYPE html><html><head><meta charset="utf-8"></head><body style="margin:0">'
                  f"<div class=\"chart\">{page.read_text(encoding='utf-8')}</div></body></html>")
    else:
        source = page.read_text(encoding="utf-8")
    end = source.rindex("</body>")
    probe = page.with_name(f"probe-{page.stem}.html")
    probe.write_text(source[:end] + PROBE.replace("ALSO", also) + source[end:], encoding="utf-8")
    return probe


def measure(frames: list[Frame], directory: Path, screenshot: Path | None = None,
            window: tuple[int, int] = (1700, 1400), also: str = "{}") -> dict[str, dict[str, Any]]:
    """Every page of ``frames`` (name, page, width) drawn in one Chromium, and what each one measured.

    One browser for them all (each launch takes seconds); ``screenshot`` pictures the frames the window
    shows, side by side, 1400 pixels of each. ``also`` is a script expression each page evaluates once its
    charts are drawn, an object whose keys are told beside the measures.
    """
    tags = "".join(f'<iframe src="{_probed(page, also).as_uri()}#{name}" '
                   f'style="width:{width}px;height:1400px;border:0"></iframe>' for name, page, width in frames)
    holder = directory / "frames.html"
    holder.write_text(FRAMES % (tags, len(frames)), encoding="utf-8")
    picture = [f"--screenshot={screenshot}"] if screenshot is not None else []
    dom = browse(holder, directory / "profile", f"--window-size={window[0]},{window[1]}", "--dump-dom",
                 *picture).stdout
    found = re.search(r'<pre id="measured"[^>]*>([^<]+)</pre>', dom)
    arrived = re.search(r'<pre id="arrived"[^>]*>([^<]*)</pre>', dom)
    assert found, (f"the pages did not all tell what they measured: of {[name for name, _, _ in frames]}, only "
                   f"{html.unescape(arrived[1]) if arrived else 'none'} did")
    told: dict[str, dict[str, Any]] = {m["name"]: m for m in json.loads(html.unescape(found[1]))}
    assert sorted(told) == sorted(name for name, _, _ in frames)
    return told


def assert_nothing_cut_off(measured: dict[str, dict[str, Any]]) -> None:
    """Every chart drawn, and nothing wider than the page: no sideways scrolling, nothing out of sight."""
    for name, seen_there in measured.items():
        assert seen_there["drawn"] == seen_there["expected"], (name, seen_there["drawn"], seen_there["expected"])
        assert seen_there["scrollWidth"] <= seen_there["innerWidth"], (name, seen_there["scrollWidth"])
        assert seen_there["right"] <= seen_there["innerWidth"], (name, seen_there["right"])


def overlapping(texts: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The pairs of words whose boxes meet (on one page, its charts' words in page coordinates)."""
    met = []
    for i, a in enumerate(texts):
        for b in texts[i + 1:]:
            wide = min(a["right"], b["right"]) - max(a["left"], b["left"])
            high = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
            if wide > TOUCH and high > TOUCH:
                met.append((a["text"], b["text"]))
    return met


def assert_every_word_clear(measured: dict[str, dict[str, Any]]) -> None:
    """No two words of the charts over each other, and none past its chart's edges."""
    for name, seen_there in measured.items():
        texts = seen_there["texts"]
        assert texts, f"{name}: no words drawn"
        assert overlapping(texts) == [], name
        beyond = [t["text"] for t in texts if t["right"] > seen_there["charts"][t["chart"]]["right"] + TOUCH
                  or t["left"] < seen_there["charts"][t["chart"]]["left"] - TOUCH]
        assert beyond == [], name


# -- the chart ---------------------------------------------------------------------------------


def test_every_chart_is_a_valid_vega_lite_spec_now_as_of_and_as_known_at(ledger: Ledger) -> None:
    asked = [(n, None, None) for n in ledger.negotiations()]
    asked += [("us-japan-2025", "2025-08-28", None), ("us-korea-2025", "2025-09-20", "2025-09-20"),
              (LATE, "2025-04-06", "2025-04-11"), (LATE, None, "2025-04-13")]

    for negotiation_id, as_of, known_at in asked:
        for narrow in (False, True):
            spec = timeline_chart(ledger, negotiation_id, as_of=as_of, known_at=known_at,
                                  narrow=narrow).to_dict()  # validates

            assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
            title = spec["title"]["text"]
            assert negotiation_id in (" ".join(title) if isinstance(title, list) else title)


def test_the_bands_use_the_spec_book_diagrams_colour_for_each_state(ledger: Ledger) -> None:
    spec = timeline_chart(ledger, "us-japan-2025").to_dict()

    bands = spec["layer"][0]["encoding"]
    fills = dict(zip(bands["fill"]["scale"]["domain"], bands["fill"]["scale"]["range"]))
    strokes = dict(zip(bands["stroke"]["scale"]["domain"], bands["stroke"]["scale"]["range"]))
    assert set(fills) == {"agreed_in_principle", "disputed_terms", "visit_cancelled", "working_level_talks",
                          "talks_suspended", "finalised"}
    assert all((fills[state], strokes[state]) == STATE_COLOURS[state] for state in fills)
    assert len(set(fills.values())) == len(fills)  # no two states share a fill


# -- SVG, PNG and the command ------------------------------------------------------------------


@pytest.mark.parametrize("negotiation_id", SEED_IDS)
def test_the_svg_of_each_seed_negotiation_names_every_event_with_its_date(
        url: str, ledger: Ledger, negotiation_id: str, tmp_path: Path) -> None:
    out = tmp_path / f"{negotiation_id}.svg"

    result = run(url, "timeline", negotiation_id, "--out", str(out))

    assert result.exit_code == 0, result.output
    assert f"wrote {out}" in result.output
    texts = svg_texts(out.read_text(encoding="utf-8"))
    labels = [t for t in texts if " · " in t]
    for event in ledger.story(negotiation_id):
        assert event.type in texts, event.type
        assert any(t.startswith(day(event.occurred_at)) and ", ".join(map(outlet_of, event.sources)) in t for t in labels), event
    now, title = ledger.get(negotiation_id), ledger.titles()[negotiation_id]  # every seed file gives a title
    assert f"{title} · {negotiation_id} ({' – '.join(now.parties)}): {words.state(now.state)}" in texts


def test_us_japan_is_drawn_in_its_five_states_in_order(url: str, tmp_path: Path) -> None:
    out = tmp_path / "us-japan.svg"

    run(url, "timeline", "us-japan-2025", "--out", str(out))

    svg = out.read_text(encoding="utf-8")
    bands = [label for _, label in band_labels(svg)]
    assert band_states(svg) == [state for state, _ in US_JAPAN_BANDS]
    axis = svg.split('class="mark-text role-axis-label"')[1].split("</g>")[0]  # the first axis: world time
    assert {"27 Jul 2025", "3 Aug 2025", "31 Aug 2025"} <= set(svg_texts(axis))
    assert all(f"from {start}" in label for label, (_, start) in zip(bands, US_JAPAN_BANDS))
    assert bands[2] == "state: visit cancelled, from 28 Aug 2025 to 28 Aug 2025"


def test_the_png_is_a_sharp_picture_not_a_blank_one(url: str, tmp_path: Path) -> None:
    out = tmp_path / "us-japan.png"

    result = run(url, "timeline", "us-japan-2025", "--out", str(out))

    assert result.exit_code == 0, result.output
    width, height, colours = png_pixels(out.read_bytes())
    assert width >= 1800 and 600 <= height < width  # drawn at twice its size, wider than tall
    assert colours >= 50


def test_as_of_draws_us_japan_as_it_stood_on_28_august(url: str, tmp_path: Path) -> None:
    out = tmp_path / "then.svg"

    run(url, "timeline", "us-japan-2025", "--out", str(out), "--as-of", "2025-08-28")

    svg = out.read_text(encoding="utf-8")
    texts = svg_texts(svg)
    assert ("US–Japan tariffs for a $550 billion investment package · us-japan-2025 (US – JP): "
            "working-level talks") in texts
    assert "as of 28 Aug 2025" in texts
    assert not [t for t in texts if t.startswith("4 Sep 2025")]
    assert band_states(svg) == [s for s, _ in US_JAPAN_BANDS[:4]]


@pytest.mark.parametrize("suffix", [".svg", ".png", ".html"])
def test_the_late_negotiation_as_of_and_as_known_at_is_written_in_every_format(
        url: str, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"late{suffix}"

    result = run(url, "timeline", LATE, "--out", str(out), "--as-of", "2025-04-06", "--known-at", "2025-04-11")

    assert result.exit_code == 0, result.output
    if suffix == ".png":
        assert png_pixels(out.read_bytes())[2] >= 30
        return
    text = out.read_text(encoding="utf-8")
    assert "as of 6 Apr 2025, as known at 11 Apr 2025" in text
    assert "us-india-2025 (US – IN): visit cancelled" in text  # the retraction was not known yet
    assert "25 Mar 2025" not in text  # reported on 15 April
    if suffix == ".html":  # everything inline: nothing to fetch
        assert links(text) == []


def test_late_news_and_ghosts_show_what_was_known_when(url: str, tmp_path: Path) -> None:
    out = tmp_path / "late.svg"

    run(url, "timeline", LATE, "--out", str(out))

    svg = out.read_text(encoding="utf-8")
    texts = svg_texts(svg)
    assert "10 Mar 2025 · Mint · reported 20 Mar 2025 (10 days later)" in texts
    assert "25 Mar 2025 · Mint · reported 15 Apr 2025 (21 days later)" in texts
    assert "VisitCancelled (retracted)" in texts
    assert "5 Apr 2025 · retracted by version 7 (12 Apr 2025): the visit went ahead" in texts
    assert "19 Mar 2025 · PTI · corrected (was 12 Mar 2025)" in texts
    assert 'aria-label="TermsAmended of 12 Mar 2025 as first recorded, corrected"' in svg
    assert svg.count('stroke="#d9480f"') >= 2  # the late reports, linked to their events in orange


def test_bad_requests_fail_in_one_line(url: str, tmp_path: Path) -> None:
    unknown = run(url, "timeline", "no-such-talks", "--out", str(tmp_path / "x.svg"))
    suffix = run(url, "timeline", "us-japan-2025", "--out", str(tmp_path / "x.jpg"))
    early = run(url, "timeline", "us-japan-2025", "--out", str(tmp_path / "x.svg"), "--as-of", "2025-01-01")

    for result in (unknown, suffix, early):
        assert result.exit_code != 0
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.output
    assert "no-such-talks" in unknown.stderr
    assert "must end in .svg, .png, .html (got .jpg)" in suffix.stderr
    assert "had not opened" in early.stderr
    assert not list(tmp_path.iterdir())


# -- in the browser ----------------------------------------------------------------------------


def test_a_report_a_day_later_says_one_day_and_a_retraction_recorded_today_does_not_stretch_the_axis() -> None:
    with Ledger.open("memory://") as ledger:
        ledger.record("us-japan-2025", "AgreedInPrinciple", {"parties": ["US", "JP"]}, occurred_at="2025-07-22",
                      reported_at="2025-07-23", sources=["Reuters"])
        ledger.record("us-japan-2025", "VisitCancelled", {"envoy": "Ryosei Akazawa"}, occurred_at="2025-08-28",
                      reported_at="2025-08-28")
        ledger.retract("us-japan-2025", 2, reason="the visit went ahead")  # recorded now, months on
        view = picture(ledger, "us-japan-2025")

    spec = chart_of(view).to_dict()
    labels = [r["label"] for r in rows_of(view, WIDTH).labels]
    assert "22 Jul 2025 · Reuters · reported 23 Jul 2025 (1 day later)" in labels
    assert view.end < datetime.fromisoformat("2025-09-15T00:00:00+00:00")  # not today: the story's last day
    assert spec["layer"][0]["encoding"]["x"]["scale"]["domain"][1] == round(view.end.timestamp() * 1000)
    later = [r for rows in spec.get("datasets", {}).values() for r in rows if "when" in r]
    assert [r["event"] for r in later] == ["VisitCancelled"]
    assert later[0]["when"].startswith("retracted ") and later[0]["when"].endswith(", after the picture's last day")


def test_the_as_of_and_known_at_labels_are_one_on_the_same_day_and_apart_on_two(ledger: Ledger) -> None:
    same = rows_of(picture(ledger, "us-korea-2025", as_of="2025-09-20", known_at="2025-09-20"), WIDTH)
    two = rows_of(picture(ledger, "us-korea-2025", as_of="2025-09-20", known_at="2025-09-19"), WIDTH)

    assert [r["label"] for r in same.asked] == ["as of and known at 20 Sep 2025"]
    assert [r["label"] for r in two.asked] == ["as of 20 Sep 2025", "known at 19 Sep 2025"]
    for rows in (same, two):
        assert_lanes_clear(rows)


def assert_lanes_clear(rows: Any) -> None:
    """Every piece of text the rows placed is inside the picture, and none meets another in its row."""
    for key, lane in rows.lanes.items():
        for i, (left, right) in enumerate(sorted(lane.taken)):
            assert 0 <= left < right <= rows.width, (key, left, right)
            assert i == 0 or sorted(lane.taken)[i - 1][1] <= left, (key, sorted(lane.taken))


@pytest.mark.parametrize("negotiation_id", [*SEED_IDS, LATE])
def test_every_label_of_every_timeline_is_placed_inside_it_and_apart_from_the_others(
        ledger: Ledger, negotiation_id: str) -> None:
    for asked in ({}, {"as_of": "2025-09-20", "known_at": "2025-09-18"}):
        try:
            view = picture(ledger, negotiation_id, **asked)
        except UnknownNegotiation:
            continue
        for width, narrow in ((WIDTH, False), (NARROW_WIDTH, True)):
            rows = rows_of(view, width, NARROW if narrow else WIDE)
            assert_lanes_clear(rows)
            if narrow:  # a phone's rows are named over their marks, each line within the width
                assert all(lettering.width(r["said"], NARROW.label) <= width for r in rows.row_names)


@pytest.mark.slow
def test_the_timelines_in_chromium_show_every_event_with_no_word_over_another_at_1280_and_390(
        url: str, ledger: Ledger, tmp_path: Path) -> None:
    page, then, late, apart = (tmp_path / name for name in ("us-japan.html", "then.svg", "late.svg", "apart.svg"))
    run(url, "timeline", "us-japan-2025", "--out", str(page))
    run(url, "timeline", "us-korea-2025", "--out", str(then), "--as-of", "2025-09-20", "--known-at", "2025-09-20")
    run(url, "timeline", LATE, "--out", str(late))
    run(url, "timeline", "us-korea-2025", "--out", str(apart), "--as-of", "2025-09-20", "--known-at", "2025-09-18")

    shot = tmp_path / "shot.png"
    measured = measure([("page at 1280", page, 1280), ("page at 390", page, 390), ("then.svg", then, 1280),
                        ("late.svg", late, 1280), ("apart.svg", apart, 1280)], tmp_path, screenshot=shot)

    assert_nothing_cut_off(measured)
    assert_every_word_clear(measured)
    wide, phone = measured["page at 1280"], measured["page at 390"]
    assert len(wide["charts"]) == len(phone["charts"]) == 1  # the full chart, or the phone's
    assert wide["charts"][0]["scale"] == phone["charts"][0]["scale"] == 1  # drawn at its size: not shrunk
    assert min(t["size"] for t in phone["texts"]) >= 11  # type a phone reads
    texts = [t["text"] for t in wide["texts"]]
    for event in ledger.story("us-japan-2025"):
        assert any(t.startswith(f"{day(event.occurred_at)} · {', '.join(map(outlet_of, event.sources))}") for t in texts), event
    told = [t["text"] for t in phone["texts"]]
    assert all(any(t.startswith(f"{e.type} · {day(e.occurred_at)}") for t in told)
               for e in ledger.story("us-japan-2025"))
    assert "as of and known at 20 Sep 2025" in [t["text"] for t in measured["then.svg"]["texts"]]
    assert '"tooltip"' in page.read_text(encoding="utf-8")  # a tap or a hover on a mark tells its details
    width, height, colours = png_pixels(shot.read_bytes())
    assert (width, height) == (1700, 1400) and colours >= 30


def test_the_readme_shows_the_us_japan_timeline_made_by_the_project() -> None:
    picture = ROOT / "seeds" / "us-japan-2025-timeline.png"

    assert "](seeds/us-japan-2025-timeline.png)" in (ROOT / "README.md").read_text(encoding="utf-8")
    width, _, colours = png_pixels(picture.read_bytes())
    assert width >= 1800 and colours >= 50


def test_a_bar_in_a_disputed_point_survives_in_its_row_name(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'pipe.db'}"
    with Ledger.open(url) as ledger:
        ledger.record("us-japan-2025", "AgreedInPrinciple", {"parties": ["US", "JP"]}, occurred_at="2025-07-22",
                      backfill=True)
        ledger.record("us-japan-2025", "TermsDisputed", {"point": "rice|beef quotas"}, occurred_at="2025-07-25",
                      backfill=True)
    out = tmp_path / "pipe.svg"

    result = run(url, "timeline", "us-japan-2025", "--out", str(out))

    assert result.exit_code == 0, result.output
    assert "disputed: rice|beef quotas" in svg_texts(out.read_text(encoding="utf-8"))


# -- several negotiations on one time axis -------------------------------------------------------------------


def test_several_negotiations_are_drawn_on_one_time_axis_a_row_each(url: str, ledger: Ledger, tmp_path: Path
                                                                    ) -> None:
    ids = ["us-japan-2025", "us-korea-2025", LATE]
    out = tmp_path / "three.svg"

    result = run(url, "timeline", *ids, "--out", str(out))

    assert result.exit_code == 0, result.output
    spec = timelines_chart(ledger, ids).to_dict()
    data = spec["datasets"]
    bands, ticks = (data[layer["data"]["name"]] for layer in spec["layer"])
    assert spec["layer"][0]["encoding"]["y"]["scale"]["domain"] == [f"{i:05d}|{n}" for i, n in enumerate(ids)]
    assert {b["row"].split("|")[1] for b in bands} == set(ids)
    for negotiation_id in ids:
        assert sum(t["negotiation"] == negotiation_id for t in ticks) == len(ledger.story(negotiation_id))
        held = [b for b in bands if b["negotiation"] == negotiation_id]
        assert held[-1]["state"] == ledger.get(negotiation_id).state
    domain = spec["layer"][0]["encoding"]["x"]["scale"]["domain"]
    assert domain[0] <= min(t["x"] for t in ticks) and max(t["x"] for t in ticks) <= domain[1]
    assert [t for t in svg_texts(out.read_text(encoding="utf-8")) if t in ids] == ids  # named in that order


def test_several_negotiations_with_a_bad_id_fail_in_one_line_and_write_nothing(url: str, tmp_path: Path) -> None:
    unknown = run(url, "timeline", "us-japan-2025", "no-such-talks", "--out", str(tmp_path / "x.svg"))
    twice = run(url, "timeline", "us-japan-2025", "us-japan-2025", "--out", str(tmp_path / "x.svg"))

    for result in (unknown, twice):
        assert result.exit_code != 0
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "Traceback" not in result.output
    assert "no-such-talks" in unknown.stderr
    assert "'us-japan-2025' named more than once" in twice.stderr
    assert not list(tmp_path.iterdir())
