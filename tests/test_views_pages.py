"""The report's index rows (deadlines ahead, measures in force), a negotiation's page (each party's view of
the terms side by side, deals, measures, meetings, denied events), and a report that cannot tell everything.

On ``memory://`` ledgers, through the public API; the pages are read as HTML, not in a browser.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from test_report import Tables
from test_views_beside import TALKS, moment, tell_pressure

from negotiation import Ledger
from negotiation.domain.times import end_of
from negotiation.views import report
from negotiation.views.model import picture
from negotiation.views.overview import deadlines_due, measures_in_force, overview
from negotiation.views.pages import index_page, negotiation_page, views_side_by_side
from negotiation.views.timeline import chart_of, mini_chart

OTHER = "us-mexico-2025"


def tell_other(ledger: Ledger) -> None:
    """A second negotiation, with a deadline of its own and a tariff in force since an imposition."""
    def record(event_type: str, data: dict[str, object], on: str) -> None:
        ledger.record(OTHER, event_type, data, occurred_at=on, reported_at=on, sources=["AP"])

    record("MeasureImposed", {"parties": ["US", "MX"], "measure": "steel tariff", "by": "US", "value": "25%",
                              "effective_from": "2025-03-01"}, "2025-03-12")
    record("DeadlineSet", {"what": "a security deal", "due": "2025-04-05", "by": "MX"}, "2025-03-14")
    record("MeasureThreatened", {"measure": "steel tariff", "by": "US", "value": "50%"}, "2025-03-20")


@pytest.fixture
def ledger() -> Iterator[Ledger]:
    with Ledger.open("memory://") as opened:
        tell_pressure(opened)
        tell_other(opened)
        yield opened


def at(day: str) -> datetime:
    return end_of(day, "as_of")


# -- the index's rows --------------------------------------------------------------------------------


def test_the_deadlines_of_the_next_30_days_are_the_pending_ones_across_negotiations_soonest_first(
        ledger: Ledger) -> None:
    told = [ledger.get(n, as_of="2025-03-22") for n in ledger.negotiations()]

    rows = deadlines_due(told, at("2025-03-22"))

    assert [(r.negotiation, r.what, r.due, r.days_left, r.by) for r in rows] == [
        (OTHER, "a security deal", date(2025, 4, 5), 14, "MX"),
        (TALKS, "a comprehensive deal", date(2025, 4, 21), 30, "US")]
    assert rows[1].set_on == "2025-03-20" and rows[1].parties == ("US", "CA")


def test_a_deadline_31_days_ahead_or_already_passed_is_not_listed_and_one_due_today_is(ledger: Ledger) -> None:
    early = deadlines_due([ledger.get(TALKS, as_of="2025-03-21")], at("2025-03-21"))
    today = deadlines_due([ledger.get(TALKS, as_of="2025-04-21")], at("2025-04-21"))
    after = deadlines_due([ledger.get(TALKS, as_of="2025-04-22")], at("2025-04-22"))

    assert [r.what for r in early] == []  # 31 days ahead
    assert [(r.what, r.days_left) for r in today] == [("a comprehensive deal", 0)]
    assert after == ()


def test_the_measures_in_force_say_by_whom_against_whom_value_and_since(ledger: Ledger) -> None:
    views = [picture(ledger, n, as_of="2025-04-01") for n in ledger.negotiations()]

    rows = measures_in_force(views, at("2025-04-01"))

    assert [(r.negotiation, r.measure, r.by, r.against, r.value, r.since) for r in rows] == [
        (TALKS, "fentanyl tariff", "US", "CA", "25%", moment("2025-03-05")),  # the pause ran out on 4 March
        (OTHER, "steel tariff", "US", "MX", "25%", moment("2025-03-12"))]
    assert (rows[1].effective_from, rows[1].threatened_value) == ("2025-03-01", "50%")
    assert [m.name for v in views for m in v.negotiation.measures_in_force] == [r.measure for r in rows]


def test_while_the_truce_holds_the_paused_tariff_is_not_in_force(ledger: Ledger) -> None:
    views = [picture(ledger, n, as_of="2025-03-04") for n in (TALKS,)]

    assert measures_in_force(views, at("2025-03-04")) == ()


def test_the_index_lists_the_deadlines_ahead_and_the_measures_in_force_linked_to_their_pages(
        ledger: Ledger) -> None:
    views = [picture(ledger, n, as_of="2025-04-01") for n in ledger.negotiations()]
    summary = overview(views, at("2025-04-01"), when="as of 1 Apr 2025")

    html = index_page([(v, mini_chart(v)) for v in views], "1 Apr 2025 12:00 UTC", summary)

    tables = Tables(html)
    assert tables.section("deadlines") == [
        ["due", "in", "negotiation", "what", "set by", "set on"],
        ["5 Apr 2025", "4 days", OTHER, "a security deal", "MX", "14 Mar 2025"],
        ["21 Apr 2025", "20 days", TALKS, "a comprehensive deal", "US", "20 Mar 2025"]]
    assert tables.section("measures") == [
        ["negotiation", "measure", "by", "against", "value", "in force since", "notes"],
        [TALKS, "fentanyl tariff", "US", "CA", "25%", "5 Mar 2025", "effective from 4 Feb 2025"],
        [OTHER, "steel tariff", "US", "MX", "25%", "12 Mar 2025", "effective from 1 Mar 2025; threatened: 50%"]]
    assert "Pending deadlines due from 1 Apr 2025 to 1 May 2025" in html
    assert f'href="negotiations/{TALKS}.html#deadlines"' in html
    assert "2 negotiations from the ledger as of 1 Apr 2025" in html
    assert 'id="untold"' not in html


def test_an_index_with_nothing_ahead_says_so(ledger: Ledger) -> None:
    views = [picture(ledger, TALKS)]
    summary = overview(views, datetime(2026, 12, 2, tzinfo=UTC))

    html = index_page([(v, mini_chart(v)) for v in views], "2 Dec 2026 00:00 UTC", summary)

    assert "No deadline falls due from 2 Dec 2026 to 1 Jan 2027." in html
    assert Tables(html).section("measures")[1][:6] == [TALKS, "fentanyl tariff", "US", "CA", "25%", "5 Mar 2025"]


# -- a negotiation's page ----------------------------------------------------------------------------


def test_the_page_shows_each_partys_view_side_by_side_with_the_differences_highlighted(ledger: Ledger) -> None:
    view = picture(ledger, TALKS)

    html = views_side_by_side(view)

    assert Tables(html).tables[0] == [
        ["term", "common", "as US tells it", "as CA tells it", "the views"],
        ["fentanyl tariff", "25%", "25% (US's statement)", "25%", "agree"],
        ["energy", "10%", "10%", "0% (CA's statement)", "differ"],
        ["autos", "—", "25% (US's statement)", "—", "differ"]]
    rows = re.findall(r"<tr(?: class=\"(\w+)\")?><td[^>]*>([^<]+)</td>", html)
    assert [(name, css) for css, name in rows] == [("fentanyl tariff", ""), ("energy", "differs"),
                                                   ("autos", "differs")]
    assert "The views differ on 2 terms, highlighted." in html
    assert view.negotiation.differences == ("autos", "energy")


def test_the_page_shows_deals_measures_deadlines_meetings_and_who_denied_what(ledger: Ledger) -> None:
    view = picture(ledger, TALKS)

    tables = Tables(negotiation_page(view, chart_of(view)))

    story = {row[1] + " " + row[0]: row[6] for row in tables.section("story")[1:]}
    assert story["MeetingHeld 22 Mar 2025"] == "denied by CA"
    assert story["MeetingHeld 20 Feb 2025"] == ""
    assert tables.section("deals")[1:] == [["15 Mar 2025", "in principle", "border deal", "—", ""]]
    assert tables.section("measures")[1:] == [
        ["fentanyl tariff", "US", "CA", "in force", "25%", "the pause ended 4 Mar 2025; effective from 4 Feb 2025"],
        ["steel tariff", "US", "CA", "threat lapsed", "50%", "to take effect 12 Mar 2025"]]
    assert [row[:4] for row in tables.section("measure-spans")[1:]] == [
        ["fentanyl tariff", "threatened", "1 Feb 2025", "4 Feb 2025"],
        ["fentanyl tariff", "in force", "4 Feb 2025", "5 Feb 2025"],
        ["fentanyl tariff", "paused", "5 Feb 2025", "5 Mar 2025"],
        ["fentanyl tariff", "in force", "5 Mar 2025", "still"],
        ["steel tariff", "threatened", "1 Feb 2025", "13 Mar 2025"],
        ["steel tariff", "threat lapsed", "13 Mar 2025", "still"]]
    assert [row[:3] for row in tables.section("deadlines")[1:]] == [
        ["a deal on fentanyl", "28 Feb 2025", "moved to 4 Mar 2025"], ["a deal on fentanyl", "4 Mar 2025", "passed"],
        ["a comprehensive deal", "21 Apr 2025", "passed"]]
    meetings = tables.section("meetings")
    assert [(row[0], row[1], row[-1]) for row in meetings[1:]] == [
        ("20 Feb 2025 to 21 Feb 2025", "ministerial", ""), ("22 Mar 2025", "leaders", "denied by CA"),
        ("2 Apr 2025", "working", "")]
    assert ["16 Mar 2025", "energy", "CA", "—", "0%", "TermsAmended"] in tables.section("term-changes")
    assert tables.section("corrections")[1][2] == "ReportDenied"


def test_the_page_of_suspended_talks_says_who_broke_them_off(ledger: Ledger) -> None:
    view = picture(ledger, TALKS, as_of="2025-04-01")

    html = negotiation_page(view, chart_of(view))

    assert "<dt>talks</dt><dd>terminated by US on 25 Mar 2025: the digital services tax</dd>" in html
    assert "<dt>told</dt><dd>as of 1 Apr 2025</dd>" in html
    assert 'id="state-talks_suspended"' not in html and "#state-talks_suspended" in html


# -- a report that cannot tell every negotiation -----------------------------------------------------


def test_a_report_names_the_negotiations_it_cannot_tell_and_tells_the_rest(tmp_path: Path) -> None:
    with Ledger.open("memory://") as ledger:
        tell_pressure(ledger)
        # Reported out of step: as known on 26 July, the amendment is known and the deal it amends is not.
        ledger.record("us-japan-2025", "AgreedInPrinciple", {"parties": ["US", "JP"]}, occurred_at="2025-07-22",
                      reported_at="2025-08-01")
        ledger.record("us-japan-2025", "TermsAmended", {"terms": {"autos": "15%"}}, occurred_at="2025-07-24",
                      reported_at="2025-07-25")
        ledger.record("us-korea-2025", "WorkingLevelTalksOpened", {"parties": ["US", "KR"]},
                      occurred_at="2025-07-28", reported_at="2025-07-28")
        stale = tmp_path / "negotiations" / "us-korea-2025.html"
        stale.parent.mkdir(parents=True)
        stale.write_text("an earlier report's page", encoding="utf-8")

        site = report.write(ledger, tmp_path, known_at="2025-07-26", now=datetime(2026, 1, 1, tzinfo=UTC))

    assert sorted(site.pages) == [TALKS]
    assert list(site.failed) == ["us-japan-2025", "us-korea-2025"]
    assert site.failed["us-japan-2025"].startswith("as known at 26 Jul 2025, the reports do not yet make a legal "
                                                   "story: negotiation 'us-japan-2025': the story breaks at "
                                                   "version 2, TermsAmended of 24 Jul 2025")
    assert site.failed["us-korea-2025"] == ("negotiation 'us-korea-2025' is unknown then: nothing about it had "
                                            "been reported by 26 Jul 2025")
    assert not stale.exists()
    index = site.index.read_text(encoding="utf-8")
    untold = re.findall(r"<li><strong>([\w-]+)</strong>: ([^<]+)</li>", index)
    assert [name for name, _ in untold] == ["us-japan-2025", "us-korea-2025"]
    assert "1 negotiation from the ledger as known at 26 Jul 2025, written 1 Jan 2026 00:00 UTC" in index
    tables = Tables(index)
    assert [row[0] for row in tables.tables[0][1:]] == [TALKS]
    assert tables.section("measures")[1][:6] == [TALKS, "fentanyl tariff", "US", "CA", "25%", "5 Mar 2025"]
    assert "No deadline falls due from 26 Jul 2025 to 25 Aug 2025." in index
    assert (tmp_path / "negotiations" / f"{TALKS}.html").is_file()


# -- what changed in what was known ------------------------------------------------------------------


def what_changed(page: str) -> str:
    """The page's section on what changed in what was known, as text."""
    found = re.search(r'<h2 id="what-changed">(.*?)<h2 id="story">', page)
    assert found is not None, "the page has no section on what changed"
    return re.sub(r"<[^>]+>", "\n", found[1])


