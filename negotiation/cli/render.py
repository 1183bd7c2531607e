"""How negotiations and events look on a terminal (rich renderables, no I/O)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..domain.aggregate import Negotiation
from ..domain.entries import RecordedEvent
from ..domain.payloads import describe
from ..domain.story import StoryEvent
from ..domain.times import day_or_iso
from ..questions import (Deal, DeadlineRow, Details, DeniedEvent, MeasureRow, Meeting, Suspension, ThirdPartyAct,
                         Views)

STATE_STYLES = {
    "agreed_in_principle": "cyan",
    "disputed_terms": "yellow",
    "visit_cancelled": "red",
    "working_level_talks": "magenta",
    "finalised": "green",
    "talks_suspended": "bright_red",
}


def plain(text: str) -> Text:
    """Text from the log, shown as written: brackets in it are not rich markup."""
    return Text(text)


def state_text(state: str) -> Text:
    return Text(state, style=f"bold {STATE_STYLES.get(state, 'white')}")


def day(moment: datetime | None) -> str:
    """A moment in a table: its day when it is midnight, else ISO 8601 to the second; a dash for none."""
    return "—" if moment is None else day_or_iso(moment, "seconds")




def marks(event: RecordedEvent) -> str:
    """What later entries did to an event: retracted by one, corrected by others."""
    said = []
    if event.retracted_by is not None:
        said.append(f"retracted by v{event.retracted_by}")
    if event.corrected_by:
        said.append("corrected by " + ", ".join(f"v{v}" for v in event.corrected_by))
    return "; ".join(said)


def negotiation_panel(negotiation: Negotiation, title: str | None = None) -> Panel:
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    facts.add_row("state", state_text(negotiation.state))
    facts.add_row("version", str(negotiation.version))
    facts.add_row("parties", " – ".join(negotiation.parties))
    facts.add_row("opened", day(negotiation.opened_at))
    facts.add_row("deal in principle", day(negotiation.deal_announced_at) if negotiation.has_deal else "none yet")
    facts.add_row("last event", day(negotiation.updated_at))
    facts.add_row("open points", plain(", ".join(negotiation.open_disputes) or "none"))
    if negotiation.instruments:
        facts.add_row("instruments", plain("\n".join(negotiation.instruments)))
    for point, stances in negotiation.positions.items():
        said = "; ".join(f"{party}: {stance}" for party, stance in stances.items())
        if said:
            facts.add_row(f"positions on {point}", plain(said))
    facts.add_row("allowed next", ", ".join(negotiation.allowed_events) or "nothing")
    parts: list[Any] = [facts]
    if negotiation.terms:
        terms = Table(title="terms", title_justify="left", show_edge=False, expand=True)
        terms.add_column("term", style="bold", ratio=1)
        terms.add_column("value", ratio=2)
        for name, value in negotiation.terms.items():
            shown = f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)
            terms.add_row(plain(name), plain(shown))
        parts.append(terms)
    return Panel(Group(*parts), title=title or negotiation.id, title_align="left")


def history_table(events: Iterable[RecordedEvent], title: str | None = None) -> Table:
    """The log as recorded: every entry, with when it happened, was reported and what later changed it."""
    table = Table(title=title, title_justify="left")
    table.add_column("v", justify="right")
    table.add_column("occurred")
    table.add_column("reported")
    table.add_column("entry", no_wrap=True)
    table.add_column("what happened")
    table.add_column("sources")
    table.add_column("since")
    for event in events:
        struck = event.retracted_by is not None
        table.add_row(str(event.version), day(event.occurred_at), day(event.reported_at),
                      Text(event.type, style="strike" if struck else ""),
                      plain(describe(event.type, event.data)), plain(", ".join(event.sources)),
                      Text(marks(event), style="yellow"))
    return table


def story_table(story: Iterable[StoryEvent], title: str | None = None) -> Table:
    """The story: effective events in the order they happened, as corrected."""
    table = Table(title=title, title_justify="left")
    table.add_column("occurred")
    table.add_column("v", justify="right")
    table.add_column("event", no_wrap=True)
    table.add_column("what happened")
    table.add_column("reported")
    table.add_column("sources")
    table.add_column("corrected by")
    for event in story:
        table.add_row(day(event.occurred_at), str(event.version), event.type,
                      plain(describe(event.type, event.data)), day(event.reported_at),
                      plain(", ".join(event.sources)), ", ".join(f"v{v}" for v in event.corrected_by))
    return table


def steps_table(steps: Iterable[tuple[RecordedEvent, Negotiation]], title: str | None = None) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("v", justify="right")
    table.add_column("occurred")
    table.add_column("event", no_wrap=True)
    table.add_column("state after", no_wrap=True)
    table.add_column("open points")
    for event, negotiation in steps:
        table.add_row(str(event.version), day(event.occurred_at), event.type,
                      state_text(negotiation.state), plain(", ".join(negotiation.open_disputes) or "—"))
    return table


def negotiations_table(negotiations: Iterable[Negotiation]) -> Table:
    table = Table()
    table.add_column("negotiation")
    table.add_column("parties")
    table.add_column("state", no_wrap=True)
    table.add_column("version", justify="right")
    table.add_column("last event")
    for negotiation in negotiations:
        table.add_row(negotiation.id, " – ".join(negotiation.parties), state_text(negotiation.state),
                      str(negotiation.version), day(negotiation.updated_at))
    return table


# -- what goes on beside the phase (negotiation.questions) --------------------------------------------------

MEASURE_STYLES = {"in_force": "bold red", "threatened": "yellow", "paused": "cyan", "lifted": "green",
                  "threat_lapsed": "dim", "not_announced": "dim"}
DUE_STYLES = {"pending": "bold yellow", "passed": "dim"}


def on(value: date | None) -> str:
    """A day in a table; a dash for none."""
    return "—" if value is None else value.isoformat()


def said(value: str | None) -> Text:
    """Text from the log, or a dash for none."""
    return plain("—" if value is None else value)


def measures_table(rows: Iterable[MeasureRow], title: str | None = None, *, across: bool = False) -> Table:
    """Measures with their status at the time asked; ``across`` names each row's negotiation."""
    table = Table(title=title, title_justify="left")
    if across:
        table.add_column("negotiation", no_wrap=True)
    table.add_column("measure")
    table.add_column("status", no_wrap=True)
    table.add_column("value")
    table.add_column("by → against", no_wrap=True)
    table.add_column("since", no_wrap=True)
    table.add_column("effective from", no_wrap=True)
    table.add_column("paused until", no_wrap=True)
    table.add_column("threat")
    table.add_column("v", justify="right")
    for row in rows:
        threat = " ".join(filter(None, [row.threatened_value, f"from {row.effective}" if row.effective else None]))
        cells: list[Text | str] = [
            plain(row.name), Text(row.status, style=MEASURE_STYLES.get(row.status, "")), said(row.value),
            plain(f"{row.by or '—'} → {row.against or '—'}"), on(row.since), on(row.effective_from),
            on(row.paused_until), plain(threat or "—"), str(row.version)]
        table.add_row(*([row.negotiation_id] if across else []), *cells)
    return table


