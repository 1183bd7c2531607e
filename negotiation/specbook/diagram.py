"""The state machine drawn two ways, both from the machine itself.

``mermaid()`` asks ``transitions``' own Mermaid engine for a
``stateDiagram-v2``, for the spec book's Markdown (code hosts render it).
``svg()`` draws the same cells as an inline SVG, so the HTML spec book needs
no script and no network: states in columns by distance from the start,
events that keep a state listed inside it, and one connector per pair of
states labelled with the events that go each way.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from html import escape
from typing import Any

from transitions.extensions.diagrams import GraphMachine

from ..domain import machine
from .coverage import Cell, Route, expected_cells

#: How a guard reads in the diagram and the table; an unknown guard reads as its name.
GUARD_PHRASES = {
    "has_open_points": "while a point is open",
    "has_no_open_point": "once no point is open",
    "closes_last_point": "closing the last open point",
    "has_deal": "with a deal in principle",
    "not has_deal": "before any deal",
}
#: Each state's (fill, stroke) colours in the diagram; every picture of a state uses the same pair. Named,
#: not counted off the table, so a state added to the machine takes no other state's colours.
STATE_COLOURS: dict[str, tuple[str, str]] = {
    machine.NOT_OPENED: ("#eef2f7", "#8a97a8"),
    machine.AGREED: ("#e3f1fb", "#3b8fc4"),
    machine.DISPUTED: ("#fff3d6", "#d39b1c"),
    machine.VISIT_CANCELLED: ("#fde4e1", "#cc5a4e"),
    machine.TALKS: ("#efe6fb", "#8a5cc7"),
    machine.SUSPENDED: ("#f3f3f3", "#888888"),
    machine.FINALISED: ("#e2f5e6", "#3c9a52"),
}
assert set(STATE_COLOURS) == set(machine.STATES), "every state of the machine needs its colours"


def _initial() -> str:
    return str(machine.MACHINE.initial)


def guard_text(route: Route) -> str:
    """The guards of a route in words, e.g. ``once no point is open``; empty when unguarded."""
    return " and ".join(GUARD_PHRASES.get(g, g.replace("_", " ")) for g in route.guards)


def mermaid(title: str = "negotiation") -> str:
    """The machine as a Mermaid ``stateDiagram-v2``, drawn by ``transitions``' Mermaid engine."""

    class Model:
        """A model for the diagram only; the shared machine has none."""

    model: Any = Model()
    drawing = GraphMachine(
        model=model,
        states=[{"name": s.name, "final": s.final} for s in machine.MACHINE.states.values()],
        transitions=[dict(t) for t in machine.TRANSITIONS],
        initial=_initial(),
        auto_transitions=False,
        graph_engine="mermaid",
        show_conditions=True,
        title=title,
    )
    model.get_graph()  # the first call builds the graph and marks the model's state as current
    drawing.model_graphs[id(model)].reset_styling()  # a specification has no current state
    return str(model.get_graph().draw(None))


@dataclass
class _Box:
    state: str
    x: float
    y: float
    w: float
    h: float
    loops: list[str]

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2

    def holds(self, px: float, py: float, pad: float = 10) -> bool:
        return self.x - pad <= px <= self.x + self.w + pad and self.y - pad <= py <= self.y + self.h + pad

    def border(self, tx: float, ty: float) -> tuple[float, float]:
        """Where the ray from the centre towards (tx, ty) leaves the box."""
        cx, cy = self.centre
        dx, dy = tx - cx, ty - cy
        scale = min(self.w / 2 / abs(dx) if dx else math.inf, self.h / 2 / abs(dy) if dy else math.inf)
        return cx + dx * scale, cy + dy * scale


def _width(text: str, size: float) -> float:
    return len(text) * size * 0.56  # close enough for a sans-serif face, and errs on the wide side


def _label(cell: Cell, route: Route) -> str:
    guard = guard_text(route)
    return f"{cell.event} {guard}" if guard else cell.event


def _ranks(moves: dict[tuple[str, str], list[str]], finals: set[str]) -> dict[str, int]:
    """Columns by distance from the initial state; final states take the last column."""
    rank = {_initial(): 0}
    frontier = [_initial()]
    while frontier:
        here = frontier.pop(0)
        for (src, dst) in moves:
            if src == here and dst not in rank and dst not in finals:
                rank[dst] = rank[here] + 1
                frontier.append(dst)
    last = max(rank.values()) + 1
    return {state: rank.get(state, last) for state in machine.STATES}


