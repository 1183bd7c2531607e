"""Random event sequences, payloads, ids and files: every refusal is a NegotiationError and changes nothing."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from negotiation import EVENT_TYPES, IllegalTransition, InvalidEvent, Ledger, NegotiationError
from negotiation.files.loading import load_streams
from negotiation.files.reading import read_seed_file

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

POINTS = ["tariff stacking", "profit sharing", "beef"]
OPEN_STATES = {"agreed_in_principle", "disputed_terms", "visit_cancelled", "working_level_talks"}


def reference(state: str, open_points: list[str], deal: bool, kind: str, data: dict[str, Any]) -> str | None:
    """The README's rules in plain Python: the state after the event, or None when refused."""
    point = data.get("point")
    suspended = state == "talks_suspended"
    if state == "not_opened":
        return {"AgreedInPrinciple": "agreed_in_principle", "VisitCancelled": "visit_cancelled",
                "WorkingLevelTalksOpened": "working_level_talks"}.get(kind)
    if kind == "AgreedInPrinciple":  # a deal leaves any open point open
        return "disputed_terms" if open_points else "agreed_in_principle"
    if kind == "TermsAmended":
        return state
    if kind == "TermsDisputed":  # a new point, or a restated stance on an open one
        return state if suspended else "disputed_terms"
    if kind == "DisputeResolved":
        if point not in open_points or state in ("agreed_in_principle", "finalised"):
            return None
        if state == "disputed_terms" and len(open_points) == 1:
            return "agreed_in_principle" if deal else "working_level_talks"
        return state
    if kind == "VisitCancelled":
        return state if state in ("visit_cancelled", "talks_suspended", "finalised") else "visit_cancelled"
    if kind == "WorkingLevelTalksOpened":
        return "working_level_talks"
    if kind == "TalksSuspended":
        return "talks_suspended"
    if kind == "AgreementFinalised":
        if state == "agreed_in_principle" or (
                state in ("working_level_talks", "visit_cancelled") and deal and not open_points):
            return "finalised"
        return None
    raise AssertionError(kind)


VALID_DATA = {
    "AgreedInPrinciple": st.just({"parties": ["US", "JP"]}),
    "TermsDisputed": st.sampled_from(POINTS).map(lambda p: {"point": p}),
    "DisputeResolved": st.sampled_from(POINTS).map(lambda p: {"point": p}),
    "VisitCancelled": st.just({"envoy": "Ryosei Akazawa", "parties": ["JP", "US"]}),
    "WorkingLevelTalksOpened": st.just({"parties": ["US", "JP"]}),
    "TalksSuspended": st.sampled_from(["US", "JP"]).map(lambda party: {"by": party}),
    "AgreementFinalised": st.just({"instruments": ["executive order"]}),
    "TermsAmended": st.integers().map(lambda n: {"terms": {"round": n % 1000}}),
}
steps = st.sampled_from(EVENT_TYPES).flatmap(lambda kind: VALID_DATA[kind].map(lambda data: (kind, data)))


@FUZZ
@given(sequence=st.lists(steps, min_size=1, max_size=25))
def test_random_sequences_follow_the_rules_and_refusals_change_nothing(
    ledger: Ledger, sequence: list[tuple[str, dict[str, Any]]]
) -> None:
    negotiation_id = f"fuzz-{uuid.uuid4().hex[:12]}"
    state, open_points, deal = "not_opened", [], False

    for kind, data in sequence:
        expected = reference(state, open_points, deal, kind, data)
        before = ledger.read_all()
        try:
            ledger.record(negotiation_id, kind, data)
        except IllegalTransition:
            assert expected is None, (state, kind, data)
            assert ledger.read_all() == before
            continue
        assert expected is not None, (state, kind, data)
        if kind == "TermsDisputed" and data["point"] not in open_points:
            open_points.append(data["point"])
        if kind == "DisputeResolved":
            open_points.remove(data["point"])
        deal = deal or kind == "AgreedInPrinciple"
        state = expected
        negotiation = ledger.get(negotiation_id)
        assert (negotiation.state, list(negotiation.open_disputes), negotiation.has_deal) == (state, open_points, deal)
        assert ledger.replay(negotiation_id) == negotiation


json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)
payloads = st.dictionaries(
    st.sampled_from(["parties", "terms", "summary", "point", "positions", "resolution", "envoy", "planned_for",
                     "reason", "agenda", "venue", "instruments"]) | st.text(max_size=10),
    json_values | st.lists(st.sampled_from(["US", "JP", "IN", "XX"]), max_size=3)
    | st.dictionaries(st.text(max_size=300), json_scalars | st.text(min_size=3900, max_size=4100), max_size=3),
    max_size=5,
)


@FUZZ
@given(kind=st.sampled_from(EVENT_TYPES) | st.text(max_size=20) | st.lists(st.sampled_from(EVENT_TYPES)),
       data=payloads | json_values,
       negotiation_id=st.sampled_from(["fuzz-payloads"]) | st.text(max_size=70),
       occurred_at=st.none() | st.text(max_size=30) | st.datetimes() | st.integers()
       | st.datetimes(timezones=st.timezones()) | st.dates(),
       sources=st.lists(st.text(max_size=30), max_size=3) | st.text(max_size=5))
def test_random_payloads_are_recorded_or_refused_with_a_negotiation_error(
    ledger: Ledger, kind: str, data: Any, negotiation_id: str, occurred_at: Any, sources: Any
) -> None:
    before = ledger.read_all()

    try:
        ledger.record(negotiation_id, kind, data, occurred_at=occurred_at, sources=sources)
    except NegotiationError as refused:
        assert str(refused) and "\n" not in str(refused)
        assert ledger.read_all() == before
        return
    after = ledger.read_all()
    assert len(after) == len(before) + 1
    assert ledger.verify().intact


@FUZZ
@given(text=st.text(max_size=400) | st.sampled_from([
    "negotiation: x\nevents: [{type: AgreedInPrinciple, data: {parties: [US, JP]}}]",
    "negotiation: ok-talks\nevents:\n  - {type: TermsAmended, data: {terms: {a: !!binary aGVsbG8=}}}",
    "negotiation: ok-talks\nevents: [{type: AgreedInPrinciple, occurred_at: 2025-02-30}]",
    "--- !!python/object:os.system\n",
    "\ufeffnegotiation: ok-talks\nevents: [{event_id: 7}]",
]), binary=st.booleans())
def test_malformed_event_files_are_refused_and_load_nothing(
    ledger: Ledger, tmp_path_factory: Any, text: str, binary: bool
) -> None:
    path = Path(tmp_path_factory.mktemp("files")) / "fuzzed.yaml"
    if binary:
        path.write_bytes(text.encode("utf-16"))
    else:
        path.write_text(text, encoding="utf-8", errors="surrogatepass")

    try:
        streams = read_seed_file(path)
    except InvalidEvent as refused:
        assert str(path) in str(refused)
        return
    assert all(stream.events for stream in streams)
    before = ledger.read_all()
    try:
        load_streams(ledger, streams)
    except NegotiationError as refused:
        assert str(path) in str(refused)
        assert ledger.read_all() == before
