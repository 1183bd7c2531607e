"""The report's pages as HTML: the index of every negotiation, and a page per negotiation.

The index lists every negotiation the report could tell, the deadlines of the
days ahead and the measures in force across them, and names any negotiation
it could not tell, with why. A negotiation's page shows its timeline, its
story (denied reports marked), each party's view of the terms side by side,
its deals, measures, deadlines, meetings and third-party acts.

Every table turns into a stack of cards on a narrow screen, so nothing is cut
off on a phone; the charts scale down to the page's width.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from datetime import datetime
from typing import Any

import altair as alt

from ..domain.belief import BeliefDiff
from ..domain.sources import Source, SourceRecord
from ..domain.story import StoryEvent
from ..specbook.diagram import STATE_COLOURS
from .beside import MOVED, day_start
from .files import charts, embed, page
from .model import Picture, day
from .overview import Overview
from .rows import MEASURE_COLOURS, against
from . import changes, words
from .words import change_of_state, days_later, describe, state, term

VEGA_SCRIPT = "assets/vega-embed.js"
SPEC_BOOK = "spec/index.html"
#: The report's Atom feed of the log, beside the index, and its media type.
FEED = "feed.atom"
FEED_TYPE = "application/atom+xml"

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
    ".mini{min-width:250px}.id{display:block;color:#4b5563;font-size:.85em}"
    ".legend .key{display:inline-block;margin:0 .9em 0 .3em;white-space:nowrap}"
    ".legend .swatch{display:inline-block;width:.9em;height:.9em;border:1.5px solid;margin-right:.3em;"
    "vertical-align:-.1em}.legend .tick{display:inline-block;width:2px;height:1em;background:#3b8fc4;"
    "margin-right:.3em;vertical-align:-.15em}"
    ".status{display:inline-block;padding:0 6px;border-radius:8px;border:1.5px solid;white-space:nowrap}"
    ".denied{color:#b42318;font-weight:600}"
    "tr.differs td{background:#fff4e5}tr.differs td:first-child{box-shadow:inset 4px 0 #d9480f}"
    ".stated{color:#4b5563;font-size:.85em}.failed li{margin:.3em 0}"
    "@media (max-width:760px){table.cards thead{display:none}"
    "table.cards,table.cards tbody,table.cards tr,table.cards td{display:block;width:100%}"
    "table.cards tr{border:1px solid #e5e7eb;border-radius:8px;margin:0 0 12px;padding:6px 10px}"
    "table.cards td{border:none;padding:2px 0}"
    "table.cards td::before{content:attr(data-label) ': ';font-weight:600;color:#4b5563}"
    "dl.facts{grid-template-columns:1fr}dl.facts dd{margin:0 0 6px}}"
)


def state_chip(name: str, root: str) -> str:
    """The state in words, in its diagram colours, linked to the state in the spec book's diagram."""
    fill, stroke = STATE_COLOURS.get(name, ("#f3f3f3", "#888888"))
    return (f'<a class="state" href="{root}{SPEC_BOOK}#state-{escape(name)}" '
            f'style="background:{fill};border-color:{stroke}">{escape(state(name))}</a>')


def table(headings: Sequence[str], rows: Iterable[Sequence[str]], css_class: str = "cards",
          row_classes: Sequence[str] = ()) -> str:
    """A table of already escaped cells; each cell names its column for the card layout.

    ``row_classes`` gives the rows, in order, a class each ("" for none).
    """
    head = "".join(f"<th>{escape(h)}</th>" for h in headings)
    body = "".join((f'<tr class="{row_classes[i]}">' if i < len(row_classes) and row_classes[i] else "<tr>")
                   + "".join(f'<td data-label="{escape(h)}">{cell}</td>' for h, cell in zip(headings, row))
                   + "</tr>" for i, row in enumerate(rows))
    return f'<table class="{css_class}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def status_chip(name: str) -> str:
    """A measure's status in words, in the colours its span has on the timeline."""
    fill, stroke = MEASURE_COLOURS.get(name, ("#f3f3f3", "#888888"))
    return f'<span class="status" style="background:{fill};border-color:{stroke}">{escape(words.status(name))}</span>'


