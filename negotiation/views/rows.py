"""A picture's rows as the chart's data: plain dicts, one per mark, with the words a reader sees.

Times are milliseconds since the epoch (how Vega reads a temporal value, in
UTC whatever the reader's time zone); every label and tooltip is written here,
in the reader's words, so the chart only places them.

Where each label goes is worked out here too (``lettering``): beside its
row's marks, on whichever side it fits, in lines over an empty row below
when it fits on neither, never past either edge of the picture and never
over another label. A report that came after the picture's last day is not
drawn where it fell (that would stretch world time to the day it was
recorded): its tick stands at the right edge, marked as later.

A wide chart names its rows on the axis on the left and writes each event's
label beside it; a narrow one (a phone) writes each row's name over it, in
larger type, and leaves the rest to the tooltips and the story table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..domain.sources import outlets
from ..specbook.diagram import STATE_COLOURS
from . import lettering
from .beside import MOVED, PASSED, PENDING, DeadlineMark, MeasureSpan, MeetingMark, day_start
from .model import MILESTONES, Ghost, Picture, Step, day
from .words import change_of_state, days_later, describe, state, status

LATE_INK = "#d9480f"
GHOST_INK = "#6b7280"
TEXT_INK = "#1f2933"
#: The top row, where the states are named.
STATE_ROW = "00000|state"
#: U+2028 and U+2029, the line and paragraph separators, each as a space.
_SEPARATORS_AS_SPACES = str.maketrans("\u2028\u2029", "  ")
#: The row of the meetings, under the measures and deadlines.
MEETINGS = "meetings"
#: Each status of a measure as (fill, stroke): pressure in warm colours, relief in cool ones.
MEASURE_COLOURS: dict[str, tuple[str, str]] = {
    "threatened": ("#fff3d6", "#d39b1c"),
    "threat_lapsed": ("#f3f4f6", "#9ca3af"),
    "in_force": ("#f6b8ae", "#b5392e"),
    "paused": ("#dbeafe", "#3b82f6"),
    "lifted": ("#ffffff", "#94a3b8"),
}
#: A deadline's marker colour: pending ones are filled, passed and moved ones hollow.
DEADLINE_INK = {PENDING: "#b42318", PASSED: "#6b7280", MOVED: "#9ca3af"}
#: Each level of a meeting as (shape, size, colour): the higher the level, the bigger and darker.
MEETING_STYLE: dict[str, tuple[str, int, str]] = {
    "working": ("circle", 60, "#60a5fa"),
    "ministerial": ("square", 100, "#2563eb"),
    "leaders": ("triangle-up", 180, "#1e3a8a"),
}

Row = dict[str, Any]


@dataclass(frozen=True)
class Style:
    """The sizes a chart is drawn in: type in pixels, the height of a row, and where rows are named."""

    label: float
    band: float
    measure: float
    row: int
    #: Rows named over their marks (a phone), not on an axis beside them.
    narrow: bool = False
    #: From a mark to its label, in pixels.
    gap: float = 10.0


WIDE = Style(label=11, band=11, measure=10, row=22)
NARROW = Style(label=13, band=12, measure=11, row=20, narrow=True)


def ms(moment: datetime) -> int:
    """A moment as Vega reads a temporal value: milliseconds since the epoch."""
    return round(moment.timestamp() * 1000)


def ink(state_name: str) -> str:
    """The state's stroke colour in the spec book's diagram."""
    return STATE_COLOURS[state_name][1]


@dataclass
class Rows:
    """The chart's rows, top to bottom, and the data of each layer."""

    view: Picture
    width: float
    style: Style = WIDE
    order: list[str] = field(default_factory=lambda: [STATE_ROW])
    bands: list[Row] = field(default_factory=list)
    names: list[Row] = field(default_factory=list)
    disputes: list[Row] = field(default_factory=list)
    measures: list[Row] = field(default_factory=list)
    #: The status and value written inside a measure's span, where it fits.
    measure_names: list[Row] = field(default_factory=list)
    #: The days a measure took effect from, where that is not the day it was imposed.
    effective: list[Row] = field(default_factory=list)
    deadlines: list[Row] = field(default_factory=list)
    meetings: list[Row] = field(default_factory=list)
    events: list[Row] = field(default_factory=list)
    ghosts: list[Row] = field(default_factory=list)
    #: The labels of event rows, retracted entries and deadlines, each placed where it fits.
    labels: list[Row] = field(default_factory=list)
    #: On a narrow chart, the name written over each row, a line a row.
    row_names: list[Row] = field(default_factory=list)
    #: Reports that came after the picture's last day: a mark at its right edge.
    later: list[Row] = field(default_factory=list)
    #: The times asked (``as of``, ``known at``) where they fall inside the picture, with their labels.
    asked: list[Row] = field(default_factory=list)
    lanes: dict[str, lettering.Lane] = field(default_factory=dict)

    def add(self, name: str, said: str | None = None) -> str:
        """A new row at the bottom, named ``name``: its key (a number keeps the order, the axis shows the name).

        On a narrow chart the name (and ``said``, what its label says) is written over the row, in as
        many lines as it takes.
        """
        if self.style.narrow:
            words = f"{name} · {said}" if said else name
            for line in lettering.wrap(words, self.width, self.style.label).split("\n"):
                key = self._key(name)
                self.row_names.append({"row": key, "x": ms(self.view.start), "said": line})
        return self._key(name)

    def spacer(self) -> str:
        """An empty row, for the lines of the label of the row above it."""
        return self._key("")

    def _key(self, name: str) -> str:
        # Vega-Lite writes the rows' order into an expression, and Vega's parser reads a line or paragraph
        # separator inside it as the end of a line, which fails the whole chart: a row's name shows them as
        # spaces.
        key = f"{len(self.order):05d}|{name.translate(_SEPARATORS_AS_SPACES)}"
        self.order.append(key)
        return key

    def px(self, moment: datetime) -> float:
        """Where a moment is, in pixels from the left edge, kept inside the picture."""
        span = (ms(self.view.end) - ms(self.view.start)) or 1
        return min(max((ms(moment) - ms(self.view.start)) / span * self.width, 0.0), self.width)

    def inside(self, moment: datetime) -> datetime:
        """The moment, or the edge of the picture it falls beyond."""
        return min(max(moment, self.view.start), self.view.end)

    def lane(self, key: str) -> lettering.Lane:
        return self.lanes.setdefault(key, lettering.Lane(self.width))

    def place(self, row: Row, first: datetime, last: datetime, label: str, bold: bool = False) -> None:
        """Put ``row``'s label beside its marks (``first`` to ``last``): after them if it fits, else before
        them, else in lines on the roomier side, over empty rows added under it. Nowhere past an edge."""
        key, size, gap = row["row"], self.style.label, self.style.gap
        start, end = self.px(self.inside(first)), self.px(self.inside(last))
        lane = self.lane(key)
        text = label
        wide = lettering.width(text, size, bold)
        if lane.free(end + gap, end + gap + wide):
            left = False
        elif lane.free(start - gap - wide, start - gap):
            left = True
        else:
            left = start - gap > self.width - end - gap
            room = (start - gap if left else self.width - end - gap) - lane.gap
            text = lettering.wrap(label, room, size, bold)
            wide = lettering.width(text, size, bold)
            spare = lettering.lines(text) * size * lettering.LINE - self.style.row
            while spare > 0:  # the lines below the first run over empty rows, so they meet no other text
                self.spacer()
                spare -= self.style.row
        lane.take(start - gap - wide if left else end + gap, start - gap if left else end + gap + wide)
        row.update({"lx": ms(self.inside(first) if left else self.inside(last)), "left": left, "label": text,
                    "lines": lettering.lines(text), "bold": bold})
        self.labels.append(row)


