"""The public API on every backend: recording, refusing without writing, replaying."""

from __future__ import annotations

import dataclasses
import pickle
import tracemalloc
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from negotiation import (
    ConcurrencyConflict,
    DuplicateEvent,
    IllegalTransition,
    InvalidEvent,
    Ledger,
    Negotiation,
    RecordedEvent,
    UnknownNegotiation,
)
from negotiation.domain.story import StoryEvent

Rows = Callable[[], list[tuple[object, ...]]]
OPENING = {"parties": ["US", "JP"], "terms": {"reciprocal tariff": "15%", "investment (USD)": 550_000_000_000}}
US_JAPAN = "us-japan-2025"


def open_us_japan(ledger: Ledger) -> None:
    ledger.record(US_JAPAN, "AgreedInPrinciple", OPENING, occurred_at="2025-07-22", sources=["Reuters"])


def test_recording_returns_the_stored_event_with_plain_values(ledger: Ledger) -> None:
    event = ledger.record(US_JAPAN, "AgreedInPrinciple", OPENING, occurred_at="2025-07-22",
                          sources=["Reuters", "The Japan Times"])

    assert uuid.UUID(event.event_id)
    assert (event.negotiation_id, event.version, event.type) == (US_JAPAN, 1, "AgreedInPrinciple")
    assert event.position >= 1
    assert event.data == OPENING
    assert event.occurred_at == datetime(2025, 7, 22, tzinfo=UTC)
    assert event.recorded_at.tzinfo == UTC
    assert event.sources == ("Reuters", "The Japan Times")
    assert ledger.history(US_JAPAN) == [event]


@pytest.mark.every_backend
def test_entries_and_negotiations_read_back_are_frozen_records_like_those_made_by_hand(ledger: Ledger) -> None:
    recorded = ledger.record_many(US_JAPAN, [
        {"type": "AgreedInPrinciple", "data": OPENING, "occurred_at": "2025-07-22", "sources": ["Reuters"]},
        {"type": "TermsDisputed", "data": {"point": "profit sharing"}, "occurred_at": "2025-07-24"}])
    ledger.correct(US_JAPAN, 2, reason="misdated", occurred_at="2025-07-23")

    read = [*recorded, *ledger.history(US_JAPAN), *ledger.read_all()]

    for entry in read:
        assert type(entry) is RecordedEvent
        assert entry == RecordedEvent(**{f.name: getattr(entry, f.name) for f in dataclasses.fields(entry)})
        assert repr(entry).startswith("RecordedEvent(event_id=")
        with pytest.raises(dataclasses.FrozenInstanceError):
            entry.version = 99  # type: ignore[misc]
        assert pickle.loads(pickle.dumps(entry)) == entry
    assert [entry.version for entry in ledger.read_all()] == [1, 2, 3]
    assert dataclasses.replace(read[0], version=5).version == 5 and read[0].version == 1
    for told in ledger.story(US_JAPAN):
        assert type(told) is StoryEvent
        assert told == StoryEvent(**{f.name: getattr(told, f.name) for f in dataclasses.fields(told)})
        with pytest.raises(dataclasses.FrozenInstanceError):
            told.data = {}  # type: ignore[misc]
    assert [(told.version, told.corrected_by) for told in ledger.story(US_JAPAN)] == [(1, ()), (2, (3,))]
    for negotiation in (ledger.get(US_JAPAN), ledger.get(US_JAPAN, as_of="2025-07-23"), *ledger.rebuild_all()):
        assert type(negotiation) is Negotiation
        assert negotiation == Negotiation(**{f.name: getattr(negotiation, f.name)
                                             for f in dataclasses.fields(negotiation)})
        with pytest.raises(dataclasses.FrozenInstanceError):
            negotiation.state = "finalised"  # type: ignore[misc]
    assert ledger.get(US_JAPAN).open_disputes == ("profit sharing",)


def test_ids_the_ledger_makes_are_time_ordered_and_increase(ledger: Ledger) -> None:
    open_us_japan(ledger)
    ledger.record_many(US_JAPAN, [{"type": "TermsAmended", "data": {"terms": {"round": n}}} for n in range(50)])
    ledger.record(US_JAPAN, "TermsDisputed", {"point": "profit sharing"})

    made = [uuid.UUID(event.event_id) for event in ledger.history(US_JAPAN)]

    assert len(made) == 52
    assert {event_id.version for event_id in made} == {7}
    assert made == sorted(made) and len(set(made)) == len(made)


