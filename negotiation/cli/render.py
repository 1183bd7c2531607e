"""How negotiations and events look on a terminal (rich renderables, no I/O)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
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

STATE_STYLES = {
    "agreed_in_principle": "cyan",
    "disputed_terms": "yellow",
    "visit_cancelled": "red",
    "working_level_talks": "magenta",
    "finalised": "green",
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
