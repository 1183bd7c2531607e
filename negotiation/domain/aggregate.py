"""The negotiation aggregate: a value rebuilt by folding its events in order.

New events are decided by the ``transitions`` machine itself (``decide``);
stored ones are replayed with the same machine's table read once
(``fold_rows``). Both ask each event type (``payloads.ENTRY_PAYLOADS``) what it
refuses and what it does, so an event type's behaviour lives in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from ..errors import CorruptHistory, IllegalTransition, InvalidEvent, UnknownNegotiation
from . import machine
from .entries import Entry, NewEvent, fast_maker
from .measures import IN_FORCE, Deadline, Measure
from .payloads import BESIDE_TYPES, CORRECTION_TYPES, ENTRY_PAYLOADS, parties_invalid
from .story import folded_story, known_by
from .times import from_iso, iso


@dataclass(frozen=True, slots=True)
class Negotiation:
    """One bilateral negotiation as its history makes it: its phase, and what goes on beside it.

    Measures and deadlines change with time as well as with events (a pause
    lapses, a deadline passes): their status is asked at ``at``, the time the
    negotiation was asked about (``as_of``), or now when it was asked as it stands.
    """

    id: str
    state: str = machine.NOT_OPENED
    version: int = 0
    parties: tuple[str, ...] = ()
    #: The common terms: those no party is named as the source of.
    terms: dict[str, Any] = field(default_factory=dict)
    open_disputes: tuple[str, ...] = ()
    #: The latest stance of each party (or outside actor) on each open point.
    positions: dict[str, dict[str, str]] = field(default_factory=dict)
    instruments: tuple[str, ...] = ()
    opened_at: datetime | None = None
    updated_at: datetime | None = None
    #: When the first deal in principle was announced; None while there is none.
    deal_announced_at: datetime | None = None
    #: Terms as each party states them (``according_to``), by party.
    statements: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Every deal in principle and every finalisation, in story order.
    deals: tuple[dict[str, Any], ...] = ()
    suspensions: tuple[dict[str, Any], ...] = ()
    meetings: tuple[dict[str, Any], ...] = ()
    measures: dict[str, Measure] = field(default_factory=dict)
    deadlines: dict[str, Deadline] = field(default_factory=dict)
    third_party_acts: tuple[dict[str, Any], ...] = ()
    #: The moment the time-driven answers are for; None: now.
    at: datetime | None = None

    @property
    def has_deal(self) -> bool:
        """Whether a deal in principle has been announced."""
        return self.deal_announced_at is not None

    @property
    def allowed_events(self) -> tuple[str, ...]:
        """Phase event types the negotiation would accept next (events beside the phase always are)."""
        return machine.allowed_events(self.state, self)

    @property
    def is_open(self) -> bool:
        """Whether a phase event has opened the negotiation (a finalised one stays open to what follows)."""
        return self.state != machine.NOT_OPENED

    @property
    def moment(self) -> datetime:
        """The moment the time-driven answers are for: ``at``, or now."""
        return self.at or datetime.now(UTC)

    def measure_status(self, name: str) -> str:
        """The status of a measure at ``moment`` (KeyError for a measure never named)."""
        return self.measures[name].status_at(self.moment)

    @property
    def measures_in_force(self) -> tuple[Measure, ...]:
        """The measures in force at ``moment`` (a lapsed pause counts), by name."""
        at = self.moment
        return tuple(m for _, m in sorted(self.measures.items()) if m.status_at(at) == IN_FORCE)

    def deadline_status(self, what: str) -> str:
        """``pending`` or ``passed`` at ``moment``."""
        return self.deadlines[what].status_at(self.moment)

    @property
    def suspended_by(self) -> str | None:
        """The party that broke off the talks, while they are suspended."""
        return self.suspensions[-1]["by"] if self.state == machine.SUSPENDED and self.suspensions else None

    def view_of(self, party: str) -> dict[str, Any]:
        """The terms as ``party`` tells them: the common terms overlaid with its own statements."""
        return {**self.terms, **self.statements.get(party, {})}

    @property
    def differences(self) -> tuple[str, ...]:
        """The names of the terms on which the two parties' views differ, sorted."""
        if len(self.parties) != 2:
            return ()
        first, second = (self.view_of(party) for party in self.parties)
        return tuple(sorted(name for name in first.keys() | second.keys() if first.get(name) != second.get(name)))


#: ``Negotiation(...)``, made as a fold or a head's snapshot makes one: for every append and every read.
_negotiation = fast_maker(Negotiation)