def against(view: Picture, by: str | None) -> str:
    """The party a measure by ``by`` is against: the other party of the negotiation."""
    others = [p for p in view.negotiation.parties if p != by]
    return others[0] if by in view.negotiation.parties and len(others) == 1 else "—"


def rows_of(view: Picture, width: float, style: Style = WIDE) -> Rows:
    """Everything the timeline draws of ``view`` at ``width`` pixels of world time."""
    rows = Rows(view, width, style)
    _asked(rows)
    _bands(rows)
    _measures(rows)
    _deadlines(rows)
    if view.meetings:
        key = rows.add(MEETINGS)
        rows.meetings += [_meeting(m, key) for m in view.meetings]
    for d in view.disputes:
        key = rows.add(f"disputed: {d.point}")
        positions = "; ".join(f"{party}: {stance}" for party, stance in d.positions.items())
        rows.disputes.append({"row": key, "x": ms(d.start), "x2": ms(d.end or view.end), "point": d.point,
                              "from": day(d.start), "to": day(d.end) if d.end else "still open",
                              "positions": positions or "—", "resolution": d.resolution or "—",
                              "about": f"point {d.point} disputed from {day(d.start)} to "
                                       + (day(d.end) if d.end else "now, still open")})
    ghosts = {g.entry.event_id: g for g in view.ghosts}
    lines: list[tuple[datetime, int, Step | Ghost]] = [(s.event.occurred_at, s.event.version, s) for s in view.steps]
    lines += [(g.entry.occurred_at, g.entry.version, g) for g in view.ghosts if g.fate == "retracted"]
    placed: dict[int, str] = {}
    for _, version, line in sorted(lines, key=lambda line: line[:2]):
        if isinstance(line, Step):
            row, said = _event(rows, line, ghosts.get(line.event.event_id))
            name = line.event.type
        else:
            row, said = _retracted(rows, line)
            name = f"{line.entry.type} (retracted)"
        row["row"] = placed[version] = rows.add(name, said)
        (rows.events if row["kind"] == "event" else rows.ghosts).append(row)
        first, last, label = row.pop("first"), row.pop("last"), row.pop("said")
        if row["later"]:  # the mark at the right edge stands for the report: the label keeps clear of it
            rows.lane(row["row"]).take(rows.width - 14, rows.width)
        if not style.narrow:
            rows.place(row, first, last, label, bold=row["milestone"])
        _later(rows, row)
    rows.ghosts += [_corrected(rows, g, placed[g.entry.version]) for g in view.ghosts
                    if g.fate == "corrected" and g.entry.version in placed]
    return rows


