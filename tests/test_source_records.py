"""Sources as records of the article: linked in the report, round-tripped through export and load,
hashed as before when plain names, and refused in one line when a reader could not open or date them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from negotiation import InvalidEvent, Ledger, SourceRecord
from negotiation.cli import main
from negotiation.domain.times import hashed
from negotiation.files import export
from negotiation.files.loading import load_streams, read_streams
from negotiation.views import report

ROOT = Path(__file__).resolve().parent.parent
SEEDS = [ROOT / "seeds" / "us-japan-2025.yaml", ROOT / "seeds" / "us-korea-2025.yaml"]
#: The Reuters report of the US–Japan deal the seed links to.
REUTERS_URL = "https://japannews.yomiuri.co.jp/news-services/reuters/20250723-271114/"
ARTICLE = {"outlet": "BBC", "url": "https://www.bbc.co.uk/news/articles/c0deal",
           "headline": "US and UK agree trade deal", "published": "2025-05-08"}


@pytest.fixture
def seeded(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'seeded.db'}"
    with Ledger.open(url) as ledger:
        load_streams(ledger, read_streams(SEEDS))
    return url


def test_a_seed_events_article_is_a_link_in_the_report(seeded: str, tmp_path: Path) -> None:
    with Ledger.open(seeded) as ledger:
        report.write(ledger, tmp_path / "site")
    page = (tmp_path / "site" / "negotiations" / "us-japan-2025.html").read_text(encoding="utf-8")
    assert (f'<a href="{REUTERS_URL}">Trump Announces Trade Deal with Japan, Including 15% Tariff</a> '
            "(Reuters, 23\u00a0Jul\u00a02025)") in page


def test_seed_records_round_trip_through_export_and_load(seeded: str, tmp_path: Path) -> None:
    exported = tmp_path / "all.yaml"
    with Ledger.open(seeded) as ledger:
        with exported.open("w", encoding="utf-8") as out:
            export.write(export.documents(ledger), out)
        before = ledger.read_all()
    with Ledger.open(f"sqlite:///{tmp_path / 'fresh.db'}") as fresh:
        load_streams(fresh, read_streams([exported]))
        after = fresh.read_all()
        assert fresh.verify().intact
    said = [(e.event_id, e.type, e.data, e.occurred_at, e.reported_at, e.sources) for e in before]
    assert said == [(e.event_id, e.type, e.data, e.occurred_at, e.reported_at, e.sources) for e in after]
    records = [s for e in after for s in e.sources if isinstance(s, SourceRecord)]
    assert REUTERS_URL in [record.url for record in records]
    assert "outlet: Reuters" in exported.read_text(encoding="utf-8")


def test_a_plain_name_hashes_exactly_as_before(ledger: Ledger) -> None:
    entry = ledger.record("us-uk-2025", "AgreedInPrinciple", {"parties": ["US", "GB"]},
                          occurred_at="2025-05-08", reported_at="2025-05-08", sources=["Reuters"])
    # The chain's definition, written out: a plain name is the text it always was.
    content = {"event_id": entry.event_id, "negotiation_id": "us-uk-2025", "version": 1,
               "type": "AgreedInPrinciple", "data": {"parties": ["US", "GB"]},
               "occurred_at": hashed(entry.occurred_at), "recorded_at": hashed(entry.recorded_at),
               "sources": ["Reuters"], "schema_version": entry.schema_version,
               "reported_at": hashed(entry.reported_at)}
    expected = hashlib.sha256(b"0" * 64 + orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()
    assert entry.hash == expected


def test_a_record_is_stored_counted_and_chosen_by_its_outlet(ledger: Ledger) -> None:
    ledger.record("us-uk-2025", "AgreedInPrinciple", {"parties": ["US", "GB"]}, occurred_at="2025-05-08",
                  reported_at="2025-05-08", sources=["Reuters", {**ARTICLE, "quote": "a great day"}])
    ledger.record("us-uk-2025", "TermsDisputed", {"point": "steel"}, occurred_at="2025-06-03",
                  reported_at="2025-06-03", sources=[ARTICLE])
    entry, _disputed = ledger.history("us-uk-2025")
    assert entry.sources == ("Reuters", SourceRecord("BBC", ARTICLE["url"], ARTICLE["headline"],
                                                 entry.occurred_at.date(), "a great day"))
    assert [(s.source, s.entries) for s in ledger.sources()] == [("BBC", 2), ("Reuters", 1)]
    assert [e.version for e in ledger.reported_by("BBC")] == [1, 2]
    assert ledger.get("us-uk-2025", exclude_sources=["BBC"]).open_disputes == ()
    assert ledger.verify().intact


@pytest.mark.parametrize(("change", "message"), [
    ({"url": "javascript:alert(1)"}, "sources: source 1: url: must be an http or https address, got javascript:"),
    ({"url": "data:text/html,hi"}, "sources: source 1: url: must be an http or https address, got data:"),
    ({"url": "https:///no-host"}, "sources: source 1: url: must name a host"),
    ({"published": "8 May 2025"}, "sources: source 1: published:"),
    ({"published": "2025-02-30"}, "sources: source 1: published:"),
    ({"headline": "x" * 501}, "sources: source 1: headline: text must be at most 500 characters, got 501"),
    ({"quote": "a\x07bell"}, "sources: source 1: quote: text must not contain control characters"),
    ({"outlet": None}, "sources: source 1: outlet:"),
    ({"author": "A. Writer"}, "sources: source 1: unknown key 'author'"),
])
def test_a_bad_record_is_refused_naming_the_field_and_writes_nothing(ledger: Ledger, change: dict[str, object],
                                                                      message: str) -> None:
    ledger.record("us-uk-2025", "AgreedInPrinciple", {"parties": ["US", "GB"]}, occurred_at="2025-05-08",
                  reported_at="2025-05-08")
    before = ledger.read_all()
    record = {key: value for key, value in {**ARTICLE, **change}.items() if value is not None}
    with pytest.raises(InvalidEvent) as refused:
        ledger.record("us-uk-2025", "TermsDisputed", {"point": "steel"}, sources=[record])
    assert message in str(refused.value) and "\n" not in str(refused.value)
    assert ledger.read_all() == before


def test_the_command_line_records_and_shows_an_article(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    recorded = runner.invoke(main, ["--url", url, "record", "us-uk-2025", "AgreedInPrinciple", "--data",
                                    '{"parties": ["US", "GB"]}', "--occurred-at", "2025-05-08", "--backfill",
                                    "--source", "Reuters", "--source-record", json.dumps(ARTICLE)])
    assert recorded.exit_code == 0, recorded.output
    shown = runner.invoke(main, ["--url", url, "story", "us-uk-2025", "--json"])
    assert json.loads(shown.output)[0]["sources"] == ["Reuters", ARTICLE]
    told = runner.invoke(main, ["--url", url, "story", "us-uk-2025"])
    # The table wraps the cell over lines; read without its borders and spaces, it says the article whole.
    condensed = "".join(line.split("│")[-2] for line in told.output.splitlines() if line.count("│") > 1)
    said = "Reuters; BBC, 8 May 2025: “US and UK agree trade deal” <https://www.bbc.co.uk/news/articles/c0deal>"
    assert "".join(said.split()) in "".join(condensed.split())


@pytest.fixture
def opened(tmp_path: Path) -> str:
    """A database holding the US–UK deal of 8 May 2025, recorded from the command line."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    recorded = CliRunner().invoke(main, ["--url", url, "record", "us-uk-2025", "AgreedInPrinciple", "--data",
                                         '{"parties": ["US", "GB"]}', "--occurred-at", "2025-05-08", "--backfill"])
    assert recorded.exit_code == 0, recorded.output
    return url