class _Draft:
    """A mutable copy used while folding, so a long history is not copied once per event."""

    __slots__ = ("id", "state", "version", "parties", "terms", "open_disputes", "positions",
                 "instruments", "opened_at", "updated_at", "deal_announced_at", "statements", "deals",
                 "suspensions", "meetings", "measures", "deadlines", "third_party_acts", "entry")

    def __init__(self, start: Negotiation) -> None:
        self.id = start.id
        self.state = start.state
        self.version = start.version
        self.parties = start.parties
        self.terms = dict(start.terms)
        self.open_disputes = list(start.open_disputes)
        self.positions = {point: dict(stances) for point, stances in start.positions.items()}
        self.instruments = start.instruments
        self.opened_at = start.opened_at
        self.updated_at = start.updated_at
        self.deal_announced_at = start.deal_announced_at
        self.statements = {party: dict(terms) for party, terms in start.statements.items()}
        self.deals = list(start.deals)
        self.suspensions = list(start.suspensions)
        self.meetings = list(start.meetings)
        self.measures = dict(start.measures)
        self.deadlines = dict(start.deadlines)
        self.third_party_acts = list(start.third_party_acts)
        self.entry = 0

    @property
    def has_deal(self) -> bool:
        return self.deal_announced_at is not None

    def apply(self, event_type: str, data: Mapping[str, Any], occurred_at: datetime, entry: int) -> None:
        """Apply the effect of the event that is entry ``entry`` of the log; the caller moves the state."""
        self.entry = entry
        if not self.parties and "parties" in data:
            self.parties = tuple(data["parties"])
        if self.version == 0:
            self.opened_at = occurred_at
        ENTRY_PAYLOADS[event_type].apply(self, data, occurred_at)
        self.updated_at = occurred_at
        self.version += 1

    def freeze(self, at: datetime | None = None) -> Negotiation:
        """The negotiation as folded so far (``at``: the time it was asked at, for a state as of a date)."""
        return _negotiation(
            id=self.id,
            state=self.state,
            version=self.version,
            parties=self.parties,
            terms=self.terms,
            open_disputes=tuple(self.open_disputes),
            positions=self.positions,
            instruments=self.instruments,
            opened_at=self.opened_at,
            updated_at=self.updated_at,
            deal_announced_at=self.deal_announced_at,
            statements=self.statements,
            deals=tuple(self.deals),
            suspensions=tuple(self.suspensions),
            meetings=tuple(self.meetings),
            measures=self.measures,
            deadlines=self.deadlines,
            third_party_acts=tuple(self.third_party_acts),
            at=at,
        )


_BESIDE = frozenset(BESIDE_TYPES)


def _allowed(draft: _Draft, event_type: str) -> tuple[str, ...]:
    """What a refusal says the negotiation would take: the phase events the machine offers, and, for an event
    beside the phase (its own rules refused it, not the phase), the events beside the phase too."""
    allowed = machine.allowed_events(draft.state, draft)
    return (*allowed, *BESIDE_TYPES) if event_type in _BESIDE else allowed


def _step(draft: _Draft, event_type: str) -> str | None:
    """The phase an event leads to: the machine's table for a phase event; the same phase for one beside it."""
    if event_type in _BESIDE:
        return draft.state
    return machine.UNGUARDED.get((draft.state, event_type)) or machine.follow(draft.state, event_type, draft)


def _judge(draft: _Draft, event_type: str, data: Mapping[str, Any], occurred_at: datetime,
           dest: str | None) -> NegotiationRefusal | None:
    """What is wrong with taking this event now, if anything: the machine's verdict, then the content's."""
    if dest is None:
        return NegotiationRefusal(False, machine.refusal_reason(draft.state, event_type, draft))
    payload = ENTRY_PAYLOADS[event_type]
    invalid = parties_invalid(draft, event_type, data) or payload.invalid(draft, data)
    if invalid:
        return NegotiationRefusal(True, invalid)
    refusal = payload.refusal(draft, data, occurred_at)
    return NegotiationRefusal(False, refusal) if refusal else None


@dataclass(frozen=True, slots=True)
class NegotiationRefusal:
    """Why an event cannot be taken: bad data for this negotiation, or a step it cannot make now."""

    invalid_data: bool
    reason: str | None


def fold(negotiation_id: str, events: Iterable[Entry], start: Negotiation | None = None) -> Negotiation:
    """Replay recorded events onto ``start`` (or a negotiation not yet opened).

    Every event must be the next version and a step the machine allows; a
    history that breaks either is corrupt and is reported, never skipped.
    """
    rows = ((e.version, e.type, e.data, e.occurred_at) for e in events)
    return fold_rows(negotiation_id, rows, start)