def test_ids_the_caller_gives_are_kept_as_given(ledger: Ledger) -> None:
    random_id, upper_id = uuid.uuid4(), uuid.uuid4()
    ledger.record(US_JAPAN, "AgreedInPrinciple", OPENING, event_id=random_id)
    ledger.record_many(US_JAPAN, [{"type": "TermsAmended", "data": {"terms": {"a": 1}},
                                   "event_id": str(upper_id).upper()}])

    assert [event.event_id for event in ledger.history(US_JAPAN)] == [str(random_id), str(upper_id)]


def test_get_gives_state_parties_terms_open_points_and_allowed_events(ledger: Ledger) -> None:
    open_us_japan(ledger)
    ledger.record(US_JAPAN, "TermsDisputed", {"point": "profit sharing", "positions": {"US": "90% of returns"}})

    negotiation = ledger.get(US_JAPAN)

    assert negotiation.id == US_JAPAN
    assert negotiation.state == "disputed_terms"
    assert negotiation.version == 2
    assert negotiation.parties == ("US", "JP")
    assert negotiation.terms == OPENING["terms"]
    assert negotiation.open_disputes == ("profit sharing",)
    assert negotiation.allowed_events == ("AgreedInPrinciple", "TermsDisputed", "DisputeResolved", "VisitCancelled",
                                          "WorkingLevelTalksOpened", "TalksSuspended", "TermsAmended")


def test_an_illegal_event_is_refused_naming_everything_and_writes_nothing(ledger: Ledger, stored_rows: Rows) -> None:
    open_us_japan(ledger)
    before = stored_rows()

    with pytest.raises(IllegalTransition) as refused:
        ledger.record(US_JAPAN, "DisputeResolved", {"point": "profit sharing"})

    error = refused.value
    assert (error.negotiation_id, error.state, error.event_type) == (US_JAPAN, "agreed_in_principle", "DisputeResolved")
    assert error.allowed == ("AgreedInPrinciple", "TermsDisputed", "VisitCancelled", "WorkingLevelTalksOpened",
                             "TalksSuspended", "AgreementFinalised", "TermsAmended")
    for part in (US_JAPAN, "agreed_in_principle", "DisputeResolved", "TermsDisputed", "AgreementFinalised"):
        assert part in str(error)
    assert stored_rows() == before


@pytest.mark.parametrize(
    ("negotiation_id", "event_type", "data", "named"),
    [
        (US_JAPAN, "TermsDisputed", {"point": ""}, "point"),
        (US_JAPAN, "TermsAmended", {"terms": {"rate": None}}, "terms"),
        (US_JAPAN, "Gossip", {}, "unknown event type"),
        ("US JAPAN", "TermsAmended", {"terms": {"a": 1}}, "negotiation id"),
        (US_JAPAN, "TermsDisputed", {"point": "beef", "positions": {"KR": "no"}}, "positions"),
    ],
)
def test_a_bad_event_is_refused_naming_the_field_and_writes_nothing(
    ledger: Ledger, stored_rows: Rows, negotiation_id: str, event_type: str, data: dict[str, object], named: str
) -> None:
    open_us_japan(ledger)
    before = stored_rows()

    with pytest.raises(InvalidEvent, match=named):
        ledger.record(negotiation_id, event_type, data)

    assert stored_rows() == before


def test_an_event_for_a_negotiation_never_opened_is_illegal(ledger: Ledger, stored_rows: Rows) -> None:
    with pytest.raises(IllegalTransition, match=r"in state not_opened \(nothing has opened the negotiation\); allowed: AgreedInPrinciple, VisitCancelled, WorkingLevelTalksOpened"):
        ledger.record("india-japan-2025", "TermsDisputed", {"point": "investment"})

    assert stored_rows() == []


def test_reading_an_unknown_negotiation_is_an_error(ledger: Ledger) -> None:
    with pytest.raises(UnknownNegotiation, match="'nowhere' has no recorded events"):
        ledger.get("nowhere")
    with pytest.raises(UnknownNegotiation):
        ledger.history("nowhere")