def denied(by: Sequence[str]) -> str:
    """``denied by X`` for an event the story marks denied; empty for one nobody denied."""
    return f'<span class="denied">denied by {escape(", ".join(by))}</span>' if by else ""


def _source(source: Source) -> str:
    """A source in a page: a name as text; an article as a link to it, its headline the link's words,
    then its outlet and day (an address a browser would not open as a page is shown, not linked)."""
    if not isinstance(source, SourceRecord):
        return escape(source)
    quoted = f" <q>{escape(source.quote)}</q>" if source.quote is not None else ""
    published = escape(words.published(source)).replace(" ", "\u00a0")  # the day kept on one line
    headline = (f'<a href="{escape(source.url, quote=True)}">{escape(source.headline)}</a>' if source.linkable
                else f"{escape(source.headline)} &lt;{escape(source.url)}&gt;")
    return f"{headline} ({escape(source.outlet)}, {published}){quoted}"


def _sources(sources: Sequence[Source]) -> str:
    """An entry's sources in a table's cell, each on a line of its own when one is an article."""
    if not sources:
        return "—"
    parting = ", " if all(isinstance(source, str) for source in sources) else "<br>"
    return parting.join(_source(source) for source in sources)


def _day(moment: datetime | None) -> str:
    """A moment as a reader says it (``22 Jul 2025``), kept on one line in a table's cell."""
    return escape(day(moment)).replace(" ", "\u00a0")


def _on(iso_day: str | None) -> str:
    """An ISO day as a reader says it."""
    return "—" if not iso_day else escape(day(day_start(iso_day)))


def _value(value: Any) -> str:
    return "—" if value is None else escape(str(value))


def _term(name: str, value: Any) -> str:
    """A term's value as a reader reads it: ``$550 billion``, ``10,000``."""
    return "—" if value is None else escape(term(name, value))


def _script(root: str) -> str:
    return f'<script src="{root}{VEGA_SCRIPT}"></script>'


def index_page(views: Sequence[tuple[Picture, alt.TopLevelMixin]], written: str,
               overview: Overview | None = None, *,
               together: tuple[alt.TopLevelMixin, alt.TopLevelMixin] | None = None, feed: str | None = None) -> str:
    """Every negotiation: parties, state now, opened, last event, open points and a small timeline; then the
    deadlines of the days ahead and the measures in force across them, and any negotiation it could not tell.

    ``together``: every negotiation's states on one time line, under the table (a wide chart, and a phone's
    instead of it on a narrow screen); ``feed``: the log's Atom feed
    (a path beside the page), linked from the page's head and its menu.
    """
    rows = []
    drawing = []
    for i, (view, mini) in enumerate(views):
        n = view.negotiation
        chart_id = f"mini-{i}"
        drawing.append(embed(f"#{chart_id}", mini))
        rows.append((_link(n.id, "", name=view.named) + (f' <span class="id">{escape(n.id)}</span>' if view.named
                                                          else ""),
                     escape(" – ".join(n.parties)), state_chip(n.state, ""),
                     _day(n.opened_at), _day(n.updated_at),
                     escape(", ".join(n.open_disputes) or "none"),
                     f'<div class="mini chart" id="{chart_id}" aria-label="timeline of {escape(n.id)}"></div>'))
    failed = overview.failed if overview else ()
    told = f"{len(views)} negotiation{'s' if len(views) != 1 else ''}"
    said = f" {escape(overview.when)}" if overview is not None and overview.when else ""
    body = (f'<nav><a href="{SPEC_BOOK}">spec book: the state machine and every scenario</a>'
            + ('<a href="#deadlines">deadlines</a><a href="#measures">measures in force</a>' if overview else "")
            + ('<a href="#untold">not told</a>' if failed else "")
            + (f'<a href="{escape(feed)}" type="{FEED_TYPE}">news feed of the log (Atom)</a>' if feed else "")
            + "</nav>"
            f"<h1>Negotiations</h1><p class=\"muted\">{told} from the ledger{said}, written {escape(written)}. "
            "Each name opens its timeline, story and terms.</p>" + _legend()
            + table(("negotiation", "parties", "state now", "opened", "last event", "open points", "timeline"),
                    rows)
            + ('<h2 id="together">On one time line</h2>' + charts(*together, target="together-chart")
               if together is not None else "")
            + (_overview(overview) if overview else "") + "".join(drawing))
    head = (f'<link rel="alternate" type="{FEED_TYPE}" href="{escape(feed)}" title="the log, newest first">\n'
            if feed else "")
    return page("Negotiations", body, scripts=_script(""), css=CSS, head=head)