def _asked(rows: Rows) -> None:
    """The rules of the times asked and their labels, in the top row: one label when both are the same day,
    each beside its rule where it fits, a row above when the two would meet."""
    view = rows.view
    asked = [(name, moment) for name, moment in (("as of", view.as_of), ("known at", view.known_at))
             if moment is not None and view.start <= moment <= view.end]
    if len(asked) == 2 and day(asked[0][1]) == day(asked[1][1]):
        asked = [("as of and known at", asked[0][1])]
    size, gap = rows.style.label, 5.0
    for name, moment in asked:
        label = f"{name} {day(moment)}"
        wide, at = lettering.width(label, size, bold=True), rows.px(moment)
        for key in [STATE_ROW, *(k for k in rows.lanes if k.endswith("|") and k < STATE_ROW)]:
            lane = rows.lane(key)
            if lane.free(at - gap - wide, at - gap) or lane.free(at + gap, at + gap + wide):
                break
        else:
            key = f"{-len(rows.asked):05d}|"  # a row of its own, above the others
            rows.order.insert(0, key)
            lane = rows.lane(key)
        left = lane.free(at - gap - wide, at - gap)
        lane.take(at - gap - wide if left else at + gap, at - gap if left else at + gap + wide)
        rows.asked.append({"x": ms(moment), "row": key, "label": label, "left": left})


def _bands(rows: Rows) -> None:
    """The states held, and the name of each written in the top row where it fits inside its band."""
    view, size = rows.view, rows.style.band
    lane = rows.lane(STATE_ROW)
    for band in view.bands:
        said = state(band.state)
        rows.bands.append({"x": ms(band.start), "x2": ms(band.end), "state": band.state, "said": said,
                           "from": day(band.start), "to": "" if band.current else day(band.end),
                           "why": _entered(band.entered_by),
                           "about": f"state: {said}, from {day(band.start)}"
                                    + ("" if band.current else f" to {day(band.end)}")})
        left, right = rows.px(band.start), rows.px(band.end)
        wide = lettering.width(said, size, bold=True)
        middle = (left + right) / 2
        for start in (middle - wide / 2, left + 4, right - 4 - wide):  # centred, else to one side
            if left + 3 <= start and start + wide <= right - 3 and lane.free(start, start + wide):
                lane.take(start, start + wide)
                at = (start + wide / 2) / rows.width * (ms(view.end) - ms(view.start)) + ms(view.start)
                rows.names.append({"row": STATE_ROW, "x": at, "state": band.state, "said": said,
                                   "ink": ink(band.state)})
                break


def _entered(event: Any) -> str:
    """What entered a state, for its band's tooltip: who broke the talks off, or the event."""
    if event is None:
        return "—"
    if event.type == "TalksSuspended":
        verb = "terminated" if event.data.get("terminated") else "suspended"
        why = f": {event.data['reason']}" if event.data.get("reason") else ""
        return f"talks {verb} by {event.data['by']}{why}"
    return f"{event.type}: {describe(event.type, event.data)}"


