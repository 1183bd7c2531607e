"""What a picture shows beside the phase: measures by status over time, deadlines, meetings, suspended talks.

Recorded on a ``memory://`` ledger through the public API and read back as
plain data (the picture, and the chart's Vega-Lite spec): no browser.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from negotiation import Ledger
from negotiation.specbook.diagram import STATE_COLOURS
from negotiation.views.beside import MeasureSpan, in_force_since
from negotiation.views.files import save
from negotiation.views.model import picture
from negotiation.views.timeline import chart_of, timeline_chart

TALKS = "us-canada-2025"


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def tell_pressure(ledger: Ledger, negotiation_id: str = TALKS) -> None:
    """Tariffs threatened, imposed and paused, deadlines, meetings, a deal with two readouts, talks broken off
    and resumed, and a call one side denies. Every event is reported the day it happened."""
    def record(event_type: str, data: dict[str, Any], on: str) -> None:
        ledger.record(negotiation_id, event_type, data, occurred_at=on, reported_at=on, sources=["Reuters"])

    record("MeasureThreatened", {"parties": ["US", "CA"], "measure": "fentanyl tariff", "by": "US", "value": "25%",
                                 "effective": "2025-02-04"}, "2025-02-01")
    record("MeasureThreatened", {"measure": "steel tariff", "by": "US", "value": "50%", "effective": "2025-03-12"},
           "2025-02-01")
    record("MeasureImposed", {"measure": "fentanyl tariff", "by": "US", "value": "25%"}, "2025-02-04")
    record("MeasurePaused", {"measure": "fentanyl tariff", "until": "2025-03-04", "reason": "a 30-day truce"},
           "2025-02-05")
    record("WorkingLevelTalksOpened", {"venue": "Ottawa"}, "2025-02-10")
    record("MeetingHeld", {"level": "ministerial", "format": "in person", "venue": "Washington",
                           "ends_on": "2025-02-21"}, "2025-02-20")
    record("DeadlineSet", {"what": "a deal on fentanyl", "due": "2025-02-28", "by": "US"}, "2025-02-12")
    record("DeadlineSet", {"what": "a deal on fentanyl", "due": "2025-03-04", "by": "US"}, "2025-02-26")
    record("AgreedInPrinciple", {"terms": {"fentanyl tariff": "25%", "energy": "10%"}, "title": "border deal"},
           "2025-03-15")
    record("TermsAmended", {"terms": {"energy": "0%"}, "according_to": "CA"}, "2025-03-16")
    record("TermsAmended", {"terms": {"autos": "25%", "fentanyl tariff": "25%"}, "according_to": "US"},
           "2025-03-17")
    record("DeadlineSet", {"what": "a comprehensive deal", "due": "2025-04-21", "by": "US"}, "2025-03-20")
    record("MeetingHeld", {"level": "leaders", "format": "call"}, "2025-03-22")
    record("TalksSuspended", {"by": "US", "reason": "the digital services tax", "terminated": True}, "2025-03-25")
    record("MeetingHeld", {"level": "working", "venue": "Ottawa"}, "2025-04-02")
    record("WorkingLevelTalksOpened", {"round": 2}, "2025-04-10")
    ledger.deny(negotiation_id, 13, by="CA", statement="there was no call", reported_at="2025-03-23")


@pytest.fixture
def ledger() -> Iterator[Ledger]:
    with Ledger.open("memory://") as opened:
        tell_pressure(opened)
        yield opened


def spans_of(spans: tuple[MeasureSpan, ...], measure: str) -> list[tuple[str, datetime, datetime]]:
    return [(s.status, s.start, s.end) for s in spans if s.measure == measure]


def layer_data(spec: dict[str, Any], mark: str, field: str) -> list[dict[str, Any]]:
    """The rows of every layer drawing ``mark`` whose rows carry ``field``."""
    found = []
    for layer in spec["layer"]:
        kind = layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]
        data = layer.get("data", {})
        rows = spec.get("datasets", {}).get(data["name"], []) if "name" in data else data.get("values", [])
        if kind == mark and rows and field in rows[0]:
            found += rows
    return found


# -- measures ----------------------------------------------------------------------------------------


def test_a_pause_that_lapses_is_in_force_again_the_day_after_until_with_no_event_that_day(ledger: Ledger) -> None:
    view = picture(ledger, TALKS)

    spans = spans_of(view.measures, "fentanyl tariff")

    assert spans == [("threatened", moment("2025-02-01"), moment("2025-02-04")),
                     ("in_force", moment("2025-02-04"), moment("2025-02-05")),
                     ("paused", moment("2025-02-05"), moment("2025-03-05")),
                     ("in_force", moment("2025-03-05"), view.end)]
    assert not [e for e in ledger.story(TALKS) if e.occurred_at.date().isoformat() == "2025-03-05"]
    lapsed = [s for s in view.measures if s.measure == "fentanyl tariff"][-1]
    assert lapsed.current and lapsed.causes == ("the pause ended 4 Mar 2025",)
    assert (lapsed.by, lapsed.value) == ("US", "25%")


def test_a_threat_whose_effective_day_passes_unacted_shows_as_lapsed_after_that_day(ledger: Ledger) -> None:
    view = picture(ledger, TALKS)

    assert spans_of(view.measures, "steel tariff") == [
        ("threatened", moment("2025-02-01"), moment("2025-03-13")),
        ("threat_lapsed", moment("2025-03-13"), view.end)]


def test_every_span_says_what_the_ledger_says_of_the_measure_on_each_of_its_days(ledger: Ledger) -> None:
    view = picture(ledger, TALKS)

    for span in view.measures:
        day = span.start
        while day < min(span.end, moment("2025-04-12")):
            asked = ledger.get(TALKS, as_of=day.date()) if day >= moment("2025-02-01") else None
            if asked is not None and span.measure in asked.measures:
                assert asked.measure_status(span.measure) == span.status, (span.measure, day)
            day += timedelta(days=1)


def test_as_of_the_last_day_of_the_pause_the_measure_is_still_paused_to_the_end_of_the_picture(
        ledger: Ledger) -> None:
    view = picture(ledger, TALKS, as_of="2025-03-04")

    assert spans_of(view.measures, "fentanyl tariff")[-1] == ("paused", moment("2025-02-05"), view.end)
    assert view.end == moment("2025-03-05") - timedelta(microseconds=1)
    assert in_force_since(view.measures, "fentanyl tariff", view.end) is None


def test_in_force_since_goes_back_to_the_day_the_pause_ran_out(ledger: Ledger) -> None:
    view = picture(ledger, TALKS)

    assert in_force_since(view.measures, "fentanyl tariff", moment("2025-04-01")) == moment("2025-03-05")
    assert in_force_since(view.measures, "fentanyl tariff", moment("2025-02-04T12:00")) == moment("2025-02-04")
    assert in_force_since(view.measures, "steel tariff", moment("2025-04-01")) is None


# -- deadlines, meetings, suspended talks, denials ---------------------------------------------------


def test_deadlines_are_marked_pending_passed_or_moved_at_the_time_asked(ledger: Ledger) -> None:
    now = picture(ledger, TALKS)
    then = picture(ledger, TALKS, as_of="2025-03-21")

    assert [(d.what, d.due, d.status, d.moved_to) for d in now.deadlines] == [
        ("a deal on fentanyl", "2025-02-28", "moved", "2025-03-04"),
        ("a deal on fentanyl", "2025-03-04", "passed", None),
        ("a comprehensive deal", "2025-04-21", "passed", None)]
    assert [d.status for d in then.deadlines] == ["moved", "passed", "pending"]


def test_meetings_are_marked_by_level_and_a_denied_one_says_who_denied_it(ledger: Ledger) -> None:
    view = picture(ledger, TALKS)

    assert [(m.at.date().isoformat(), m.level, m.denied_by) for m in view.meetings] == [
        ("2025-02-20", "ministerial", ()), ("2025-03-22", "leaders", ("CA",)), ("2025-04-02", "working", ())]
    assert view.meetings[0].ends_at == moment("2025-02-22")


def test_the_timeline_spec_draws_measures_deadlines_meetings_and_suspended_talks(ledger: Ledger) -> None:
    spec = timeline_chart(ledger, TALKS).to_dict()  # validates against the Vega-Lite schema

    bands = layer_data(spec, "rect", "state")
    assert [b["state"] for b in bands] == ["working_level_talks", "agreed_in_principle", "talks_suspended",
                                           "working_level_talks"]
    assert bands[2]["why"] == "talks terminated by US: the digital services tax"
    fills = spec["layer"][0]["encoding"]["fill"]["scale"]
    assert dict(zip(fills["domain"], fills["range"]))["talks_suspended"] == STATE_COLOURS["talks_suspended"][0]
    measures = layer_data(spec, "bar", "measure")
    assert [(m["measure"], m["status"], m["from"], m["to"]) for m in measures] == [
        ("fentanyl tariff", "threatened", "1 Feb 2025", "4 Feb 2025"),
        ("fentanyl tariff", "in_force", "4 Feb 2025", "5 Feb 2025"),
        ("fentanyl tariff", "paused", "5 Feb 2025", "5 Mar 2025"),
        ("fentanyl tariff", "in_force", "5 Mar 2025", ""),
        ("steel tariff", "threatened", "1 Feb 2025", "13 Mar 2025"),
        ("steel tariff", "threat_lapsed", "13 Mar 2025", "")]
    assert {m["against"] for m in measures} == {"CA"}
    assert measures[3]["why"] == "the pause ended 4 Mar 2025"
    pending = [r for r in layer_data(spec, "point", "due") if r["filled"]]
    hollow = [r for r in layer_data(spec, "point", "due") if not r["filled"]]
    assert pending == [] and [r["fate"] for r in hollow] == ["moved to 4 Mar 2025", "passed", "passed"]
    meetings = layer_data(spec, "point", "level")
    assert [(m["level"], m["shape"]) for m in meetings] == [("ministerial", "square"), ("leaders", "triangle-up"),
                                                            ("working", "circle")]
    shapes = next(layer["encoding"]["shape"]["scale"] for layer in spec["layer"]
                  if layer["encoding"].get("shape", {}).get("field") == "level")
    assert shapes == {"domain": ["working", "ministerial", "leaders"], "range": ["circle", "square", "triangle-up"]}
    rows = spec["layer"][0]["encoding"]  # the rows' order is the y axis's sort, shared by the layers
    assert rows["x"]["field"] == "x"
    labels = [r["label"] for r in layer_data(spec, "text", "label")]
    assert "22 Mar 2025 · Reuters · denied by CA" in labels


def test_a_pending_deadline_is_filled_and_the_chart_as_of_then_ends_on_that_day(ledger: Ledger) -> None:
    spec = chart_of(picture(ledger, TALKS, as_of="2025-03-21")).to_dict()

    pending = [r for r in layer_data(spec, "point", "due") if r["filled"]]
    assert [(r["what"], r["due"], r["fate"]) for r in pending] == [("a comprehensive deal", "21 Apr 2025",
                                                                    "pending")]
    order = next(layer["encoding"]["y"]["sort"] for layer in spec["layer"] if "y" in layer.get("encoding", {}))
    names = [key.split("|")[1] for key in order]
    assert names[:5] == ["state", "measure: fentanyl tariff", "measure: steel tariff",
                         "deadline: a deal on fentanyl", "deadline: a comprehensive deal"]
    assert names[5] == "meetings"


def test_a_negotiation_of_pressure_alone_is_drawn_with_its_measures_and_no_state_band() -> None:
    with Ledger.open("memory://") as ledger:
        ledger.record("us-brazil-2025", "MeasureThreatened", {"parties": ["US", "BR"], "measure": "tariff",
                                                              "by": "US", "value": "50%"}, occurred_at="2025-07-09")

        view = picture(ledger, "us-brazil-2025")
        spec = chart_of(view).to_dict()

    assert view.negotiation.state == "not_opened" and view.bands == ()
    assert [(s.status, s.current) for s in view.measures] == [("threatened", True)]
    assert [m["status"] for m in layer_data(spec, "bar", "measure")] == ["threatened"]


def test_a_picture_with_one_level_of_meeting_draws_its_marker_and_legend(ledger: Ledger, tmp_path: Path) -> None:
    out = save(timeline_chart(ledger, TALKS, as_of="2025-03-01"), tmp_path / "one-level.svg", TALKS)

    svg = out.read_text(encoding="utf-8")
    assert "NaN" not in svg
    assert "Symbol legend titled 'meeting' for shape and fill color with 1 value: ministerial" in svg
    assert 'aria-label="ministerial in person Washington meeting on 20 Feb 2025"' in svg


def test_an_imposition_announced_ahead_is_drawn_threatened_until_its_day_then_in_force() -> None:
    with Ledger.open("memory://") as ledger:
        ledger.record("us-india-2025", "WorkingLevelTalksOpened", {"parties": ["US", "IN"]}, occurred_at="2025-03-01")
        ledger.record("us-india-2025", "MeasureImposed", {"measure": "penalty tariff", "by": "US", "value": "25%",
                                                          "effective_from": "2025-08-27"}, occurred_at="2025-08-06")

        spans = picture(ledger, "us-india-2025", as_of="2025-09-30").measures

    assert [(span.status, span.start, span.end) for span in spans] == [
        ("threatened", moment("2025-08-06"), moment("2025-08-27")),
        ("in_force", moment("2025-08-27"), spans[-1].end)]
    assert spans[-1].causes == ("it took effect 27 Aug 2025, as imposed ahead",)