def _link(negotiation_id: str, root: str, anchor: str = "", name: str | None = None) -> str:
    """A link to the negotiation's page, by its title when given one, else by its id."""
    return (f'<a href="{root}negotiations/{escape(negotiation_id)}.html{anchor}">'
            f"{escape(name or negotiation_id)}</a>")


def _legend() -> str:
    """How to read the small timelines: the colour of each state, and what a tick is."""
    swatches = "".join(f'<span class="key"><span class="swatch" style="background:{STATE_COLOURS[s][0]};'
                       f'border-color:{STATE_COLOURS[s][1]}"></span>{escape(state(s))}</span>'
                       for s in STATE_COLOURS if s != "not_opened")
    return (f'<p class="legend muted" id="legend">The small timelines run from each negotiation\'s first '
            f"event to its last, their dates under them; each band is a state: {swatches}"
            '<span class="key"><span class="tick"></span>an event</span></p>')


def _overview(overview: Overview) -> str:
    """The index's deadlines ahead, measures in force, and the negotiations it could not tell."""
    first, last = escape(day(overview.at)), escape(day(day_start(overview.last_day.isoformat())))
    deadlines = [(_day(day_start(d.due.isoformat())), "today" if d.days_left == 0 else
                  f"{d.days_left} day{'s' if d.days_left != 1 else ''}", _link(d.negotiation, "", "#deadlines"),
                  escape(d.what), _value(d.by), _on(d.set_on)) for d in overview.deadlines]
    measures = [(_link(m.negotiation, "", "#measures"), escape(m.measure), _value(m.by), _value(m.against),
                 _value(m.value), _day(m.since),
                 "; ".join(filter(None, [f"effective from {_on(m.effective_from)}" if m.effective_from else "",
                                         f"threatened: {escape(m.threatened_value)}" if m.threatened_value
                                         else ""])) or "—") for m in overview.measures]
    html = (f'<h2 id="deadlines">Deadlines in the next {overview.days} days</h2>'
            f'<p class="muted">Pending deadlines due from {first} to {last}, soonest first.</p>'
            + (table(("due", "in", "negotiation", "what", "set by", "set on"), deadlines) if deadlines else
               f"<p>No deadline falls due from {first} to {last}.</p>")
            + f'<h2 id="measures">Measures in force</h2><p class="muted">On {first}: who imposed them, on whom, '
              "at what value and since when.</p>"
            + (table(("negotiation", "measure", "by", "against", "value", "in force since", "notes"), measures)
               if measures else f"<p>No measure is in force on {first}.</p>"))
    if overview.failed:
        html += ('<h2 id="untold">Negotiations the report cannot tell</h2><p class="muted">Their stories '
                 "cannot be told at the time asked; the rest of the report stands without them.</p>"
                 '<ul class="failed">' + "".join(f"<li><strong>{escape(n)}</strong>: {escape(why)}</li>"
                                                 for n, why in overview.failed) + "</ul>")
    return html