def fold_rows(negotiation_id: str, rows: Iterable[tuple[int, str, Mapping[str, Any], Any]],
              start: Negotiation | None = None, at: datetime | None = None) -> Negotiation:
    """``fold`` over plain (version, type, data, occurred_at) tuples, as a log scan yields them (``at``: the
    time the state is asked at, kept on it).

    A stored history is trusted no further than a new event: whatever is
    wrong with it (a gap, a step the machine refuses, a resolved point that
    was not open, data that is not what its type stores) is CorruptHistory.
    """
    draft = _Draft(start or Negotiation(id=negotiation_id))
    for version, event_type, data, occurred_at in rows:
        if version != draft.version + 1:
            raise CorruptHistory(f"negotiation {negotiation_id!r}: expected version {draft.version + 1}, "
                                 f"found {version}")
        try:
            dest = _step(draft, event_type)
            refused = _judge(draft, event_type, data, occurred_at, dest)
            if refused is not None:
                why = f" ({refused.reason})" if refused.reason else ""
                raise CorruptHistory(f"{_where(negotiation_id, version)}: {event_type} cannot follow in state "
                                     f"{draft.state}{why}")
            draft.apply(event_type, data, occurred_at, version)
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise CorruptHistory(f"{_where(negotiation_id, version)}: {event_type} data cannot be replayed "
                                 f"({type(e).__name__}: {e})") from e
        draft.state = dest  # type: ignore[assignment]  # _judge refused a None
    return draft.freeze(at)


def _where(negotiation_id: str, version: int) -> str:
    """An entry as a corrupt history names it (said only then: a rebuild folds millions of entries)."""
    return f"negotiation {negotiation_id!r} version {version}"


class StoryBreak(Exception):
    """The first event of a story the machine cannot take, with the state it met and why."""

    def __init__(self, event: Entry, state: str, refusal: NegotiationRefusal,
                 allowed: tuple[str, ...]) -> None:
        super().__init__(f"version {event.version}: {event.type} cannot follow in state {state}")
        self.event, self.state, self.refusal, self.allowed = event, state, refusal, allowed


def fold_story(negotiation_id: str, story: Iterable[Entry], *, version: int) -> Negotiation:
    """Fold a story (``story.story_of``) through the machine; ``version`` is the log's, which the story is not.

    Raises StoryBreak at the first event the machine or its content rules refuse.
    """
    draft = _Draft(Negotiation(id=negotiation_id))
    for event in story:
        try:
            dest = _step(draft, event.type)
            refused = _judge(draft, event.type, event.data, event.occurred_at, dest)
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            refused = NegotiationRefusal(True, f"its data cannot be read ({type(e).__name__}: {e})")
        if refused is not None:
            raise StoryBreak(event, draft.state, refused, _allowed(draft, event.type))
        draft.apply(event.type, event.data, event.occurred_at, event.version)
        draft.state = dest  # type: ignore[assignment]  # _judge refused a None
    draft.version = version
    return draft.freeze()


def fold_log(negotiation_id: str, entries: Sequence[Entry], as_of: datetime | None = None,
             known_at: datetime | None = None) -> Negotiation:
    """The negotiation a log's story gives at those times; a story that breaks is corrupt history.

    ``entries`` are the negotiation's log in version order. Raises
    UnknownNegotiation when nothing had happened (or been reported) by then.
    """
    known = known_by(entries, known_at)
    story = told_story(known, as_of)
    if not story:
        if known_at is not None and not known:
            raise UnknownNegotiation(negotiation_id, f"nothing about it had been reported by {known_at.isoformat()}")
        when = f" by {as_of.isoformat()}" if as_of is not None else ""
        raise UnknownNegotiation(negotiation_id, f"it had not opened{when}")
    try:
        # Measures and deadlines are answered at the time asked: as of D on D, as known at K alone on K.
        # The version is that of what was told by then: as of D, the latest entry of the story by D.
        version = known[-1].version if as_of is None else max(event.version for event in story)
        return replace(fold_story(negotiation_id, story, version=version), at=as_of or known_at)
    except StoryBreak as broken:
        event, why = broken.event, broken.refusal.reason
        where = (f"negotiation {negotiation_id!r}: the story breaks at version {event.version}, "
                 f"{event.type} of {event.occurred_at.isoformat()}, in state {broken.state}"
                 + (f" ({why})" if why else ""))
        if known_at is not None and len(known) < len(entries):
            # Every accepted log has a legal story now; only the reports can be out of step:
            # an entry reported by then follows one that was reported (or recorded) later.
            raise CorruptHistory(f"as known at {known_at.isoformat()}, the reports do not yet make a legal story: "
                                 f"{where}; an entry reported by then needs one reported later") from None
        raise CorruptHistory(where) from None


