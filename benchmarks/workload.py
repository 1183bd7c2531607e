"""The benchmark's workload: deterministic, legal event sequences for many negotiations.

Every sequence opens with AgreedInPrinciple and then walks the state machine at
random among the events it allows (never AgreementFinalised, so a sequence can
be as long as asked). The same seed gives the same events, ids and dates, so the
ledger, the plain-sqlite3 baseline and other libraries store identical rows.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from negotiation.domain import machine

#: Event types a sequence draws from after the opening; AgreementFinalised would end it.
WALK_TYPES: tuple[str, ...] = (
    "TermsAmended",
    "TermsDisputed",
    "DisputeResolved",
    "VisitCancelled",
    "WorkingLevelTalksOpened",
)
#: Open points kept at most, so a 100,000-event history stays a realistic shape.
MAX_OPEN_POINTS = 3

_COUNTRIES = ("US", "JP", "IN", "DE", "FR", "GB", "KR", "BR", "CA", "MX", "AU", "ZA")
_TERMS = ("tariff_rate", "quota_tonnes", "investment_usd_bn", "review_years")
_START = datetime(2025, 1, 1, tzinfo=UTC)


def negotiation_id(index: int) -> str:
    """The slug of the ``index``-th benchmark negotiation."""
    return f"bench-{index:07d}"


@dataclass(slots=True)
class _Walk:
    """Just enough of a negotiation for the machine's guards: state and open points."""

    state: str = machine.NOT_OPENED
    open_disputes: list[str] = field(default_factory=list)
    points: int = 0
    has_deal: bool = True  # every benchmark negotiation opens with its deal


def _follow(walk: _Walk, event_type: str) -> str | None:
    return machine.follow(walk.state, event_type, cast(machine.Facts, walk))


def _allowed(walk: _Walk) -> list[str]:
    allowed = [t for t in WALK_TYPES if _follow(walk, t) is not None]
    if len(walk.open_disputes) >= MAX_OPEN_POINTS and "TermsDisputed" in allowed:
        allowed.remove("TermsDisputed")
    if not walk.open_disputes and "DisputeResolved" in allowed:
        allowed.remove("DisputeResolved")
    return allowed


def _payload(rng: random.Random, walk: _Walk, event_type: str, parties: tuple[str, str]) -> dict[str, Any]:
    if event_type == "TermsAmended":
        return {"terms": {rng.choice(_TERMS): rng.randint(1, 500)}}
    if event_type == "TermsDisputed":
        walk.points += 1
        point = f"point {walk.points}"
        walk.open_disputes.append(point)
        return {"point": point, "positions": {parties[0]: "wants a longer phase-in"}}
    if event_type == "DisputeResolved":
        point = rng.choice(walk.open_disputes)
        walk.open_disputes.remove(point)
        return {"point": point, "resolution": "split the difference"}
    if event_type == "VisitCancelled":
        return {"envoy": "Trade Representative", "reason": "scheduling conflict"}
    return {"agenda": ["tariffs", "quotas"], "venue": "Geneva"}


def events_for(index: int, count: int, seed: int = 0, first_version: int = 1,
               walk: _Walk | None = None) -> list[dict[str, Any]]:
    """``count`` events of negotiation ``index`` as ``record_many`` items.

    Pass the ``walk`` returned by :func:`walker` to continue a sequence in
    several batches (the first batch starts with ``first_version`` 1).
    """
    rng = random.Random(f"{seed}:{index}:{first_version}")
    walk = walk if walk is not None else _Walk()
    parties = (_COUNTRIES[index % len(_COUNTRIES)], _COUNTRIES[(index + 1) % len(_COUNTRIES)])
    items: list[dict[str, Any]] = []
    for offset in range(count):
        version = first_version + offset
        if walk.state == machine.NOT_OPENED:
            event_type = "AgreedInPrinciple"
            data: dict[str, Any] = {"parties": list(parties), "terms": {"tariff_rate": 15},
                                    "summary": "framework deal announced"}
            dest: str | None = machine.AGREED
        else:
            event_type = rng.choice(_allowed(walk))
            # The guards read the open points as they stand before the event, as the ledger does.
            dest = _follow(walk, event_type)
            data = _payload(rng, walk, event_type, parties)
        assert dest is not None, f"workload made an illegal step {event_type} from {walk.state}"
        walk.state = dest
        items.append({
            "type": event_type,
            "data": data,
            "occurred_at": _START + timedelta(minutes=index, seconds=version),
            "sources": ["Reuters"],
            "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        })
    return items


def without_ids(work: Iterable[tuple[str, list[dict[str, Any]]]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The same negotiations with no event ids given, as most callers record: the store makes them."""
    return [(negotiation, [{key: value for key, value in item.items() if key != "event_id"} for item in items])
            for negotiation, items in work]


def walker() -> _Walk:
    """A fresh walk, to build one long negotiation batch by batch with :func:`events_for`."""
    return _Walk()


def workload(negotiations: int, events: int, seed: int = 0, start: int = 0) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Each negotiation's id and its ``events`` items, generated lazily, one negotiation at a time."""
    for index in range(start, start + negotiations):
        yield negotiation_id(index), events_for(index, events, seed)