def negotiation_page(view: Picture, chart: alt.TopLevelMixin, narrow: alt.TopLevelMixin | None = None,
                     changed: BeliefDiff | str | None = None) -> str:
    """One negotiation: its timeline, what changed in what was known lately (``changed``: the difference, or
    why it cannot be told), story, each party's view of the terms, deals, measures, deadlines, meetings,
    third-party acts, disputed points, how the terms changed, and corrections."""
    n = view.negotiation
    facts = [("state now", state_chip(n.state, "../")), ("parties", escape(" – ".join(n.parties))),
             ("opened", _day(n.opened_at)),
             ("deal in principle", _day(n.deal_announced_at) if n.has_deal else "none yet"),
             ("last event", _day(n.updated_at)), ("open points", escape(", ".join(n.open_disputes) or "none")),
             ("entries in the log", str(n.version))]
    if n.suspended_by:
        last = n.suspensions[-1]
        facts.insert(1, ("talks", f"{'terminated' if last.get('terminated') else 'suspended'} by "
                                  f"{escape(n.suspended_by)} on {_on(last.get('on'))}"
                                  + (f": {escape(str(last['reason']))}" if last.get("reason") else "")))
    if n.instruments:
        facts.append(("instruments", "<br>".join(escape(i) for i in n.instruments)))
    if view.when:
        facts.insert(0, ("told", escape(view.when)))
    told = {step.event.version: step.event for step in view.steps}
    body = ('<nav><a href="../index.html">← every negotiation</a>'
            f'<a href="../{SPEC_BOOK}">spec book</a></nav>'
            f"<h1>{escape(view.named or n.id)}</h1>"
            + (f'<p class="muted">{escape(n.id)}</p>' if view.named else "") +
            '<dl class="facts">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>"
            '<h2 id="timeline">Timeline</h2><p class="muted">Tap or hover over a mark for its details; '
            'the story below tells the same in words.</p>'
            + charts(chart, narrow) + _what_changed(changed)
            + _story(view) + views_side_by_side(view) + _deals(view, told) + _measures(view) + _deadlines(view)
            + _meetings(view) + _acts(view, told) + _disputes(view) + _term_changes(view) + _corrections(view))
    return page(f"{view.named or n.id}: {state(n.state)}", body, scripts=_script("../"), css=CSS)


def _what_changed(changed: BeliefDiff | str | None) -> str:
    """What changed in what was known over the last days of reporting, and the entries that changed it."""
    if changed is None:
        return ""
    heading = '<h2 id="what-changed">What changed in what was known</h2>'
    if isinstance(changed, str):
        return heading + f"<p>What changed lately cannot be told: {escape(changed)}</p>"
    said = (f'<p class="muted">In the {words.plural((changed.known_at_2 - changed.known_at_1).days, "day")} of '
            f"reporting {escape(changes.between(changed))}: "
            + escape(changes.counts(changed)) + ".</p>")
    if changed.changes:
        said += "<ul>" + "".join(f"<li>{escape(changes.change_line(change, changed))}</li>"
                                 for change in changed.changes) + "</ul>"
    if changed.reported:
        said += ('<p class="muted">Reported in between:</p><ul>'
                 + "".join(f"<li>{escape(changes.entry_line(entry))}</li>" for entry in changed.reported) + "</ul>")
    return heading + said


