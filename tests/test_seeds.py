"""Seed and event files: the seed story loads, replays as reported, and bad files change nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from negotiation import InvalidEvent, Ledger, NegotiationError
from negotiation.files.loading import load_streams, read_streams, seed_files

Rows = Callable[[], list[tuple[object, ...]]]

# The state after each dated event of the US–Japan story, as reported: the threat of 7 July comes before
# anything opens the talks, and measures and meetings beside the phase leave it where it was.
US_JAPAN_PATH = [
    ("2025-07-07", "MeasureThreatened", "not_opened"),
    ("2025-07-22", "AgreedInPrinciple", "agreed_in_principle"),
    ("2025-07-31", "TermsAmended", "agreed_in_principle"),
    ("2025-08-05", "MeetingHeld", "agreed_in_principle"),
    ("2025-08-05", "TermsDisputed", "disputed_terms"),
    ("2025-08-07", "MeasureImposed", "disputed_terms"),
    ("2025-08-28", "TermsDisputed", "disputed_terms"),
    ("2025-08-28", "VisitCancelled", "visit_cancelled"),
    ("2025-08-28", "WorkingLevelTalksOpened", "working_level_talks"),
    ("2025-09-04", "TermsAmended", "working_level_talks"),
    ("2025-09-04", "DisputeResolved", "working_level_talks"),
    ("2025-09-04", "DisputeResolved", "working_level_talks"),
    ("2025-09-04", "AgreementFinalised", "finalised"),
    ("2025-09-04", "MeasureImposed", "finalised"),
    ("2025-09-04", "MeasureImposed", "finalised"),
]


def test_the_packaged_seeds_are_the_repositorys(seeds: list[Path]) -> None:
    assert [p.name for p in seed_files()] == [p.name for p in seeds]


def test_the_us_japan_story_replays_as_reported(ledger: Ledger, seeds: list[Path]) -> None:
    load_streams(ledger, read_streams(seeds))

    steps = [(e.occurred_at.date().isoformat(), e.type, n.state) for e, n in ledger.steps("us-japan-2025")]

    assert steps == US_JAPAN_PATH
    final = ledger.get("us-japan-2025")
    assert final.parties == ("US", "JP")
    assert final.terms["investment package (USD)"] == 550_000_000_000
    assert final.terms["auto tariff"] == "15% (12.5% on top of the existing 2.5%)"
    assert len(final.instruments) == 2
    cancelled = ledger.history("us-japan-2025")[7]
    assert cancelled.data["envoy"] == "Ryosei Akazawa" and cancelled.data["planned_for"] == "2025-08-28"
    assert "Kyodo" in cancelled.sources


def test_the_india_japan_summit_is_finalised_in_three_documents(ledger: Ledger, seeds: list[Path]) -> None:
    load_streams(ledger, read_streams(seeds))

    summit = ledger.get("india-japan-summit-2025")

    assert summit.state == "finalised"
    assert summit.parties == ("IN", "JP")
    assert len(summit.instruments) == 3


def test_loading_twice_records_nothing_new(ledger: Ledger, seeds: list[Path]) -> None:
    events = sum(len(stream.events) for stream in read_streams(seeds))
    first = load_streams(ledger, read_streams(seeds))
    stored = ledger.read_all()

    second = load_streams(ledger, read_streams(seeds))

    assert (first.recorded, first.already_stored) == (events, 0)
    assert (second.recorded, second.already_stored) == (0, events)
    assert ledger.read_all() == stored


GOOD = """
negotiation: korea-japan-2025
events:
  - type: AgreedInPrinciple
    occurred_at: 2025-08-23
    data: {parties: [KR, JP]}
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("negotiation: [unclosed", "not valid YAML"),
        ("", "no negotiation in the file"),
        ("- just a list", "must be a mapping"),
        ("negotiation: Korea Japan\nevents: [{type: AgreedInPrinciple}]", "negotiation id 'Korea Japan'"),
        ("negotiation: korea-japan\nevents: []", "'events' must be a non-empty list"),
        ("negotiation: korea-japan\nevents: [{kind: x}]", "event 1 has unknown keys kind"),
        ("negotiation: korea-japan\nnotes: x\nevents: [{type: x}]", "unknown keys notes"),
    ],
)
def test_a_malformed_file_is_refused_naming_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)

    with pytest.raises(InvalidEvent, match=message) as refused:
        read_streams([path])

    assert str(path) in str(refused.value)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("  - type: AgreementFinalised\n    data: {instruments: []}\n", "instruments"),
        ("  - type: AgreementFinalised\n    data: {instruments: [x]}\n"
         "  - type: AgreementFinalised\n    data: {instruments: [y]}\n",
         "AgreementFinalised is not allowed"),
    ],
)
def test_a_refused_event_in_any_file_leaves_the_database_unchanged(
    ledger: Ledger, stored_rows: Rows, tmp_path: Path, bad: str, message: str
) -> None:
    good, broken = tmp_path / "good.yaml", tmp_path / "broken.yaml"
    good.write_text(GOOD)
    broken.write_text(GOOD.replace("korea-japan-2025", "korea-japan-2026") + bad)

    with pytest.raises(NegotiationError, match=message) as refused:
        load_streams(ledger, read_streams([good, broken]))

    assert str(broken) in str(refused.value) and "korea-japan-2026" in str(refused.value)
    assert str(refused.value).endswith("; nothing was written")
    assert stored_rows() == []


def test_several_negotiations_in_one_file(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "two.yaml"
    path.write_text(GOOD + "---\n" + GOOD.replace("korea-japan-2025", "korea-japan-2026"))

    report = load_streams(ledger, read_streams([path]))

    assert report.negotiations == 2
    assert ledger.negotiations() == ["korea-japan-2025", "korea-japan-2026"]


def test_two_documents_for_one_negotiation_are_refused_before_anything_is_written(
    ledger: Ledger, stored_rows: Rows, tmp_path: Path
) -> None:
    path = tmp_path / "twice.yaml"
    path.write_text(GOOD + "---\n" + GOOD.replace("KR, JP", "IN, JP"))

    with pytest.raises(InvalidEvent, match="negotiation 'korea-japan-2025' already has a document in"):
        load_streams(ledger, read_streams([path]))

    assert stored_rows() == []