def told_story(entries: Sequence[Entry], as_of: datetime | None = None) -> Sequence[Entry]:
    """``story_of(entries, as_of=as_of)``, taking the entries themselves as the story's events where it can.

    A log with no retraction or correction tells its events as they were
    recorded, in world order: then the entries (sorted by date, then version,
    if a late event made them out of order) are the story, and no event need
    be told anew; with them, only the events they change are (``folded_story``).
    """
    if any(entry.type in CORRECTION_TYPES for entry in entries):
        return folded_story(entries, as_of=as_of)
    story: Sequence[Entry] = entries if is_own_story(entries) else sorted(
        entries, key=lambda entry: (entry.occurred_at, entry.version))
    return story if as_of is None else [entry for entry in story if entry.occurred_at <= as_of]


def is_own_story(entries: Sequence[Entry]) -> bool:
    """Whether a log (in version order) is its own story: no retraction or correction, and every event
    dated no earlier than the one before it, so world order is version order."""
    return all(entry.type not in CORRECTION_TYPES for entry in entries) and all(
        earlier.occurred_at <= later.occurred_at for earlier, later in zip(entries, entries[1:]))


def decide(current: Negotiation, events: Iterable[tuple[NewEvent, datetime]]) -> Negotiation:
    """Check new events, each against the state the ones before it leave, and return the result.

    Raises IllegalTransition (or InvalidEvent for data that contradicts the
    negotiation) at the first refused event; ``current`` is never changed.
    """
    draft = _Draft(current)
    for index, (event, occurred_at) in enumerate(events):
        # The machine's table, read once from the shared ``transitions`` machine: putting
        # each event to ``Event.trigger`` costs more than the rest of its checks together,
        # and tests hold the table to the machine on every cell and guard outcome.
        dest = _step(draft, event.type)
        refused = _judge(draft, event.type, event.data, occurred_at, dest)
        if refused is not None:
            if refused.invalid_data:
                raise InvalidEvent(f"{event.type} data: {refused.reason}")
            error = IllegalTransition(draft.id, draft.state, event.type, _allowed(draft, event.type), refused.reason)
            error.index = index
            raise error
        draft.apply(event.type, event.data, occurred_at, draft.version + 1)
        draft.state = dest  # type: ignore[assignment]  # _judge refused a None
    return draft.freeze()


def snapshot(negotiation: Negotiation) -> dict[str, Any]:
    """The negotiation as plain JSON, for the state projection kept beside the log."""
    return {
        "parties": list(negotiation.parties),
        "terms": negotiation.terms,
        "open_disputes": list(negotiation.open_disputes),
        "positions": negotiation.positions,
        "instruments": list(negotiation.instruments),
        "opened_at": iso(negotiation.opened_at),
        "updated_at": iso(negotiation.updated_at),
        "deal_announced_at": iso(negotiation.deal_announced_at),
        "statements": negotiation.statements,
        "deals": list(negotiation.deals),
        "suspensions": list(negotiation.suspensions),
        "meetings": list(negotiation.meetings),
        "measures": {name: measure.as_json() for name, measure in negotiation.measures.items()},
        "deadlines": {what: deadline.as_json() for what, deadline in negotiation.deadlines.items()},
        "third_party_acts": list(negotiation.third_party_acts),
    }


#: The keys a snapshot holds since the third revision of the domain; one without them is older
#: and must be rebuilt from the log (the migration of that revision clears such snapshots).
SNAPSHOT_KEYS = ("statements", "deals", "suspensions", "meetings", "measures", "deadlines", "third_party_acts")


def from_snapshot(negotiation_id: str, state: str, version: int, data: Mapping[str, Any]) -> Negotiation:
    """Read a snapshot written by ``snapshot``."""
    return _negotiation(
        id=negotiation_id,
        state=state,
        version=version,
        parties=tuple(data["parties"]),
        terms=data["terms"],
        open_disputes=tuple(data["open_disputes"]),
        positions=data["positions"],
        instruments=tuple(data["instruments"]),
        opened_at=from_iso(data["opened_at"]),
        updated_at=from_iso(data["updated_at"]),
        deal_announced_at=from_iso(data["deal_announced_at"]),
        statements=data["statements"],
        deals=tuple(data["deals"]),
        suspensions=tuple(data["suspensions"]),
        meetings=tuple(data["meetings"]),
        measures={name: Measure.from_json(m) for name, m in data["measures"].items()},
        deadlines={what: Deadline.from_json(d) for what, d in data["deadlines"].items()},
        third_party_acts=tuple(data["third_party_acts"]),
    )