def deadlines_table(rows: Iterable[DeadlineRow], title: str | None = None, *, across: bool = False) -> Table:
    """What falls due, by due day, pending or passed at the time asked."""
    table = Table(title=title, title_justify="left")
    table.add_column("due", no_wrap=True)
    table.add_column("status", no_wrap=True)
    if across:
        table.add_column("negotiation", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("what")
    table.add_column("by", no_wrap=True)
    table.add_column("v", justify="right")
    for row in rows:
        table.add_row(on(row.due), Text(row.status, style=DUE_STYLES.get(row.status, "")),
                      *([row.negotiation_id] if across else []), row.kind, plain(row.what), said(row.by),
                      str(row.version))
    return table


def deals_table(deals: Iterable[Deal]) -> Table:
    table = Table(title="deals", title_justify="left")
    table.add_column("on", no_wrap=True)
    table.add_column("deal", no_wrap=True)
    table.add_column("title")
    table.add_column("instruments")
    table.add_column("according to", no_wrap=True)
    table.add_column("v", justify="right")
    for deal in deals:
        table.add_row(on(deal.on), deal.kind, said(deal.title), plain("\n".join(deal.instruments) or "—"),
                      said(deal.according_to), str(deal.version))
    return table


def meetings_table(meetings: Iterable[Meeting]) -> Table:
    table = Table(title="meetings", title_justify="left")
    table.add_column("on", no_wrap=True)
    table.add_column("level", no_wrap=True)
    table.add_column("format", no_wrap=True)
    table.add_column("venue")
    table.add_column("participants")
    table.add_column("v", justify="right")
    for meeting in meetings:
        days = on(meeting.on) + (f" – {on(meeting.ends_on)}" if meeting.ends_on else "")
        table.add_row(days, meeting.level, said(meeting.format), said(meeting.venue),
                      plain(", ".join(meeting.participants) or "—"), str(meeting.version))
    return table


def views_table(views: Views, *, stated_only: bool = False) -> Table:
    """Each term as the common terms give it and as each party tells it; differing terms marked.

    ``stated_only`` keeps the terms some party tells otherwise than the common terms (or adds).
    """
    table = Table(title="each party's terms", title_justify="left",
                  caption=("the views differ on: " + ", ".join(views.differences)) if views.differences else
                  "the views do not differ", caption_justify="left")
    table.add_column("term", style="bold")
    table.add_column("common")
    for party in views.parties:
        table.add_column(f"according to {party}")
    names = list(dict.fromkeys([*views.common, *(name for view in views.views.values() for name in view)]))
    if stated_only:
        names = [name for name in names
                 if any(name in view and (name not in views.common or view[name] != views.common[name])
                        for view in views.views.values())]
    for name in names:
        differs = name in views.differences
        cells = [_term(views.common, name), *(_term(views.views[party], name) for party in views.parties)]
        table.add_row(Text(f"≠ {name}" if differs else name, style="yellow" if differs else ""), *cells)
    return table


def _term(terms: dict[str, Any], name: str) -> Text:
    if name not in terms:
        return Text("—")
    value = terms[name]
    return plain(f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value))


