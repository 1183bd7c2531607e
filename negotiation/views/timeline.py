"""A negotiation's timeline as a Vega-Altair chart: its states, events, disputes and what was known when.

World time runs left to right, from the story's first day to its last (or to
the day asked ``as of``). Behind everything, the state the negotiation
was in, as bands in the spec book diagram's colours, named along the top row
(suspended talks are the "talks suspended" band). Under it, what goes on
beside the phase: one row per measure, its spans coloured by status
(threatened, threat lapsed, in force, paused, lifted; a pause that ran out
shows in force again from the day after it ended); one row per deadline, a
triangle on the day it is due (filled while pending, hollow once passed or
moved); one row of meetings, shaped by level. Then one row per disputed point, from the dispute to its resolution; one row per
event of the story, its marker on the day it happened, a tick on the day it
was reported (a late report linked to the event in orange), and a label with
its date and sources. A report that came after the story's last day (a
retraction recorded today) is a mark at the right edge, not a stretch of
empty months. Cancelled visits and finalisations are milestones: diamonds
with a rule across the whole picture. Retracted and corrected entries are
hollow grey ghosts, a corrected one linked to where the story now puts it.

No label runs over another or past an edge: ``rows`` works out where each
goes. ``chart_of(view, narrow=True)`` is the phone's chart: a third of the
width, larger type, each row named over its marks, details on a tap.

The chart is declared, not drawn: Vega-Altair says what each mark means and
Vega lays it out, so the same chart is an SVG, a PNG, an HTML page or a
notebook cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import altair as alt

from ..domain import machine
from ..ledger import Ledger
from ..specbook.diagram import STATE_COLOURS
from . import lettering
from .beside import MEASURE_STATUSES, MEETING_LEVELS
from .model import Picture, day, picture
from .rows import (GHOST_INK, LATE_INK, MEASURE_COLOURS, MEETING_STYLE, NARROW, WIDE, Row, Rows, Style, ink, ms,
                   rows_of)
from .words import state, status

#: The opened states, in the machine's order: the bands' colour scale and legend.
STATES = tuple(s for s in machine.STATES if s != machine.NOT_OPENED)
#: How to read the marks that the state legend does not explain.
LEGEND = ("diamond: a milestone · tick: when it was reported · orange: late news · ▸ at the right edge: reported "
          "after the last day drawn · hollow grey: a retracted or corrected entry · ▼ a deadline: filled while "
          "pending, hollow once passed or moved · | the day a measure took effect")
ROW = WIDE.row  # pixels per row
WIDTH = 880  # pixels of world time in a full timeline
#: Pixels of world time on a phone: with the page's margins, the chart fits 390 pixels unscaled.
NARROW_WIDTH = 330
#: What the y axis may take on the left of a full timeline, for the title and legends beside it.
AXIS_WIDTH = 260
#: On a phone, the pixels the ids of a chart of several negotiations may take beside its rows.
NARROW_LABELS = 100
#: On a phone, the pixels of world time in a chart of several negotiations: with its ids beside it and the
#: axis's padding, the whole is no wider than a negotiation's phone chart.
NARROW_SEVERAL = 200


def timeline_chart(ledger: Ledger, negotiation_id: str, as_of: Any = None, known_at: Any = None,
                   narrow: bool = False) -> alt.LayerChart:
    """The negotiation's timeline: now, as of a world time, or as known at a time (dates: the end of that day).

    For a notebook, or a file through ``files.save``; ``narrow`` for a phone. Raises
    UnknownNegotiation for an id with no events or a time before it opened.
    """
    view = picture(ledger, negotiation_id, as_of=as_of, known_at=known_at)
    return chart_of(view, NARROW_WIDTH if narrow else WIDTH, narrow=narrow)


def timelines_chart(ledger: Ledger, negotiation_ids: Sequence[str], as_of: Any = None,
                    known_at: Any = None) -> alt.LayerChart:
    """Several negotiations on one time axis, a row each: the states each was in, a tick per event.

    Raises what ``timeline_chart`` raises for any of the ids, before drawing anything.
    """
    views = [picture(ledger, negotiation_id, as_of=as_of, known_at=known_at) for negotiation_id in negotiation_ids]
    return chart_of_several(views)


def chart_of_several(views: Sequence[Picture], width: int = WIDTH, narrow: bool = False) -> alt.LayerChart:
    """The states of several pictures on one world time, one row each (in the order given), named by id.

    A state a negotiation is still in runs on to the end of the picture: it holds it yet. ``narrow``: the
    phone's chart, its ids in a narrow column beside rows of ``width`` pixels.
    """
    label_room = NARROW_LABELS if narrow else AXIS_WIDTH
    data = _Datasets()
    start, end = min(v.start for v in views), max(v.end for v in views)
    keys = [f"{i:05d}|{view.id}" for i, view in enumerate(views)]
    bands: list[Row] = []
    events: list[Row] = []
    for key, view in zip(keys, views):
        rows = rows_of(view, width)
        bands += [{**band, "row": key, "negotiation": view.id, "x2": ms(end) if not band["to"] else band["x2"]}
                  for band in rows.bands]
        events += [{"row": key, "negotiation": view.id, **{name: event[name] for name in _EVENT_FIELDS}}
                   for event in rows.events]
    axis = alt.Axis(labelExpr="slice(datum.label, indexof(datum.label, '|') + 1)", labelLimit=label_room,
                    ticks=False, domain=False, labelFontSize=11, labelPadding=6)
    y = alt.Y("row:N", sort=keys, title=None, axis=axis, scale=alt.Scale(domain=keys))
    x = _world_time(start, end, alt.Axis(format="%b %Y" if narrow else "%-d %b %Y", labelAngle=0, grid=True,
                                         gridColor="#d0d4da", labelFlush=True, labelBound=True,
                                         tickCount=3 if narrow else 8, labelOverlap="greedy",
                                         labelFontSize=11, labelSeparation=8))
    room = width + label_room * 0.6
    layers = [
        data(bands).mark_bar(height=ROW - 4, strokeWidth=1.5, opacity=0.9).encode(
            x, alt.X2("x2:T"), y, *_state_colours(True, room, 11), alt.Description("about:N"),
            tooltip=[alt.Tooltip("negotiation:N"), alt.Tooltip("said:N", title="state"), alt.Tooltip("from:N"),
                     alt.Tooltip("to:N"), alt.Tooltip("why:N")]),
        data(events).mark_tick(thickness=2, size=ROW - 8).encode(
            x, y, alt.Color("ink:N", scale=None), alt.Description("about:N"),
            tooltip=_tips("negotiation", "event", "date", "sources", "what", "state")),
    ]
    when = next((view.when for view in views if view.when), "") or "as they stand now"
    # A phone's title starts at the ids' edge, not the rows', and is shorter: a title never shrinks to fit.
    title = alt.Title(f"{len(views)} negotiations on one time line" if narrow
                      else f"{len(views)} negotiations: their states on one time line", anchor="start",
                      frame="bounds" if narrow else alt.Undefined, fontSize=15, font=lettering.FONT,
                      subtitle=lettering.wrap(f"{when} · each band is a state, each tick an event",
                                              width + label_room if narrow else room, 11).split("\n"),
                      subtitleFontSize=11, subtitleColor="#4b5563", subtitleFont=lettering.FONT)
    return alt.LayerChart(layer=layers, width=width, height=ROW * len(keys), title=title, config=_config(False),
                          datasets=data.named)


#: What a tick of an event says in a chart of several negotiations.
_EVENT_FIELDS = ("x", "ink", "event", "date", "sources", "what", "state", "about")


def _x(view: Picture, axis: Any = alt.Undefined, field: str = "x") -> alt.X:
    """World time; a layer that leaves ``axis`` out shares the chart's axis (None: no axis at all)."""
    return _world_time(view.start, view.end, axis, field)


