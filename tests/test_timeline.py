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

import pytest
from click.testing import CliRunner, Result

from negotiation import Ledger
from negotiation.cli import main
from negotiation.files.loading import load_streams, read_streams
from negotiation.specbook.diagram import STATE_COLOURS
from negotiation.views.timeline import timeline_chart

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "seeds").glob("*.yaml"))
SEED_IDS = [stream.negotiation_id for stream in read_streams(SEEDS)]
IN_CI = os.environ.get("CI", "").lower() == "true"
#: A negotiation told late: a dispute reported ten days on, an amendment three weeks on, a cancelled visit
#: retracted and an amendment's date corrected.
LATE = "us-india-2025"
US_JAPAN_BANDS = [("agreed_in_principle", "22 Jul 2025"), ("disputed_terms", "5 Aug 2025"),
                  ("visit_cancelled", "28 Aug 2025"), ("working_level_talks", "28 Aug 2025"),
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
    """The words of an SVG drawing, in document order."""
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


def band_labels(svg: str) -> list[tuple[float, str]]:
    """Each state band's left edge and description, left to right."""
    found = re.findall(r'<path aria-label="(state [^"]+)"[^>]*? d="M(-?[\d.]+),', svg)
    return sorted((float(x), label) for label, x in found)


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

#: Appended to a copy of a page: once the charts are drawn, it writes what a person would see cut off.
PROBE = """<script>
(function measure(tries) {
  var drawn = document.querySelectorAll("svg.marks");
  if (drawn.length < %d && tries < 400) { setTimeout(function () { measure(tries + 1); }, 25); return; }
  var right = 0;
  document.querySelectorAll("body *").forEach(function (e) { right = Math.max(right, e.getBoundingClientRect().right); });
  var out = document.createElement("pre");
  out.id = "measured";
  out.textContent = JSON.stringify({scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
                                    drawn: drawn.length, right: Math.ceil(right)});
  document.body.appendChild(out);
  if (window.parent !== window) window.parent.postMessage(out.textContent, "*");
})(0);
</script>"""
#: Headless Chromium will not make a window narrower than 500 pixels: a phone's 390 is an iframe.
PHONE = """<!DOCTYPE html><html><body style="margin:0">
<iframe src="%s" style="width:390px;height:900px;border:0"></iframe><pre id="measured"></pre>
<script>addEventListener("message", function (e) { document.getElementById("measured").textContent = e.data; });</script>
</body></html>"""


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
             "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
             "--virtual-time-budget=20000"]
    done = subprocess.run([*flags, *args, page.as_uri()], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def seen(page: Path, profile: Path, charts: int,
         screenshot: Path | None = None) -> tuple[str, dict[str, dict[str, int]]]:
    """The page's DOM once drawn at 1280 pixels wide, and what was measured at 1280 and at 390.

    With ``screenshot`` the same launch at 1280 pixels also takes the picture (one browser fewer).
    """
    probe = page.with_name(f"probe-{page.name}")
    source = page.read_text(encoding="utf-8")
    end = source.rindex("</body>")
    probe.write_text(source[:end] + PROBE % charts + source[end:], encoding="utf-8")
    phone = page.with_name(f"phone-{page.name}")
    phone.write_text(PHONE % probe.name, encoding="utf-8")
    picture = [f"--screenshot={screenshot}"] if screenshot is not None else []
    wide = browse(probe, profile, "--window-size=1280,900", "--dump-dom", *picture).stdout
    narrow = browse(phone, profile, "--window-size=1280,900", "--dump-dom").stdout
    measured = {}
    for width, dom in (("1280", wide), ("390", narrow)):
        found = re.search(r'<pre id="measured">([^<]+)</pre>', dom)
        assert found, f"nothing measured at {width} pixels"
        measured[width] = json.loads(html.unescape(found[1]))
    return wide, measured


def assert_nothing_cut_off(measured: dict[str, dict[str, int]], charts: int) -> None:
    for width, seen_there in measured.items():
        assert seen_there["drawn"] == charts, (width, seen_there)
        assert seen_there["innerWidth"] == int(width), seen_there
        assert seen_there["scrollWidth"] <= seen_there["innerWidth"], (width, seen_there)
        assert seen_there["right"] <= seen_there["innerWidth"], (width, seen_there)


# -- the chart ---------------------------------------------------------------------------------


def test_every_chart_is_a_valid_vega_lite_spec_now_as_of_and_as_known_at(ledger: Ledger) -> None:
    asked = [(n, None, None) for n in ledger.negotiations()]
    asked += [("us-japan-2025", "2025-08-28", None), ("us-korea-2025", "2025-09-20", "2025-09-20"),
              (LATE, "2025-04-06", "2025-04-11"), (LATE, None, "2025-04-13")]

    for negotiation_id, as_of, known_at in asked:
        spec = timeline_chart(ledger, negotiation_id, as_of=as_of, known_at=known_at).to_dict()  # validates

        assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/")
        assert negotiation_id in spec["title"]["text"]


def test_the_bands_use_the_spec_book_diagrams_colour_for_each_state(ledger: Ledger) -> None:
    spec = timeline_chart(ledger, "us-japan-2025").to_dict()

    bands = spec["layer"][0]["encoding"]
    fills = dict(zip(bands["fill"]["scale"]["domain"], bands["fill"]["scale"]["range"]))
    strokes = dict(zip(bands["stroke"]["scale"]["domain"], bands["stroke"]["scale"]["range"]))
    assert set(fills) == {"agreed_in_principle", "disputed_terms", "visit_cancelled", "working_level_talks",
                          "finalised"}
    assert all((fills[state], strokes[state]) == STATE_COLOURS[state] for state in fills)


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
        assert any(t.startswith(day(event.occurred_at)) and ", ".join(event.sources) in t for t in labels), event
    now = ledger.get(negotiation_id)
    assert f"{negotiation_id} ({' – '.join(now.parties)}): {now.state}" in texts


def test_us_japan_is_drawn_in_its_five_states_in_order(url: str, tmp_path: Path) -> None:
    out = tmp_path / "us-japan.svg"

    run(url, "timeline", "us-japan-2025", "--out", str(out))

    svg = out.read_text(encoding="utf-8")
    bands = [label for _, label in band_labels(svg)]
    assert [label.split()[1] for label in bands] == [state for state, _ in US_JAPAN_BANDS]
    axis = svg.split('class="mark-text role-axis-label"')[1].split("</g>")[0]  # the first axis: world time
    assert {"27 Jul 2025", "3 Aug 2025", "31 Aug 2025"} <= set(svg_texts(axis))
    assert all(f"from {start}" in label for label, (_, start) in zip(bands, US_JAPAN_BANDS))
    assert bands[2] == "state visit_cancelled from 28 Aug 2025 to 28 Aug 2025"


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
    assert "us-japan-2025 (US – JP): working_level_talks" in texts
    assert "as of 28 Aug 2025" in texts
    assert not [t for t in texts if t.startswith("4 Sep 2025")]
    assert [label.split()[1] for _, label in band_labels(svg)] == [s for s, _ in US_JAPAN_BANDS[:4]]


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
    assert "us-india-2025 (US – IN): visit_cancelled" in text  # the retraction was not known yet
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


@pytest.mark.slow
def test_the_html_timeline_shows_every_event_and_fits_1280_and_390_pixels_in_chromium(
        url: str, ledger: Ledger, tmp_path: Path) -> None:
    page = tmp_path / "us-japan.html"
    run(url, "timeline", "us-japan-2025", "--out", str(page))

    shot = tmp_path / "shot.png"
    dom, measured = seen(page, tmp_path / "profile", charts=1, screenshot=shot)

    assert_nothing_cut_off(measured, charts=1)
    texts = svg_texts(dom)
    for event in ledger.story("us-japan-2025"):
        assert any(t.startswith(f"{day(event.occurred_at)} · {', '.join(event.sources)}") for t in texts), event
    bands = [label for _, label in band_labels(dom)]
    assert [label.split()[1] for label in bands] == [state for state, _ in US_JAPAN_BANDS]
    assert '"tooltip"' in page.read_text(encoding="utf-8")  # hovering a mark tells its type, date and sources
    width, height, colours = png_pixels(shot.read_bytes())
    assert (width, height) == (1280, 900) and colours >= 30


def test_the_readme_shows_the_us_japan_timeline_made_by_the_project() -> None:
    picture = ROOT / "seeds" / "us-japan-2025-timeline.png"

    assert "](seeds/us-japan-2025-timeline.png)" in (ROOT / "README.md").read_text(encoding="utf-8")
    width, _, colours = png_pixels(picture.read_bytes())
    assert width >= 1800 and colours >= 50