@pytest.mark.every_backend
def test_expected_version_must_match_or_the_write_conflicts(ledger: Ledger, stored_rows: Rows) -> None:
    open_us_japan(ledger)
    before = stored_rows()

    with pytest.raises(ConcurrencyConflict) as conflict:
        ledger.record(US_JAPAN, "TermsAmended", {"terms": {"a": 1}}, expected_version=0)

    assert (conflict.value.expected, conflict.value.actual) == (0, 1)
    assert "at version 1, expected version 0" in str(conflict.value)
    assert stored_rows() == before
    assert ledger.record(US_JAPAN, "TermsAmended", {"terms": {"a": 1}}, expected_version=1).version == 2


def test_expected_version_zero_means_the_negotiation_must_not_exist(ledger: Ledger) -> None:
    first = ledger.record(US_JAPAN, "AgreedInPrinciple", OPENING, expected_version=0)

    assert first.version == 1
    with pytest.raises(ConcurrencyConflict):
        ledger.record("other-talks", "AgreedInPrinciple", OPENING, expected_version=3)


@pytest.mark.parametrize("bad", [-1, "1", 1.0, True])
def test_a_malformed_expected_version_is_refused(ledger: Ledger, bad: object) -> None:
    with pytest.raises(InvalidEvent, match="expected_version"):
        ledger.record(US_JAPAN, "AgreedInPrinciple", OPENING, expected_version=bad)  # type: ignore[arg-type]


@pytest.mark.every_backend
def test_a_retried_event_id_returns_the_stored_event_and_writes_nothing(ledger: Ledger, stored_rows: Rows) -> None:
    event_id = uuid.uuid4()
    first = ledger.record(US_JAPAN, "AgreedInPrinciple", OPENING, occurred_at="2025-07-22",
                          sources=["Reuters"], event_id=event_id)
    before = stored_rows()

    retried = ledger.record(US_JAPAN, "AgreedInPrinciple", OPENING, occurred_at="2025-07-22",
                            sources=["Reuters"], event_id=str(event_id))

    assert retried == first
    assert stored_rows() == before


@pytest.mark.every_backend
def test_an_event_id_reused_with_other_content_is_refused(ledger: Ledger, stored_rows: Rows) -> None:
    event_id = str(uuid.uuid4())
    ledger.record(US_JAPAN, "AgreedInPrinciple", OPENING, event_id=event_id)
    before = stored_rows()

    with pytest.raises(DuplicateEvent, match=f"{event_id} is already recorded with different content"):
        ledger.record(US_JAPAN, "TermsAmended", {"terms": {"a": 1}}, event_id=event_id)

    assert stored_rows() == before


@pytest.mark.every_backend
def test_record_many_is_all_or_nothing(ledger: Ledger, stored_rows: Rows) -> None:
    open_us_japan(ledger)
    before = stored_rows()
    batch = [
        {"type": "TermsDisputed", "data": {"point": "profit sharing"}, "occurred_at": "2025-08-28"},
        {"type": "VisitCancelled", "data": {"envoy": "Ryosei Akazawa"}, "sources": ["Kyodo"]},
        {"type": "AgreementFinalised", "data": {"instruments": ["executive order"]}},
    ]

    with pytest.raises(IllegalTransition, match="AgreementFinalised is not allowed .* in state visit_cancelled"):
        ledger.record_many(US_JAPAN, batch)

    assert stored_rows() == before
    recorded = ledger.record_many(US_JAPAN, batch[:2], expected_version=1)
    assert [(e.version, e.type) for e in recorded] == [(2, "TermsDisputed"), (3, "VisitCancelled")]
    assert recorded[0].position < recorded[1].position
    assert ledger.get(US_JAPAN).state == "visit_cancelled"