def test_each_page_tells_what_the_last_7_days_of_reporting_changed_or_that_nothing_did(tmp_path: Path) -> None:
    with Ledger.open("memory://") as ledger:
        ledger.record("us-korea-2025", "AgreedInPrinciple", {"parties": ["US", "KR"]}, occurred_at="2025-07-30",
                      reported_at="2025-07-30", sources=["AFP"])
        ledger.record("us-korea-2025", "TermsDisputed", {"point": "currency swap"}, occurred_at="2025-09-19",
                      reported_at="2025-09-22", sources=["Reuters"])
        ledger.record("us-uk-2025", "AgreedInPrinciple", {"parties": ["US", "GB"]}, occurred_at="2025-05-08",
                      reported_at="2025-05-08")

        site = report.write(ledger, tmp_path, known_at="2025-09-22", now=datetime(2026, 1, 1, tzinfo=UTC))

    korea = what_changed(site.pages["us-korea-2025"].read_text(encoding="utf-8"))
    assert "In the 7 days of reporting from 15 Sep 2025 to 22 Sep 2025: 3 changes, 1 entry reported in between." \
        in korea
    assert "open point currency swap: not open → open, by version 2 (new event)" in korea
    assert "state: agreed in principle → terms disputed, by version 2 (new event)" in korea
    assert "version 2, new event of 19 Sep 2025, reported 22 Sep 2025 (Reuters): point disputed: currency swap" \
        in korea
    uk = what_changed(site.pages["us-uk-2025"].read_text(encoding="utf-8"))
    assert "In the 7 days of reporting from 15 Sep 2025 to 22 Sep 2025: nothing changed." in uk
