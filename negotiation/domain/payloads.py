"""Every entry type of the log and its payload: the machine's event types, and the two corrections.

Each entry type is one class: its payload (validated on the way in; what is
stored is the normalised JSON form, so a replay reads back exactly what was
checked), its meaning (the docstring), what it says is wrong with a
negotiation it cannot apply to (``refusal``), its effect (``apply``) and how
a reader is told what it did (``describe``). The state an event moves the
negotiation to is the machine's business (``machine``); a retraction or a
correction moves no state, it changes the story (``story``).

``ENTRY_PAYLOADS`` is the one registry of them all, by type name.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .fields import Name, Party, Terms, Text
from .machine import EVENT_TYPES

RETRACTED = "EventRetracted"
CORRECTED = "EventCorrected"
#: The entry types that change the story without being events of the negotiation.
CORRECTION_TYPES: tuple[str, ...] = (RETRACTED, CORRECTED)


class Draft(Protocol):
    """The negotiation being folded, as an event's effect changes it."""

    id: str
    version: int
    parties: tuple[str, ...]
    terms: dict[str, Any]
    open_disputes: list[str]
    positions: dict[str, dict[str, str]]
    instruments: tuple[str, ...]
    deal_announced_at: datetime | None

    @property
    def has_deal(self) -> bool: ...


class Payload(BaseModel):
    """An entry type: its data, what it refuses and what it does."""

    # Validators are built on first use: reading a negotiation never validates a payload.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    #: True for the events that may open a negotiation (they name its two parties then).
    opens: ClassVar[bool] = False

    @staticmethod
    def invalid(negotiation: Draft, data: Mapping[str, Any]) -> str | None:
        """What in the data contradicts the negotiation it is for (an InvalidEvent); None if nothing."""
        return None

    @staticmethod
    def refusal(negotiation: Draft, data: Mapping[str, Any]) -> str | None:
        """Why the negotiation, as it stands, cannot take this event's content; None if it can."""
        return None

    @staticmethod
    def apply(negotiation: Draft, data: Mapping[str, Any], occurred_at: datetime | None) -> None:
        """The event's effect on the negotiation; the machine moves its state."""

    @staticmethod
    def describe(data: Mapping[str, Any]) -> str:
        """One line saying what the event did, in a reader's words."""
        raise NotImplementedError


def _distinct(parties: tuple[str, str] | None) -> None:
    if parties is not None and parties[0] == parties[1]:
        raise ValueError(f"parties must be two distinct parties, got {parties[0]} twice")


def _merge_terms(negotiation: Draft, data: Mapping[str, Any]) -> None:
    negotiation.terms.update(data.get("terms", {}))


class AgreedInPrinciple(Payload):
    """A deal is announced between the two parties: it opens the negotiation, or follows talks or a
    cancelled visit that came before any deal. It is announced at most once."""

    opens: ClassVar[bool] = True
    parties: tuple[Party, Party]
    terms: Terms = {}
    summary: Text | None = None

    @model_validator(mode="after")
    def _distinct_parties(self) -> AgreedInPrinciple:
        _distinct(self.parties)
        return self

    @staticmethod
    def apply(negotiation: Draft, data: Mapping[str, Any], occurred_at: datetime | None) -> None:
        negotiation.deal_announced_at = occurred_at
        _merge_terms(negotiation, data)

    @staticmethod
    def describe(data: Mapping[str, Any]) -> str:
        return f"{' and '.join(data['parties'])} agree in principle"


class TermsDisputed(Payload):
    """A point of the deal is openly contested; on a point already open, the stance is restated."""

    point: Name
    positions: dict[Party, Text] = {}

    @staticmethod
    def invalid(negotiation: Draft, data: Mapping[str, Any]) -> str | None:
        strangers = set(data.get("positions", ())) - set(negotiation.parties)
        if strangers:
            return (f"positions: {', '.join(sorted(strangers))} not a party to {negotiation.id!r} "
                    f"({', '.join(negotiation.parties)})")
        return None

    @staticmethod
    def apply(negotiation: Draft, data: Mapping[str, Any], occurred_at: datetime | None) -> None:
        point = data["point"]
        if point not in negotiation.open_disputes:
            negotiation.open_disputes.append(point)
        negotiation.positions[point] = {**negotiation.positions.get(point, {}), **data.get("positions", {})}

    @staticmethod
    def describe(data: Mapping[str, Any]) -> str:
        return f"point disputed: {data['point']}"


class DisputeResolved(Payload):
    """An open disputed point is settled."""

    point: Name
    resolution: Text | None = None

    @staticmethod
    def refusal(negotiation: Draft, data: Mapping[str, Any]) -> str | None:
        if data["point"] not in negotiation.open_disputes:
            return f"{data['point']!r} is not an open point; open: {', '.join(negotiation.open_disputes)}"
        return None

    @staticmethod
    def apply(negotiation: Draft, data: Mapping[str, Any], occurred_at: datetime | None) -> None:
        negotiation.open_disputes.remove(data["point"])
        negotiation.positions.pop(data["point"], None)

    @staticmethod
    def describe(data: Mapping[str, Any]) -> str:
        return f"point resolved: {data['point']}"