def suspensions_table(suspensions: Iterable[Suspension]) -> Table:
    table = Table(title="talks suspended", title_justify="left")
    table.add_column("on", no_wrap=True)
    table.add_column("by", no_wrap=True)
    table.add_column("terminated", no_wrap=True)
    table.add_column("reason")
    table.add_column("v", justify="right")
    for suspension in suspensions:
        table.add_row(on(suspension.on), suspension.by, "yes" if suspension.terminated else "no",
                      said(suspension.reason), str(suspension.version))
    return table


def acts_table(acts: Iterable[ThirdPartyAct]) -> Table:
    table = Table(title="third-party acts", title_justify="left")
    table.add_column("on", no_wrap=True)
    table.add_column("actor")
    table.add_column("of", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("action")
    table.add_column("v", justify="right")
    for act in acts:
        table.add_row(on(act.on), plain(act.actor), said(act.of), said(act.kind), plain(act.action),
                      str(act.version))
    return table


def denied_table(denied: Iterable[DeniedEvent]) -> Table:
    table = Table(title="denied reports", title_justify="left")
    table.add_column("v", justify="right")
    table.add_column("occurred", no_wrap=True)
    table.add_column("event", no_wrap=True)
    table.add_column("what happened")
    table.add_column("denied by")
    for event in denied:
        table.add_row(str(event.version), day(event.occurred_at), event.type, plain(event.summary),
                      plain(", ".join(event.denied_by)))
    return table


def details_sections(details: Details) -> list[Table]:
    """The tables of a negotiation's details, only those with something in them, in the order a reader asks."""
    sections: list[Table] = []
    if details.measures:
        sections.append(measures_table(details.measures, "measures"))
    if details.deadlines:
        sections.append(deadlines_table(details.deadlines, "falling due"))
    if details.deals:
        sections.append(deals_table(details.deals))
    if details.meetings:
        sections.append(meetings_table(details.meetings))
    if details.views.stated:
        sections.append(views_table(details.views, stated_only=True))
    if details.suspensions:
        sections.append(suspensions_table(details.suspensions))
    if details.third_party_acts:
        sections.append(acts_table(details.third_party_acts))
    if details.denied:
        sections.append(denied_table(details.denied))
    return sections
