"""A negotiation's timeline as a Vega-Altair chart: its states, events, disputes and what was known when.

World time runs left to right. Behind everything, the state the negotiation
was in, as bands in the spec book diagram's colours, named along the top row
(suspended talks are the ``talks_suspended`` band). Under it, what goes on
beside the phase: one row per measure, its spans coloured by status
(threatened, threat lapsed, in force, paused, lifted; a pause that ran out
shows in force again from the day after it ended); one row per deadline, a
triangle on the day it is due (filled while pending, hollow once passed or
moved); one row of meetings, shaped by level. Then one row per disputed point, from the dispute to its resolution; one row per
event of the story, its marker on the day it happened, a tick on the day it
was reported (a late report linked to the event in orange), and a label with
its date and sources. Cancelled visits and finalisations are milestones:
diamonds with a rule across the whole picture. Retracted and corrected
entries are hollow grey ghosts, a corrected one linked to where the story
now puts it.

The chart is declared, not drawn: Vega-Altair says what each mark means and
Vega lays it out, so the same chart is an SVG, a PNG, an HTML page or a
notebook cell.
"""

from __future__ import annotations

from typing import Any

import altair as alt

from ..domain import machine
from ..ledger import Ledger
from ..specbook.diagram import STATE_COLOURS
from .beside import MEASURE_STATUSES, MEETING_LEVELS
from .model import Picture, day, picture
from .rows import GHOST_INK, LATE_INK, MEASURE_COLOURS, MEETING_STYLE, STATE_ROW, Row, Rows, ink, ms, rows_of

#: The opened states, in the machine's order: the bands' colour scale and legend.
STATES = tuple(s for s in machine.STATES if s != machine.NOT_OPENED)
#: How to read the marks that the state legend does not explain.
LEGEND = ("diamond: a milestone · tick: when it was reported · orange: late news · "
          "hollow grey: a retracted or corrected entry · ▼ a deadline: filled while pending, hollow once passed "
          "or moved · | the day a measure took effect")
ROW = 22  # pixels per row
WIDTH = 880  # pixels of world time in a full timeline


def timeline_chart(ledger: Ledger, negotiation_id: str, as_of: Any = None, known_at: Any = None) -> alt.LayerChart:
    """The negotiation's timeline: now, as of a world time, or as known at a time (dates: the end of that day).

    For a notebook, or a file through ``files.save``. Raises UnknownNegotiation
    for an id with no events or a time before it opened.
    """
    return chart_of(picture(ledger, negotiation_id, as_of=as_of, known_at=known_at))


def _x(view: Picture, axis: Any = alt.Undefined, field: str = "x") -> alt.X:
    """World time; a layer that leaves ``axis`` out shares the chart's axis (None: no axis at all)."""
    return alt.X(f"{field}:T", title=None, axis=axis,
                 scale=alt.Scale(type="utc", domain=[ms(view.start), ms(view.end)]))


def _data(rows: list[Row]) -> alt.Chart:
    return alt.Chart(alt.InlineData(values=rows))


def _bands(view: Picture, rows: list[Row], x: alt.X, *, legend: bool) -> alt.Chart:
    """The states held, as bands the full height of the chart, filled and outlined as in the diagram."""
    fill = alt.Scale(domain=list(STATES), range=[STATE_COLOURS[s][0] for s in STATES])
    stroke = alt.Scale(domain=list(STATES), range=[STATE_COLOURS[s][1] for s in STATES])
    shown = alt.Legend(title="state", orient="bottom", symbolType="square", symbolStrokeWidth=1.5,
                       columns=len(STATES)) if legend else None
    bands: alt.Chart = _data(rows).mark_rect(strokeWidth=1.5, opacity=0.9).encode(
        x, alt.X2("x2:T"), alt.Fill("state:N", scale=fill, legend=shown),
        alt.Stroke("state:N", scale=stroke, legend=shown), alt.Description("about:N"),
        tooltip=[alt.Tooltip("state:N"), alt.Tooltip("from:N"), alt.Tooltip("to:N"), alt.Tooltip("why:N")])
    return bands


def _tips(*fields: str) -> list[alt.Tooltip]:
    return [alt.Tooltip(f"{name}:N") for name in fields]