@pytest.mark.parametrize(
    ("batch", "named"),
    [
        ([], "at least one event"),
        ([{"data": {}}], r"events\[0\] has no type"),
        ([{"type": "TermsAmended", "data": {"terms": {"a": 1}}, "when": "now"}], "unknown keys: when"),
        (["TermsAmended"], "must be a mapping"),
        ([{"type": "TermsAmended", "data": {"terms": {"a": 1}}, "occurred_at": "soon"}], r"events\[0\]: occurred_at"),
    ],
)
def test_a_malformed_batch_is_refused_naming_the_item(
    ledger: Ledger, stored_rows: Rows, batch: list[object], named: str
) -> None:
    open_us_japan(ledger)
    before = stored_rows()

    with pytest.raises(InvalidEvent, match=named):
        ledger.record_many(US_JAPAN, batch)  # type: ignore[arg-type]

    assert stored_rows() == before


def test_record_many_skips_items_already_stored_with_the_same_content(ledger: Ledger) -> None:
    ids = [str(uuid.uuid4()) for _ in range(3)]
    batch = [
        {"event_id": ids[0], "type": "AgreedInPrinciple", "data": OPENING, "occurred_at": "2025-07-22"},
        {"event_id": ids[1], "type": "TermsDisputed", "data": {"point": "tariff stacking"}, "occurred_at": "2025-08-05"},
        {"event_id": ids[2], "type": "DisputeResolved", "data": {"point": "tariff stacking"}, "occurred_at": "2025-09-04"},
    ]
    first = ledger.record_many(US_JAPAN, batch[:2])

    again = ledger.record_many(US_JAPAN, batch)

    assert again[:2] == first
    assert [e.version for e in again] == [1, 2, 3]
    assert len(ledger.history(US_JAPAN)) == 3


def test_replay_gives_the_negotiation_as_it_stood_at_any_version(ledger: Ledger) -> None:
    open_us_japan(ledger)
    ledger.record(US_JAPAN, "TermsDisputed", {"point": "profit sharing"})
    ledger.record(US_JAPAN, "VisitCancelled", {"envoy": "Ryosei Akazawa", "planned_for": "2025-08-28"})

    states = [ledger.replay(US_JAPAN, until_version=v).state for v in (1, 2, 3)]

    assert states == ["agreed_in_principle", "disputed_terms", "visit_cancelled"]
    assert ledger.replay(US_JAPAN) == ledger.get(US_JAPAN)
    with pytest.raises(InvalidEvent, match="has only 3 events, not 4"):
        ledger.replay(US_JAPAN, until_version=4)
    with pytest.raises(InvalidEvent, match="until_version"):
        ledger.replay(US_JAPAN, until_version=0)


def test_replaying_writes_nothing(ledger: Ledger, stored_rows: Rows) -> None:
    open_us_japan(ledger)
    ledger.record(US_JAPAN, "TermsDisputed", {"point": "profit sharing"})
    before = stored_rows()

    for _ in range(3):
        ledger.replay(US_JAPAN, until_version=1)
        list(ledger.steps(US_JAPAN))

    assert stored_rows() == before


@pytest.mark.every_backend
def test_read_all_follows_the_global_order_across_negotiations(ledger: Ledger) -> None:
    open_us_japan(ledger)
    ledger.record("india-japan-2025", "AgreedInPrinciple", {"parties": ["IN", "JP"]})
    ledger.record(US_JAPAN, "TermsAmended", {"terms": {"auto tariff": "15%"}})

    everything = ledger.read_all()
    after_first = ledger.read_all(after=everything[0].position)
    one = ledger.read_all(after=everything[0].position, limit=1)

    assert [(e.negotiation_id, e.version) for e in everything] == [
        (US_JAPAN, 1), ("india-japan-2025", 1), (US_JAPAN, 2)]
    assert [e.position for e in everything] == sorted(e.position for e in everything)
    assert after_first == everything[1:]
    assert one == everything[1:2]
    assert ledger.negotiations() == [US_JAPAN, "india-japan-2025"]
    with pytest.raises(InvalidEvent, match="after"):
        ledger.read_all(after=-1)


def test_without_occurred_at_the_event_is_dated_when_recorded(ledger: Ledger) -> None:
    event = ledger.record(US_JAPAN, "AgreedInPrinciple", OPENING)

    assert event.occurred_at == event.recorded_at
    assert ledger.history(US_JAPAN)[0].occurred_at == event.recorded_at