def views_side_by_side(view: Picture) -> str:
    """Each party's view of the terms side by side: the common terms overlaid with its own statements,
    each statement marked, and the names where the two views differ highlighted."""
    n = view.negotiation
    names = list(dict.fromkeys([*n.terms, *(name for p in n.parties for name in n.statements.get(p, {}))]))
    if not names:
        return '<h2 id="terms">Terms now</h2><p>No terms recorded.</p>'
    differs = set(n.differences)
    rows, classes = [], []
    for name in names:
        cells = [escape(name), _term(name, n.terms.get(name))]
        for party in n.parties:
            seen = n.view_of(party)
            stated = name in n.statements.get(party, {})
            cells.append((_term(name, seen.get(name)) if name in seen else "—")
                         + (f' <span class="stated">({escape(party)}\'s statement)</span>' if stated else ""))
        cells.append("differ" if name in differs else "agree")
        rows.append(cells)
        classes.append("differs" if name in differs else "")
    heads = ("term", "common", *(f"as {party} tells it" for party in n.parties), "the views")
    said = (f"The views differ on {len(differs)} term{'s' if len(differs) != 1 else ''}, highlighted."
            if differs else "The two views agree on every term.")
    return ('<h2 id="terms">Terms now, as each party tells them</h2><p class="muted">Common terms are those no '
            "party is named as the source of; each party's view is the common terms with its own statements "
            f"over them. {said}</p>" + table(heads, rows, row_classes=classes))


def _deals(view: Picture, told: dict[int, StoryEvent]) -> str:
    deals = view.negotiation.deals
    if not deals:
        return ""
    rows = []
    for deal in deals:
        event = told.get(deal.get("version", 0))
        if deal.get("title"):
            what = escape(str(deal["title"]))
        else:
            what = "<br>".join(escape(str(i)) for i in deal.get("instruments", ())) or "—"
        rows.append((_on(deal.get("on")), escape(str(deal.get("kind", "—"))), what,
                     _value(deal.get("according_to")), denied(event.denied_by if event else ())))
    return '<h2 id="deals">Deals</h2>' + table(("date", "deal", "title or instruments", "according to", "notes"),
                                               rows)


def _measures(view: Picture) -> str:
    n = view.negotiation
    if not n.measures:
        return ""
    at = view.moment
    now = []
    for name, m in n.measures.items():
        status = m.status_at(at)
        notes = [f"paused until {_on(m.paused_until)}" if status == "paused" else "",
                 f"the pause ended {_on(m.paused_until)}" if m.status == "paused" and status != "paused" else "",
                 f"to take effect {_on(m.effective)}" if m.effective and status in ("threatened", "threat_lapsed")
                 else "",
                 f"threatened: {escape(m.threatened_value)}" if m.threatened_value else "",
                 f"effective from {_on(m.effective_from)}" if m.effective_from and status == "in_force" else "",
                 f"lifted by {escape(m.lifted_by)}" if m.lifted_by and status == "lifted" else ""]
        now.append((escape(name), _value(m.by), _value(against(view, m.by)), status_chip(status), _value(m.value),
                    "; ".join(filter(None, notes)) or "—"))
    spans = [(escape(s.measure), status_chip(s.status), _day(s.start),
              "still" if s.current else _day(s.end), _value(s.value),
              escape("; ".join(s.causes)) + (" " + denied(s.denied_by) if s.denied_by else ""))
             for s in view.measures]
    return (f'<h2 id="measures">Measures</h2><p class="muted">As they stand {escape(_when(view))}.</p>'
            + table(("measure", "by", "against", "status", "value", "notes"), now)
            + '<h2 id="measure-spans">How the measures went</h2><p class="muted">Each measure\'s statuses '
              "over time, as the timeline draws them: a pause that ran out is in force again from the day "
              "after it ended, with no event that day.</p>"
            + table(("measure", "status", "from", "to", "value", "why"), spans))


def _when(view: Picture) -> str:
    return f"on {day(view.moment)}"


def _deadlines(view: Picture) -> str:
    if not view.deadlines:
        return ""
    rows = [(escape(d.what), _day(d.due_at),
             escape(f"moved to {day(day_start(d.moved_to or d.due))}" if d.status == MOVED else d.status
                    + (f", then moved to {day(day_start(d.moved_to))}" if d.moved_to else "")),
             _value(d.by), _day(d.set_at), denied(d.denied_by)) for d in view.deadlines]
    return (f'<h2 id="deadlines">Deadlines</h2><p class="muted">Every deadline set, {escape(_when(view))}.</p>'
            + table(("what", "due", "status", "set by", "set on", "notes"), rows))