def _beside(view: Picture, rows: Rows, x: alt.X, y: alt.Y) -> list[alt.Chart]:
    """Measures by status, deadlines on their days and meetings by level, each on its own rows."""
    statuses = [s for s in MEASURE_STATUSES if s in {r["status"] for r in rows.measures}]
    fill = alt.Scale(domain=statuses, range=[MEASURE_COLOURS[s][0] for s in statuses])
    stroke = alt.Scale(domain=statuses, range=[MEASURE_COLOURS[s][1] for s in statuses])
    legend = alt.Legend(title="measure", orient="bottom", symbolType="square", symbolStrokeWidth=1.5,
                        labelExpr="replace(datum.label, '_', ' ')") if statuses else None
    levels = [level for level in MEETING_LEVELS if level in {r["level"] for r in rows.meetings}]
    met = alt.Legend(title="meeting", orient="bottom") if levels else None
    shown = [
        _data(rows.measures).mark_bar(height=ROW - 6, strokeWidth=1.5, cornerRadius=2).encode(
            x, alt.X2("x2:T"), y, alt.Fill("status:N", scale=fill, legend=legend),
            alt.Stroke("status:N", scale=stroke, legend=legend), alt.Description("about:N"),
            tooltip=_tips("measure", "status", "value", "by", "against", "from", "to", "why", "notes")),
        _data(rows.measure_names).mark_text(fontSize=10, fontWeight="bold").encode(
            x, y, alt.Text("said:N"), alt.Color("ink:N", scale=None)),
        _data(rows.effective).mark_tick(thickness=2, size=ROW - 4, color="#7f1d1d").encode(
            x, y, alt.Description("about:N"), tooltip=_tips("measure", "effective")),
        _data(rows.deadlines).mark_rule(strokeDash=[2, 3], color=GHOST_INK).encode(
            _x(view, field="set"), alt.X2("x:T"), y),
    ]
    for filled in (True, False):
        shown.append(_data([r for r in rows.deadlines if r["filled"] == filled]).mark_point(
            shape="triangle-down", size=130, filled=filled, opacity=1, strokeWidth=2).encode(
            x, y, alt.Color("ink:N", scale=None), alt.Description("about:N"),
            tooltip=_tips("what", "due", "fate", "by", "set_on")))
    shown += [
        _data([r for r in rows.meetings if r["x2"] != r["x"]]).mark_rule(strokeWidth=3).encode(
            x, alt.X2("x2:T"), y, alt.Color("ink:N", scale=None)),
        _data(rows.meetings).mark_point(filled=True, opacity=0.95, stroke="white", strokeWidth=1).encode(
            x, y, alt.Shape("level:N", scale=alt.Scale(domain=levels, range=[MEETING_STYLE[v][0] for v in levels]),
                            legend=met),
            alt.Fill("level:N", scale=alt.Scale(domain=levels, range=[MEETING_STYLE[v][2] for v in levels]),
                     legend=met),
            alt.Size("size:Q", scale=None),
            alt.Description("about:N"),
            tooltip=_tips("level", "date", "format", "venue", "participants", "summary", "denied")),
    ]
    return shown




