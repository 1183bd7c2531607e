"""Back-filling history: events recorded long after they happened, as known when they happened or not."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from negotiation import BackdatedReport, InvalidEvent, Ledger
from negotiation.files.export import documents, write
from negotiation.files import loading
from negotiation.files.loading import LoadStopped, load_streams, read_streams

US_JAPAN = "us-japan-2025"
DEAL = {"parties": ["US", "JP"]}


@pytest.fixture
def ledger() -> Iterator[Ledger]:
    with Ledger.open("memory://") as ledger:
        yield ledger


def test_backfill_takes_each_event_as_reported_when_it_happened(ledger: Ledger) -> None:
    ledger.record(US_JAPAN, "AgreedInPrinciple", DEAL, occurred_at="2025-07-22", backfill=True)
    ledger.record_many(US_JAPAN, [{"type": "TermsDisputed", "data": {"point": "stacking"}, "occurred_at": "2025-08-05"},
                                  {"type": "TermsAmended", "data": {"terms": {"a": 1}}, "occurred_at": "2025-08-07",
                                   "reported_at": "2025-08-09"}], backfill=True)

    reported = [entry.reported_at.date().isoformat() for entry in ledger.history(US_JAPAN)]

    assert reported == ["2025-07-22", "2025-08-05", "2025-08-09"]  # a reported_at given is kept
    assert ledger.get(US_JAPAN, known_at="2025-08-06").open_disputes == ("stacking",)


def test_an_event_days_old_recorded_as_reported_now_warns(ledger: Ledger) -> None:
    with pytest.warns(BackdatedReport, match=r"AgreedInPrinciple of 2025-07-22 recorded as reported now .*backfill"):
        ledger.record(US_JAPAN, "AgreedInPrinciple", DEAL, occurred_at="2025-07-22")


def test_an_event_of_today_or_with_its_report_time_does_not_warn(ledger: Ledger) -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", BackdatedReport)
        ledger.record(US_JAPAN, "AgreedInPrinciple", DEAL, occurred_at="2025-07-22", reported_at="2025-07-22")
        ledger.record(US_JAPAN, "TermsAmended", {"terms": {"a": 1}}, occurred_at=datetime.now(UTC))
        ledger.record(US_JAPAN, "TermsAmended", {"terms": {"b": 1}})

    assert ledger.version(US_JAPAN) == 3


@pytest.mark.parametrize(("occurred", "reported", "words"), [
    ("2025-07-22", "2025-07-21", "reported_at: 2025-07-21 is before occurred_at 2025-07-22"),
    ("2025-07-22T15:00:00Z", "2025-07-22T09:00:00Z", "reported_at: 2025-07-22T09:00:00+00:00 is before occurred_at "
                                                     "2025-07-22T15:00:00+00:00"),
])
def test_a_report_dated_before_what_it_reports_is_refused_in_one_line(
        ledger: Ledger, occurred: str, reported: str, words: str) -> None:
    with pytest.raises(InvalidEvent) as refused:
        ledger.record(US_JAPAN, "AgreedInPrinciple", DEAL, occurred_at=occurred, reported_at=reported)

    assert str(refused.value) == f"{words}; nothing is reported before it happens"
    assert ledger.read_all() == []


def test_a_report_the_same_day_as_an_event_given_as_a_day_is_taken(ledger: Ledger) -> None:
    recorded = ledger.record(US_JAPAN, "AgreedInPrinciple", DEAL, occurred_at="2025-07-22T15:00:00Z",
                             reported_at="2025-07-22")

    assert recorded.reported_at == datetime(2025, 7, 22, tzinfo=UTC)


def test_a_correction_of_a_report_time_repairs_what_was_known_at_any_earlier_day(ledger: Ledger) -> None:
    ledger.record(US_JAPAN, "AgreedInPrinciple", DEAL, occurred_at="2025-07-22", reported_at="2025-07-22")
    ledger.record(US_JAPAN, "TermsDisputed", {"point": "stacking"}, occurred_at="2025-08-05")  # "reported now"
    before = ledger.get(US_JAPAN, known_at="2025-08-06").open_disputes

    correction = ledger.correct(US_JAPAN, 2, reason="in the news the day it happened",
                                event_reported_at="2025-08-05")

    assert before == ()
    assert ledger.get(US_JAPAN, known_at="2025-08-06").open_disputes == ("stacking",)
    assert ledger.story(US_JAPAN)[1].reported_at == datetime(2025, 8, 5, tzinfo=UTC)
    assert ledger.history(US_JAPAN)[1].corrected_by == (correction.version,)
    assert correction.data["reported_at"] == "2025-08-05T00:00:00+00:00"


def test_a_report_time_corrected_to_before_the_event_is_refused_and_nothing_written(ledger: Ledger) -> None:
    ledger.record(US_JAPAN, "AgreedInPrinciple", DEAL, occurred_at="2025-07-22", reported_at="2025-07-22")
    before = ledger.read_all()

    with pytest.raises(InvalidEvent, match=r"^EventCorrected of version 1: event_reported_at: 2025-07-01 is before "
                                           r"occurred_at 2025-07-22; nothing is reported before it happens$"):
        ledger.correct(US_JAPAN, 1, reason="earlier", event_reported_at="2025-07-01")

    assert ledger.read_all() == before


def test_an_event_file_that_backfills_and_corrects_a_report_time_loads_and_exports_the_same(
        ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "history.yaml"
    path.write_text("negotiation: us-japan-2025\nbackfill: true\nevents:\n"
                    "  - {type: AgreedInPrinciple, occurred_at: 2025-07-22, data: {parties: [US, JP]}}\n"
                    "  - {type: TermsDisputed, occurred_at: 2025-08-05, reported_at: 2025-08-07, "
                    "data: {point: stacking}}\n"
                    "  - {type: EventCorrected, target: 2, reason: first in the news on 5 August, "
                    "event_reported_at: 2025-08-05}\n", encoding="utf-8")

    load_streams(ledger, read_streams([path]))
    exported = tmp_path / "again.yaml"
    with exported.open("w", encoding="utf-8") as out:
        write(documents(ledger), out)
    with Ledger.open("memory://") as again:
        load_streams(again, read_streams([exported]))
        told_again = [(e.type, e.data, e.occurred_at, e.reported_at) for e in again.story(US_JAPAN)]
    assert told_again == [(e.type, e.data, e.occurred_at, e.reported_at) for e in ledger.story(US_JAPAN)]

    assert [e.reported_at.date().isoformat() for e in ledger.story(US_JAPAN)] == ["2025-07-22", "2025-08-05"]
    assert ledger.get(US_JAPAN, known_at="2025-08-05").open_disputes == ("stacking",)


def test_the_back_filling_story_works_from_the_command_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from negotiation.cli import main

    url = f"sqlite:///{tmp_path / 'archive.db'}"

    def run(*args: str) -> Any:
        return CliRunner().invoke(main, ["--url", url, *args])

    deal = run("record", US_JAPAN, "AgreedInPrinciple", "--data", '{"parties": ["US", "JP"]}',
               "--occurred-at", "2025-07-22", "--backfill")
    late = run("record", US_JAPAN, "TermsDisputed", "--data", '{"point": "tariff stacking"}',
               "--occurred-at", "2025-08-05", "--reported-at", "2025-08-20")
    slip = run("record", US_JAPAN, "TermsAmended", "--data", '{"terms": {"auto tariff": "15%"}}',
               "--occurred-at", "2025-08-07")
    before = run("show", US_JAPAN, "--known-at", "2025-08-08", "--json")
    fixed = run("correct", US_JAPAN, "3", "--event-reported-at", "2025-08-07", "--reason", "in the news that day")
    after = run("show", US_JAPAN, "--known-at", "2025-08-08", "--json")

    assert [r.exit_code for r in (deal, late, slip, fixed)] == [0, 0, 0, 0], [r.output for r in (deal, late, slip)]
    assert "warning:" not in deal.output and "warning:" not in late.output
    assert "warning: TermsAmended of 2025-08-07 recorded as reported now" in slip.output
    assert "auto tariff" not in json.loads(before.stdout)["terms"]
    assert json.loads(after.stdout)["terms"] == {"auto tariff": "15%"}
    assert json.loads(after.stdout)["state"] == "agreed_in_principle"  # the late dispute not yet known then


def test_a_report_before_the_event_is_refused_in_one_line_by_the_command_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from negotiation.cli import main

    url = f"sqlite:///{tmp_path / 'archive.db'}"
    result = CliRunner().invoke(main, ["--url", url, "record", US_JAPAN, "AgreedInPrinciple", "--data",
                                       '{"parties": ["US", "JP"]}', "--occurred-at", "2025-07-22",
                                       "--reported-at", "2025-07-21"])

    assert result.exit_code == 1
    assert result.output.strip() == ("Error: reported_at: 2025-07-21 is before occurred_at 2025-07-22; nothing is "
                                     "reported before it happens")


ARCHIVE = """negotiation: us-japan-2025
events:
  - {type: AgreedInPrinciple, occurred_at: 2025-07-22, data: {parties: [US, JP]}}
  - {type: TermsDisputed, occurred_at: 2025-08-05, data: {point: stacking}}
  - {type: TermsAmended, occurred_at: 2025-08-07, data: {terms: {autos: 15%}}}
  - {type: TermsAmended, occurred_at: 2025-08-08, data: {terms: {rice: quota}}}
  - {type: TermsAmended, occurred_at: 2025-08-09, data: {terms: {chips: none}}}
