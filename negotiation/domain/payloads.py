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

import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from . import measures
from .fields import Name, Party, Terms, Text, known_party
from .machine import EVENT_TYPES
from .measures import Deadline, Measure

RETRACTED = "EventRetracted"
CORRECTED = "EventCorrected"
DENIED = "ReportDenied"
#: The entry types that change the story without being events of the negotiation.
CORRECTION_TYPES: tuple[str, ...] = (RETRACTED, CORRECTED, DENIED)

#: The events beside the phase: they never move it, and are taken in every state once the
#: negotiation is known (the first event of a negotiation, whatever its type, names the parties).
BESIDE_TYPES: tuple[str, ...] = (
    "MeetingHeld",
    *measures.MEASURE_EVENTS,
    "DeadlineSet",
    "ThirdPartyActed",
)

#: Text that reads as a party's code: where a position or a ``by`` uses one, it must be a party.
PARTY_CODE = re.compile(r"[A-Z]{2}")


class Draft(Protocol):
    """The negotiation being folded, as an event's effect changes it."""

    id: str
    version: int
    #: The version of the entry being applied (the story's order is not the log's).
    entry: int
    parties: tuple[str, ...]
    terms: dict[str, Any]
    statements: dict[str, dict[str, Any]]
    open_disputes: list[str]
    positions: dict[str, dict[str, str]]
    instruments: tuple[str, ...]
    deal_announced_at: datetime | None
    deals: list[dict[str, Any]]
    suspensions: list[dict[str, Any]]
    meetings: list[dict[str, Any]]
    measures: dict[str, Measure]
    deadlines: dict[str, Deadline]
    third_party_acts: list[dict[str, Any]]

    @property
    def has_deal(self) -> bool: ...


class Payload(BaseModel):
    """An entry type: its data, what it refuses and what it does."""

    # Validators are built on first use: reading a negotiation never validates a payload.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    #: True for the events that may open a negotiation (they name its two parties then).
    opens: ClassVar[bool] = False
    #: The fields that name a party of the negotiation (beside ``parties`` itself).
    party_fields: ClassVar[tuple[str, ...]] = ()

    @staticmethod
    def invalid(negotiation: Draft, data: Mapping[str, Any]) -> str | None:
        """What in the data contradicts the negotiation it is for (an InvalidEvent); None if nothing."""
        return None

    @staticmethod
    def refusal(negotiation: Draft, data: Mapping[str, Any], occurred_at: datetime) -> str | None:
        """Why the negotiation, as it stands at ``occurred_at``, cannot take this event's content; None if it can."""
        return None

    @staticmethod
    def apply(negotiation: Draft, data: Mapping[str, Any], occurred_at: datetime) -> None:
        """The event's effect on the negotiation; the machine moves its state."""

    @staticmethod
    def describe(data: Mapping[str, Any]) -> str:
        """One line saying what the event did, in a reader's words."""
        raise NotImplementedError


def _distinct(parties: tuple[str, str] | None) -> None:
    if parties is not None and parties[0] == parties[1]:
        raise ValueError(f"parties must be two distinct parties, got {parties[0]} twice")


def _day(moment: datetime) -> str:
    return moment.date().isoformat()


def _entry(negotiation: Draft, occurred_at: datetime, **said: Any) -> dict[str, Any]:
    """A record of an event kept beside the phase: its day, its version and what it said."""
    return {"on": _day(occurred_at), "version": negotiation.entry,
            **{name: value for name, value in said.items() if value is not None}}


def _merge_terms(negotiation: Draft, data: Mapping[str, Any]) -> None:
    """Terms said by one party are its statement; terms said by none are common."""
    party = data.get("according_to")
    if party is None:
        negotiation.terms.update(data.get("terms", {}))
    else:
        negotiation.statements[party] = {**negotiation.statements.get(party, {}), **data.get("terms", {})}


class Opening(Payload):
    """An event that may be the first of a negotiation, naming its two parties then."""

    opens: ClassVar[bool] = True
    parties: tuple[Party, Party] | None = None

    @model_validator(mode="after")
    def _distinct_parties(self) -> Opening:
        _distinct(self.parties)
        return self


