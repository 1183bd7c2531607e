"""The questions an analyst asks: what goes on in a negotiation, and what is due or in force across them.

A negotiation's **details** are what goes on beside its phase, in rows: its
measures (with their status at the time asked), what falls due (deadlines,
the days threats would take effect, the days pauses end), its deals,
meetings, each party's view of the terms, suspensions, third-party acts and
the events someone denied. ``details`` asks the ledger; ``details_of`` reads
them off a negotiation and its story.

Questions about **many negotiations** (``all_negotiations``, ``deadlines``,
``measures``) answer for every negotiation they can and name the ones they
cannot, rather than failing as a whole: a negotiation whose story, as known at
the time asked, is not yet legal is listed in ``Answers.unanswered`` with the
reason in one line, and the others are answered. A negotiation with nothing
by the time asked is left out, as ``Ledger.rebuild_all`` leaves it out.

Time-driven answers (a pause that lapsed, a deadline that passed) are for
one moment, ``at``: the end of the day asked ``as_of``, else the time asked
``known_at``, else now; every negotiation of one question is answered at the
same moment. Only public methods of the ledger are used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar

from .domain.aggregate import Negotiation
from .domain.belief import BeliefDiff, two_times
from .domain.measures import IN_FORCE, PAUSED, Measure, passed
from .domain.payloads import describe
from .domain.story import StoryEvent, story_of
from .domain.times import Moment, end_of
from .errors import CorruptHistory, IllegalSourceStory, InvalidEvent, UnknownNegotiation

if TYPE_CHECKING:
    from .ledger import Ledger

T = TypeVar("T")

#: What a row of ``deadlines`` is: a deadline set, the day a threat would take effect, the day a pause ends.
DEADLINE, THREAT, PAUSE = "deadline", "threat", "pause"
PENDING, PASSED = "pending", "passed"


class Unanswered(NamedTuple):
    """A negotiation a question about many could not answer for, and why, in one line."""

    negotiation_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Answers(Generic[T]):
    """The answer of a question about many negotiations: a row per answer, and those it could not answer."""

    rows: tuple[T, ...]
    #: The negotiations that could not be answered, in the order ``Ledger.negotiations()`` gives them.
    unanswered: tuple[Unanswered, ...]
    #: The moment the time-driven answers are for.
    at: datetime

    @property
    def complete(self) -> bool:
        """Whether every negotiation known then was answered."""
        return not self.unanswered


@dataclass(frozen=True, slots=True)
class MeasureRow:
    """A measure as it stands at the time asked.

    ``status`` is what events and time made it then (a pause that ended puts it
    back in force); ``since`` is the day it has held that status, the day after
    the pause ended (or the threat's day passed) when time changed it.
    ``against`` is the party it is aimed at: the party that is not ``by``.
    """

    negotiation_id: str
    name: str
    status: str
    value: str | None
    by: str | None
    against: str | None
    since: date | None
    effective_from: date | None
    paused_until: date | None
    #: A threat to raise or reimpose a measure in force or paused: the value threatened.
    threatened_value: str | None
    #: The day a threat would take effect.
    effective: date | None
    condition: str | None
    lifted_by: str | None
    reason: str | None
    #: The entry (version) that gave the measure its status.
    version: int


@dataclass(frozen=True, slots=True)
class DeadlineRow:
    """Something that falls due: a deadline set, the day a threat would take effect, or a pause's end.

    ``status`` is ``pending`` until the end of the day ``due``, then ``passed``,
    at the time asked. ``version`` is the entry that set this due day.
    """

    negotiation_id: str
    due: date
    status: str
    #: ``deadline``, ``threat`` or ``pause``.
    kind: str
    what: str
    #: The measure a threat or a pause is about; None for a deadline.
    measure: str | None
    by: str | None
    version: int


@dataclass(frozen=True, slots=True)
class Deal:
    """A deal in principle or a finalisation, as the story has them."""

    #: ``in principle`` or ``finalised``.
    kind: str
    on: date
    title: str | None
    instruments: tuple[str, ...]
    according_to: str | None
    version: int


@dataclass(frozen=True, slots=True)
class Meeting:
    """A round, a ministers' meeting, a leaders' call or summit."""

    on: date
    ends_on: date | None
    level: str
    format: str | None
    venue: str | None
    participants: tuple[str, ...]
    summary: str | None
    version: int


@dataclass(frozen=True, slots=True)
class Suspension:
    """The talks broken off, frozen or terminated by a party."""

    on: date
    by: str
    reason: str | None
    terminated: bool
    version: int


@dataclass(frozen=True, slots=True)
class ThirdPartyAct:
    """A court, a legislature, a third country or a firm acting on the negotiation."""

    on: date
    actor: str
    action: str
    of: str | None
    kind: str | None
    version: int


@dataclass(frozen=True, slots=True)
class DeniedEvent:
    """An event of the story that a party or a source denied (it stays in the story)."""

    version: int
    type: str
    occurred_at: datetime
    denied_by: tuple[str, ...]
    #: What the event says happened, in a reader's words.
    summary: str


@dataclass(frozen=True, slots=True)
class Views:
    """Each party's view of the terms: the common terms overlaid with what it states, and where they differ."""

    parties: tuple[str, ...]
    common: dict[str, Any]
    views: dict[str, dict[str, Any]]
    differences: tuple[str, ...]

    @property
    def stated(self) -> bool:
        """Whether a party stated terms of its own (else each view is the common terms)."""
        return any(view != self.common for view in self.views.values())


@dataclass(frozen=True, slots=True)
class Details:
    """What goes on in a negotiation beside its phase, at the time asked."""

    negotiation: Negotiation
    at: datetime
    measures: tuple[MeasureRow, ...]
    deadlines: tuple[DeadlineRow, ...]
    deals: tuple[Deal, ...]
    meetings: tuple[Meeting, ...]
    views: Views
    suspensions: tuple[Suspension, ...]
    third_party_acts: tuple[ThirdPartyAct, ...]
    denied: tuple[DeniedEvent, ...]


# -- the moment asked --------------------------------------------------------------------------------------

def moment_asked(as_of: Moment | None = None, known_at: Moment | None = None) -> datetime:
    """The moment time-driven answers are for, as ``Ledger.get`` takes it: ``as_of``, else ``known_at``, else now.

    A date means the end of that day, UTC. Raises InvalidEvent for a time that cannot be read.
    """
    as_of_moment = None if as_of is None else end_of(as_of, "as_of")
    known_moment = None if known_at is None else end_of(known_at, "known_at")
    return as_of_moment or known_moment or datetime.now(UTC)


# -- one negotiation ---------------------------------------------------------------------------------------

def details(ledger: Ledger, negotiation_id: str, *, as_of: Moment | None = None, known_at: Moment | None = None,
            sources: Iterable[str] | None = None, exclude_sources: Iterable[str] | None = None,
            exclude_denied: bool = False, at_version: int | None = None) -> Details:
    """A negotiation's details at the times asked, as ``Ledger.get`` and ``Ledger.story`` tell it then.

    ``at_version`` N asks instead what the ledger held after entry N of the
    log (``Ledger.replay``), with its measures and deadlines answered now; it
    cannot be combined with the other questions. The denied events are listed
    even with ``exclude_denied`` (which leaves them out of everything else).
    Raises what ``Ledger.get`` raises for the same question.
    """
    if at_version is not None:
        if as_of is not None or known_at is not None or sources is not None or exclude_sources is not None \
                or exclude_denied:
            raise InvalidEvent("at_version reads the log as recorded; as_of, known_at, sources, "
                               "exclude_sources and exclude_denied read the story: use one or the other")
        negotiation = ledger.replay(negotiation_id, until_version=at_version)
        told: Sequence[StoryEvent] = story_of(ledger.history(negotiation_id)[:at_version])
        return details_of(negotiation, told, moment_asked())
    at = moment_asked(as_of, known_at)
    negotiation = ledger.get(negotiation_id, as_of=as_of, known_at=known_at, sources=sources,
                             exclude_sources=exclude_sources, exclude_denied=exclude_denied)
    told = ledger.story(negotiation_id, as_of=as_of, known_at=known_at, sources=sources,
                        exclude_sources=exclude_sources)
    return details_of(negotiation, told, at)


def details_of(negotiation: Negotiation, story: Sequence[StoryEvent], at: datetime) -> Details:
    """The details of a negotiation and its story (the same question's), answered at ``at``."""
    return Details(
        negotiation=negotiation,
        at=at,
        measures=measure_rows(negotiation, at),
        deadlines=deadline_rows(negotiation, at, story),
        deals=tuple(_deal(deal) for deal in negotiation.deals),
        meetings=tuple(_meeting(meeting) for meeting in negotiation.meetings),
        views=views_of(negotiation),
        suspensions=tuple(Suspension(_day(s["on"]), s["by"], s.get("reason"), bool(s.get("terminated")),
                                     s["version"]) for s in negotiation.suspensions),
        third_party_acts=tuple(ThirdPartyAct(_day(a["on"]), a["actor"], a["action"], a.get("of"), a.get("kind"),
                                             a["version"]) for a in negotiation.third_party_acts),
        denied=tuple(DeniedEvent(e.version, e.type, e.occurred_at, e.denied_by, describe(e.type, e.data))
                     for e in story if e.denied_by),
    )


def views_of(negotiation: Negotiation) -> Views:
    """The common terms, each party's view of them, and the names of the terms on which the views differ."""
    return Views(negotiation.parties, dict(negotiation.terms),
                 {party: negotiation.view_of(party) for party in negotiation.parties}, negotiation.differences)


def measure_rows(negotiation: Negotiation, at: datetime) -> tuple[MeasureRow, ...]:
    """Every measure of the negotiation as it stands at ``at``, by name."""
    return tuple(_measure_row(negotiation, measure, at) for _, measure in sorted(negotiation.measures.items()))


def deadline_rows(negotiation: Negotiation, at: datetime, story: Sequence[StoryEvent] | None = None, *,
                  within: timedelta | None = None) -> tuple[DeadlineRow, ...]:
    """What falls due in the negotiation, by due day: its deadlines, the days its threats would take effect
    and the days its pauses end, each pending or passed at ``at``.

    The entry that set a threat's or a pause's day is read from ``story`` (the
    same question's); without it, the entry that gave the measure its status.
    ``within`` keeps what is due from ``at`` up to that much later: pending at
    ``at``, and due no later than the day ``within`` after it.
    """
    last = _last_day(at, within)
    rows = [DeadlineRow(negotiation.id, _day(d.due), d.status_at(at), DEADLINE, d.what, None, d.by, d.version)
            for d in negotiation.deadlines.values()]
    for measure in negotiation.measures.values():
        if measure.effective is not None:
            value = measure.threatened_value or measure.value
            rows.append(DeadlineRow(
                negotiation.id, _day(measure.effective), _due_status(measure.effective, at), THREAT,
                f"{measure.name}{f' of {value}' if value else ''} would take effect", measure.name, measure.by,
                _set_by(story, "MeasureThreatened", measure.name, "effective", measure.effective, measure.version)))
        if measure.paused_until is not None:
            rows.append(DeadlineRow(
                negotiation.id, _day(measure.paused_until), _due_status(measure.paused_until, at), PAUSE,
                f"pause of {measure.name} ends", measure.name, measure.by,
                _set_by(story, "MeasurePaused", measure.name, "until", measure.paused_until, measure.version)))
    return tuple(sorted((row for row in rows if last is None or (row.status == PENDING and row.due <= last)),
                        key=_due_order))


def _last_day(at: datetime, within: timedelta | None) -> date | None:
    if within is None:
        return None
    if not isinstance(within, timedelta) or within < timedelta(0):
        raise InvalidEvent(f"within: expected a span of time that is not negative (a timedelta), got {within!r}")
    return (at + within).date()


# -- many negotiations -------------------------------------------------------------------------------------

def all_negotiations(ledger: Ledger, *, as_of: Moment | None = None,
                     known_at: Moment | None = None) -> Answers[Negotiation]:
    """Every negotiation as ``Ledger.get`` tells it at the times asked, in the order of ``Ledger.negotiations()``.

    Unlike ``Ledger.rebuild_all``, a negotiation whose story as known then is
    not legal does not stop the others: it is named in ``unanswered``.
    """
    at = moment_asked(as_of, known_at)
    return _across(ledger, at, lambda nid: [ledger.get(nid, as_of=as_of, known_at=known_at)])


def deadlines(ledger: Ledger, *, as_of: Moment | None = None, known_at: Moment | None = None,
              within: timedelta | None = None) -> Answers[DeadlineRow]:
    """What falls due across every negotiation (``deadline_rows``), by due day, pending or passed at the time asked.

    ``within`` keeps what is due from the time asked up to that much later:
    pending then, and due no later than the day ``within`` after it.
    """
    at = moment_asked(as_of, known_at)
    _last_day(at, within)  # refused before anything is read

    def ask(negotiation_id: str) -> tuple[DeadlineRow, ...]:
        negotiation = ledger.get(negotiation_id, as_of=as_of, known_at=known_at)
        needs_story = any(m.effective is not None or m.paused_until is not None for m in negotiation.measures.values())
        story = ledger.story(negotiation_id, as_of=as_of, known_at=known_at) if needs_story else None
        return deadline_rows(negotiation, at, story, within=within)

    answers = _across(ledger, at, ask)
    return Answers(tuple(sorted(answers.rows, key=_due_order)), answers.unanswered, at)


def measures(ledger: Ledger, *, as_of: Moment | None = None, known_at: Moment | None = None,
             in_force: bool = False) -> Answers[MeasureRow]:
    """Every measure of every negotiation at the time asked (``in_force``: only those in force then), by
    negotiation in the order of ``Ledger.negotiations()``, then by name."""
    at = moment_asked(as_of, known_at)

    def ask(negotiation_id: str) -> list[MeasureRow]:
        rows = measure_rows(ledger.get(negotiation_id, as_of=as_of, known_at=known_at), at)
        return [row for row in rows if not in_force or row.status == IN_FORCE]

    return _across(ledger, at, ask)


def changes_since(ledger: Ledger, since: Moment, until: Moment | None = None) -> Answers[BeliefDiff]:
    """What changed in what was known of every negotiation between ``since`` and ``until`` (default: now),
    as ``Ledger.diff`` tells it, in the order of ``Ledger.negotiations()``; one with nothing reported by
    ``until`` is left out, and one whose story as known at either time is not legal is named in ``unanswered``."""
    first, second = two_times(since, datetime.now(UTC) if until is None else until)
    return _across(ledger, second, lambda negotiation_id: [ledger.diff(negotiation_id, first, second)])


def _across(ledger: Ledger, at: datetime, ask: Callable[[str], Iterable[T]]) -> Answers[T]:
    """Ask each negotiation in turn; one whose story cannot be told then is named, not fatal."""
    rows: list[T] = []
    unanswered: list[Unanswered] = []
    for negotiation_id in ledger.negotiations():
        try:
            rows.extend(ask(negotiation_id))
        except UnknownNegotiation:
            continue  # nothing about it had happened, or been reported, by then
        except (CorruptHistory, IllegalSourceStory) as e:
            unanswered.append(Unanswered(negotiation_id, " ".join(str(e).split())))
    return Answers(tuple(rows), tuple(unanswered), at)


# -- rows from the aggregate's records -------------------------------------------------------------------------

def _day(text: str | date) -> date:
    return text if isinstance(text, date) else date.fromisoformat(text)


def _maybe_day(text: str | date | None) -> date | None:
    return None if text is None else _day(text)


def _due_status(day: str, at: datetime) -> str:
    return PASSED if passed(day, at) else PENDING


def _due_order(row: DeadlineRow) -> tuple[date, str, str, str]:
    return row.due, row.negotiation_id, row.kind, row.what


def _measure_row(negotiation: Negotiation, measure: Measure, at: datetime) -> MeasureRow:
    status = measure.status_at(at)
    since = _maybe_day(measure.since)
    if status != measure.status:  # time changed it: the day after the pause's or the threat's last day
        ended = measure.paused_until if measure.status == PAUSED else measure.effective
        since = _day(ended) + timedelta(days=1) if ended else since
    return MeasureRow(
        negotiation_id=negotiation.id, name=measure.name, status=status, value=measure.value, by=measure.by,
        against=_other(negotiation.parties, measure.by), since=since,
        effective_from=_maybe_day(measure.effective_from), paused_until=_maybe_day(measure.paused_until),
        threatened_value=measure.threatened_value, effective=_maybe_day(measure.effective),
        condition=measure.condition, lifted_by=measure.lifted_by, reason=measure.reason, version=measure.version)


def _other(parties: Sequence[str], party: str | None) -> str | None:
    if party is None or len(parties) != 2 or party not in parties:
        return None
    return parties[1] if parties[0] == party else parties[0]


def _set_by(story: Sequence[StoryEvent] | None, event_type: str, measure: str, key: str, day: str,
            otherwise: int) -> int:
    """The version of the last event of the story that set this measure's day, else ``otherwise``."""
    for event in reversed(story or ()):
        if event.type == event_type and event.data.get("measure") == measure and str(event.data.get(key)) == day:
            return event.version
    return otherwise


def _deal(deal: Mapping[str, Any]) -> Deal:
    return Deal(deal["kind"], _day(deal["on"]), deal.get("title"), tuple(deal.get("instruments", ())),
                deal.get("according_to"), deal["version"])


def _meeting(meeting: Mapping[str, Any]) -> Meeting:
    return Meeting(_day(meeting["on"]), _maybe_day(meeting.get("ends_on")), meeting["level"], meeting.get("format"),
                   meeting.get("venue"), tuple(meeting.get("participants", ())), meeting.get("summary"),
                   meeting["version"])


__all__ = [
    "DEADLINE", "IN_FORCE", "PASSED", "PAUSE", "PENDING", "THREAT",
    "Answers", "Deal", "DeadlineRow", "Details", "DeniedEvent", "MeasureRow", "Meeting", "Suspension",
    "ThirdPartyAct", "Unanswered", "Views",
    "all_negotiations", "deadline_rows", "deadlines", "details", "details_of", "measure_rows", "measures",
    "moment_asked", "views_of",
]
