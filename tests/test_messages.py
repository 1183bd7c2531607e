"""Refusals give the real reason: each names the field and says, in words, what was wrong with it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner

from negotiation import InvalidEvent, Ledger
from negotiation.cli import main

Rows = Callable[[], list[tuple[object, ...]]]
US_JAPAN = "us-japan-2025"
PARTIES = ["US", "JP"]
TOO_LONG = "x" * 5_000_000


def opened(ledger: Ledger) -> None:
    ledger.record(US_JAPAN, "AgreedInPrinciple", {"parties": PARTIES}, occurred_at="2025-07-22")


CASES: list[tuple[str, str, dict[str, Any], str]] = [
    ("a nested object as a term", "TermsAmended", {"terms": {"a": {"b": 1}}},
     "terms.a: must be text, a number or true/false, got an object"),
    ("a list as a term", "TermsAmended", {"terms": {"a": [1, 2]}},
     "terms.a: must be text, a number or true/false, got a list"),
    ("null as a term", "TermsAmended", {"terms": {"a": None}},
     "terms.a: must be text, a number or true/false, got null"),
    ("a term of 5,000,000 characters", "TermsAmended", {"terms": {"a": TOO_LONG}},
     "terms.a: text must be at most 4000 characters, got 5000000"),
    ("a summary of 5,000,000 characters", "AgreedInPrinciple", {"parties": PARTIES, "summary": TOO_LONG},
     "summary: text must be at most 4000 characters, got 5000000"),
    ("a NUL character in a term", "TermsAmended", {"terms": {"a": "15%\x00"}},
     "terms.a: text must not contain NUL characters, got one at character 4"),
    ("a NUL character in a point", "TermsDisputed", {"point": "steel\x00"},
     "point: text must not contain NUL characters, got one at character 6"),
    ("a lone surrogate in a summary", "AgreedInPrinciple", {"parties": PARTIES, "summary": "a\ud800b"},
     "summary: text must be valid Unicode, got a lone surrogate (U+D800) at character 2"),
    ("a lone surrogate in a term", "TermsAmended", {"terms": {"a": "\udc00"}},
     "terms.a: text must be valid Unicode, got a lone surrogate (U+DC00) at character 1"),
    ("a blank term", "TermsAmended", {"terms": {"a": "   "}},
     "terms.a: text must hold at least one non-space character"),
    ("an empty point", "TermsDisputed", {"point": ""}, "point: text must not be empty"),
    ("a number as a point", "TermsDisputed", {"point": 5}, "point: must be text, got a number"),
    ("a term name of 5,000 characters", "TermsAmended", {"terms": {"n" * 5000: 1}},
     "terms: the name '" + "n" * 33 + "…nnnn': text must be at most 200 characters, got 5000"),
    ("an empty term name", "TermsAmended", {"terms": {"": 1}}, "terms: the name '': text must not be empty"),
    ("an infinite number", "TermsAmended", {"terms": {"a": float("inf")}}, "terms.a: numbers must be finite"),
    ("a number beyond 2**53", "TermsAmended", {"terms": {"a": 2**60}},
     "terms.a: numbers must lie within ±2**53 so every JSON reader keeps them exact"),
    ("no terms", "TermsAmended", {"terms": {}}, "terms: must hold at least 1 item, got 0"),
    ("terms as a list", "TermsAmended", {"terms": ["a"]}, "terms: must be an object, got a list"),
    ("a stance as a number", "TermsDisputed", {"point": "steel", "positions": {"US": 5}},
     "positions.US: must be text, got a number"),
    ("a stranger's code in positions", "TermsDisputed", {"point": "steel", "positions": {"XX": "no"}},
     "positions: XX not a party to 'us-japan-2025' (US, JP); an outside actor's stance is keyed by its name"),
    ("a stranger as the party that suspends", "TalksSuspended", {"by": "KR"},
     "by: KR is not a party to 'us-japan-2025' (US, JP)"),
    ("a stranger's version of the terms", "TermsAmended", {"terms": {"a": 1}, "according_to": "CN"},
     "according_to: CN is not a party to 'us-japan-2025' (US, JP)"),
    ("no instruments", "AgreementFinalised", {"instruments": []}, "instruments: must hold at least 1 item, got 0"),
    ("instruments as text", "AgreementFinalised", {"instruments": "EO 14345"},
     "instruments: must be a list, got text"),
    ("a date that is not one", "VisitCancelled", {"envoy": "Akazawa", "planned_for": "soon"},
     "planned_for: must be an ISO date (YYYY-MM-DD), got 'soon'"),
    ("a field the type does not have", "TermsAmended", {"terms": {"a": 1}, "note": "x"},
     "note: not a field of TermsAmended (its fields: terms, according_to, parties)"),
    ("a missing field", "VisitCancelled", {}, "envoy: Field required"),
    ("a field whose name holds a line break", "TermsAmended", {"terms": {"a": 1}, "x\ny": 1},
     "'x\\ny': not a field of TermsAmended (its fields: terms, according_to, parties)"),
    ("a term name holding a line break", "TermsAmended", {"terms": {"a\nb": {}}},
     "terms.'a\\nb': must be text, a number or true/false, got an object"),
]

OPENING_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("no party", {"parties": []}, "parties: must hold 2 items, got 0"),
    ("one party", {"parties": ["US"]}, "parties: must hold 2 items, got 1"),

    ("three parties", {"parties": ["US", "JP", "KR"]}, "parties: must hold at most 2 items, got 3"),
    ("a party in lower case", {"parties": ["US", "jp"]},
     "parties.1: must be a two-letter party code such as US, JP or EU, got 'jp'"),
    ("an unknown country", {"parties": ["US", "XX"]},
     "parties.1: 'XX' is not an ISO 3166-1 alpha-2 country code or EU"),
    ("the same party twice", {"parties": ["US", "US"]}, "parties must be two distinct parties, got US twice"),
    ("parties as text", {"parties": "US, JP"}, "parties: must be a list, got text"),
]


@pytest.mark.parametrize(("event_type", "data", "words"), [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])
def test_a_refused_payload_names_the_field_and_says_what_was_wrong(
    ledger: Ledger, stored_rows: Rows, event_type: str, data: dict[str, Any], words: str
) -> None:
    opened(ledger)
    before = stored_rows()

    with pytest.raises(InvalidEvent) as refused:
        ledger.record(US_JAPAN, event_type, data)

    assert str(refused.value) == f"{event_type} data: {words}"
    assert stored_rows() == before


@pytest.mark.parametrize(("data", "words"), [case[1:] for case in OPENING_CASES],
                         ids=[case[0] for case in OPENING_CASES])
def test_a_refused_opening_says_what_is_wrong_with_its_parties(
    ledger: Ledger, stored_rows: Rows, data: dict[str, Any], words: str
) -> None:
    before = stored_rows()

    with pytest.raises(InvalidEvent) as refused:
        ledger.record(US_JAPAN, "AgreedInPrinciple", data)

    assert str(refused.value) == f"AgreedInPrinciple data: {words}"
    assert stored_rows() == before


def test_several_problems_are_named_together_and_the_rest_counted(ledger: Ledger) -> None:
    opened(ledger)

    with pytest.raises(InvalidEvent) as refused:
        ledger.record(US_JAPAN, "WorkingLevelTalksOpened", {"agenda": [1, 2, 3, 4, 5]})

    assert str(refused.value) == ("WorkingLevelTalksOpened data: agenda.0: must be text, got a number; "
                                  "agenda.1: must be text, got a number; agenda.2: must be text, got a number; "
                                  "and 2 more")


def test_a_refused_correction_says_what_is_wrong_with_its_new_data(ledger: Ledger, stored_rows: Rows) -> None:
    opened(ledger)
    before = stored_rows()

    with pytest.raises(InvalidEvent) as refused:
        ledger.correct(US_JAPAN, 1, reason="wrong summary", data={"parties": PARTIES, "summary": TOO_LONG})

    assert str(refused.value) == ("EventCorrected of version 1: AgreedInPrinciple data: "
                                  "summary: text must be at most 4000 characters, got 5000000")
    assert stored_rows() == before


def test_a_refused_retraction_says_what_is_wrong_with_its_reason(ledger: Ledger, stored_rows: Rows) -> None:
    opened(ledger)
    before = stored_rows()

    with pytest.raises(InvalidEvent) as refused:
        ledger.retract(US_JAPAN, 1, reason="a\x00")

    assert str(refused.value) == ("EventRetracted of version 1: "
                                  "reason: text must not contain NUL characters, got one at character 2")
    assert stored_rows() == before


def test_the_command_line_shows_the_words_on_one_line(sqlite_url: str) -> None:
    with Ledger.open(sqlite_url) as ledger:
        opened(ledger)

    result = CliRunner().invoke(main, ["--url", sqlite_url, "record", US_JAPAN, "TermsAmended",
                                       "--data", '{"terms": {"a": {"nested": true}}}'])

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "Error: TermsAmended data: terms.a: must be text, a number or true/false, got an object"]
