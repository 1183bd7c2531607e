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
from .model import MILESTONES, Ghost, Picture, Step, day

LATE_INK = "#d9480f"
GHOST_INK = "#6b7280"
TEXT_INK = "#1f2933"
#: The top row, where the states are named.
STATE_ROW = "00000|state"

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
    events: list[Row] = field(default_factory=list)
    ghosts: list[Row] = field(default_factory=list)
    #: The labels of event rows and retracted entries.
    labels: list[Row] = field(default_factory=list)


def rows_of(view: Picture, width: int) -> Rows:
    """Everything the timeline draws of ``view`` at ``width`` pixels of world time."""
    rows = Rows()
    span = (ms(view.end) - ms(view.start)) or 1
    for band in view.bands:
        rows.bands.append({"x": ms(band.start), "x2": ms(band.end), "state": band.state, "from": day(band.start),
                           "to": "" if band.current else day(band.end),
                           "about": f"state {band.state} from {day(band.start)}"
                                    + ("" if band.current else f" to {day(band.end)}")})
        wide = (ms(band.end) - ms(band.start)) / span * width
        if wide > 6.5 * len(band.state) + 6:
            rows.names.append({"row": STATE_ROW, "x": (ms(band.start) + ms(band.end)) / 2, "state": band.state,
                               "ink": ink(band.state)})
    for i, d in enumerate(view.disputes, start=1):
        key = f"{i:05d}|disputed: {d.point}"
        rows.order.append(key)
        positions = "; ".join(f"{party}: {stance}" for party, stance in d.positions.items())
        rows.disputes.append({"row": key, "x": ms(d.start), "x2": ms(d.end or view.end), "point": d.point,
                              "from": day(d.start), "to": day(d.end) if d.end else "still open",
                              "positions": positions or "—", "resolution": d.resolution or "—",
                              "about": f"point {d.point} disputed from {day(d.start)} to "
                                       + (day(d.end) if d.end else "now, still open")})
    ghosts = {g.entry.event_id: g for g in view.ghosts}
    lines = [(s.event.occurred_at, s.event.version, s.event.type, _event(view, width, s, ghosts.get(s.event.event_id)))
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
    return {"kind": "event", "x": ms(event.occurred_at), "reported": ms(event.reported_at),
            **_place(view, width, event.occurred_at, max(event.occurred_at, event.reported_at), " · ".join(said)),
            "ink": ink(step.after), "late": step.late, "tick": LATE_INK if step.late else GHOST_INK,
            "text": TEXT_INK, "milestone": event.type in MILESTONES, "event": event.type,
            "date": day(event.occurred_at), "reported_at": day(event.reported_at),
            "sources": ", ".join(event.sources) or "—", "what": describe(event.type, event.data),
            "state": f"{step.before} → {step.after}", "version": event.version,
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
