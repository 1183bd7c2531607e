"""What a picture of a negotiation shows, worked out from the ledger once: no drawing here.

The story is walked once, event by event, through the same fold the ledger
uses, so each state band, each disputed point, each change of terms and each
measure's status is what the machine says, not a guess from the event types.
Retracted and corrected entries come from the log, limited to what was known
at the time asked. What goes on beside the phase (measures, deadlines,
meetings) is worked out in ``beside``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from ..domain.aggregate import Negotiation
from ..domain.entries import RecordedEvent
from ..domain.measures import MEASURE_EVENTS
from ..domain.payloads import CORRECTION_TYPES
from ..domain.replay import story_steps
from ..domain.story import StoryEvent, retractions_and_corrections
from ..domain.times import Moment, end_of, spoken_day
from ..ledger import Ledger
from .beside import (
    DeadlineMark,
    MeasureChange,
    MeasureSpan,
    MeetingMark,
    day_after,
    deadline_marks,
    measure_spans,
    meeting_marks,
)

#: Events drawn as milestones: the moments a reader looks for first.
MILESTONES = ("VisitCancelled", "AgreementFinalised")
#: A report counts as late news when it came at least this long after the event.
LATE = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Step:
    """One event of the story with the state it left the negotiation in."""

    event: StoryEvent
    before: str
    after: str

    @property
    def lag(self) -> timedelta:
        """How long after the event it was reported (never negative)."""
        return max(self.event.reported_at - self.event.occurred_at, timedelta(0))

    @property
    def late(self) -> bool:
        return self.lag >= LATE


@dataclass(frozen=True, slots=True)
class Band:
    """A state held from ``start`` to ``end`` (the end of the picture when ``current``)."""

    state: str
    start: datetime
    end: datetime
    current: bool
    #: The event that entered the state (a ``TalksSuspended`` says who broke the talks off).
    entered_by: StoryEvent | None = None


@dataclass(frozen=True, slots=True)
class Dispute:
    """A disputed point from the event that opened it to the one that resolved it (None: still open)."""

    point: str
    start: datetime
    end: datetime | None
    positions: dict[str, str]
    resolution: str | None


@dataclass(frozen=True, slots=True)
class Ghost:
    """An entry of the log the story no longer tells as recorded: retracted, or corrected."""

    entry: RecordedEvent
    fate: str  # "retracted" or "corrected"
    #: The retraction or corrections, as known at the time asked, oldest first.
    by: tuple[RecordedEvent, ...]
    #: What the story tells instead: the corrected event (None when retracted or outside the picture).
    replacement: StoryEvent | None


@dataclass(frozen=True, slots=True)
class TermChange:
    """A term set or changed by an event of the story: a common term, or one party's statement of it."""

    term: str
    before: Any
    after: Any
    at: datetime
    event_type: str
    #: The party whose statement it is; None for a common term.
    according_to: str | None = None


@dataclass(frozen=True, slots=True)
class Picture:
    """Everything a timeline or a report page shows of one negotiation, at the times asked."""

    negotiation: Negotiation
    steps: tuple[Step, ...]
    bands: tuple[Band, ...]
    disputes: tuple[Dispute, ...]
    ghosts: tuple[Ghost, ...]
    corrections: tuple[RecordedEvent, ...]
    term_changes: tuple[TermChange, ...]
    as_of: datetime | None
    known_at: datetime | None
    start: datetime
    end: datetime
    #: The moment the time-driven answers are for: ``as_of``, else ``known_at``, else when it was drawn.
    moment: datetime
    #: Each measure as each event of the story left it, in story order (the spans are made of these).
    measure_changes: tuple[MeasureChange, ...] = ()
    measures: tuple[MeasureSpan, ...] = ()
    deadlines: tuple[DeadlineMark, ...] = ()
    meetings: tuple[MeetingMark, ...] = ()
    #: The title its event file gave it, if any.
    named: str | None = None

    @property
    def id(self) -> str:
        return self.negotiation.id

    @property
    def title(self) -> str:
        """The negotiation (its title, when it has one), and its parties, in one line."""
        parties = " – ".join(self.negotiation.parties)
        called = f"{self.named} · {self.id}" if self.named else self.id
        return called + (f" ({parties})" if parties else "")

    @property
    def when(self) -> str:
        """The times asked in words; empty for now."""
        said = [f"as of {day(self.as_of)}" if self.as_of else "", f"as known at {day(self.known_at)}"
                if self.known_at else ""]
        return ", ".join(filter(None, said))


def day(moment: datetime | None) -> str:
    """A moment as a reader says it: ``22 Jul 2025``, with the time of day (UTC) when it has one.

    The end of a day (a date asked ``as of``) reads as that day.
    """
    return "—" if moment is None else spoken_day(moment)