@pytest.mark.every_backend
def test_unicode_and_large_values_round_trip(ledger: Ledger) -> None:
    data = {"parties": ["IN", "JP"], "summary": "日印首脳会談 — ₹ & ¥ «résumé» 🤝",
            "terms": {"investment (JPY)": 10_000_000_000_000, "ratio": 0.9, "signed": False}}

    event = ledger.record("india-japan-2025", "AgreedInPrinciple", data)

    assert ledger.history("india-japan-2025")[0].data == data == event.data


def test_rebuilding_everything_gives_what_get_gives(ledger: Ledger) -> None:
    open_us_japan(ledger)
    ledger.record(US_JAPAN, "TermsDisputed", {"point": "profit sharing"}, occurred_at="2025-08-28")
    ledger.record("india-japan-2025", "AgreedInPrinciple", {"parties": ["IN", "JP"]}, occurred_at="2025-08-29")
    ledger.record("india-japan-2025", "AgreementFinalised", {"instruments": ["Joint Vision"]})

    rebuilt = list(ledger.rebuild_all())

    assert [n.id for n in rebuilt] == ["india-japan-2025", US_JAPAN]
    assert rebuilt == [ledger.get("india-japan-2025"), ledger.get(US_JAPAN)]
    assert rebuilt[1].opened_at == datetime(2025, 7, 22, tzinfo=UTC)



def _grown_to(ledger: Ledger, negotiations: int, start: datetime) -> None:
    """Negotiations of ten events each, every event at a time of its own, up to ``negotiations`` of them."""
    have = len(ledger.negotiations())
    for first in range(have, negotiations, 200):
        ledger.record_together([
            (f"bench-{index:07d}",
             [{"type": "AgreedInPrinciple", "data": {"parties": ["US", "JP"]}, "occurred_at": start},
              *({"type": "TermsAmended", "data": {"terms": {"rate": step}},
                 "occurred_at": start + timedelta(microseconds=index * 10 + step)} for step in range(1, 10))],
             None)
            for index in range(first, min(first + 200, negotiations))])


def _rebuild_peak(ledger: Ledger) -> int:
    tracemalloc.start()
    try:
        rebuilt = sum(1 for _ in ledger.rebuild_all())
        return tracemalloc.get_traced_memory()[1] if rebuilt else 0
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_rebuilding_everything_holds_memory_flat_however_long_the_log_grows(tmp_path: Path) -> None:
    start = datetime.now(UTC) - timedelta(days=1)  # recent: known when recorded, no backdating warning
    with Ledger.open(f"sqlite:///{tmp_path / 'log.db'}") as ledger:
        _grown_to(ledger, 1200, start)
        short = _rebuild_peak(ledger)
        _grown_to(ledger, 4000, start)
        long = _rebuild_peak(ledger)

    # 12,000 entries and 40,000: the log is read a page at a time (two pages, of 5,000 rows, held at once at
    # most), and nothing kept grows with it.
    assert 0 < long < 1.3 * short


def test_the_url_a_ledger_shows_never_holds_the_password(sqlite_url: str, postgres_url: str) -> None:
    with_password = postgres_url.replace("postgres@", "postgres:s3cret@")  # trust auth ignores it

    with Ledger.open(sqlite_url) as local, Ledger.open(with_password) as remote:
        assert local.url == sqlite_url
        assert remote.url == postgres_url.replace("postgres@", "postgres:***@")


@pytest.mark.every_backend
def test_numbers_are_stored_in_one_form_every_backend_returns_unchanged(ledger: Ledger) -> None:
    terms = {"whole float": 1e15, "small": 1.5e-7, "negative zero": -0.0, "fraction": 0.9, "big": 2**53}
    event_id = str(uuid.uuid4())

    first = ledger.record(US_JAPAN, "AgreedInPrinciple", {"parties": ["US", "JP"], "terms": terms},
                          event_id=event_id)
    retried = ledger.record(US_JAPAN, "AgreedInPrinciple", {"parties": ["US", "JP"], "terms": terms},
                            event_id=event_id)

    stored = ledger.history(US_JAPAN)[0].data["terms"]
    assert stored == {"whole float": 10**15, "small": 1.5e-7, "negative zero": 0, "fraction": 0.9, "big": 2**53}
    assert {k: type(v) for k, v in stored.items()} == {  # jsonb reorders keys, so compare by name
        "whole float": int, "small": float, "negative zero": int, "fraction": float, "big": int}
    assert retried == first
    assert ledger.verify().intact
    with pytest.raises(InvalidEvent, match="within ±2\\*\\*53"):
        ledger.record(US_JAPAN, "TermsAmended", {"terms": {"investment (USD)": 5.5e17}})