class AgreedInPrinciple(Opening):
    """A deal is announced between the two parties: the first, or a later one that revises the terms (a
    framework after a truce, a follow-on deal). Announced while points are open, it leaves them open."""

    party_fields: ClassVar[tuple[str, ...]] = ("according_to",)
    terms: Terms = {}
    summary: Text | None = None
    title: Name | None = None
    according_to: Party | None = None

    @staticmethod
    def apply(negotiation: Draft, data: Mapping[str, Any], occurred_at: datetime) -> None:
        if negotiation.deal_announced_at is None:
            negotiation.deal_announced_at = occurred_at
        negotiation.deals.append(_entry(negotiation, occurred_at, kind="in principle", title=data.get("title"),
                                        according_to=data.get("according_to")))
        _merge_terms(negotiation, data)

    @staticmethod
    def describe(data: Mapping[str, Any]) -> str:
        title = f": {data['title']}" if "title" in data else ""
        who = " and ".join(data["parties"]) if "parties" in data else "the parties"
        return f"{who} agree in principle{title}"


class TermsDisputed(Payload):
    """A point of the deal is openly contested; on a point already open, the stances are restated.
    Stances are keyed by party code, or by name for an outside actor (a province, a neighbour)."""

    point: Name
    positions: dict[Name, Text] = {}
    parties: tuple[Party, Party] | None = None

    @staticmethod
    def invalid(negotiation: Draft, data: Mapping[str, Any]) -> str | None:
        strangers = {key for key in data.get("positions", ()) if PARTY_CODE.fullmatch(key)} - set(negotiation.parties)
        if strangers:
            return (f"positions: {', '.join(sorted(strangers))} not a party to {negotiation.id!r} "
                    f"({', '.join(negotiation.parties)}); an outside actor's stance is keyed by its name")
        return None

    @staticmethod
    def apply(negotiation: Draft, data: Mapping[str, Any], occurred_at: datetime) -> None:
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
    parties: tuple[Party, Party] | None = None

    @staticmethod
    def refusal(negotiation: Draft, data: Mapping[str, Any], occurred_at: datetime) -> str | None:
        if data["point"] not in negotiation.open_disputes:
            return f"{data['point']!r} is not an open point; open: {', '.join(negotiation.open_disputes)}"
        return None

    @staticmethod
    def apply(negotiation: Draft, data: Mapping[str, Any], occurred_at: datetime) -> None:
        negotiation.open_disputes.remove(data["point"])
        negotiation.positions.pop(data["point"], None)

    @staticmethod
    def describe(data: Mapping[str, Any]) -> str:
        return f"point resolved: {data['point']}"


class VisitCancelled(Opening):
    """A planned high-level visit is called off or put off; it may come before any deal, and then opens
    the negotiation, naming its parties. Another visit may be called off while one already is."""

    envoy: Name
    planned_for: date | None = None
    reason: Text | None = None
    postponed: bool | None = None
    rescheduled_for: date | None = None

    @staticmethod
    def describe(data: Mapping[str, Any]) -> str:
        planned = f" (planned for {data['planned_for']})" if "planned_for" in data else ""
        verb = "put off" if data.get("postponed") else "cancelled"
        later = f", rescheduled for {data['rescheduled_for']}" if "rescheduled_for" in data else ""
        return f"visit by {data['envoy']} {verb}{planned}{later}"


class WorkingLevelTalksOpened(Opening):
    """Officials take up the details: talks begin, resume, or a new round opens. Talks may come before
    any deal, and then open the negotiation, naming its parties."""

    agenda: list[Name] = []
    venue: Name | None = None
    round: Annotated[int, Field(ge=1)] | Name | None = None

    @staticmethod
    def describe(data: Mapping[str, Any]) -> str:
        which = f" (round {data['round']})" if "round" in data else ""
        agenda = f" on {', '.join(data['agenda'])}" if data.get("agenda") else ""
        return f"working-level talks open{which}{agenda}"


class TalksSuspended(Payload):
    """A party breaks off, freezes or "terminates" the talks: nothing is being negotiated until they
    resume (or a deal is announced)."""

    party_fields: ClassVar[tuple[str, ...]] = ("by",)
    by: Party
    reason: Text | None = None
    terminated: bool | None = None
    parties: tuple[Party, Party] | None = None

    @staticmethod
    def apply(negotiation: Draft, data: Mapping[str, Any], occurred_at: datetime) -> None:
        negotiation.suspensions.append(_entry(negotiation, occurred_at, by=data["by"], reason=data.get("reason"),
                                              terminated=data.get("terminated")))

    @staticmethod
    def describe(data: Mapping[str, Any]) -> str:
        verb = "terminates" if data.get("terminated") else "suspends"
        return f"{data['by']} {verb} the talks"


