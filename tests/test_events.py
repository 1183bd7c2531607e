"""Event shapes: payloads, ids and times are checked before any negotiation is consulted."""

from __future__ import annotations

import uuid
from dataclasses import FrozenInstanceError, dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from negotiation import InvalidEvent
from negotiation.domain.checks import check_payload, new_event
from negotiation.domain.entries import fast_maker
from negotiation.domain.times import to_utc


@pytest.mark.parametrize(
    ("event_type", "data", "named"),
    [
        ("AgreedInPrinciple", {"title": ""}, "title"),
        ("AgreedInPrinciple", {"parties": ["US"]}, "parties"),
        ("AgreedInPrinciple", {"parties": ["US", "US"]}, "distinct"),
        ("AgreedInPrinciple", {"parties": ["US", "XX"]}, "ISO 3166"),
        ("AgreedInPrinciple", {"parties": ["us", "jp"]}, "parties"),
        ("AgreedInPrinciple", {"parties": ["US", "JP"], "summary": "   "}, "summary"),
        ("AgreedInPrinciple", {"parties": ["US", "JP"], "terms": {"rate": [1, 2]}}, "terms"),
        ("AgreedInPrinciple", {"parties": ["US", "JP"], "terms": {"rate": float("nan")}}, "terms"),
        ("AgreedInPrinciple", {"parties": ["US", "JP"], "terms": {"rate": 2**64}}, "terms"),
        ("AgreedInPrinciple", {"parties": ["US", "JP"], "colour": "blue"}, "colour"),
        ("TermsDisputed", {"point": ""}, "point"),
        ("TermsDisputed", {"point": "x", "positions": {"US": " "}}, "positions"),
        ("TalksSuspended", {}, "by"),
        ("TalksSuspended", {"by": "us"}, "by"),
        ("MeetingHeld", {"level": "deputy"}, "level"),
        ("MeetingHeld", {"level": "leaders", "format": "letter"}, "format"),
        ("MeasureThreatened", {"measure": "tariff"}, "by"),
        ("MeasureImposed", {"by": "US"}, "measure"),
        ("MeasurePaused", {"measure": "tariff"}, "until"),
        ("MeasurePaused", {"measure": "tariff", "until": "in 90 days"}, "until"),
        ("MeasureLifted", {}, "measure"),
        ("DeadlineSet", {"what": "a deal"}, "due"),
        ("ThirdPartyActed", {"actor": "US Supreme Court"}, "action"),
        ("ThirdPartyActed", {"actor": "a court", "action": "ruled", "kind": "tribunal"}, "kind"),
        ("WorkingLevelTalksOpened", {"round": 0}, "round"),
        ("DisputeResolved", {}, "point"),
        ("VisitCancelled", {"envoy": "Akazawa", "planned_for": "late August"}, "planned_for"),
        ("VisitCancelled", {"reason": "no envoy"}, "envoy"),
        ("WorkingLevelTalksOpened", {"agenda": "tariffs"}, "agenda"),
        ("AgreementFinalised", {"instruments": []}, "instruments"),
        ("AgreementFinalised", {}, "instruments"),
        ("TermsAmended", {"terms": {}}, "terms"),
        ("TermsAmended", {"terms": {"": "15%"}}, "terms"),
    ],
)
def test_a_bad_payload_is_refused_naming_the_field(event_type: str, data: dict[str, object], named: str) -> None:
    with pytest.raises(InvalidEvent) as refused:
        check_payload(event_type, data)

    message = str(refused.value)
    assert named in message
    assert event_type in message or "ISO" in message or "distinct" in message
    assert "\n" not in message


def test_payloads_are_stored_in_their_normalised_json_form() -> None:
    data = check_payload("VisitCancelled", {"envoy": "Ryosei Akazawa", "planned_for": date(2025, 8, 28)})

    assert data == {"envoy": "Ryosei Akazawa", "planned_for": "2025-08-28"}


def test_an_unknown_event_type_is_refused_listing_the_known_ones() -> None:
    with pytest.raises(InvalidEvent, match="unknown event type 'TalksCollapsed'; known: AgreedInPrinciple"):
        new_event("us-japan-2025", "TalksCollapsed", {})


@pytest.mark.parametrize("bad_id", ["", "US-Japan", "us_japan", "-us", "us--japan", "a" * 65, 42, None])
def test_a_malformed_negotiation_id_is_refused(bad_id: object) -> None:
    with pytest.raises(InvalidEvent, match="negotiation id"):
        new_event(bad_id, "TermsAmended", {"terms": {"a": 1}})