def _arrow(dx: float, dy: float) -> str:
    return "→↘↓↙←↖↑↗"[round(math.atan2(dy, dx) / (math.pi / 4)) % 8]


Point = tuple[float, float]


def _bezier(p0: Point, c: Point, p1: Point, t: float) -> Point:
    u = 1 - t
    return (u * u * p0[0] + 2 * u * t * c[0] + t * t * p1[0],
            u * u * p0[1] + 2 * u * t * c[1] + t * t * p1[1])


def _layout() -> tuple[dict[str, _Box], dict[tuple[str, str], list[str]]]:
    moves: dict[tuple[str, str], list[str]] = defaultdict(list)
    loops: dict[str, list[str]] = defaultdict(list)
    for cell in expected_cells():
        for route in cell.routes:
            if route.dest == cell.state:
                loops[cell.state].append(_label(cell, route))
            else:
                moves[(cell.state, route.dest)].append(_label(cell, route))
    finals = {s.name for s in machine.MACHINE.states.values() if s.final}
    ranks = _ranks(moves, finals)
    columns = [[s for s in machine.STATES if ranks[s] == r] for r in range(max(ranks.values()) + 1)]
    boxes: dict[str, _Box] = {}
    sizes = {s: (max([_width(s, 15), *(_width("↺ " + loop, 12) for loop in loops[s])]) + 28,
                 40 + 18 * len(loops[s])) for s in machine.STATES}
    heights = [sum(sizes[s][1] for s in column) + _ROW_GAP * (len(column) - 1) for column in columns]
    x = 30.0
    for column in columns:
        y = 70 + (max(heights) - heights[columns.index(column)]) / 2
        width = max(sizes[s][0] for s in column)
        for state in column:
            w, h = sizes[state]
            boxes[state] = _Box(state, x + (width - w) / 2, y, w, h, loops[state])
            y += h + _ROW_GAP
        x += width + _COLUMN_GAP
    return boxes, moves


Rect = tuple[float, float, float, float]

#: The room between the states, down a column and across: the connectors' labels are drawn in it.
_ROW_GAP, _COLUMN_GAP = 190, 380


def _overlap(a: Rect, b: Rect) -> float:
    """The area two rectangles share."""
    width = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    height = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(width, 0) * max(height, 0)


def _place(p0: Point, ctrl: Point, p1: Point, w: float, h: float, blocked: list[Rect]) -> Rect:
    """Where a connector's label goes: on the curve near its middle, else beside it, wherever it covers
    nothing already drawn; failing that, where it covers least."""
    best: tuple[float, Rect] | None = None
    for shift in (0.0, h / 2 + 6, -h / 2 - 6, h + 12, -h - 12):
        for t in (0.5, 0.42, 0.58, 0.34, 0.66, 0.26, 0.74, 0.18, 0.82):
            mx, my = _bezier(p0, ctrl, p1, t)
            rect = (mx - w / 2, my - h / 2 + shift, w, h)
            covered = sum(_overlap(rect, r) for r in blocked)
            if not covered:
                return rect
            if best is None or covered < best[0]:
                best = (covered, rect)
    assert best is not None
    return best[1]


def _route(a: _Box, b: _Box, blocked: list[Rect]) -> tuple[tuple[float, float], ...]:
    """Start, control point and end of the least bent curve from ``a`` to ``b`` that misses ``blocked``."""
    (ax, ay), (bx, by) = a.centre, b.centre
    nx, ny = by - ay, ax - bx
    length = math.hypot(nx, ny) or 1
    best: tuple[int, tuple[tuple[float, float], ...]] | None = None
    for bend in (0, 60, -60, 120, -120, 180, -180, 240, -240, 300, -300, 360, -360):
        ctrl = ((ax + bx) / 2 + nx / length * bend, (ay + by) / 2 + ny / length * bend)
        p0, p1 = a.border(*ctrl) if bend else a.border(bx, by), b.border(*ctrl) if bend else b.border(ax, ay)
        if not bend:
            ctrl = ((p0[0] + p1[0]) / 2, (p0[1] + p1[1]) / 2)
        points = [_bezier(p0, ctrl, p1, t / 60) for t in range(3, 58)]
        hits = sum(1 for px, py in points for r in blocked
                   if r[0] - 8 <= px <= r[0] + r[2] + 8 and r[1] - 8 <= py <= r[1] + r[3] + 8)
        if best is None or hits < best[0]:
            best = (hits, (p0, ctrl, p1))
        if not hits:
            break
    assert best is not None
    return best[1]