class AgreementFinalised(Payload):
    """The deal is enacted or signed in one or more instruments (again, with new ones, after it was
    reopened)."""

    instruments: list[Text] = Field(min_length=1)
    terms: Terms = {}
    parties: tuple[Party, Party] | None = None

    @staticmethod
    def apply(negotiation: Draft, data: Mapping[str, Any], occurred_at: datetime) -> None:
        negotiation.instruments = tuple(data["instruments"])
        negotiation.deals.append(_entry(negotiation, occurred_at, kind="finalised",
                                        instruments=list(data["instruments"])))
        _merge_terms(negotiation, data)

    @staticmethod
    def describe(data: Mapping[str, Any]) -> str:
        count = len(data["instruments"])
        return f"finalised in {count} instrument{'s' if count != 1 else ''}"


class TermsAmended(Payload):
    """The recorded terms change, before or after finalisation; ``according_to`` makes them one
    party's version of the terms."""

    party_fields: ClassVar[tuple[str, ...]] = ("according_to",)
    terms: Terms = Field(min_length=1)
    according_to: Party | None = None
    parties: tuple[Party, Party] | None = None

    @staticmethod
    def apply(negotiation: Draft, data: Mapping[str, Any], occurred_at: datetime) -> None:
        _merge_terms(negotiation, data)

    @staticmethod
    def describe(data: Mapping[str, Any]) -> str:
        who = f" according to {data['according_to']}" if "according_to" in data else ""
        return f"terms amended{who}: {', '.join(data['terms'])}"


class MeetingHeld(Opening):
    """A round, a ministers' meeting, a leaders' call or summit took place."""

    level: Literal["working", "ministerial", "leaders"]
    format: Literal["in person", "call", "video"] | None = None
    venue: Name | None = None
    participants: list[Name] = []
    ends_on: date | None = None
    summary: Text | None = None

    @staticmethod
    def apply(negotiation: Draft, data: Mapping[str, Any], occurred_at: datetime) -> None:
        negotiation.meetings.append(_entry(negotiation, occurred_at, **data))

    @staticmethod
    def describe(data: Mapping[str, Any]) -> str:
        how = f" ({data['format']})" if "format" in data else ""
        where = f" in {data['venue']}" if "venue" in data else ""
        return f"{data['level']} meeting held{how}{where}"


class MeasureEvent(Opening):
    """An event in the life of a measure; the measure machine (``measures``) says what may follow what."""

    measure: Name


def _measure_step(negotiation: Draft, event_type: str, data: Mapping[str, Any],
                  occurred_at: datetime) -> tuple[Measure, str] | str:
    """The measure an event is about and the status it leads to; or why its life refuses the event."""
    name = data["measure"]
    current = negotiation.measures.get(name) or Measure(name=name, status=measures.NONE_YET)
    status = current.status_at(occurred_at)
    dest = measures.ROUTES.get((status, event_type))
    if dest is None:
        return f"the measure {name!r} is {status.replace('_', ' ')}: {measures.REFUSALS[(status, event_type)]}"
    if current.scheduled and dest == status:
        return current, current.status  # a threat restated before an imposition takes effect leaves it as it is
    if status != current.status:  # time changed it: a pause lapsed, a threat lapsed, an imposition came ahead
        current = replace(current, status=status, prior=None)
    return current, dest


def _measure_refusal(event_type: str) -> Any:
    """The ``refusal`` of a measure event: what the measure's life, at the event's date, says of it."""
    def refusal(negotiation: Draft, data: Mapping[str, Any], occurred_at: datetime) -> str | None:
        step = _measure_step(negotiation, event_type, data, occurred_at)
        return step if isinstance(step, str) else None
    return staticmethod(refusal)


def _moved(negotiation: Draft, event_type: str, data: Mapping[str, Any], occurred_at: datetime,
           **changes: Any) -> None:
    """Record a measure's step: its new status, and since when it holds when it changed."""
    step = _measure_step(negotiation, event_type, data, occurred_at)
    assert not isinstance(step, str), step  # judged before it is applied
    current, dest = step
    if current.scheduled and dest == current.status and event_type == "MeasureThreatened":
        return  # a threat restated before a scheduled imposition takes effect changes nothing of it
    since = current.since if dest == current.status else _day(occurred_at)
    version = current.version if dest == current.status and event_type == "MeasureThreatened" else \
        negotiation.entry
    negotiation.measures[current.name] = replace(current, status=dest, since=since, version=version, **changes)