def picture(ledger: Ledger, negotiation_id: str, *, as_of: Moment | None = None,
            known_at: Moment | None = None) -> Picture:
    """Walk the negotiation's story at the times asked and say what a picture of it shows.

    Raises what ``Ledger.get`` raises for the same question: UnknownNegotiation
    for an id with no events or a time before it opened, CorruptHistory for a
    story that breaks as known then.
    """
    negotiation = ledger.get(negotiation_id, as_of=as_of, known_at=known_at)
    story = ledger.story(negotiation_id, as_of=as_of, known_at=known_at)
    as_of_moment = None if as_of is None else end_of(as_of, "as_of")
    known_moment = None if known_at is None else end_of(known_at, "known_at")
    moment = negotiation.moment
    steps, changes, measured = _walk(negotiation.id, story)
    known = [e for e in ledger.history(negotiation.id) if known_moment is None or e.reported_at <= known_moment]
    corrections = tuple(e for e in known if e.type in CORRECTION_TYPES)
    ghosts = _ghosts(known, story, as_of_moment)
    deadlines = deadline_marks(story, moment)
    meetings = meeting_marks(story)
    start, end = _extent(steps, ghosts, as_of_moment, _beside_days(measured, deadlines, meetings))
    return Picture(negotiation, steps, _bands(steps, end), _disputes(steps), ghosts, corrections, changes,
                   as_of_moment, known_moment, start, end, moment, measured, measure_spans(measured, end, moment),
                   deadlines, meetings, ledger.titles().get(negotiation.id))


def _walk(negotiation_id: str, story: list[StoryEvent]
          ) -> tuple[tuple[Step, ...], tuple[TermChange, ...], tuple[MeasureChange, ...]]:
    """Fold the story once, keeping the state, the terms and the measures each event leaves."""
    steps: list[Step] = []
    changes: list[TermChange] = []
    measured: list[MeasureChange] = []
    for event, state, after in story_steps(negotiation_id, story):
        steps.append(Step(event, state.state, after.state))
        changes += _term_changes(state.terms, after.terms, event)
        for party, stated in after.statements.items():
            changes += _term_changes(state.statements.get(party, {}), stated, event, party)
        if event.type in MEASURE_EVENTS:
            measured.append(MeasureChange(event, after.measures[event.data["measure"]]))
    return tuple(steps), tuple(changes), tuple(measured)


def _term_changes(before: dict[str, Any], after: dict[str, Any], event: StoryEvent,
                  according_to: str | None = None) -> list[TermChange]:
    return [TermChange(term, before.get(term), value, event.occurred_at, event.type, according_to)
            for term, value in after.items() if before.get(term, _UNSET) != value]


_UNSET = object()


def _bands(steps: tuple[Step, ...], end: datetime) -> tuple[Band, ...]:
    """The states held, each from the event that entered it to the one that left it."""
    bands: list[Band] = []
    for step in steps:
        if step.after != step.before:
            if bands:
                bands[-1] = replace(bands[-1], end=step.event.occurred_at, current=False)
            bands.append(Band(step.after, step.event.occurred_at, end, True, step.event))
    return tuple(bands)


def _disputes(steps: tuple[Step, ...]) -> tuple[Dispute, ...]:
    """Each disputed point from the dispute to its resolution (restatements update its positions)."""
    open_points: dict[str, Dispute] = {}
    done: list[Dispute] = []
    for step in steps:
        event = step.event
        point = event.data.get("point")
        if event.type == "TermsDisputed" and isinstance(point, str):
            earlier = open_points.get(point)
            positions = {**(earlier.positions if earlier else {}), **event.data.get("positions", {})}
            open_points[point] = Dispute(point, earlier.start if earlier else event.occurred_at, None,
                                         positions, None)
        elif event.type == "DisputeResolved" and isinstance(point, str) and point in open_points:
            done.append(replace(open_points.pop(point), end=event.occurred_at,
                                resolution=event.data.get("resolution")))
    return tuple(sorted([*done, *open_points.values()], key=lambda d: d.start))


def _ghosts(known: list[RecordedEvent], story: list[StoryEvent], as_of: datetime | None) -> tuple[Ghost, ...]:
    """Every event retracted or corrected by an entry known then, with what replaced it."""
    retracted, corrected = retractions_and_corrections(known)
    by_version = {e.version: e for e in known}
    told = {e.event_id: e for e in story}
    ghosts = []
    for entry in known:
        if entry.event_id in retracted:
            ghost = Ghost(entry, "retracted", (by_version[retracted[entry.event_id]],), None)
        elif entry.event_id in corrected:
            ghost = Ghost(entry, "corrected", tuple(by_version[v] for v in corrected[entry.event_id]),
                          told.get(entry.event_id))
        else:
            continue
        if as_of is None or entry.occurred_at <= as_of or ghost.replacement is not None:
            ghosts.append(ghost)
    return tuple(ghosts)


def _beside_days(measured: tuple[MeasureChange, ...], deadlines: tuple[DeadlineMark, ...],
                 meetings: tuple[MeetingMark, ...]) -> list[datetime]:
    """The days beside the events a picture must reach: deadlines due, pauses and threats running out,
    the last days of meetings."""
    days = [d.due_at for d in deadlines]
    days += [day_after(day) for c in measured for day in (c.measure.paused_until, c.measure.effective) if day]
    return days + [m.ends_at for m in meetings]


def _extent(steps: tuple[Step, ...], ghosts: tuple[Ghost, ...], as_of: datetime | None,
            beside: list[datetime]) -> tuple[datetime, datetime]:
    """The world time the picture spans: its events, ghosts and the days beside them that matter (a
    deadline), with a margin; up to ``as_of``.

    Not when they were reported: a retraction recorded today does not stretch the story's months to
    today (the timeline marks a report after its last day at its right edge)."""
    moments = [s.event.occurred_at for s in steps]
    moments += [g.entry.occurred_at for g in ghosts]
    moments += [m for m in beside if as_of is None or m <= as_of]
    if as_of is not None:
        moments.append(as_of)
    first, last = min(moments), max(moments)
    span = last - first
    return (first - max(span * 0.02, timedelta(days=1)),
            last if last == as_of else last + max(span * 0.1, timedelta(days=3)))
