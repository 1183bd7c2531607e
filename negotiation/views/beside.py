"""What goes on beside the phase, as a picture shows it: measures by status over time, deadlines, meetings.

Plain data worked out from the story, no drawing here. A measure's status
changes with its events and with time: a pause lapses when its ``until`` day
ends, a threat when its ``effective`` day ends unacted (``Measure.status_at``).
So each measure is cut into spans at its events and at the days time changed
it, even when no event falls on that day.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta

from ..domain.measures import IN_FORCE, LAPSED, PAUSED, THREATENED, Deadline, Measure
from ..domain.story import StoryEvent
from ..domain.times import spoken_day

#: The statuses of a measure a picture draws, in the order a legend reads them.
MEASURE_STATUSES: tuple[str, ...] = (THREATENED, LAPSED, IN_FORCE, PAUSED, "lifted")
#: The levels of a meeting, lowest first.
MEETING_LEVELS: tuple[str, ...] = ("working", "ministerial", "leaders")
#: What a deadline is on the picture: still to come, passed, or moved by a later ``DeadlineSet``.
PENDING, PASSED, MOVED = "pending", "passed", "moved"


def day_start(day: str) -> datetime:
    """Midnight UTC starting the day ``day`` (ISO text)."""
    return datetime.combine(date.fromisoformat(day), time(0), tzinfo=UTC)


def day_after(day: str) -> datetime:
    """Midnight UTC after the day ``day`` (ISO text): the first moment that day has passed."""
    return day_start(day) + timedelta(days=1)


@dataclass(frozen=True, slots=True)
class MeasureChange:
    """A measure as an event of the story left it."""

    event: StoryEvent
    measure: Measure


@dataclass(frozen=True, slots=True)
class MeasureSpan:
    """A measure held in one status (and value) from ``start`` to ``end`` (the end of the picture when ``current``)."""

    measure: str
    status: str
    start: datetime
    end: datetime
    current: bool
    by: str | None
    value: str | None
    #: What put it in this status, oldest first: events ("MeasurePaused on 9 Apr 2025") or time
    #: ("the pause ended 9 Jul 2025").
    causes: tuple[str, ...]
    #: The last day of a pause, or the day a threat would take effect.
    until: str | None = None
    effective_from: str | None = None
    lifted_by: str | None = None
    condition: str | None = None
    #: A value threatened while it was in force or paused (a threat to raise or reimpose it).
    threatened_value: str | None = None
    #: Who denied an event that put it here.
    denied_by: tuple[str, ...] = ()


def _why_time(before: Measure, status: str) -> str:
    if status == IN_FORCE and before.scheduled:
        return f"it took effect {spoken_day(day_start(before.effective_from or ''))}, as imposed ahead"
    if status == IN_FORCE:
        return f"the pause ended {spoken_day(day_start(before.paused_until or ''))}"
    return f"its effective day {spoken_day(day_start(before.effective or ''))} passed with nothing done"


def _span(change: MeasureChange, status: str, start: datetime, end: datetime, cause: str) -> MeasureSpan:
    m = change.measure
    until = m.paused_until if status == PAUSED else m.effective if status in (THREATENED, LAPSED) else None
    return MeasureSpan(m.name, status, start, end, False, m.by, m.value, (cause,), until, m.effective_from,
                       m.lifted_by, m.condition, m.threatened_value if status in (IN_FORCE, PAUSED) else None,
                       change.event.denied_by)


def _pieces(change: MeasureChange, start: datetime, stop: datetime, moment: datetime) -> list[MeasureSpan]:
    """What one event left the measure as, from the event to the next one, cut where time changed it.

    Time is only let change it up to ``moment`` (the time asked): after that it
    is what the events left it as, not a guess of what will come.
    """
    m = change.measure
    event = change.event
    status = m.status_at(start)
    pieces = [_span(change, status, start, stop, f"{event.type} on {spoken_day(event.occurred_at)}")]
    turns = sorted({day_after(d) for d in (m.paused_until, m.effective) if d is not None}
                   | ({day_start(m.effective_from)} if m.scheduled and m.effective_from else set()))
    for turn in turns:
        if start < turn < stop and turn <= moment and m.status_at(turn) != status:
            status = m.status_at(turn)
            pieces[-1] = replace(pieces[-1], end=turn)
            pieces.append(replace(_span(change, status, turn, stop, _why_time(m, status)), denied_by=()))
    return pieces


def measure_spans(changes: Sequence[MeasureChange], end: datetime, moment: datetime) -> tuple[MeasureSpan, ...]:
    """Each measure's spans, measure by measure in the order the story first names them, each in time order.

    ``changes`` are in story order; ``end`` is where the last span of each
    measure stops (the end of the picture); ``moment`` the time asked, up to
    which time may change a status. A span an event cut to nothing (two
    events of one measure on the same moment) is left out; a span with the
    same status and value as the one before it (a pause extended, a threat
    restated) continues it.
    """
    names = list(dict.fromkeys(c.measure.name for c in changes))
    spans: list[MeasureSpan] = []
    for name in names:
        own = [c for c in changes if c.measure.name == name]
        run: list[MeasureSpan] = []
        for i, change in enumerate(own):
            stop = own[i + 1].event.occurred_at if i + 1 < len(own) else max(end, change.event.occurred_at)
            for piece in _pieces(change, change.event.occurred_at, stop, moment):
                if piece.end <= piece.start and i + 1 < len(own):
                    continue
                last = run[-1] if run else None
                if last is not None and (last.status, last.value, last.by) == (piece.status, piece.value, piece.by):
                    run[-1] = replace(piece, start=last.start, causes=(*last.causes, *piece.causes),
                                      denied_by=(*last.denied_by, *piece.denied_by))
                else:
                    run.append(piece)
        if run:
            run[-1] = replace(run[-1], current=True)
        spans += run
    return tuple(spans)


def in_force_since(spans: Sequence[MeasureSpan], measure: str, at: datetime) -> datetime | None:
    """When the measure's run in force that holds at ``at`` began (None when it is not in force then).

    A run goes on across changes of value and across a pause that lapsed
    before it was in force again, as long as each span starts where the one
    before it ended.
    """
    own = [s for s in spans if s.measure == measure and s.start <= at]
    if not own or own[-1].status != IN_FORCE or (not own[-1].current and own[-1].end <= at):
        return None
    since = own[-1].start
    for earlier, later in zip(reversed(own[:-1]), reversed(own[1:])):
        if earlier.status != IN_FORCE or earlier.end != later.start:
            break
        since = earlier.start
    return since


@dataclass(frozen=True, slots=True)
class DeadlineMark:
    """A deadline on the day it was due, as a ``DeadlineSet`` of the story set it."""

    what: str
    due: str
    by: str | None
    set_at: datetime
    #: ``pending`` or ``passed`` at the time asked; ``moved`` when a later ``DeadlineSet`` moved it first.
    status: str
    #: The day a later ``DeadlineSet`` moved it to.
    moved_to: str | None
    version: int
    denied_by: tuple[str, ...] = ()

    @property
    def due_at(self) -> datetime:
        return day_start(self.due)


def deadline_marks(story: Iterable[StoryEvent], moment: datetime) -> tuple[DeadlineMark, ...]:
    """Every deadline set in the story, in the order set: the latest of each ``what`` pending or passed at
    ``moment``, the earlier ones moved (or passed, when their day ended before the move)."""
    marks: list[DeadlineMark] = []
    latest: dict[str, int] = {}
    for event in story:
        if event.type != "DeadlineSet":
            continue
        what, due = event.data["what"], str(event.data["due"])
        if what in latest:
            earlier = marks[latest[what]]
            gone = PASSED if Deadline(what, earlier.due).status_at(event.occurred_at) == PASSED else MOVED
            marks[latest[what]] = replace(earlier, status=gone, moved_to=due)
        latest[what] = len(marks)
        marks.append(DeadlineMark(what, due, event.data.get("by"), event.occurred_at,
                                  Deadline(what, due).status_at(moment), None, event.version, event.denied_by))
    return tuple(marks)


@dataclass(frozen=True, slots=True)
class MeetingMark:
    """A meeting held: a round, a ministers' meeting, a leaders' call or summit."""

    at: datetime
    level: str
    format: str | None
    venue: str | None
    participants: tuple[str, ...]
    #: The last day of a meeting that ran over several days.
    ends_on: str | None
    summary: str | None
    version: int
    denied_by: tuple[str, ...] = ()

    @property
    def ends_at(self) -> datetime:
        """Where the meeting's mark ends: the end of its last day, or the moment it was held."""
        return max(self.at, day_after(self.ends_on)) if self.ends_on else self.at


def meeting_marks(story: Iterable[StoryEvent]) -> tuple[MeetingMark, ...]:
    """Every meeting of the story, in world order."""
    return tuple(MeetingMark(e.occurred_at, e.data["level"], e.data.get("format"), e.data.get("venue"),
                             tuple(e.data.get("participants", ())),
                             None if e.data.get("ends_on") is None else str(e.data["ends_on"]),
                             e.data.get("summary"), e.version, e.denied_by)
                 for e in story if e.type == "MeetingHeld")
