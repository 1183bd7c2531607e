"""The report's pages as HTML: the index of every negotiation, and a page per negotiation.

Every table turns into a stack of cards on a narrow screen, so nothing is cut
off on a phone; the charts scale down to the page's width.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

import altair as alt

from ..domain.payloads import describe
from ..specbook.diagram import STATE_COLOURS
from .files import embed, page
from .model import Picture, day

VEGA_SCRIPT = "assets/vega-embed.js"
SPEC_BOOK = "spec/index.html"

CSS = (
    "h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.2em;margin:1.6em 0 .5em}"
    "nav{font-size:.95em;margin-bottom:.5em}nav a{margin-right:1.2em}a{color:#1d4ed8}"
    "table{border-collapse:collapse;width:100%;font-size:.92em}"
    "th,td{text-align:left;vertical-align:top;padding:6px 8px;border-bottom:1px solid #e5e7eb;"
    "overflow-wrap:break-word}th{background:#f8fafc;font-weight:600;white-space:nowrap}"
    ".state{display:inline-block;padding:0 8px;border-radius:10px;border:1.5px solid;font-weight:600;"
    "white-space:nowrap;text-decoration:none;color:inherit}"
    ".late{color:#d9480f;font-weight:600}.ghost{color:#6b7280}.muted{color:#4b5563}"
    "dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:.8em 0}"
    "dl.facts dt{font-weight:600}dl.facts dd{margin:0}"
    ".mini{min-width:240px}"
    "@media (max-width:760px){table.cards thead{display:none}"
    "table.cards,table.cards tbody,table.cards tr,table.cards td{display:block;width:100%}"
    "table.cards tr{border:1px solid #e5e7eb;border-radius:8px;margin:0 0 12px;padding:6px 10px}"
    "table.cards td{border:none;padding:2px 0}"
    "table.cards td::before{content:attr(data-label) ': ';font-weight:600;color:#4b5563}"
    "dl.facts{grid-template-columns:1fr}dl.facts dd{margin:0 0 6px}}"
)


def state_chip(state: str, root: str) -> str:
    """The state in its diagram colours, linked to the state in the spec book's diagram."""
    fill, stroke = STATE_COLOURS.get(state, ("#f3f3f3", "#888888"))
    return (f'<a class="state" href="{root}{SPEC_BOOK}#state-{escape(state)}" '
            f'style="background:{fill};border-color:{stroke}">{escape(state)}</a>')