def chart_of(view: Picture, width: int = WIDTH) -> alt.LayerChart:
    """The full timeline of a picture: bands, disputes, events, reports, ghosts and milestones."""
    rows = rows_of(view, width)
    y = alt.Y("row:N", sort=rows.order, title=None,
              axis=alt.Axis(labelExpr="split(datum.label, '|')[1]", labelLimit=260, ticks=False, domain=False,
                            labelFontSize=11, labelPadding=6))
    x = _x(view, alt.Axis(format="%-d %b %Y", labelAngle=0, grid=True, gridColor="#d0d4da", labelFlush=True,
                          tickCount=8, labelOverlap="greedy"))
    events = rows.events
    layers = [
        _bands(view, rows.bands, x, legend=True),
        _data(rows.names).mark_text(fontWeight="bold", fontSize=11).encode(
            x, y, alt.Text("state:N"), alt.Color("ink:N", scale=None)),
        *_beside(view, rows, x, y),
        _data([r for r in events if r["milestone"]]).mark_rule(strokeDash=[5, 3], strokeWidth=1.5).encode(
            x, alt.Color("ink:N", scale=None)),
        _data(rows.disputes).mark_bar(height=ROW - 8, color=ink(machine.DISPUTED), opacity=0.55,
                                      cornerRadius=3).encode(
            x, alt.X2("x2:T"), y, alt.Description("about:N"),
            tooltip=_tips("point", "from", "to", "positions", "resolution")),
        # What was known when: a tick on the day each entry was reported, linked to the event when late.
        _data([r for r in events if r["late"]]).mark_rule(color=LATE_INK, strokeWidth=2).encode(
            x, alt.X2("reported:T"), y),
        _data(events).mark_tick(thickness=2, size=ROW - 8).encode(
            _x(view, field="reported"), y, alt.Color("tick:N", scale=None)),
        # Ghosts: the entry as first recorded, linked to where a correction put it.
        _data(rows.ghosts).mark_rule(color=GHOST_INK, strokeDash=[3, 3]).encode(x, alt.X2("x2:T"), y),
        _data(rows.ghosts).mark_tick(color=GHOST_INK, thickness=2, size=ROW - 8).encode(
            _x(view, field="reported"), y),
        _data(rows.ghosts).mark_point(shape="circle", size=90, filled=False, color=GHOST_INK, strokeDash=[2, 2],
                                      strokeWidth=1.5).encode(
            x, y, alt.Description("about:N"), tooltip=_tips("event", "date", "sources", "what", "fate")),
        _data(events).mark_point(filled=True, opacity=1, stroke="white", strokeWidth=1).encode(
            x, y, alt.Color("ink:N", scale=None),
            alt.Shape("milestone:N", scale=alt.Scale(domain=[True, False], range=["diamond", "circle"]),
                      legend=None),
            alt.Size("milestone:N", scale=alt.Scale(domain=[True, False], range=[190, 80]), legend=None),
            alt.Description("about:N"),
            tooltip=_tips("event", "date", "reported_at", "sources", "what", "state", "denied")),
    ]
    for left in (False, True):
        for bold in (False, True):
            said = [r for r in rows.labels if r["left"] == left and r["milestone"] == bold]
            layers.append(_data(said).mark_text(
                align="right" if left else "left", dx=-10 if left else 10, fontSize=11,
                fontWeight="bold" if bold else "normal").encode(
                _x(view, field="lx"), y, alt.Text("label:N"), alt.Color("text:N", scale=None)))
    layers += _times_asked(view, x, y)
    title = alt.Title(f"{view.title}: {view.negotiation.state}", anchor="start", fontSize=15, font="sans-serif",
                      subtitle=[view.when or "as it stands now", LEGEND],
                      subtitleFontSize=11, subtitleColor="#4b5563", subtitleFont="sans-serif")
    config = alt.Config(view=alt.ViewConfig(stroke=None), axis=alt.AxisConfig(labelColor="#1f2933",
                                                                              labelFont="sans-serif"),
                        legend=alt.LegendConfig(labelFontSize=11, titleFontSize=11))
    resolve = alt.Resolve(scale=alt.ScaleResolveMap(fill="independent", stroke="independent", shape="independent",
                                                   size="independent"))
    return alt.LayerChart(layer=layers, width=width, height=ROW * len(rows.order), title=title, config=config,
                          resolve=resolve)


def _times_asked(view: Picture, x: alt.X, y: alt.Y) -> list[alt.Chart]:
    """Rules marking ``as of`` and ``as known at`` where they fall inside the picture."""
    rows = [{"x": ms(moment), "row": STATE_ROW, "label": f"{name} {day(moment)}"}
            for name, moment in (("as of", view.as_of), ("known at", view.known_at))
            if moment is not None and view.start <= moment <= view.end]
    if not rows:
        return []
    return [_data(rows).mark_rule(color="#111827", strokeWidth=2, strokeDash=[8, 4]).encode(x),
            _data(rows).mark_text(align="right", dx=-5, fontSize=11, fontWeight="bold").encode(
                x, y, alt.Text("label:N"))]


def mini_chart(view: Picture, width: int = 240) -> alt.LayerChart:
    """A small timeline for a list of negotiations: the state bands and a tick per event, no axes."""
    rows = rows_of(view, width)
    ticks = _data(rows.events).mark_tick(thickness=2, size=18).encode(
        _x(view, None), alt.Color("ink:N", scale=None), tooltip=_tips("event", "date"))
    return alt.LayerChart(layer=[_bands(view, rows.bands, _x(view, None), legend=False), ticks], width=width, height=18,
                          config=alt.Config(view=alt.ViewConfig(stroke=None)))