def _meetings(view: Picture) -> str:
    if not view.meetings:
        return ""
    rows = [(_day(m.at) + (f" to {_on(m.ends_on)}" if m.ends_on else ""), escape(m.level),
             _value(m.format), _value(m.venue), escape(", ".join(m.participants)) or "—", _value(m.summary),
             denied(m.denied_by)) for m in view.meetings]
    return '<h2 id="meetings">Meetings</h2>' + table(
        ("date", "level", "format", "venue", "participants", "summary", "notes"), rows)


def _acts(view: Picture, told: dict[int, StoryEvent]) -> str:
    acts = view.negotiation.third_party_acts
    if not acts:
        return ""
    rows = []
    for act in acts:
        event = told.get(act.get("version", 0))
        rows.append((_on(act.get("on")), _value(act.get("actor")), _value(act.get("kind")), _value(act.get("of")),
                     _value(act.get("action")), denied(event.denied_by if event else ())))
    return '<h2 id="acts">Third parties</h2>' + table(("date", "actor", "kind", "of", "action", "notes"), rows)


def _story(view: Picture) -> str:
    ghosts = {g.entry.event_id: g for g in view.ghosts}
    rows = []
    for step in view.steps:
        event = step.event
        notes = []
        if step.late:
            notes.append(f'<span class="late">reported {days_later(step.lag.days)}</span>')
        ghost = ghosts.get(event.event_id)
        if event.denied_by:
            notes.append(denied(event.denied_by))
        if ghost is not None:
            notes.append("corrected by " + ", ".join(
                f"version {c.version} ({_day(c.reported_at)}: {escape(str(c.data.get('reason', '')))})"
                for c in ghost.by) + (f"; at first dated {_day(ghost.entry.occurred_at)}"
                                       if ghost.entry.occurred_at != event.occurred_at else ""))
        rows.append((_day(event.occurred_at), escape(event.type), escape(describe(event.type, event.data)),
                     _sources(event.sources), _day(event.reported_at),
                     escape(change_of_state(step.before, step.after)), "; ".join(notes)))
    return ('<h2 id="story">Story</h2><p class="muted">Its events in the order they happened, as corrected.</p>'
            + table(("date", "event", "what", "sources", "reported", "state", "notes"), rows))


def _disputes(view: Picture) -> str:
    if not view.disputes:
        return ""
    rows = [(escape(d.point), _day(d.start), _day(d.end) if d.end else "still open",
             "<br>".join(f"{escape(p)}: {escape(s)}" for p, s in d.positions.items()) or "—",
             _value(d.resolution)) for d in view.disputes]
    return '<h2 id="disputes">Disputed points</h2>' + table(("point", "disputed", "resolved", "positions",
                                                             "resolution"), rows)


def _term_changes(view: Picture) -> str:
    changes = [(_day(c.at), escape(c.term), _value(c.according_to) if c.according_to else "common",
                _term(c.term, c.before), _term(c.term, c.after), escape(c.event_type)) for c in view.term_changes]
    return ('<h2 id="term-changes">How the terms changed</h2>'
            + (table(("date", "term", "whose", "before", "after", "event"), changes) if changes else
               "<p>No terms recorded.</p>"))


def _corrections(view: Picture) -> str:
    if not view.corrections:
        return '<h2 id="corrections">Corrections</h2><p>Nothing has been retracted, corrected or denied.</p>'
    rows = [(str(c.version), _day(c.reported_at), escape(c.type), escape(describe(c.type, c.data)),
             _sources(c.sources)) for c in view.corrections]
    return ('<h2 id="corrections">Corrections</h2><p class="muted">Entries of the log that withdrew, '
            "corrected or denied an event; the log keeps both.</p>"
            + table(("version", "reported", "entry", "what", "sources"), rows))