class VisitCancelled(Payload):
    """A planned high-level visit is called off; it may come before any deal, and then opens the
    negotiation, naming its parties."""

    opens: ClassVar[bool] = True
    envoy: Name
    planned_for: date | None = None
    reason: Text | None = None
    parties: tuple[Party, Party] | None = None

    @model_validator(mode="after")
    def _distinct_parties(self) -> VisitCancelled:
        _distinct(self.parties)
        return self

    @staticmethod
    def describe(data: Mapping[str, Any]) -> str:
        planned = f" (planned for {data['planned_for']})" if "planned_for" in data else ""
        return f"visit by {data['envoy']} cancelled{planned}"


class WorkingLevelTalksOpened(Payload):
    """Officials below the principals take up the details; talks may come before any deal, and then
    open the negotiation, naming its parties."""

    opens: ClassVar[bool] = True
    agenda: list[Name] = []
    venue: Name | None = None
    parties: tuple[Party, Party] | None = None

    @model_validator(mode="after")
    def _distinct_parties(self) -> WorkingLevelTalksOpened:
        _distinct(self.parties)
        return self

    @staticmethod
    def describe(data: Mapping[str, Any]) -> str:
        agenda = f" on {', '.join(data['agenda'])}" if data.get("agenda") else ""
        return f"working-level talks open{agenda}"


class AgreementFinalised(Payload):
    """The deal is enacted or signed in one or more instruments (again, with new ones, after it was
    reopened)."""

    instruments: list[Text] = Field(min_length=1)
    terms: Terms = {}

    @staticmethod
    def apply(negotiation: Draft, data: Mapping[str, Any], occurred_at: datetime | None) -> None:
        negotiation.instruments = tuple(data["instruments"])
        _merge_terms(negotiation, data)

    @staticmethod
    def describe(data: Mapping[str, Any]) -> str:
        count = len(data["instruments"])
        return f"finalised in {count} instrument{'s' if count != 1 else ''}"


class TermsAmended(Payload):
    """The recorded terms change, before or after finalisation."""

    terms: Terms = Field(min_length=1)

    @staticmethod
    def apply(negotiation: Draft, data: Mapping[str, Any], occurred_at: datetime | None) -> None:
        _merge_terms(negotiation, data)

    @staticmethod
    def describe(data: Mapping[str, Any]) -> str:
        return f"terms amended: {', '.join(data['terms'])}"



class EventRetracted(Payload):
    """A recorded event was wrongly reported: it leaves the story (the log keeps it)."""

    target: Name  # the event id of the retracted event
    target_version: int
    reason: Text

    @staticmethod
    def describe(data: Mapping[str, Any]) -> str:
        return f"retracts version {data['target_version']}: {data['reason']}"


class EventCorrected(Payload):
    """A recorded event was reported with wrong content or date: the story takes the corrected one."""

    target: Name
    target_version: int
    reason: Text
    data: dict[str, Any] | None = None
    occurred_at: str | None = None

    @staticmethod
    def describe(data: Mapping[str, Any]) -> str:
        changed = " and ".join(name for name in ("data", "occurred_at") if name in data)
        return f"corrects the {changed} of version {data['target_version']}: {data['reason']}"


#: Every entry type of the log with its payload: the machine's event types, then the corrections.
ENTRY_PAYLOADS: dict[str, type[Payload]] = {
    model.__name__: model
    for model in (
        AgreedInPrinciple,
        TermsDisputed,
        DisputeResolved,
        VisitCancelled,
        WorkingLevelTalksOpened,
        AgreementFinalised,
        TermsAmended,
        EventRetracted,
        EventCorrected,
    )
}
assert tuple(ENTRY_PAYLOADS) == (*EVENT_TYPES, *CORRECTION_TYPES), \
    "every event type of the machine, and each correction, needs a payload"


def parties_invalid(negotiation: Draft, event_type: str, data: Mapping[str, Any]) -> str | None:
    """The rule every event type shares: the opening event names the parties, later ones the same two."""
    named = data.get("parties")
    if not negotiation.parties:
        if named is None and ENTRY_PAYLOADS[event_type].opens:
            return f"parties: {event_type} opens negotiation {negotiation.id!r}, so it must name the two parties"
        return None
    if named is not None and sorted(named) != sorted(negotiation.parties):
        return (f"parties: {', '.join(named)} are not the parties to {negotiation.id!r} "
                f"({', '.join(negotiation.parties)})")
    return None


def describe(entry_type: str, data: Mapping[str, Any]) -> str:
    """One line saying what an entry of the log did, in a reader's words, as its type says it."""
    kind = ENTRY_PAYLOADS.get(entry_type)
    return kind.describe(data) if kind is not None else entry_type