"""


def test_a_load_stopped_part_way_warns_once_for_the_chunks_it_kept(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loading, "CHUNK", 2)  # three transactions: 2 + 2 + 1 events
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    path = tmp_path / "archive.yaml"
    path.write_text(ARCHIVE, encoding="utf-8")
    committed: list[int] = []

    def progress(events: int) -> None:  # once the first chunk is in, another writer records into the negotiation
        committed.append(events)
        if len(committed) == 1:
            with Ledger.open(url) as other:
                other.record(US_JAPAN, "TermsAmended", {"terms": {"beef": "open"}})

    with Ledger.open(url) as ledger:
        with pytest.warns(BackdatedReport) as warned, pytest.raises(LoadStopped):
            load_streams(ledger, read_streams([path]), progress)
        kept = [entry.type for entry in ledger.history(US_JAPAN)]

    assert committed == [2]
    assert kept == ["AgreedInPrinciple", "TermsDisputed", "TermsAmended"]
    assert [str(w.message).split(" (")[0] for w in warned] == [
        "AgreedInPrinciple of 2025-07-22 and 1 more recorded as reported now"]


def test_a_file_loaded_from_the_command_line_without_report_times_gives_one_warning_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from negotiation.cli import main

    monkeypatch.setattr(loading, "CHUNK", 2)
    path = tmp_path / "archive.yaml"  # five events, a retraction, one more: five transactions
    path.write_text(ARCHIVE + "  - {type: EventRetracted, target: 3, reason: a rumour}\n"
                    "  - {type: TermsAmended, occurred_at: 2025-08-11, data: {terms: {steel: 50%}}}\n",
                    encoding="utf-8")

    result = CliRunner().invoke(main, ["--url", f"sqlite:///{tmp_path / 'archive.db'}", "load", str(path)])

    assert result.exit_code == 0, result.output
    assert "7 events recorded" in result.stdout  # the retraction is an entry too
    assert [line.split(" (")[0] for line in result.stderr.splitlines()] == [
        "warning: AgreedInPrinciple of 2025-07-22 and 5 more recorded as reported now"]
    assert result.stderr.rstrip().endswith(
        "give each its reported_at, or backfill: true in its document if it was known when it happened")
