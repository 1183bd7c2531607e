"""A picture's rows as the chart's data: plain dicts, one per mark, with the words a reader sees.

Times are milliseconds since the epoch (how Vega reads a temporal value, in
UTC whatever the reader's time zone); every label and tooltip is written here,
in the reader's words, so the chart only places them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..domain.payloads import describe
from ..specbook.diagram import STATE_COLOURS
from .beside import MOVED, PASSED, PENDING, DeadlineMark, MeasureSpan, MeetingMark, day_start
from .model import MILESTONES, Ghost, Picture, Step, day

LATE_INK = "#d9480f"
GHOST_INK = "#6b7280"
TEXT_INK = "#1f2933"
#: The top row, where the states are named.
STATE_ROW = "00000|state"
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


def ms(moment: datetime) -> int:
    """A moment as Vega reads a temporal value: milliseconds since the epoch."""
    return round(moment.timestamp() * 1000)


def ink(state: str) -> str:
    """The state's stroke colour in the spec book's diagram."""
    return STATE_COLOURS[state][1]


@dataclass
class Rows:
    """The chart's rows, top to bottom, and the data of each layer."""

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
    #: The labels of event rows, retracted entries and deadlines.
    labels: list[Row] = field(default_factory=list)

    def add(self, name: str) -> str:
        """A new row at the bottom, named ``name``: its key (a number keeps the order, the axis shows the name)."""
        key = f"{len(self.order):05d}|{name}"
        self.order.append(key)
        return key


def against(view: Picture, by: str | None) -> str:
    """The party a measure by ``by`` is against: the other party of the negotiation."""
    others = [p for p in view.negotiation.parties if p != by]
    return others[0] if by in view.negotiation.parties and len(others) == 1 else "—"


def status_words(status: str) -> str:
    """A measure's status as a reader says it: ``in force``, ``threat lapsed``."""
    return status.replace("_", " ")


def rows_of(view: Picture, width: int) -> Rows:
    """Everything the timeline draws of ``view`` at ``width`` pixels of world time."""
    rows = Rows()
    span = (ms(view.end) - ms(view.start)) or 1
    for band in view.bands:
        rows.bands.append({"x": ms(band.start), "x2": ms(band.end), "state": band.state, "from": day(band.start),
                           "to": "" if band.current else day(band.end), "why": _entered(band.entered_by),
                           "about": f"state {band.state} from {day(band.start)}"
                                    + ("" if band.current else f" to {day(band.end)}")})
        wide = (ms(band.end) - ms(band.start)) / span * width
        if wide > 6.5 * len(band.state) + 6:
            rows.names.append({"row": STATE_ROW, "x": (ms(band.start) + ms(band.end)) / 2, "state": band.state,
                               "ink": ink(band.state)})
    _measures(view, width, rows)
    _deadlines(view, width, rows)
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
    lines: list[tuple[datetime, int, str, Row]] = [
        (s.event.occurred_at, s.event.version, s.event.type, _event(view, width, s, ghosts.get(s.event.event_id)))
        for s in view.steps]
    lines += [(g.entry.occurred_at, g.entry.version, f"{g.entry.type} (retracted)", _retracted(view, width, g))
              for g in view.ghosts if g.fate == "retracted"]
    placed: dict[int, str] = {}
    for j, (_, version, name, row) in enumerate(sorted(lines, key=lambda line: line[:2]), start=len(rows.order)):
        row["row"] = placed[version] = f"{j:05d}|{name}"
        rows.order.append(row["row"])
        (rows.events if row["kind"] == "event" else rows.ghosts).append(row)
        rows.labels.append(row)
    rows.ghosts += [_corrected(g, placed[g.entry.version]) for g in view.ghosts
                    if g.fate == "corrected" and g.entry.version in placed]
    return rows


def _entered(event: Any) -> str:
    """What entered a state, for its band's tooltip: who broke the talks off, or the event."""
    if event is None:
        return "—"
    if event.type == "TalksSuspended":
        verb = "terminated" if event.data.get("terminated") else "suspended"
        why = f": {event.data['reason']}" if event.data.get("reason") else ""
        return f"talks {verb} by {event.data['by']}{why}"
    return f"{event.type}: {describe(event.type, event.data)}"