def _world_time(start: datetime, end: datetime, axis: Any = alt.Undefined, field: str = "x") -> alt.X:
    return alt.X(f"{field}:T", title=None, axis=axis, scale=alt.Scale(type="utc", domain=[ms(start), ms(end)]))


class _Datasets:
    """A chart's lists of rows, named at the top of its spec (Vega-Lite's datasets); a layer names its list.

    Altair validates and copies a layer's inline rows each time it makes or combines a chart (a quarter of
    the time to build a timeline); named, a layer carries only the name.
    """

    def __init__(self) -> None:
        self.named: dict[str, list[Row]] = {}
        self._names: dict[int, str] = {}  # by the list's identity: the named lists are held, so ids stay theirs

    def __call__(self, rows: list[Row]) -> alt.Chart:
        name = self._names.get(id(rows))
        if name is None:
            name = self._names[id(rows)] = f"rows-{len(self.named)}"
            self.named[name] = rows
        return alt.Chart(alt.NamedData(name=name))


def _words_of(names: dict[str, str]) -> str:
    """A Vega expression turning a legend's labels (the machine's names) into words."""
    said = "datum.label"
    for name, words in reversed(list(names.items())):
        said = f"datum.label === {name!r} ? {words!r} : ({said})"
    return said


def _columns(labels: list[str], room: float, size: float) -> int:
    """How many of a legend's entries fit side by side in ``room`` pixels."""
    entry = max((lettering.width(label, size) for label in labels), default=0) + 16 + 12
    return max(1, min(len(labels), int(room // entry)))


def _bands(data: _Datasets, rows: list[Row], x: alt.X, *, legend: bool, room: float = WIDTH,
           size: float = 11) -> alt.Chart:
    """The states held, as bands the full height of the chart, filled and outlined as in the diagram."""
    bands: alt.Chart = data(rows).mark_rect(strokeWidth=1.5, opacity=0.9).encode(
        x, alt.X2("x2:T"), *_state_colours(legend, room, size), alt.Description("about:N"),
        tooltip=[alt.Tooltip("said:N", title="state"), alt.Tooltip("from:N"), alt.Tooltip("to:N"),
                 alt.Tooltip("why:N")])
    return bands


def _state_colours(legend: bool, room: float, size: float) -> tuple[alt.Fill, alt.Stroke]:
    """A state's fill and outline, as in the diagram, with the legend naming the states in words (or none)."""
    fill = alt.Scale(domain=list(STATES), range=[STATE_COLOURS[s][0] for s in STATES])
    stroke = alt.Scale(domain=list(STATES), range=[STATE_COLOURS[s][1] for s in STATES])
    said = [state(s) for s in STATES]
    shown = alt.Legend(title="state", orient="bottom", symbolType="square", symbolStrokeWidth=1.5,
                       columns=_columns(said, room, size), labelExpr=_words_of({s: state(s) for s in STATES}),
                       labelLimit=0) if legend else None
    return alt.Fill("state:N", scale=fill, legend=shown), alt.Stroke("state:N", scale=stroke, legend=shown)


def _tips(*fields: str) -> list[alt.Tooltip]:
    return [alt.Tooltip(f"{name}:N") for name in fields]


def _beside(data: _Datasets, view: Picture, rows: Rows, x: alt.X, y: alt.Y, room: float) -> list[alt.Chart]:
    """Measures by status, deadlines on their days and meetings by level, each on its own rows."""
    style = rows.style
    row = style.row
    size = 12 if style.narrow else 11
    statuses = [s for s in MEASURE_STATUSES if s in {r["status"] for r in rows.measures}]
    fill = alt.Scale(domain=statuses, range=[MEASURE_COLOURS[s][0] for s in statuses])
    stroke = alt.Scale(domain=statuses, range=[MEASURE_COLOURS[s][1] for s in statuses])
    legend = alt.Legend(title="measure", orient="bottom", symbolType="square", symbolStrokeWidth=1.5,
                        columns=_columns([status(s) for s in statuses], room, size),
                        labelExpr="replace(datum.label, '_', ' ')") if statuses else None
    levels = [level for level in MEETING_LEVELS if level in {r["level"] for r in rows.meetings}]
    met = alt.Legend(title="meeting", orient="bottom", columns=_columns(levels, room, size)) if levels else None
    shown = [
        data(rows.measures).mark_bar(height=row - 6, strokeWidth=1.5, cornerRadius=2, clip=True).encode(
            x, alt.X2("x2:T"), y, alt.Fill("status:N", scale=fill, legend=legend),
            alt.Stroke("status:N", scale=stroke, legend=legend), alt.Description("about:N"),
            tooltip=[alt.Tooltip("measure:N"), alt.Tooltip("said:N", title="status"),
                     *_tips("value", "by", "against", "from", "to", "why", "notes")]),
        data(rows.measure_names).mark_text(fontSize=style.measure, fontWeight="bold").encode(
            x, y, alt.Text("said:N"), alt.Color("ink:N", scale=None)),
        data(rows.effective).mark_tick(thickness=2, size=row - 4, color="#7f1d1d", clip=True).encode(
            x, y, alt.Description("about:N"), tooltip=_tips("measure", "effective")),
        data(rows.deadlines).mark_rule(strokeDash=[2, 3], color=GHOST_INK, clip=True).encode(
            _x(view, field="set"), alt.X2("x:T"), y),
    ]
    for filled in (True, False):
        shown.append(data([r for r in rows.deadlines if r["filled"] == filled]).mark_point(
            shape="triangle-down", size=130, filled=filled, opacity=1, strokeWidth=2, clip=True).encode(
            x, y, alt.Color("ink:N", scale=None), alt.Description("about:N"),
            tooltip=_tips("what", "due", "fate", "by", "set_on")))
    shown += [
        data([r for r in rows.meetings if r["x2"] != r["x"]]).mark_rule(strokeWidth=3, clip=True).encode(
            x, alt.X2("x2:T"), y, alt.Color("ink:N", scale=None)),
        data(rows.meetings).mark_point(filled=True, opacity=0.95, stroke="white", strokeWidth=1,
                                       clip=True).encode(
            x, y, alt.Shape("level:N", scale=alt.Scale(domain=levels, range=[MEETING_STYLE[v][0] for v in levels]),
                            legend=met),
            alt.Fill("level:N", scale=alt.Scale(domain=levels, range=[MEETING_STYLE[v][2] for v in levels]),
                     legend=met),
            alt.Size("size:Q", scale=None),
            alt.Description("about:N"),
            tooltip=_tips("level", "date", "format", "venue", "participants", "summary", "denied")),
    ]
    return shown


def chart_of(view: Picture, width: int = WIDTH, narrow: bool = False) -> alt.LayerChart:
    """The full timeline of a picture: bands, disputes, events, reports, ghosts and milestones.

    ``narrow``: the phone's chart, its rows named over their marks in larger type, no labels beside them.
    """
    style: Style = NARROW if narrow else WIDE
    rows = rows_of(view, width, style)
    data = _Datasets()
    room = width if narrow else width + AXIS_WIDTH * 0.6
    # The key is "NNNNN|name": the name is all after the first '|', a '|' in it kept.
    axis: Any = None if narrow else alt.Axis(labelExpr="slice(datum.label, indexof(datum.label, '|') + 1)",
                                             labelLimit=AXIS_WIDTH,
                                             ticks=False, domain=False, labelFontSize=11, labelPadding=6)
    # Every row has its band, an empty one too (the lines of the label of the row above run over it).
    y = alt.Y("row:N", sort=rows.order, title=None, axis=axis, scale=alt.Scale(domain=rows.order))
    # A phone has room for a few short dates: months, or days and months when the story is short.
    short = "%-d %b" if view.end - view.start <= timedelta(days=100) else "%b %Y"
    x = _x(view, alt.Axis(format=short if narrow else "%-d %b %Y", labelAngle=0, grid=True, gridColor="#d0d4da",
                          labelFlush=True, labelBound=True, tickCount=4 if narrow else 8, labelOverlap="greedy",
                          labelFontSize=12 if narrow else 11, labelSeparation=8))
    events = rows.events
    layers = [
        _bands(data, rows.bands, x, legend=True, room=room, size=12 if narrow else 11),
        data(rows.names).mark_text(fontWeight="bold", fontSize=style.band).encode(
            x, y, alt.Text("said:N"), alt.Color("ink:N", scale=None)),
        *_beside(data, view, rows, x, y, room),
        data([r for r in events if r["milestone"]]).mark_rule(strokeDash=[5, 3], strokeWidth=1.5).encode(
            x, alt.Color("ink:N", scale=None)),
        data(rows.disputes).mark_bar(height=style.row - 8, color=ink(machine.DISPUTED), opacity=0.55,
                                     cornerRadius=3, clip=True).encode(
            x, alt.X2("x2:T"), y, alt.Description("about:N"),
            tooltip=_tips("point", "from", "to", "positions", "resolution")),
        # What was known when: a tick on the day each entry was reported, linked to the event when late.
        data([r for r in events if r["late"]]).mark_rule(color=LATE_INK, strokeWidth=2).encode(
            x, alt.X2("reported:T"), y),
        data(events).mark_tick(thickness=2, size=style.row - 8).encode(
            _x(view, field="reported"), y, alt.Color("tick:N", scale=None)),
        # Ghosts: the entry as first recorded, linked to where a correction put it.
        data(rows.ghosts).mark_rule(color=GHOST_INK, strokeDash=[3, 3]).encode(x, alt.X2("x2:T"), y),
        data(rows.ghosts).mark_tick(color=GHOST_INK, thickness=2, size=style.row - 8).encode(
            _x(view, field="reported"), y),
        data(rows.ghosts).mark_point(shape="circle", size=90, filled=False, color=GHOST_INK, strokeDash=[2, 2],
                                     strokeWidth=1.5).encode(
            x, y, alt.Description("about:N"), tooltip=_tips("event", "date", "sources", "what", "fate")),
        data(events).mark_point(filled=True, opacity=1, stroke="white", strokeWidth=1).encode(
            x, y, alt.Color("ink:N", scale=None),
            alt.Shape("milestone:N", scale=alt.Scale(domain=[True, False], range=["diamond", "circle"]),
                      legend=None),
            alt.Size("milestone:N", scale=alt.Scale(domain=[True, False], range=[190, 80]), legend=None),
            alt.Description("about:N"),
            tooltip=[*_tips("event", "date", "reported_at", "sources", "what"), alt.Tooltip("state:N"),
                     alt.Tooltip("denied:N")]),
        # Reports after the last day drawn: at the right edge, pointing on.
        data(rows.later).mark_point(shape="triangle-right", size=70, filled=True, color=LATE_INK, opacity=1,
                                    xOffset=-4).encode(
            x, y, alt.Description("about:N"), tooltip=_tips("event", "when")),
    ]
    for left in (False, True):
        for bold in (False, True):
            for multi in (False, True):
                said = [r for r in rows.labels if r["left"] == left and r["bold"] == bold
                        and (r["lines"] > 1) == multi]
                if not said:
                    continue
                layers.append(data(said).mark_text(
                    align="right" if left else "left", dx=-style.gap if left else style.gap,
                    fontSize=style.label, fontWeight="bold" if bold else "normal", lineBreak="\n",
                    lineHeight=style.label * lettering.LINE, baseline="top" if multi else "middle",
                    dy=-style.label * lettering.LINE / 2 if multi else 0).encode(
                    _x(view, field="lx"), y, alt.Text("label:N"), alt.Color("text:N", scale=None)))
    if rows.row_names:
        layers.append(data(rows.row_names).mark_text(align="left", dx=1, fontSize=style.label,
                                                     color="#374151").encode(x, y, alt.Text("said:N")))
    layers += _times_asked(data, rows, x, y)
    return alt.LayerChart(layer=layers, width=width, height=style.row * len(rows.order), title=_title(view, room,
                                                                                                      narrow),
                          config=_config(narrow), datasets=data.named,
                          resolve=alt.Resolve(scale=alt.ScaleResolveMap(
                              fill="independent", stroke="independent", shape="independent", size="independent")))


def _title(view: Picture, room: float, narrow: bool) -> alt.Title:
    """The title and what the picture is of, in lines that fit; the key to the marks under them, when wide."""
    title = f"{view.title}: {state(view.negotiation.state)}"
    subtitle = lettering.wrap(view.when or "as it stands now", room, 12 if narrow else 11)
    if not narrow:
        subtitle += "\n" + lettering.wrap(LEGEND, room, 11)
    else:
        subtitle += "\n" + lettering.wrap("tap a mark for its details", room, 12)
    return alt.Title(lettering.wrap(title, room, 15, bold=True).split("\n"), anchor="start", fontSize=15,
                     font=lettering.FONT, subtitle=subtitle.split("\n"), subtitleFontSize=12 if narrow else 11,
                     subtitleColor="#4b5563", subtitleFont=lettering.FONT)


def _config(narrow: bool) -> alt.Config:
    size = 12 if narrow else 11
    return alt.Config(view=alt.ViewConfig(stroke=None), font=lettering.FONT,
                      axis=alt.AxisConfig(labelColor="#1f2933", labelFont=lettering.FONT),
                      # Vega counts a line of text as high as its font size; its letters take a quarter more, so
                      # the legends keep further from the axis's labels than Vega's 18 pixels.
                      legend=alt.LegendConfig(labelFontSize=size, titleFontSize=size, labelFont=lettering.FONT,
                                              offset=26, rowPadding=4,
                                              titleFont=lettering.FONT,
                                              # the legends one under another, not side by side past the edge
                                              layout=alt.ExprRef(expr="{bottom: {direction: 'vertical', "
                                                                      "anchor: 'start'}}")))


def _times_asked(data: _Datasets, rows: Rows, x: alt.X, y: alt.Y) -> list[alt.Chart]:
    """Rules marking ``as of`` and ``as known at`` where they fall inside the picture, each labelled."""
    if not rows.asked:
        return []
    size = rows.style.label
    return [data(rows.asked).mark_rule(color="#111827", strokeWidth=2, strokeDash=[8, 4]).encode(x),
            *(data([r for r in rows.asked if r["left"] == left]).mark_text(
                align="right" if left else "left", dx=-5 if left else 5, fontSize=size, fontWeight="bold").encode(
                x, y, alt.Text("label:N")) for left in (True, False) if any(r["left"] == left for r in rows.asked))]


def mini_chart(view: Picture, width: int = 240) -> alt.LayerChart:
    """A small timeline for a list of negotiations: the state bands and a tick per event, dates under them.

    The index's legend says what the colours are.
    """
    rows = rows_of(view, width)
    data = _Datasets()
    first, last = view.steps[0].event.occurred_at, view.steps[-1].event.occurred_at
    # The first event's day starts at its tick, the last's ends at its own; the last only when the two
    # have room apart.
    size, said = 10, [day(first), day(last)]
    apart = rows.px(last) - rows.px(first) >= sum(lettering.width(d, size) for d in said) + 8
    values = [ms(first), ms(last)] if apart else [ms(first)]
    axis = alt.Axis(values=values, format="%-d %b %Y", labelAngle=0, labelFontSize=size, labelOverlap="greedy",
                    labelAlign={"condition": {"test": f"time(datum.value) === {ms(first)}", "value": "left"},
                                "value": "right"},
                    labelBound=True, grid=False, domainColor="#9ca3af", tickColor="#9ca3af",
                    labelColor="#4b5563", labelFont=lettering.FONT)
    x = _x(view, axis)
    ticks = data(rows.events).mark_tick(thickness=2, size=18).encode(
        x, alt.Color("ink:N", scale=None), tooltip=_tips("event", "date"))
    return alt.LayerChart(layer=[_bands(data, rows.bands, x, legend=False), ticks], width=width, height=18,
                          config=alt.Config(view=alt.ViewConfig(stroke=None), font=lettering.FONT),
                          datasets=data.named)

