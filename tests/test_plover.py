"""PLOVER export: every event type has a code, and a negotiation's story comes out as PLOVER event records.

A record per event of the story, in story order: retracted events are left
out, corrected ones are told as corrected, and the log's corrections make no
record. The categories, modes and contexts are the PLOVER manual's.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

from negotiation import Ledger, UnknownNegotiation
from negotiation.cli import main
from negotiation.domain.payloads import CORRECTION_TYPES, ENTRY_PAYLOADS
from negotiation.files.plover import (
    CODES,
    NOT_EVENTS,
    PLOVER_EVENTS,
    code_for,
    plover_lines,
    write_lines,
)

ROOT = Path(__file__).resolve().parent.parent

#: Every event type of the domain, those the code has now and those it is getting.
DOMAIN_EVENT_TYPES = (
    "AgreedInPrinciple", "TermsDisputed", "DisputeResolved", "VisitCancelled", "WorkingLevelTalksOpened",
    "TalksSuspended", "AgreementFinalised", "TermsAmended", "MeetingHeld", "MeasureThreatened",
    "MeasureImposed", "MeasurePaused", "MeasureLifted", "DeadlineSet", "ThirdPartyActed", "ReportDenied",
)

#: The modes of each PLOVER category that has them (manual, chapter "Event Categories").
MODES = {
    "CONSULT": {"visit", "third-party", "multilateral", "phone"},
    "RETREAT": {"withdraw", "release", "disarm", "ceasefire", "access", "resign"},
    "REQUEST": {"assist", "change", "yield", "meet"},
    "REJECT": {"assist", "change", "yield", "meet"},
    "ACCUSE": {"disapprove", "investigate", "allege"},
    "THREATEN": {"restrict", "arrest", "relations", "expel", "territory", "violence"},
    "SANCTION": {"convict", "expel", "withdraw", "discontinue"},
}

#: The general contexts (manual, chapter "Event, Mode, and Context", table of general contexts).
CONTEXTS = {
    "military", "intelligence", "executive", "legislative", "election", "political_institutions",
    "pro_democracy", "pro_autocracy", "economic", "legal", "reparations", "human_rights", "rights_freedoms",
    "repression", "human_security", "gender", "lgbt", "religion_ethnicity", "inequality", "diplomatic",
    "territory", "peacekeeping", "health", "asylum", "migration", "disasters", "natural_resource",
    "environment", "technology", "terrorism", "cbrn", "cyber", "misinformation", "crime", "corruption",
    "illegal_drugs", "trafficking",
}


# -- the table ----------------------------------------------------------------------------------------------


def test_every_event_type_of_the_log_has_a_code_and_no_correction_has_one() -> None:
    events = [name for name in ENTRY_PAYLOADS if name not in CORRECTION_TYPES]

    assert events and [name for name in events if name not in CODES] == []
    assert set(NOT_EVENTS) >= set(CORRECTION_TYPES) - set(CODES)
    assert set(NOT_EVENTS).isdisjoint(CODES)


def test_every_event_type_of_the_domain_has_a_code() -> None:
    assert set(CODES) == set(DOMAIN_EVENT_TYPES)


@pytest.mark.parametrize("event_type", DOMAIN_EVENT_TYPES)
@pytest.mark.parametrize("data", [{}, {"format": "call", "level": "leaders"}, {"by": "US"}, {"kind": "court"},
                                  {"kind": "legislature"}], ids=["bare", "a-call", "by", "court", "legislature"])
def test_every_code_is_a_plover_category_with_its_own_modes_and_contexts(event_type: str,
                                                                         data: dict[str, Any]) -> None:
    code = code_for(event_type, data)

    assert code.event in PLOVER_EVENTS
    assert code.mode is None or code.mode in MODES.get(code.event, set())
    assert code.context and set(code.context) <= CONTEXTS and len(set(code.context)) == len(code.context)
    assert code.cameo.isdigit() and 3 <= len(code.cameo) <= 4 and code.cameo_name


def test_what_an_event_says_refines_its_code() -> None:
    assert (code_for("MeetingHeld", {"level": "ministerial"}).cameo, code_for("MeetingHeld", {}).mode) == ("046", None)
    call = code_for("MeetingHeld", {"level": "leaders", "format": "call"})
    assert (call.cameo, call.mode, call.context) == ("041", "phone", ("economic", "diplomatic", "executive"))
    assert code_for("DeadlineSet", {"what": "a deal", "due": "2025-08-01", "by": "US"}).event == "THREATEN"
    assert code_for("DeadlineSet", {"what": "a deal", "due": "2025-08-01"}).event == "AGREE"
    assert code_for("ThirdPartyActed", {"kind": "court"}).cameo == "116"
    assert code_for("ThirdPartyActed", {"kind": "court"}).context[0] == "legal"
    assert code_for("ThirdPartyActed", {"kind": "legislature"}).context == ("legislative", "economic")


# -- the records --------------------------------------------------------------------------------------------


@pytest.fixture
def scratch() -> Iterator[Ledger]:
    """A negotiation in memory with a late event, a retraction and a correction."""
    with Ledger.open("memory://") as ledger:
        nid = "us-japan-2025"
        ledger.record(nid, "AgreedInPrinciple", {"parties": ["US", "JP"]}, occurred_at="2025-07-22",
                      sources=["Reuters", "Kyodo"])
        ledger.record(nid, "TermsDisputed", {"point": "tariff stacking"}, occurred_at="2025-08-05")
        ledger.record(nid, "VisitCancelled", {"envoy": "Akazawa"}, occurred_at="2025-08-28")
        talks = ledger.record(nid, "WorkingLevelTalksOpened", {}, occurred_at="2025-08-29")
        ledger.record(nid, "TermsAmended", {"terms": {"reciprocal tariff": "15%"}},  # late: before the dispute
                      occurred_at="2025-07-31T14:05:00Z")
        ledger.retract(nid, talks.version, reason="the round was not held")
        ledger.correct(nid, 2, reason="the point was profit sharing", occurred_at="2025-08-06",
                       data={"point": "profit sharing", "positions": {"JP": "a 50:50 split"}})
        ledger.record("us-uk-2025", "AgreedInPrinciple", {"parties": ["US", "GB"]}, occurred_at="2025-05-08")
        yield ledger


def test_a_story_comes_out_as_json_lines_of_plover_records_in_story_order(scratch: Ledger) -> None:
    out = io.StringIO()

    counted = write_lines(plover_lines(scratch, ["us-japan-2025"]), out)

    lines = [orjson.loads(line) for line in out.getvalue().splitlines()]
    assert counted == (1, 4) and len(lines) == 4
    assert [(line["date"], line["event_type"], line["event"], line["cameo"]) for line in lines] == [
        ("2025-07-22", "AgreedInPrinciple", "AGREE", "0311"),
        ("2025-07-31", "TermsAmended", "SUPPORT", "057"),
        ("2025-08-06", "TermsDisputed", "ACCUSE", "110"),
        ("2025-08-28", "VisitCancelled", "REJECT", "125"),
    ]
    assert all(line["event"] in PLOVER_EVENTS and line["negotiation"] == "us-japan-2025" for line in lines)
    story = scratch.story("us-japan-2025")
    assert [line["id"] for line in lines] == [event.event_id for event in story]
    assert list(lines[0]) == ["id", "date", "time", "enddate", "actor", "recipient", "event", "mode", "context",
                              "cameo", "text", "source", "negotiation", "event_type", "denied_by"]
    assert (lines[0]["actor"], lines[0]["recipient"]) == ([{"code": "US"}, {"code": "JP"}], [])
    assert (lines[0]["source"], lines[0]["text"], lines[0]["time"]) == ("Reuters; Kyodo", "US and JP agree in principle",
                                                                       None)
    assert lines[1]["time"] == "14:05:00Z"
    assert (lines[3]["mode"], lines[3]["context"]) == ("meet", ["diplomatic", "economic"])


def test_a_retracted_event_makes_no_record_and_a_corrected_one_is_told_as_corrected(scratch: Ledger) -> None:
    lines = list(plover_lines(scratch, ["us-japan-2025"]))

    assert "WorkingLevelTalksOpened" not in {line["event_type"] for line in lines}
    assert not {"EventRetracted", "EventCorrected"} & {line["event_type"] for line in lines}
    disputed = next(line for line in lines if line["event_type"] == "TermsDisputed")
    assert (disputed["text"], disputed["date"]) == ("point disputed: profit sharing", "2025-08-06")
    # The corrected stance is Japan's alone: Japan disputes the point with the United States.
    assert (disputed["actor"], disputed["recipient"]) == ([{"code": "JP"}], [{"code": "US"}])


def test_every_negotiation_by_default_in_the_order_they_were_opened(scratch: Ledger) -> None:
    lines = list(plover_lines(scratch))

    assert [line["negotiation"] for line in lines] == ["us-japan-2025"] * 4 + ["us-uk-2025"]


def test_an_unknown_negotiation_is_refused_before_any_record(scratch: Ledger) -> None:
    with pytest.raises(UnknownNegotiation, match="us-mars-2030"):
        plover_lines(scratch, ["us-japan-2025", "us-mars-2030"])


def test_a_denied_event_names_who_denied_it_and_a_partys_denial_is_a_record(scratch: Ledger) -> None:
    visit = next(event for event in scratch.story("us-japan-2025") if event.type == "VisitCancelled")
    disputed = next(event for event in scratch.story("us-japan-2025") if event.type == "TermsDisputed")
    scratch.deny("us-japan-2025", visit.event_id, by="JP", statement="only put off", sources=["NHK"])
    scratch.deny("us-japan-2025", disputed.version, by="Nikkei", sources=["NHK"])

    lines = list(plover_lines(scratch, ["us-japan-2025"]))

    by_type = {line["event_type"]: line for line in lines}
    assert by_type["VisitCancelled"]["denied_by"] == ["JP"]
    assert by_type["TermsDisputed"]["denied_by"] == ["Nikkei"]
    denial = by_type["ReportDenied"]  # Japan's denial is an act of a party; the outlet's is not
    assert [line["event_type"] for line in lines].count("ReportDenied") == 1
    assert (denial["event"], denial["cameo"]) == ("REJECT", "016")
    assert (denial["actor"], denial["recipient"]) == ([{"code": "JP"}], [{"code": "US"}])
    assert lines[-1] is denial


# -- the command and the README -----------------------------------------------------------------------------


def test_export_format_plover_writes_json_lines(database_url: str, at_head: None, tmp_path: Path) -> None:
    with Ledger.open(database_url) as ledger:
        ledger.record("us-uk-2025", "AgreedInPrinciple", {"parties": ["US", "GB"]}, occurred_at="2025-05-08",
                      sources=["White House"])
        ledger.record("us-uk-2025", "AgreementFinalised", {"instruments": ["Executive Order 14309"]},
                      occurred_at="2025-06-16")
    out = tmp_path / "uk.jsonl"
    runner = CliRunner()

    printed = runner.invoke(main, ["--url", database_url, "export", "--format", "plover"])
    written = runner.invoke(main, ["--url", database_url, "export", "us-uk-2025", "--format", "plover",
                                   "--out", str(out)])
    refused = runner.invoke(main, ["--url", database_url, "export", "us-mars-2030", "--format", "plover"])

    assert printed.exit_code == 0, printed.output
    lines = [orjson.loads(line) for line in printed.stdout.splitlines()]
    assert [(line["event"], line["cameo"], line["source"]) for line in lines] == [
        ("AGREE", "0311", "White House"), ("SUPPORT", "057", "")]
    assert written.exit_code == 0, written.output
    assert written.stderr == f"exported 2 PLOVER event records of 1 negotiation to {out}\n"
    assert out.read_text(encoding="utf-8") == printed.stdout
    assert refused.exit_code == 1 and "us-mars-2030" in refused.stderr and refused.stdout == ""


def test_the_readmes_plover_example_runs_as_written() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### PLOVER event records", 1)[1].split("\n## ", 1)[0]
    block = section.split("```python\n", 1)[1].split("```", 1)[0]

    exec(compile(block, "README.md", "exec"), {})  # noqa: S102  (its assert is the check)