def _measures(view: Picture, width: int, rows: Rows) -> None:
    """One row per measure, its spans by status; the status and value written inside a span wide enough."""
    span = (ms(view.end) - ms(view.start)) or 1
    keys: dict[str, str] = {}
    for s in view.measures:
        if s.measure not in keys:
            keys[s.measure] = rows.add(f"measure: {s.measure}")
        key = keys[s.measure]
        rows.measures.append(_measure(view, s, key))
        said = status_words(s.status) + (f" {s.value}" if s.value and s.status != "lifted" else "")
        if (ms(s.end) - ms(s.start)) / span * width > 6.2 * len(said) + 8:
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
    return {"row": key, "x": ms(s.start), "x2": ms(s.end), "status": s.status, "measure": s.measure,
            "by": s.by or "—", "against": against(view, s.by), "value": s.value or "—", "from": day(s.start),
            "to": "" if s.current else day(s.end), "why": "; ".join(s.causes), "notes": "; ".join(notes) or "—",
            "fill": fill, "stroke": stroke,
            "about": f"measure {s.measure} {status_words(s.status)} from {day(s.start)}"
                     + ("" if s.current else f" to {day(s.end)}")}


def _deadlines(view: Picture, width: int, rows: Rows) -> None:
    """One row per deadline: a marker on each day it was due, the run from when it was set, a label."""
    keys: dict[str, str] = {}
    for d in view.deadlines:
        if d.what not in keys:
            keys[d.what] = rows.add(f"deadline: {d.what}")
    for d in view.deadlines:
        row = _deadline(d, keys[d.what])
        rows.deadlines.append(row)
        if d.moved_to is None:  # the label goes with the last day set, so one row's labels never meet
            first = min(e.set_at for e in view.deadlines if e.what == d.what)
            rows.labels.append({**row, **_place(view, width, min(first, d.due_at), max(first, d.due_at),
                                                row["said"])})


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


def _place(view: Picture, width: int, first: datetime, last: datetime, label: str) -> Row:
    """Where a row's label goes: after its last mark if it fits, else before its first, else where there is room."""
    span = (ms(view.end) - ms(view.start)) or 1
    start, end = ((ms(m) - ms(view.start)) / span * width for m in (first, last))
    need = 6.3 * len(label) + 12
    left = end + need > width and (start - need >= 0 or start > width - end)
    return {"lx": ms(first if left else last), "left": left, "label": label}


def _event(view: Picture, width: int, step: Step, ghost: Ghost | None) -> Row:
    event = step.event
    said = [day(event.occurred_at)] + ([", ".join(event.sources)] if event.sources else [])
    if step.late:
        said.append(f"reported {day(event.reported_at)} ({step.lag.days} days later)")
    if ghost is not None:
        moved = ghost.entry.occurred_at != event.occurred_at
        said.append(f"corrected (was {day(ghost.entry.occurred_at)})" if moved else "corrected")
    if event.denied_by:
        said.append(f"denied by {', '.join(event.denied_by)}")
    return {"kind": "event", "x": ms(event.occurred_at), "reported": ms(event.reported_at),
            **_place(view, width, event.occurred_at, max(event.occurred_at, event.reported_at), " · ".join(said)),
            "ink": ink(step.after), "late": step.late, "tick": LATE_INK if step.late else GHOST_INK,
            "text": TEXT_INK, "milestone": event.type in MILESTONES, "event": event.type,
            "date": day(event.occurred_at), "reported_at": day(event.reported_at),
            "sources": ", ".join(event.sources) or "—", "what": describe(event.type, event.data),
            "state": f"{step.before} → {step.after}", "version": event.version,
            "denied": ", ".join(event.denied_by) or "—",
            "about": f"{event.type} on {day(event.occurred_at)}, reported {day(event.reported_at)}"}


def _ghost(ghost: Ghost) -> Row:
    entry, last = ghost.entry, ghost.by[-1]
    fate = f"{ghost.fate} by version {last.version} ({day(last.reported_at)}): {last.data.get('reason', '')}"
    return {"kind": "ghost", "x": ms(entry.occurred_at), "reported": ms(last.reported_at),
            "x2": ms(ghost.replacement.occurred_at if ghost.replacement else entry.occurred_at),
            "event": entry.type, "date": day(entry.occurred_at), "text": GHOST_INK, "milestone": False,
            "sources": ", ".join(entry.sources) or "—", "what": describe(entry.type, entry.data), "fate": fate,
            "version": entry.version, "about": f"{entry.type} of {day(entry.occurred_at)} as first recorded, "
                                               f"{ghost.fate}"}


def _retracted(view: Picture, width: int, ghost: Ghost) -> Row:
    row = _ghost(ghost)
    last = ghost.by[-1]
    label = f"{day(ghost.entry.occurred_at)} · {row['fate']}"
    return {**row, **_place(view, width, ghost.entry.occurred_at, max(ghost.entry.occurred_at, last.reported_at),
                            label)}


def _corrected(ghost: Ghost, row: str) -> Row:
    return {**_ghost(ghost), "row": row}