def test_the_command_line_refuses_a_script_address_in_one_line(opened: str) -> None:
    url, runner = opened, CliRunner()
    with Ledger.open(url) as ledger:
        before = ledger.read_all()
    refused = runner.invoke(main, ["--url", url, "record", "us-uk-2025", "TermsDisputed", "--data",
                                   '{"point": "steel"}', "--source-record",
                                   json.dumps({**ARTICLE, "url": "javascript:alert(1)"})])
    assert refused.exit_code == 1
    assert refused.stderr.strip().splitlines() == [
        "Error: sources: source 1: url: must be an http or https address, got javascript:"]
    with Ledger.open(url) as ledger:
        assert ledger.read_all() == before


def test_a_headline_is_escaped_in_the_report(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'page.db'}"
    with Ledger.open(url) as ledger:
        ledger.record("us-uk-2025", "AgreedInPrinciple", {"parties": ["US", "GB"]}, occurred_at="2025-05-08",
                      reported_at="2025-05-08",
                      sources=[{**ARTICLE, "headline": "<script>alert(1)</script>",
                                "url": 'https://example.org/a"onmouseover="x'}])
        report.write(ledger, tmp_path / "site")
    page = (tmp_path / "site" / "negotiations" / "us-uk-2025.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in page
    assert ('<a href="https://example.org/a&quot;onmouseover=&quot;x">&lt;script&gt;alert(1)&lt;/script&gt;</a>'
            in page)


def test_a_retraction_and_a_correction_name_their_articles_from_the_command_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    for args in (["AgreedInPrinciple", "--data", '{"parties": ["US", "GB"]}', "--occurred-at", "2025-05-08"],
                 ["TermsDisputed", "--data", '{"point": "steel"}', "--occurred-at", "2025-05-09"],
                 ["TermsDisputed", "--data", '{"point": "beef"}', "--occurred-at", "2025-05-10"]):
        assert runner.invoke(main, ["--url", url, "record", "us-uk-2025", *args, "--backfill"]).exit_code == 0
    retraction = {**ARTICLE, "headline": "No steel dispute after all", "published": "2025-05-11"}
    correction = {**ARTICLE, "headline": "Beef row began a day later", "published": "2025-05-12"}

    retracted = runner.invoke(main, ["--url", url, "retract", "us-uk-2025", "2", "--reason", "misreported",
                                     "--source-record", json.dumps(retraction)])
    corrected = runner.invoke(main, ["--url", url, "correct", "us-uk-2025", "3", "--reason", "wrong day",
                                     "--occurred-at", "2025-05-11", "--source", "Reuters",
                                     "--source-record", json.dumps(correction)])

    assert retracted.exit_code == 0, retracted.output
    assert corrected.exit_code == 0, corrected.output
    with Ledger.open(url) as ledger:
        entries = ledger.read_all()
    assert [(e.type, e.sources) for e in entries[3:]] == [
        ("EventRetracted", (SourceRecord.from_stored(retraction),)),
        ("EventCorrected", ("Reuters", SourceRecord.from_stored(correction)))]


def test_a_bad_article_on_a_retraction_is_one_line_and_writes_nothing(opened: str) -> None:
    url, runner = opened, CliRunner()
    with Ledger.open(url) as ledger:
        before = ledger.read_all()

    refused = runner.invoke(main, ["--url", url, "retract", "us-uk-2025", "1", "--reason", "misreported",
                                   "--source-record", json.dumps({**ARTICLE, "published": "yesterday"})])

    assert refused.exit_code == 1
    assert len(refused.stderr.strip().splitlines()) == 1 and "published" in refused.stderr
    with Ledger.open(url) as ledger:
        assert ledger.read_all() == before