def test_an_event_id_must_be_a_uuid_and_is_kept_in_canonical_form() -> None:
    given = uuid.uuid4()

    event = new_event("us-japan-2025", "TermsAmended", {"terms": {"a": 1}}, event_id=given.hex)

    assert event.event_id == str(given)
    with pytest.raises(InvalidEvent, match="event_id 'retry-1' is not a UUID"):
        new_event("us-japan-2025", "TermsAmended", {"terms": {"a": 1}}, event_id="retry-1")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2025-07-22", datetime(2025, 7, 22, tzinfo=UTC)),
        (date(2025, 7, 22), datetime(2025, 7, 22, tzinfo=UTC)),
        ("2025-09-04T09:30:00+09:00", datetime(2025, 9, 4, 0, 30, tzinfo=UTC)),
        ("2025-09-04T00:30:00Z", datetime(2025, 9, 4, 0, 30, tzinfo=UTC)),
        (datetime(2025, 9, 4, 0, 30), datetime(2025, 9, 4, 0, 30, tzinfo=UTC)),
        (datetime(2025, 9, 3, 20, 30, tzinfo=timezone(timedelta(hours=-4))),
         datetime(2025, 9, 4, 0, 30, tzinfo=UTC)),
    ],
)
def test_times_are_read_as_time_zone_aware_utc(given: object, expected: datetime) -> None:
    moment = to_utc(given)

    assert moment == expected
    assert moment.tzinfo == UTC


@pytest.mark.parametrize("bad", ["22 July 2025", "2025-13-01", 1753142400, ""])
def test_a_time_that_is_not_iso_8601_is_refused(bad: object) -> None:
    with pytest.raises(InvalidEvent, match="occurred_at"):
        to_utc(bad)


@pytest.mark.parametrize("bad", ["Reuters", [""], ["  "], [42]])
def test_sources_must_be_a_list_of_names(bad: object) -> None:
    with pytest.raises(InvalidEvent, match="sources"):
        new_event("us-japan-2025", "TermsAmended", {"terms": {"a": 1}}, sources=bad)


def test_a_fast_maker_makes_the_frozen_record_its_class_makes_defaults_and_factories_included() -> None:
    @dataclass(frozen=True, slots=True)
    class Point:
        name: str
        tags: list[str] = field(default_factory=list)
        weight: int = 1
        label: str = ""

        def __post_init__(self) -> None:
            if not self.label:
                object.__setattr__(self, "label", self.shouted())

        def shouted(self) -> str:
            return self.name.upper()

    make = fast_maker(Point)
    made, by_hand = make("a", weight=2), Point("a", weight=2)

    assert type(made) is Point and made == by_hand and repr(made) == repr(by_hand)
    assert (made.tags, made.weight, made.label) == ([], 2, "A")
    assert make("b").tags is not make("b").tags  # a new list each time, as the factory makes
    with pytest.raises(FrozenInstanceError):
        made.weight = 3  # type: ignore[misc]
    with pytest.raises(TypeError, match=r"Point.__init__\(\) missing 1 required positional argument: 'name'"):
        make()


def test_a_fast_maker_runs_post_init_on_the_frozen_record_so_it_refuses_what_the_class_refuses() -> None:
    @dataclass(frozen=True, slots=True)
    class Careless:
        name: str

        def __post_init__(self) -> None:
            self.name = self.name.strip()  # type: ignore[misc]  # a frozen record refuses this

    with pytest.raises(FrozenInstanceError):
        Careless(" a ")
    with pytest.raises(FrozenInstanceError):
        fast_maker(Careless)(" a ")


@dataclass(frozen=True, slots=True)
class _Base:
    name: str


@dataclass(frozen=True, slots=True)
class _Derived(_Base):
    weight: int = 1


@dataclass(frozen=True, slots=True)
class _Hidden:
    name: str
    size: int = field(init=False, default=0)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Named:
    name: str


@dataclass(frozen=True, slots=True, weakref_slot=True)
class _Referenced:
    name: str


@dataclass(frozen=True)
class _Loose:
    name: str


@pytest.mark.parametrize(("record", "refusal"), [
    (_Loose, "_Loose is not a dataclass with slots for its fields alone"),
    (_Derived, "_Derived is not a dataclass with slots for its fields alone"),
    (_Referenced, "_Referenced is not a dataclass with slots for its fields alone"),
    (_Hidden, "_Hidden's __init__ takes other arguments than its fields in order"),
    (_Named, "_Named's __init__ takes other arguments than its fields in order"),
])
def test_a_fast_maker_refuses_a_class_whose_records_no_twin_can_make(record: type, refusal: str) -> None:
    with pytest.raises(TypeError, match=refusal):
        fast_maker(record)
