"""Hostile input: files and values built to exhaust memory, hide a second key or crash a view, each refused
in one short line with nothing written, or answered."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from negotiation import InvalidEvent, Ledger, NegotiationError
from negotiation.files.loading import load_streams, read_streams

US_JAPAN = "us-japan-2025"
OPENING = "  - {type: AgreedInPrinciple, occurred_at: 2025-07-22, data: {parties: [US, JP]}}\n"


@pytest.fixture
def ledger() -> Iterator[Ledger]:
    with Ledger.open("memory://") as ledger:
        yield ledger


def refused_load(ledger: Ledger, path: Path) -> str:
    with pytest.raises(NegotiationError) as refused:
        load_streams(ledger, read_streams([path]))
    message = str(refused.value)
    assert "\n" not in message and len(message) < 400, message
    assert ledger.read_all() == []
    return message


def test_a_yaml_alias_bomb_is_refused_before_it_is_expanded(ledger: Ledger, tmp_path: Path) -> None:
    laughs = ['x: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    laughs += [f"x{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 9)]
    path = tmp_path / "bomb.yaml"
    path.write_text(f"negotiation: {US_JAPAN}\n" + "\n".join(laughs) + "\nevents:\n"
                    "  - {type: AgreedInPrinciple, sources: *a8, data: {parties: [US, JP]}}\n", encoding="utf-8")

    assert "an alias (*name) is allowed only as the value of a merge key" in refused_load(ledger, path)


def test_a_merge_key_still_shares_what_an_anchor_holds(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "merged.yaml"
    path.write_text(f"negotiation: {US_JAPAN}\nevents:\n"
                    "  - &deal {type: AgreedInPrinciple, occurred_at: 2025-07-22, reported_at: 2025-07-22, "
                    "data: {parties: [US, JP]}}\n"
                    "  - {<<: *deal, type: TermsAmended, data: {terms: {a: 1}}}\n", encoding="utf-8")

    load_streams(ledger, read_streams([path]))

    assert [e.type for e in ledger.history(US_JAPAN)] == ["AgreedInPrinciple", "TermsAmended"]


@pytest.mark.parametrize(("name", "text"), [
    ("twice.yaml", f"negotiation: a-2025\nnegotiation: b-2025\nevents:\n{OPENING}"),
    ("twice.json", '{"negotiation": "a-2025", "negotiation": "b-2025", "events": '
                   '[{"type": "AgreedInPrinciple", "data": {"parties": ["US", "JP"]}}]}'),
    ("inner.yaml", f"negotiation: {US_JAPAN}\nevents:\n  - type: AgreedInPrinciple\n    type: TermsAmended\n"
                   "    data: {parties: [US, JP]}\n"),
])
def test_a_key_given_twice_is_refused_naming_the_key(ledger: Ledger, tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")

    message = refused_load(ledger, path)

    assert "is given twice in one" in message
    assert "'negotiation'" in message or "'type'" in message


def test_a_huge_value_is_echoed_cut_short(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "long.yaml"
    path.write_text(f"negotiation: {US_JAPAN}\nevents:\n  - type: AgreedInPrinciple\n    event_id: {'x' * 100_000}\n"
                    "    data: {parties: [US, JP]}\n", encoding="utf-8")

    assert "… (100,000 characters) is not a UUID" in refused_load(ledger, path)


def test_a_huge_value_given_to_the_api_is_echoed_cut_short(ledger: Ledger) -> None:
    with pytest.raises(InvalidEvent) as refused:
        ledger.record(US_JAPAN, "AgreedInPrinciple", {"parties": ["US", "JP"]}, event_id="y" * 10_000_000)

    assert len(str(refused.value)) < 200
    assert ledger.read_all() == []


@pytest.mark.slow
def test_a_payload_with_200000_bad_values_is_refused_in_one_line_naming_the_first_few(
        ledger: Ledger, tmp_path: Path) -> None:
    # Refused in seconds only if the refusal's work grows linearly: gathering the problems in time
    # quadratic in their number took minutes for this many.
    bad = 200_000
    document = {"negotiation": US_JAPAN, "events": [{"type": "AgreedInPrinciple", "occurred_at": "2025-07-22",
                                                     "data": {"parties": ["US", "JP"],
                                                              "terms": {f"term {n}": [n] for n in range(bad)}}}]}
    path = tmp_path / "many-bad-values.json"
    path.write_text(json.dumps(document), encoding="utf-8")

    message = refused_load(ledger, path)

    said = "must be text, a number or true/false, got a list"
    assert f"terms.term 0: {said}; terms.term 1: {said}; terms.term 2: {said}; and 199,997 more" in message


def test_a_device_or_a_file_too_large_is_refused_before_it_is_read(ledger: Ledger, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from negotiation.files import reading

    assert refused_load(ledger, Path(os.devnull)).endswith("not a regular file")
    big = tmp_path / "big.yaml"
    big.write_text(f"negotiation: {US_JAPAN}\nevents:\n{OPENING}" + "#" * 2000 + "\n", encoding="utf-8")
    monkeypatch.setattr(reading, "MAX_FILE", 1000)
    assert "larger than 0 MiB, the most an event file may hold" in refused_load(ledger, big)


def test_nesting_too_deep_is_refused_in_one_line(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text(f"negotiation: {US_JAPAN}\nevents:\n  - type: AgreedInPrinciple\n    data: "
                    + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")

    assert "not valid YAML" in refused_load(ledger, path)


def test_an_event_dated_outside_the_calendar_the_views_draw_is_refused(ledger: Ledger) -> None:
    with pytest.raises(InvalidEvent, match=r"^occurred_at: 0001-01-01 is outside the years 1000 to 9998 an event "
                                           r"may be dated in$"):
        ledger.record(US_JAPAN, "AgreedInPrinciple", {"parties": ["US", "JP"]}, occurred_at="0001-01-01")

    assert ledger.read_all() == []


def test_questions_at_the_last_day_of_the_calendar_are_answered(ledger: Ledger) -> None:
    ledger.record(US_JAPAN, "AgreedInPrinciple", {"parties": ["US", "JP"]}, occurred_at="2025-07-22", backfill=True)

    assert ledger.get(US_JAPAN, as_of="9999-12-31").state == "agreed_in_principle"
    assert ledger.get(US_JAPAN, as_of="9999-12-31", known_at="9999-12-31").state == "agreed_in_principle"
    assert [n.id for n in ledger.rebuild_all(as_of="9999-12-31")] == [US_JAPAN]


@pytest.mark.parametrize(("field", "value"), [
    ("summary", "deal \x1b]0;pwned\x07 done"), ("summary", "red \x1b[31mtext"), ("title", "back\x08space"),
])
def test_text_holding_control_characters_is_refused_so_it_never_reaches_a_terminal(
        ledger: Ledger, field: str, value: str) -> None:
    with pytest.raises(InvalidEvent, match=r"text must not contain control characters, got U\+00"):
        ledger.record(US_JAPAN, "AgreedInPrinciple", {"parties": ["US", "JP"], field: value})

    assert ledger.read_all() == []


def test_text_keeps_its_tabs_and_line_breaks(ledger: Ledger) -> None:
    recorded = ledger.record(US_JAPAN, "AgreedInPrinciple", {"parties": ["US", "JP"], "summary": "one\n\ttwo"},
                             occurred_at="2025-07-22", backfill=True)

    assert recorded.data["summary"] == "one\n\ttwo"


def test_a_source_holding_an_escape_sequence_is_refused(ledger: Ledger) -> None:
    with pytest.raises(InvalidEvent, match=r"^sources: text must not contain control characters"):
        ledger.record(US_JAPAN, "AgreedInPrinciple", {"parties": ["US", "JP"]}, sources=["Reuters\x1b[2J"])


@pytest.mark.parametrize("text", ["BBC \ufffe", "BBC \uffff"])
def test_text_no_xml_may_hold_is_refused_so_the_feed_can_always_be_written(ledger: Ledger, text: str) -> None:
    before = ledger.read_all()

    with pytest.raises(InvalidEvent, match=r"^sources: text must not contain the noncharacter U\+FFF[EF], got one "
                                           r"at character 5$"):
        ledger.record(US_JAPAN, "AgreedInPrinciple", {"parties": ["US", "JP"]}, sources=[text])
    assert ledger.read_all() == before


@pytest.mark.parametrize("command", [["report", "--out", "{file}/site"], ["docs", "--out", "{file}/book"],
                                     ["export", "--out", "{file}/all.yaml"],
                                     ["timeline", US_JAPAN, "--out", "{file}/us-japan.svg"]])
def test_writing_under_a_regular_file_is_one_line_on_stderr(tmp_path: Path, command: list[str]) -> None:
    from click.testing import CliRunner

    from negotiation.cli import main

    url = f"sqlite:///{tmp_path / 'talks.db'}"
    with Ledger.open(url) as ledger:
        ledger.record(US_JAPAN, "AgreedInPrinciple", {"parties": ["US", "JP"]}, occurred_at="2025-07-22",
                      backfill=True)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")

    result = CliRunner().invoke(main, ["--url", url, *(part.format(file=blocker) for part in command)])

    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert len(result.output.strip().splitlines()) == 1 and result.output.strip().startswith("Error: "), result.output


def test_a_page_is_written_whole_or_not_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from negotiation import outfiles

    page = tmp_path / "index.html"
    page.write_text("the old page", encoding="utf-8")

    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(outfiles.os, "replace", full_disk)
    with pytest.raises(OSError, match="No space left"):
        outfiles.write_whole(page, "the new page " * 1000)

    assert page.read_text(encoding="utf-8") == "the old page"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.html"]  # no part file left behind


@pytest.mark.parametrize(("data", "said"), [
    ("[" * 100_000 + "]" * 100_000, "not valid JSON in {file}: nested too deeply"),
    ('{"terms": {"a": ' + "9" * 5000 + "}}", "not valid JSON in {file}: Exceeds the limit (4300 digits)"),
])
def test_event_data_too_deep_or_with_too_long_a_number_is_one_line(tmp_path: Path, data: str, said: str) -> None:
    from click.testing import CliRunner

    from negotiation.cli import main

    url = f"sqlite:///{tmp_path / 'talks.db'}"
    with Ledger.open(url) as ledger:
        ledger.record(US_JAPAN, "AgreedInPrinciple", {"parties": ["US", "JP"]}, occurred_at="2025-07-22",
                      backfill=True)
        before = ledger.read_all()
    given = tmp_path / "data.json"
    given.write_text(data, encoding="utf-8")

    result = CliRunner().invoke(main, ["--url", url, "record", US_JAPAN, "TermsAmended", "--data", f"@{given}"])

    assert result.exit_code == 2  # a bad option value: click's usage line, then the error in one line
    [error] = [line for line in result.output.splitlines() if line.startswith("Error: ")]
    assert said.format(file=given) in error and len(error) < 300
    with Ledger.open(url) as ledger:
        assert ledger.read_all() == before


def test_a_source_name_refused_once_is_refused_every_time_it_is_given(ledger: Ledger) -> None:
    # Short texts are remembered once they pass: one that failed must fail again, each time with nothing written.
    for attempt in range(3):
        with pytest.raises(InvalidEvent, match="control characters") as refused:
            ledger.record(US_JAPAN, "AgreedInPrinciple", {"parties": ["US", "JP"]}, occurred_at="2025-07-22",
                          sources=["Reuters\x1b[2J"])
        assert "\n" not in str(refused.value)
        assert ledger.version(US_JAPAN) == 0, attempt
    ledger.record(US_JAPAN, "AgreedInPrinciple", {"parties": ["US", "JP"]}, occurred_at="2025-07-22",
                  sources=["Reuters"], reported_at="2025-07-22")
    assert ledger.history(US_JAPAN)[0].sources == ("Reuters",)
