"""The real negotiations shipped in seeds/ load, and stand in the right state on each reported day."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from negotiation import Ledger, SourceRecord
from negotiation.domain.machine import EVENT_TYPES
from negotiation.files.loading import load_streams, read_streams

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

#: (negotiation, day, state at the end of that day, open points then), from the dated reports in each file.
CHECKPOINTS = [
    ("us-korea-2025", date(2025, 7, 24), "visit_cancelled", ()),
    ("us-korea-2025", date(2025, 9, 16), "disputed_terms", ("investment structure",)),
    ("us-korea-2025", date(2025, 9, 20), "disputed_terms", ("investment structure", "currency swap")),
    ("us-korea-2025", date(2025, 10, 29), "agreed_in_principle", ()),
    ("us-korea-2025", date(2025, 11, 14), "finalised", ()),
    ("us-korea-2025", date(2026, 1, 27), "disputed_terms", ("legislative implementation",)),
    ("us-korea-2025", date(2026, 3, 12), "agreed_in_principle", ()),
    ("us-eu-2025", date(2025, 7, 27), "agreed_in_principle", ()),
    ("us-eu-2025", date(2025, 10, 1), "agreed_in_principle", ()),
    ("us-eu-2025", date(2025, 11, 24), "disputed_terms", ("steel and aluminium", "digital rules")),
    ("us-eu-2025", date(2026, 2, 4), "disputed_terms", ("steel and aluminium", "digital rules")),
    ("us-eu-2025", date(2026, 2, 21), "disputed_terms", ("steel and aluminium", "digital rules")),
    ("us-uk-2025", date(2025, 5, 8), "agreed_in_principle", ()),
    ("us-uk-2025", date(2025, 6, 3), "disputed_terms", ("steel and aluminium",)),
    ("us-uk-2025", date(2025, 9, 10), "disputed_terms", ("steel and aluminium",)),
    ("us-uk-2025", date(2025, 9, 16), "disputed_terms", ("steel and aluminium",)),
    ("us-uk-2025", date(2026, 1, 21), "disputed_terms", ("steel and aluminium", "non-tariff barriers")),
    ("us-japan-2025", date(2025, 7, 22), "agreed_in_principle", ()),
    ("us-japan-2025", date(2025, 8, 28), "working_level_talks", ("tariff stacking", "profit sharing")),
    ("us-japan-2025", date(2025, 9, 4), "finalised", ()),
    ("us-vietnam-2025", date(2025, 7, 2), "disputed_terms", ("US tariff rate on Vietnamese goods",)),
    ("us-vietnam-2025", date(2025, 10, 26), "disputed_terms", ("definition of transshipment",)),
    ("us-indonesia-2025", date(2025, 7, 15), "agreed_in_principle", ()),
    ("us-indonesia-2025", date(2025, 12, 22), "working_level_talks", ()),
    ("us-indonesia-2025", date(2026, 2, 19), "finalised", ()),
    ("us-mexico-2025", date(2025, 2, 3), "working_level_talks", ()),
    ("us-mexico-2025", date(2025, 12, 9), "disputed_terms", ("water deliveries under the 1944 treaty",)),
    ("us-mexico-2025", date(2025, 12, 12), "agreed_in_principle", ()),
]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Ledger:
    url = f"sqlite:///{tmp_path_factory.mktemp('seeds') / 'seeds.db'}"
    ledger = Ledger.open(url)
    load_streams(ledger, read_streams(sorted(SEEDS.glob("*.yaml"))))
    return ledger


def state_on(ledger: Ledger, negotiation_id: str, day: date) -> tuple[str, tuple[str, ...]]:
    """The negotiation as of the end of ``day``."""
    then = ledger.get(negotiation_id, as_of=day)
    return then.state, then.open_disputes


@pytest.mark.parametrize(("negotiation_id", "day", "state", "open_points"), CHECKPOINTS,
                         ids=[f"{n}-{d}" for n, d, _s, _p in CHECKPOINTS])
def test_each_real_negotiation_stands_in_the_reported_state_on_each_checkpoint(
        seeded: Ledger, negotiation_id: str, day: date, state: str, open_points: tuple[str, ...]) -> None:
    assert state_on(seeded, negotiation_id, day) == (state, open_points)


#: (negotiation, day, known at, state, open points, day of the latest meeting): news that arrived late
#: changes what was known on the day: a point disputed (Korea's currency swap), a meeting (Peter Kyle's
#: visit, Šefčovič's call) or a round of talks (Vietnam's third) reported days after it happened.
KNOWN = [
    ("us-korea-2025", date(2025, 9, 20), date(2025, 9, 20), "disputed_terms", ("investment structure",),
     "2025-09-15"),
    ("us-korea-2025", date(2025, 9, 20), date(2025, 9, 22), "disputed_terms",
     ("investment structure", "currency swap"), "2025-09-15"),
    ("us-uk-2025", date(2025, 9, 10), date(2025, 9, 10), "disputed_terms", ("steel and aluminium",), None),
    ("us-uk-2025", date(2025, 9, 10), date(2025, 9, 14), "disputed_terms", ("steel and aluminium",),
     "2025-09-08"),
    ("us-eu-2025", date(2026, 2, 21), date(2026, 2, 21), "disputed_terms", ("steel and aluminium", "digital rules"),
     "2025-11-24"),
    ("us-eu-2025", date(2026, 2, 21), date(2026, 2, 22), "disputed_terms", ("steel and aluminium", "digital rules"),
     "2026-02-21"),
    ("us-vietnam-2025", date(2025, 6, 10), date(2025, 6, 10), "disputed_terms",
     ("US tariff rate on Vietnamese goods",), "2025-06-04"),
    ("us-vietnam-2025", date(2025, 6, 10), date(2025, 6, 15), "working_level_talks",
     ("US tariff rate on Vietnamese goods",), "2025-06-04"),
]


@pytest.mark.parametrize(("negotiation_id", "day", "known_at", "state", "open_points", "last_meeting"), KNOWN,
                         ids=[f"{n}-{d}-known-{k}" for n, d, k, *_rest in KNOWN])
def test_what_was_known_on_a_day_is_what_had_been_reported_by_then(
        seeded: Ledger, negotiation_id: str, day: date, known_at: date, state: str,
        open_points: tuple[str, ...], last_meeting: str | None) -> None:
    then = seeded.get(negotiation_id, as_of=day, known_at=known_at)

    assert (then.state, then.open_disputes) == (state, open_points)
    assert (then.meetings[-1]["on"] if then.meetings else None) == last_meeting


def test_the_seeds_hold_talks_before_a_deal_life_after_finalisation_and_the_eu_as_a_party(seeded: Ledger) -> None:
    korea, eu = seeded.get("us-korea-2025"), seeded.get("us-eu-2025")
    korea_history = seeded.history("us-korea-2025")

    korea_phase = [e for e in korea_history if e.type in EVENT_TYPES]

    assert korea_history[0].type == "MeasureThreatened" and korea_phase[0].type == "VisitCancelled"
    assert korea.deal_announced_at is not None and korea_phase[0].occurred_at < korea.deal_announced_at
    assert [e.type for e in korea_phase if e.occurred_at.year == 2026][:1] == ["TermsDisputed"]
    assert eu.parties == ("US", "EU")
    assert seeded.verify().intact


def test_every_seed_event_names_its_sources() -> None:
    streams = read_streams(sorted(SEEDS.glob("*.yaml")))

    unsourced = [(s.negotiation_id, i) for s in streams for i, e in enumerate(s.events) if not e.get("sources")]

    assert len(streams) == 8
    assert unsourced == []


def test_every_seed_negotiation_links_key_facts_to_the_articles_that_report_them(seeded: Ledger) -> None:
    linked = {nid: [e for e in seeded.history(nid) if any(isinstance(s, SourceRecord) for s in e.sources)]
              for nid in seeded.negotiations()}
    articles = [s for events in linked.values() for e in events for s in e.sources if isinstance(s, SourceRecord)]

    assert len(linked) == 8
    assert {nid: len(events) >= 2 for nid, events in linked.items()} == dict.fromkeys(linked, True)
    assert all(a.url.startswith(("https://", "http://")) and a.headline for a in articles)
    assert {"AgreedInPrinciple", "AgreementFinalised"} <= {e.type for events in linked.values() for e in events}