def table(headings: Sequence[str], rows: Iterable[Sequence[str]], css_class: str = "cards") -> str:
    """A table of already escaped cells; each cell names its column for the card layout."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headings)
    body = "".join("<tr>" + "".join(f'<td data-label="{escape(h)}">{cell}</td>' for h, cell in zip(headings, row))
                   + "</tr>" for row in rows)
    return f'<table class="{css_class}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _value(value: Any) -> str:
    return "—" if value is None else escape(str(value))


def _script(root: str) -> str:
    return f'<script src="{root}{VEGA_SCRIPT}"></script>'


def index_page(views: Sequence[tuple[Picture, alt.TopLevelMixin]], written: str) -> str:
    """Every negotiation: parties, state now, opened, last event, open points and a small timeline."""
    rows = []
    charts = []
    for i, (view, mini) in enumerate(views):
        n = view.negotiation
        chart_id = f"mini-{i}"
        charts.append(embed(f"#{chart_id}", mini))
        rows.append((f'<a href="negotiations/{escape(n.id)}.html">{escape(n.id)}</a>',
                     escape(" – ".join(n.parties)), state_chip(n.state, ""), escape(day(n.opened_at)),
                     escape(day(n.updated_at)), escape(", ".join(n.open_disputes) or "none"),
                     f'<div class="mini chart" id="{chart_id}" aria-label="timeline of {escape(n.id)}"></div>'))
    body = (f'<nav><a href="{SPEC_BOOK}">spec book: the state machine and every scenario</a></nav>'
            f"<h1>Negotiations</h1><p class=\"muted\">{len(views)} negotiation{'s' if len(views) != 1 else ''}"
            f" from the ledger, written {escape(written)}. Each name opens its timeline, story and terms.</p>"
            + table(("negotiation", "parties", "state now", "opened", "last event", "open points", "timeline"),
                    rows) + "".join(charts))
    return page("Negotiations", body, scripts=_script(""), css=CSS)


def negotiation_page(view: Picture, chart: alt.TopLevelMixin) -> str:
    """One negotiation: its timeline, its story with sources, its terms and how they changed, and corrections."""
    n = view.negotiation
    facts = [("state now", state_chip(n.state, "../")), ("parties", escape(" – ".join(n.parties))),
             ("opened", escape(day(n.opened_at))),
             ("deal in principle", escape(day(n.deal_announced_at)) if n.has_deal else "none yet"),
             ("last event", escape(day(n.updated_at))), ("open points", escape(", ".join(n.open_disputes) or "none")),
             ("entries in the log", str(n.version))]
    if n.instruments:
        facts.append(("instruments", "<br>".join(escape(i) for i in n.instruments)))
    body = ('<nav><a href="../index.html">← every negotiation</a>'
            f'<a href="../{SPEC_BOOK}">spec book</a></nav>'
            f"<h1>{escape(n.id)}</h1>"
            '<dl class="facts">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>"
            '<h2 id="timeline">Timeline</h2><p class="muted">Hover over a mark for its details.</p>'
            f'<div id="chart" class="chart"></div>{embed("#chart", chart)}'
            + _story(view) + _disputes(view) + _terms(view) + _corrections(view))
    return page(f"{n.id}: {n.state}", body, scripts=_script("../"), css=CSS)


def _story(view: Picture) -> str:
    ghosts = {g.entry.event_id: g for g in view.ghosts}
    rows = []
    for step in view.steps:
        event = step.event
        notes = []
        if step.late:
            notes.append(f'<span class="late">reported {step.lag.days} days later</span>')
        ghost = ghosts.get(event.event_id)
        if ghost is not None:
            notes.append("corrected by " + ", ".join(
                f"version {c.version} ({escape(day(c.reported_at))}: {escape(str(c.data.get('reason', '')))})"
                for c in ghost.by) + (f"; at first dated {escape(day(ghost.entry.occurred_at))}"
                                       if ghost.entry.occurred_at != event.occurred_at else ""))
        rows.append((escape(day(event.occurred_at)), escape(event.type), escape(describe(event.type, event.data)),
                     escape(", ".join(event.sources) or "—"), escape(day(event.reported_at)),
                     f"{escape(step.before)} → {escape(step.after)}", "; ".join(notes)))
    return ('<h2 id="story">Story</h2><p class="muted">Its events in the order they happened, as corrected.</p>'
            + table(("date", "event", "what", "sources", "reported", "state", "notes"), rows))


def _disputes(view: Picture) -> str:
    if not view.disputes:
        return ""
    rows = [(escape(d.point), escape(day(d.start)), escape(day(d.end)) if d.end else "still open",
             "<br>".join(f"{escape(p)}: {escape(s)}" for p, s in d.positions.items()) or "—",
             _value(d.resolution)) for d in view.disputes]
    return '<h2 id="disputes">Disputed points</h2>' + table(("point", "disputed", "resolved", "positions",
                                                             "resolution"), rows)


def _terms(view: Picture) -> str:
    terms = view.negotiation.terms
    now = table(("term", "value"), [(escape(k), _value(v)) for k, v in terms.items()]) if terms else \
        "<p>No terms recorded.</p>"
    changes = [(escape(day(c.at)), escape(c.term), _value(c.before), _value(c.after), escape(c.event_type))
               for c in view.term_changes]
    return ('<h2 id="terms">Terms now</h2>' + now + '<h2 id="term-changes">How the terms changed</h2>'
            + (table(("date", "term", "before", "after", "event"), changes) if changes else
               "<p>No terms recorded.</p>"))


def _corrections(view: Picture) -> str:
    if not view.corrections:
        return '<h2 id="corrections">Corrections</h2><p>Nothing has been retracted or corrected.</p>'
    rows = [(str(c.version), escape(day(c.reported_at)), escape(c.type), escape(describe(c.type, c.data)),
             escape(", ".join(c.sources) or "—")) for c in view.corrections]
    return ('<h2 id="corrections">Corrections</h2><p class="muted">Entries of the log that withdrew or '
            "corrected an event; the log keeps both.</p>"
            + table(("version", "reported", "entry", "what", "sources"), rows))