@pytest.mark.every_backend
def test_a_retry_must_match_as_json_not_as_python(ledger: Ledger) -> None:
    event_id = str(uuid.uuid4())
    ledger.record(US_JAPAN, "AgreedInPrinciple", {"parties": ["US", "JP"], "terms": {"x": 1}}, event_id=event_id)

    with pytest.raises(DuplicateEvent, match="data differs"):
        ledger.record(US_JAPAN, "AgreedInPrinciple", {"parties": ["US", "JP"], "terms": {"x": True}},
                      event_id=event_id)


@pytest.mark.parametrize(
    ("call", "named"),
    [
        (lambda ledger: ledger.replay(US_JAPAN, until_version=2**63), "until_version"),
        (lambda ledger: ledger.read_all(after=2**64), "after"),
        (lambda ledger: ledger.record(US_JAPAN, "TermsAmended", {"terms": {"a": 1}}, expected_version=2**63),
         "expected_version"),
        (lambda ledger: ledger.record(US_JAPAN, "TermsAmended", {"terms": {"a": 1}},
                                      occurred_at="0001-01-01T00:00:00+01:00"), "occurred_at"),
        (lambda ledger: ledger.record(US_JAPAN, ["TermsAmended"], {}), "unknown event type"),  # type: ignore[arg-type]
        (lambda ledger: ledger.check_many(US_JAPAN, []), "at least one event"),
    ],
)
def test_out_of_range_input_is_an_invalid_event_not_a_crash(
    ledger: Ledger, stored_rows: Rows, call: Callable[[Ledger], object], named: str
) -> None:
    open_us_japan(ledger)
    before = stored_rows()

    with pytest.raises(InvalidEvent, match=named):
        call(ledger)

    assert stored_rows() == before


@pytest.mark.every_backend
def test_a_retried_batch_larger_than_one_lookup_returns_every_stored_event(ledger: Ledger) -> None:
    batch = [{"type": "AgreedInPrinciple", "data": {"parties": ["US", "JP"]}, "event_id": str(uuid.uuid4())}]
    batch += [{"type": "TermsAmended", "data": {"terms": {"round": n}}, "event_id": str(uuid.uuid4())}
              for n in range(2_499)]
    first = ledger.record_many(US_JAPAN, batch)

    retried = ledger.record_many(US_JAPAN, batch)  # ids looked up 1,000 at a time

    assert retried == first
    assert ledger.version(US_JAPAN) == 2_500


# -- several negotiations in one transaction ---------------------------------------------------

US_KOREA = "us-korea-2025"
KOREA_DEAL = {"parties": ["US", "KR"], "terms": {"investment (USD)": 350_000_000_000}}


def together() -> list[tuple[str, list[dict[str, object]], int | None]]:
    """Japan's dispute after its deal, and Korea's deal and dispute, as record_together takes them."""
    korea_events: list[dict[str, object]] = [
        {"type": "AgreedInPrinciple", "data": KOREA_DEAL, "occurred_at": "2025-07-30"},
        {"type": "TermsDisputed", "data": {"point": "currency swap"}, "occurred_at": "2025-09-16"}]
    return [(US_JAPAN, [{"type": "TermsDisputed", "data": {"point": "profit sharing"}, "occurred_at": "2025-08-28"}],
             1), (US_KOREA, korea_events, None)]


@pytest.mark.every_backend
def test_record_together_writes_several_negotiations_in_one_transaction(ledger: Ledger) -> None:
    open_us_japan(ledger)

    japan, korea = ledger.record_together(together())

    assert [(e.negotiation_id, e.version, e.type) for e in (*japan, *korea)] == [
        (US_JAPAN, 2, "TermsDisputed"), (US_KOREA, 1, "AgreedInPrinciple"), (US_KOREA, 2, "TermsDisputed")]
    assert [japan[0].position + 1, japan[0].position + 2] == [e.position for e in korea]
    assert ledger.get(US_JAPAN).open_disputes == ("profit sharing",)
    assert ledger.get(US_KOREA).state == "disputed_terms"