class MeasureThreatened(MeasureEvent):
    """A measure is threatened against the other party, or a threat is restated with a new value or date;
    on a measure in force or paused, it is a threat to raise or reimpose it."""

    party_fields: ClassVar[tuple[str, ...]] = ("by",)
    by: Party
    value: Name | None = None
    effective: date | None = None
    condition: Text | None = None
    refusal = _measure_refusal("MeasureThreatened")

    @staticmethod
    def apply(negotiation: Draft, data: Mapping[str, Any], occurred_at: datetime) -> None:
        current = negotiation.measures.get(data["measure"])
        acting = current is not None and current.status_at(occurred_at) in (measures.IN_FORCE, measures.PAUSED)
        said: dict[str, Any] = {"effective": data.get("effective"), "condition": data.get("condition")}
        if acting:
            said["threatened_value"] = data.get("value")
        else:  # a new threat, or one restated: nothing of a lift or an imposition before it still holds
            said.update(by=data["by"], value=data.get("value", current.value if current else None),
                        lifted_by=None, reason=None, effective_from=None, paused_until=None, prior=None)
        _moved(negotiation, "MeasureThreatened", data, occurred_at, **said)

    @staticmethod
    def describe(data: Mapping[str, Any]) -> str:
        value = f" of {data['value']}" if "value" in data else ""
        when = f" from {data['effective']}" if "effective" in data else ""
        return f"{data['by']} threatens {data['measure']}{value}{when}"


class MeasureImposed(MeasureEvent):
    """The measure is in force (imposing it again changes its value); ``effective_from`` may be before
    the act, when it applies retroactively."""

    party_fields: ClassVar[tuple[str, ...]] = ("by",)
    by: Party
    value: Name | None = None
    effective_from: date | None = None
    refusal = _measure_refusal("MeasureImposed")

    @staticmethod
    def apply(negotiation: Draft, data: Mapping[str, Any], occurred_at: datetime) -> None:
        current = negotiation.measures.get(data["measure"])
        effective_from = data.get("effective_from", _day(occurred_at))
        # Announced ahead of the day it takes effect, it is not in force until then.
        before = current.status_at(occurred_at) if current else measures.NONE_YET
        ahead = effective_from > _day(occurred_at)
        _moved(negotiation, "MeasureImposed", data, occurred_at, by=data["by"],
               value=data.get("value", current.value if current else None),
               effective_from=effective_from, effective=effective_from if ahead else None,
               threatened_value=None, condition=None, paused_until=None, lifted_by=None, reason=None,
               prior=before if ahead else None)

    @staticmethod
    def describe(data: Mapping[str, Any]) -> str:
        value = f" of {data['value']}" if "value" in data else ""
        since = f", effective {data['effective_from']}" if "effective_from" in data else ""
        return f"{data['by']} imposes {data['measure']}{value}{since}"


class MeasurePaused(MeasureEvent):
    """A measure in force is suspended until a day (a truce); pausing a paused one extends the pause."""

    party_fields: ClassVar[tuple[str, ...]] = ("by",)
    until: date
    reason: Text | None = None
    by: Party | None = None
    refusal = _measure_refusal("MeasurePaused")

    @staticmethod
    def apply(negotiation: Draft, data: Mapping[str, Any], occurred_at: datetime) -> None:
        _moved(negotiation, "MeasurePaused", data, occurred_at, paused_until=data["until"],
               reason=data.get("reason"))

    @staticmethod
    def describe(data: Mapping[str, Any]) -> str:
        return f"{data['measure']} paused until {data['until']}"


class MeasureLifted(MeasureEvent):
    """A threat is withdrawn, or a measure removed or struck down (by a party, or a named outside actor
    such as a court)."""

    by: Name | None = None
    reason: Text | None = None
    refusal = _measure_refusal("MeasureLifted")

    @staticmethod
    def invalid(negotiation: Draft, data: Mapping[str, Any]) -> str | None:
        return _stranger(negotiation, data, "by") if is_country(data.get("by")) else None

    @staticmethod
    def apply(negotiation: Draft, data: Mapping[str, Any], occurred_at: datetime) -> None:
        _moved(negotiation, "MeasureLifted", data, occurred_at, lifted_by=data.get("by"),
               reason=data.get("reason"), paused_until=None, effective=None, threatened_value=None)

    @staticmethod
    def describe(data: Mapping[str, Any]) -> str:
        who = f" by {data['by']}" if "by" in data else ""
        return f"{data['measure']} lifted{who}"


class DeadlineSet(Opening):
    """A target or an ultimatum ("a deal within 30 days"); setting the same ``what`` again moves it."""

    party_fields: ClassVar[tuple[str, ...]] = ("by",)
    what: Name
    due: date
    by: Party | None = None

    @staticmethod
    def apply(negotiation: Draft, data: Mapping[str, Any], occurred_at: datetime) -> None:
        negotiation.deadlines[data["what"]] = Deadline(data["what"], data["due"], data.get("by"), _day(occurred_at),
                                                      negotiation.entry)

    @staticmethod
    def describe(data: Mapping[str, Any]) -> str:
        who = f" by {data['by']}" if "by" in data else ""
        return f"deadline set{who}: {data['what']}, due {data['due']}"