def svg() -> str:
    """The machine as a self-contained SVG element."""
    boxes, moves = _layout()
    edges: list[str] = []
    labels: list[str] = []
    blocked: list[Rect] = [(b.x, b.y, b.w, b.h) for b in boxes.values()]
    pairs = list(dict.fromkeys(tuple(sorted(pair)) for pair in moves))
    # Short connectors first: long ones then bend around the labels already placed.
    pairs.sort(key=lambda ab: math.dist(boxes[ab[0]].centre, boxes[ab[1]].centre))
    for first, second in pairs:
        a, b = (first, second) if (first, second) in moves else (second, first)
        own = [(box.x, box.y, box.w, box.h) for box in (boxes[a], boxes[b])]
        p0, ctrl, p1 = _route(boxes[a], boxes[b], [r for r in blocked if r not in own])
        both = (b, a) in moves
        edges.append(
            f'<path d="M{p0[0]:.1f},{p0[1]:.1f} Q{ctrl[0]:.1f},{ctrl[1]:.1f} {p1[0]:.1f},{p1[1]:.1f}" '
            'class="edge" '
            + ('marker-start="url(#arrow)" ' if both else "") + 'marker-end="url(#arrow)"/>'
        )
        lines = [f"{_arrow(p1[0] - p0[0], p1[1] - p0[1])} {event}" for event in moves[(a, b)]]
        lines += [f"{_arrow(p0[0] - p1[0], p0[1] - p1[1])} {event}" for event in moves.get((b, a), [])]
        w, h = max(_width(line, 12) for line in lines) + 12, 16 * len(lines) + 6
        rect = _place(p0, ctrl, p1, w, h, blocked)
        mx = rect[0] + w / 2
        blocked.append(rect)
        labels.append(f'<rect x="{rect[0]:.1f}" y="{rect[1]:.1f}" width="{w:.1f}" height="{h}" rx="4" '
                      'class="label-bg"/>')
        labels += [f'<text x="{mx:.1f}" y="{rect[1] + 15 + 16 * i:.1f}" class="label">{escape(line)}</text>'
                   for i, line in enumerate(lines)]
        along = (_bezier(p0, ctrl, p1, k / 12) for k in range(2, 11))
        blocked += [(px - 3, py - 3, 6, 6) for px, py in along]
    nodes: list[str] = []
    for state in machine.STATES:
        box = boxes[state]
        fill, stroke = STATE_COLOURS[state]
        dash = ' stroke-dasharray="5 4"' if state == _initial() else ""
        nodes.append(f'<g class="state" id="state-{state}"><rect x="{box.x:.1f}" y="{box.y:.1f}" '
                     f'width="{box.w:.1f}" height="{box.h:.1f}" rx="10" fill="{fill}" '
                     f'stroke="{stroke}"{dash}/>')
        if machine.MACHINE.states[state].final:
            nodes.append(f'<rect x="{box.x + 4:.1f}" y="{box.y + 4:.1f}" width="{box.w - 8:.1f}" '
                         f'height="{box.h - 8:.1f}" rx="7" fill="none" stroke="{stroke}"/>')
        nodes.append(f'<text x="{box.x + box.w / 2:.1f}" y="{box.y + 25:.1f}" class="name">'
                     f'{escape(state)}</text>')
        nodes += [f'<text x="{box.x + 14:.1f}" y="{box.y + 45 + 18 * j:.1f}" class="loop">'
                  f'↺ {escape(loop)}</text>' for j, loop in enumerate(box.loops)]
        nodes.append("</g>")
    start = boxes[_initial()]
    note = (start.x, start.y - 30, _width("start: nothing recorded yet", 12), 20)
    # The canvas is whatever was drawn, curves that swing wide included, with a margin.
    xs = [r[0] for r in blocked + [note]] + [r[0] + r[2] for r in blocked + [note]]
    ys = [r[1] for r in blocked + [note]] + [r[1] + r[3] for r in blocked + [note]]
    left, top, width, height = min(xs) - 20, min(ys) - 20, max(xs) - min(xs) + 40, max(ys) - min(ys) + 40
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="machine" viewBox="{left:.0f} {top:.0f} {width:.0f} '
        f'{height:.0f}" width="{width:.0f}" height="{height:.0f}" style="max-width:{width:.0f}px" role="img" '
        'aria-label="state diagram of the negotiation machine">'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>'
        f'<text x="{start.x:.1f}" y="{start.y - 14:.1f}" class="note">start: nothing recorded yet</text>'
        + "".join(edges) + "".join(nodes) + "".join(labels) + "</svg>"
    )