@pytest.mark.parametrize(("last", "refusal", "raised"), [
    ({"type": "AgreementFinalised", "data": {"instruments": ["MOU"]}, "occurred_at": "2025-11-14"},
     "disputed points are still open", IllegalTransition),
    ({"type": "TermsDisputed", "data": {"point": ""}, "occurred_at": "2025-09-20"},
     r"^us-korea-2025: events\[2\]: TermsDisputed data: point", InvalidEvent),
])
@pytest.mark.every_backend
def test_record_together_refused_in_its_last_batch_writes_none_of_them(
        ledger: Ledger, stored_rows: Rows, last: dict[str, object], refusal: str, raised: type[Exception]) -> None:
    open_us_japan(ledger)
    before = stored_rows()
    batches = together()
    batches[1][1].append(last)

    with pytest.raises(raised, match=refusal):
        ledger.record_together(batches)

    assert stored_rows() == before
    with pytest.raises(UnknownNegotiation):
        ledger.get(US_KOREA)


def test_record_together_refuses_a_stale_expected_version_and_writes_nothing(ledger: Ledger,
                                                                             stored_rows: Rows) -> None:
    open_us_japan(ledger)
    ledger.record(US_JAPAN, "TermsAmended", {"terms": {"autos": "15%"}}, occurred_at="2025-08-01")
    before = stored_rows()

    with pytest.raises(ConcurrencyConflict, match="us-japan-2025. is at version 2, expected version 1"):
        ledger.record_together(together())

    assert stored_rows() == before


@pytest.mark.parametrize(("change", "refusal"), [
    ("same negotiation twice", "negotiation 'us-japan-2025' has two batches; give its events in one"),
    ("same event id twice", "the same event_id appears twice in one batch"),
    ("no batch", "record_together needs at least one batch"),
    ("bad id", "negotiation id 'US Japan' is malformed"),
    ("not a triple", r"batches\[1\] must be \(negotiation_id, events, expected_version\), got str"),
    ("no events", "us-korea-2025: a batch needs at least one event"),
])
def test_a_malformed_record_together_is_refused_on_one_line_and_writes_nothing(
        ledger: Ledger, stored_rows: Rows, change: str, refusal: str) -> None:
    open_us_japan(ledger)
    before = stored_rows()
    batches: list[tuple[str, list[dict[str, object]], int | None]] = together()
    if change == "same negotiation twice":
        batches[1] = (US_JAPAN, [{"type": "TermsAmended", "data": {"terms": {"rice": "quota"}}}], None)
    elif change == "same event id twice":
        repeated = str(uuid.uuid4())
        batches[0][1][0]["event_id"] = batches[1][1][0]["event_id"] = repeated
    elif change == "no batch":
        batches = []
    elif change == "not a triple":
        batches[1] = "us-korea-2025"  # type: ignore[call-overload]  # what a caller may pass by mistake
    elif change == "no events":
        batches[1] = (US_KOREA, [], None)
    else:
        batches[1] = ("US Japan", batches[1][1], None)

    with pytest.raises(InvalidEvent, match=refusal) as refused:
        ledger.record_together(batches)

    assert "\n" not in str(refused.value)
    assert stored_rows() == before


def test_record_together_retried_returns_what_it_stored_and_writes_nothing_again(ledger: Ledger,
                                                                                 stored_rows: Rows) -> None:
    open_us_japan(ledger)
    batches = together()
    for _, events, _ in batches:
        for event in events:
            event["event_id"] = str(uuid.uuid4())
    first = ledger.record_together(batches)
    after_first = stored_rows()

    again = ledger.record_together(batches)

    assert again == first
    assert stored_rows() == after_first


def test_check_together_raises_what_record_together_would_and_writes_nothing(ledger: Ledger,
                                                                             stored_rows: Rows) -> None:
    open_us_japan(ledger)
    before = stored_rows()
    refused = together()
    refused[0] = (US_JAPAN, refused[0][1], 0)

    ledger.check_together(together())
    with pytest.raises(ConcurrencyConflict):
        ledger.check_together(refused)

    assert stored_rows() == before