def _measures(rows: Rows) -> None:
    """One row per measure, its spans by status; the status and value written inside a span wide enough."""
    view = rows.view
    keys: dict[str, str] = {}
    for s in view.measures:
        if s.measure not in keys:
            keys[s.measure] = rows.add(f"measure: {s.measure}")
        key = keys[s.measure]
        rows.measures.append(_measure(view, s, key))
        said = status(s.status) + (f" {s.value}" if s.value and s.status != "lifted" else "")
        left, right = rows.px(s.start), rows.px(s.end)
        wide = lettering.width(said, rows.style.measure, bold=True)
        if wide + 8 <= right - left:
            rows.lane(key).take((left + right - wide) / 2, (left + right + wide) / 2)
            rows.measure_names.append({"row": key, "x": (ms(s.start) + ms(s.end)) / 2, "said": said,
                                       "ink": MEASURE_COLOURS[s.status][1]})
        if s.status == "in_force" and s.effective_from and s.effective_from != s.start.date().isoformat() \
                and s.causes[0].startswith("MeasureImposed"):
            rows.effective.append({"row": key, "x": ms(day_start(s.effective_from)), "measure": s.measure,
                                   "effective": day(day_start(s.effective_from)),
                                   "about": f"{s.measure} effective from {day(day_start(s.effective_from))}"})


def _measure(view: Picture, s: MeasureSpan, key: str) -> Row:
    notes = []
    if s.until and s.status == "paused":
        notes.append(f"paused until {s.until}")
    if s.until and s.status in ("threatened", "threat_lapsed"):
        notes.append(f"to take effect {s.until}")
    if s.threatened_value:
        notes.append(f"threatened: {s.threatened_value}")
    if s.effective_from and s.status == "in_force":
        notes.append(f"effective from {s.effective_from}")
    if s.lifted_by and s.status == "lifted":
        notes.append(f"lifted by {s.lifted_by}")
    if s.condition and s.status == "threatened":
        notes.append(f"unless: {s.condition}")
    if s.denied_by:
        notes.append(f"denied by {', '.join(s.denied_by)}")
    fill, stroke = MEASURE_COLOURS[s.status]
    return {"row": key, "x": ms(s.start), "x2": ms(s.end), "status": s.status, "said": status(s.status),
            "measure": s.measure, "by": s.by or "—", "against": against(view, s.by), "value": s.value or "—",
            "from": day(s.start), "to": "" if s.current else day(s.end), "why": "; ".join(s.causes),
            "notes": "; ".join(notes) or "—", "fill": fill, "stroke": stroke,
            "about": f"measure {s.measure} {status(s.status)} from {day(s.start)}"
                     + ("" if s.current else f" to {day(s.end)}")}


def _deadlines(rows: Rows) -> None:
    """One row per deadline: a marker on each day it was due, the run from when it was set, a label."""
    view = rows.view
    for what in dict.fromkeys(d.what for d in view.deadlines):
        own = [d for d in view.deadlines if d.what == what]
        last = next((d for d in own if d.moved_to is None), own[-1])
        said = _deadline(last, "")["said"]  # the label goes with the last day set, so one row's labels never meet
        key = rows.add(f"deadline: {what}", said)
        rows.deadlines += [_deadline(d, key) for d in own]
        if not rows.style.narrow:
            first = min(d.set_at for d in own)
            rows.place({**_deadline(last, key)}, min(first, last.due_at), max(first, last.due_at), said)


def _deadline(d: DeadlineMark, key: str) -> Row:
    if d.status == MOVED:
        fate = f"moved to {day(day_start(d.moved_to or d.due))}"
    elif d.moved_to is not None:
        fate = f"passed, then moved to {day(day_start(d.moved_to))}"
    else:
        fate = d.status
    said = f"due {day(d.due_at)} · {fate}" + (f" · denied by {', '.join(d.denied_by)}" if d.denied_by else "")
    return {"row": key, "x": ms(d.due_at), "set": ms(d.set_at), "what": d.what, "due": day(d.due_at),
            "set_on": day(d.set_at), "by": d.by or "—", "status": d.status, "fate": fate, "said": said,
            "ink": DEADLINE_INK[d.status], "filled": d.status == PENDING, "text": TEXT_INK, "milestone": False,
            "kind": "deadline", "about": f"deadline {d.what} due {day(d.due_at)}, {fate}"}