class ThirdPartyActed(Opening):
    """Someone outside the two governments acts on the negotiation: a court rules, a parliament votes,
    a third country or a firm acts. ``of`` names the party the actor belongs to, if any (a third
    country acting is an actor of its own, with no ``of``)."""

    party_fields: ClassVar[tuple[str, ...]] = ("of",)
    actor: Name
    action: Text
    of: Party | None = None
    kind: Literal["court", "legislature", "government", "company", "international body", "other"] | None = None

    @staticmethod
    def apply(negotiation: Draft, data: Mapping[str, Any], occurred_at: datetime) -> None:
        negotiation.third_party_acts.append(_entry(negotiation, occurred_at, **data))

    @staticmethod
    def describe(data: Mapping[str, Any]) -> str:
        return f"{data['actor']}: {data['action']}"


def is_country(name: object) -> bool:
    """Whether a name given as an actor (a ``by`` that may be a party, a court or an outlet) is a party's
    code: ISO 3166-1 alpha-2, or EU. Such a name must be a party of the negotiation."""
    if not isinstance(name, str) or not PARTY_CODE.fullmatch(name):
        return False
    try:
        known_party(name)
    except ValueError:
        return False
    return True


def _stranger(negotiation: Draft, data: Mapping[str, Any], field: str) -> str | None:
    """Refuse a party field naming someone not a party (the parties are the event's own when it opens)."""
    parties = negotiation.parties or tuple(data.get("parties") or ())
    named = data.get(field)
    if named is not None and parties and named not in parties:
        return f"{field}: {named} is not a party to {negotiation.id!r} ({', '.join(parties)})"
    return None


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
    #: When the event in fact became known: applies to every "as known at" question.
    reported_at: str | None = None

    @staticmethod
    def describe(data: Mapping[str, Any]) -> str:
        changed = " and ".join(name for name in ("data", "occurred_at", "reported_at") if name in data)
        return f"corrects the {changed} of version {data['target_version']}: {data['reason']}"


class ReportDenied(Payload):
    """A party (or a source) denies a reported event: it stays in the story, marked as denied by whom."""

    target: Name
    target_version: int
    by: Name
    statement: Text | None = None

    @staticmethod
    def describe(data: Mapping[str, Any]) -> str:
        said = f": {data['statement']}" if "statement" in data else ""
        return f"{data['by']} denies version {data['target_version']}{said}"


#: Every entry type of the log with its payload: the phase events, the events beside the phase,
#: then the corrections.
ENTRY_PAYLOADS: dict[str, type[Payload]] = {
    model.__name__: model
    for model in (
        AgreedInPrinciple,
        TermsDisputed,
        DisputeResolved,
        VisitCancelled,
        WorkingLevelTalksOpened,
        TalksSuspended,
        AgreementFinalised,
        TermsAmended,
        MeetingHeld,
        MeasureThreatened,
        MeasureImposed,
        MeasurePaused,
        MeasureLifted,
        DeadlineSet,
        ThirdPartyActed,
        EventRetracted,
        EventCorrected,
        ReportDenied,
    )
}
#: Every event type: what happened in the world (a phase event or one beside the phase).
EVENT_KINDS: tuple[str, ...] = (*EVENT_TYPES, *BESIDE_TYPES)
assert tuple(ENTRY_PAYLOADS) == (*EVENT_KINDS, *CORRECTION_TYPES), \
    "every event type of the machine, each event beside the phase, and each correction, needs a payload"


def parties_invalid(negotiation: Draft, event_type: str, data: Mapping[str, Any]) -> str | None:
    """The rules every event type shares: the first event names the two parties, later ones the same two,
    and every party an event names (``by``, ``according_to``) is one of them."""
    named = data.get("parties")
    payload = ENTRY_PAYLOADS[event_type]
    if not negotiation.parties:
        if named is None and payload.opens:
            return f"parties: {event_type} opens negotiation {negotiation.id!r}, so it must name the two parties"
    elif named is not None and sorted(named) != sorted(negotiation.parties):
        return (f"parties: {', '.join(named)} are not the parties to {negotiation.id!r} "
                f"({', '.join(negotiation.parties)})")
    for field in payload.party_fields:
        stranger = _stranger(negotiation, data, field)
        if stranger:
            return stranger
    return None


def describe(entry_type: str, data: Mapping[str, Any]) -> str:
    """One line saying what an entry of the log did, in a reader's words, as its type says it."""
    kind = ENTRY_PAYLOADS.get(entry_type)
    return kind.describe(data) if kind is not None else entry_type
