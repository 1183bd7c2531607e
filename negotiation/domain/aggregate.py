"""The negotiation aggregate: a value rebuilt by folding its events in order."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from ..errors import CorruptHistory, IllegalTransition, InvalidEvent
from . import machine
from .events import NewEvent


class StoredEvent(Protocol):
    """What folding needs of a recorded event."""

    @property
    def version(self) -> int: ...
    @property
    def type(self) -> str: ...
    @property
    def data(self) -> Mapping[str, Any]: ...
    @property
    def occurred_at(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class Negotiation:
    """One bilateral negotiation as its history makes it."""

    id: str
    state: str = machine.NOT_OPENED
    version: int = 0
    parties: tuple[str, ...] = ()
    terms: dict[str, Any] = field(default_factory=dict)
    open_disputes: tuple[str, ...] = ()
    instruments: tuple[str, ...] = ()
    opened_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def allowed_events(self) -> tuple[str, ...]:
        """Event types the negotiation would accept next."""
        return machine.allowed_events(self.state, self)

    @property
    def is_open(self) -> bool:
        return self.state not in (machine.NOT_OPENED, machine.FINALISED)


class _Draft:
    """A mutable copy used while folding, so a long history is not copied once per event."""

    __slots__ = (
        "id",
        "instruments",
        "open_disputes",
        "opened_at",
        "parties",
        "state",
        "terms",
        "updated_at",
        "version",
    )

    def __init__(self, start: Negotiation) -> None:
        self.id = start.id
        self.state = start.state
        self.version = start.version
        self.parties = start.parties
        self.terms = dict(start.terms)
        self.open_disputes = list(start.open_disputes)
        self.instruments = start.instruments
        self.opened_at = start.opened_at
        self.updated_at = start.updated_at

    def apply(self, event_type: str, data: Mapping[str, Any], occurred_at: datetime | None) -> None:
        """Apply a payload's effect; the state itself is moved by the caller."""
        if event_type == "AgreedInPrinciple":
            self.parties = tuple(data["parties"])
            self.opened_at = occurred_at
        elif event_type == "TermsDisputed":
            self.open_disputes.append(data["point"])
        elif event_type == "DisputeResolved":
            self.open_disputes.remove(data["point"])
        elif event_type == "AgreementFinalised":
            self.instruments = tuple(data["instruments"])
        if "terms" in data:
            self.terms.update(data["terms"])
        self.updated_at = occurred_at
        self.version += 1

    def freeze(self) -> Negotiation:
        return Negotiation(
            id=self.id,
            state=self.state,
            version=self.version,
            parties=self.parties,
            terms=self.terms,
            open_disputes=tuple(self.open_disputes),
            instruments=self.instruments,
            opened_at=self.opened_at,
            updated_at=self.updated_at,
        )


def fold(negotiation_id: str, events: Iterable[StoredEvent], start: Negotiation | None = None) -> Negotiation:
    """Replay recorded events onto ``start`` (or a negotiation not yet opened).

    Every event must be the next version and a step the machine allows; a
    history that breaks either is corrupt and is reported, never skipped.
    """
    rows = ((e.version, e.type, e.data, e.occurred_at) for e in events)
    return fold_rows(negotiation_id, rows, start)


def fold_rows(negotiation_id: str, rows: Iterable[tuple[int, str, Mapping[str, Any], Any]],
              start: Negotiation | None = None) -> Negotiation:
    """``fold`` over plain (version, type, data, occurred_at) tuples, as a log scan yields them."""
    draft = _Draft(start or Negotiation(id=negotiation_id))
    follow, unguarded = machine.follow, machine.UNGUARDED
    for version, event_type, data, occurred_at in rows:
        if version != draft.version + 1:
            raise CorruptHistory(
                f"negotiation {negotiation_id!r}: expected version {draft.version + 1}, found {version}"
            )
        dest = unguarded.get((draft.state, event_type)) or follow(draft.state, event_type, draft)
        if dest is None:
            raise CorruptHistory(
                f"negotiation {negotiation_id!r} version {version}: "
                f"{event_type} is not allowed in state {draft.state}"
            )
        draft.apply(event_type, data, occurred_at)
        draft.state = dest
    return draft.freeze()


def decide(current: Negotiation, events: Iterable[tuple[NewEvent, datetime]]) -> Negotiation:
    """Check new events, each against the state the ones before it leave, and return the result.

    Raises IllegalTransition (or InvalidEvent for a payload that contradicts the
    negotiation) at the first refused event; ``current`` is never changed.
    """
    draft = _Draft(current)
    for event, occurred_at in events:
        # A new event is put to the shared ``transitions`` machine itself; replaying
        # stored events (``fold_rows``) reads the same machine's table instead.
        dest = machine.fire(draft.state, event.type, draft)
        _check(draft, event, dest)
        draft.apply(event.type, event.data, occurred_at)
        draft.state = dest  # type: ignore[assignment]  # _check refused a None
    return draft.freeze()


def _check(draft: _Draft, event: NewEvent, dest: str | None) -> None:
    def refuse(reason: str | None) -> IllegalTransition:
        allowed = machine.allowed_events(draft.state, draft)
        return IllegalTransition(draft.id, draft.state, event.type, allowed, reason)

    if dest is None:
        raise refuse(machine.refusal_reason(draft.state, event.type, draft))
    point = event.data.get("point")
    if event.type == "DisputeResolved" and point not in draft.open_disputes:
        raise refuse(f"{point!r} is not an open point; open: {', '.join(draft.open_disputes)}")
    if event.type == "TermsDisputed" and point in draft.open_disputes:
        raise refuse(f"{point!r} is already an open point")
    positions = event.data.get("positions")
    strangers = set(positions) - set(draft.parties) if positions else ()
    if strangers:
        raise InvalidEvent(
            f"TermsDisputed data: positions: {', '.join(sorted(strangers))} "
            f"not a party to {draft.id!r} ({', '.join(draft.parties)})"
        )


def snapshot(negotiation: Negotiation) -> dict[str, Any]:
    """The negotiation as plain JSON, for the state projection kept beside the log."""
    return {
        "parties": list(negotiation.parties),
        "terms": negotiation.terms,
        "open_disputes": list(negotiation.open_disputes),
        "instruments": list(negotiation.instruments),
        "opened_at": negotiation.opened_at.isoformat() if negotiation.opened_at else None,
        "updated_at": negotiation.updated_at.isoformat() if negotiation.updated_at else None,
    }


def from_snapshot(negotiation_id: str, state: str, version: int, data: Mapping[str, Any]) -> Negotiation:
    opened_at, updated_at = data["opened_at"], data["updated_at"]
    return Negotiation(
        id=negotiation_id,
        state=state,
        version=version,
        parties=tuple(data["parties"]),
        terms=data["terms"],
        open_disputes=tuple(data["open_disputes"]),
        instruments=tuple(data["instruments"]),
        opened_at=datetime.fromisoformat(opened_at) if opened_at else None,
        updated_at=datetime.fromisoformat(updated_at) if updated_at else None,
    )