def _meeting(m: MeetingMark, key: str) -> Row:
    shape, size, colour = MEETING_STYLE[m.level]
    said = [m.level, m.format or "", m.venue or ""]
    return {"row": key, "x": ms(m.at), "x2": ms(m.ends_at), "level": m.level, "date": day(m.at)
            + (f" to {day(day_start(m.ends_on))}" if m.ends_on else ""),
            "format": m.format or "—", "venue": m.venue or "—", "participants": ", ".join(m.participants) or "—",
            "summary": m.summary or "—", "denied": ", ".join(m.denied_by) or "—", "shape": shape, "size": size,
            "ink": colour, "about": f"{' '.join(filter(None, said))} meeting on {day(m.at)}"
                                    + (f", denied by {', '.join(m.denied_by)}" if m.denied_by else "")}


def _event(rows: Rows, step: Step, ghost: Ghost | None) -> tuple[Row, str]:
    """An event's row, with its label; and what a narrow chart writes over it (no sources: the tooltip has them)."""
    view, event = rows.view, step.event
    notes = []
    if step.late:
        notes.append(f"reported {day(event.reported_at)} ({days_later(step.lag.days)})")
    if ghost is not None:
        moved = ghost.entry.occurred_at != event.occurred_at
        notes.append(f"corrected (was {day(ghost.entry.occurred_at)})" if moved else "corrected")
    if event.denied_by:
        notes.append(f"denied by {', '.join(event.denied_by)}")
    sources = [", ".join(outlets(event.sources))] if event.sources else []
    label = " · ".join([day(event.occurred_at), *sources, *notes])
    reported = rows.inside(event.reported_at)
    later = event.reported_at > view.end
    return {"kind": "event", "x": ms(event.occurred_at), "reported": ms(reported),
            "first": event.occurred_at, "last": event.occurred_at if later else max(event.occurred_at, reported),
            "said": label,
            "later": later,
            "ink": ink(step.after), "late": step.late, "tick": LATE_INK if step.late else GHOST_INK,
            "text": TEXT_INK, "milestone": event.type in MILESTONES, "event": event.type,
            "date": day(event.occurred_at), "reported_at": day(event.reported_at),
            "sources": ", ".join(outlets(event.sources)) or "—", "what": describe(event.type, event.data),
            "state": change_of_state(step.before, step.after), "version": event.version,
            "denied": ", ".join(event.denied_by) or "—",
            "about": f"{event.type} on {day(event.occurred_at)}, reported {day(event.reported_at)}"}, \
        " · ".join([day(event.occurred_at), *notes])


def _ghost(rows: Rows, ghost: Ghost) -> Row:
    entry, last = ghost.entry, ghost.by[-1]
    fate = f"{ghost.fate} by version {last.version} ({day(last.reported_at)}): {last.data.get('reason', '')}"
    return {"kind": "ghost", "x": ms(entry.occurred_at), "reported": ms(rows.inside(last.reported_at)),
            "later": last.reported_at > rows.view.end, "reported_at": day(last.reported_at),
            "x2": ms(ghost.replacement.occurred_at if ghost.replacement else entry.occurred_at),
            "event": entry.type, "date": day(entry.occurred_at), "text": GHOST_INK, "milestone": False,
            "sources": ", ".join(outlets(entry.sources)) or "—", "what": describe(entry.type, entry.data), "fate": fate,
            "version": entry.version, "about": f"{entry.type} of {day(entry.occurred_at)} as first recorded, "
                                               f"{ghost.fate}"}


def _retracted(rows: Rows, ghost: Ghost) -> tuple[Row, str]:
    row = _ghost(rows, ghost)
    label = f"{day(ghost.entry.occurred_at)} · {row['fate']}"
    last = ghost.entry.occurred_at if row["later"] else rows.inside(ghost.by[-1].reported_at)
    return {**row, "first": ghost.entry.occurred_at, "last": max(ghost.entry.occurred_at, last),
            "said": label}, label


def _corrected(rows: Rows, ghost: Ghost, row: str) -> Row:
    told = {**_ghost(rows, ghost), "row": row}
    _later(rows, told)
    return told


def _later(rows: Rows, row: Row) -> None:
    """A report after the picture's last day: a mark at the right edge in the entry's row, saying when."""
    if row.get("later"):
        what = "reported" if row["kind"] == "event" else row["fate"].split(" by ")[0]
        when = row["reported_at"]
        rows.later.append({"row": row["row"], "x": ms(rows.view.end), "event": row["event"],
                           "when": f"{what} {when}, after the picture's last day", "about": f"{what} {when}"})
