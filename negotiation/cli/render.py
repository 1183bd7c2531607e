"""How negotiations and events look on a terminal (rich renderables, no I/O).

Every table fits the width it is printed at, 80 columns or a pipe's: text
wraps at its spaces and nothing is cut short. Ids, dates, versions, states
and event types are never split; when the columns that hold them do not fit
side by side, the less important ones are stacked under another column's
cell (``reported 2025-07-25`` under the day it happened) instead. The words
are the reader's (``negotiation.views.words``): states, statuses and numbers
as a person says them; ``--json`` keeps the machine's names.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from rich.console import Console, ConsoleOptions, Group, JustifyMethod, RenderResult
from rich.measure import Measurement
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..domain.aggregate import Negotiation
from ..domain.entries import RecordedEvent
from ..domain.story import StoryEvent
from ..questions import (Deal, DeadlineRow, Details, DeniedEvent, MeasureRow, Meeting, Suspension, ThirdPartyAct,
                         Views)
from ..views import words

STATE_STYLES = {
    "agreed_in_principle": "cyan",
    "disputed_terms": "yellow",
    "visit_cancelled": "red",
    "working_level_talks": "magenta",
    "finalised": "green",
    "talks_suspended": "bright_red",
}
#: The width of output that goes to no terminal (a pipe, a file) when COLUMNS does not say one.
PIPED_WIDTH = 100


def make_console() -> Console:
    """The console a command prints to: the terminal's width, COLUMNS when set, else ``PIPED_WIDTH``.

    Piped into ``cat`` or ``less`` from a terminal, output takes that terminal's width, as rich does;
    with no terminal at all (a file, a script) it is ``PIPED_WIDTH`` columns, not rich's 80.
    """
    if os.environ.get("COLUMNS", "").isdigit() or _terminal_width() is not None:
        return Console()
    return Console(width=PIPED_WIDTH)


def _terminal_width() -> int | None:
    """The width of the terminal that any of the standard streams is, if one is."""
    for stream in (sys.__stdout__, sys.__stdin__, sys.__stderr__):
        try:
            if stream is not None:
                return os.get_terminal_size(stream.fileno()).columns
        except (AttributeError, ValueError, OSError):
            continue
    return None


def plain(text: str) -> Text:
    """Text from the log, shown as written: brackets in it are not rich markup."""
    return Text(text)


def state_text(state: str) -> Text:
    """A state in words (``working-level talks``), in its colour."""
    return Text(words.state(state), style=f"bold {STATE_STYLES.get(state, 'white')}")


def day(moment: datetime | None) -> str:
    """A moment in a table: its day when it is midnight, else ISO 8601 to the second; a dash for none."""
    return words.moment(moment)


def recorded(event: RecordedEvent) -> Group:
    """What ``record`` says: the entry, then its event id on a line of its own (never broken)."""
    return Group(Text(f"recorded {event.type} as version {event.version} of {event.negotiation_id} "
                      f"(position {event.position})"),
                 Text(f"event id {event.event_id}", no_wrap=True, overflow="ignore"))


# -- tables that fit -------------------------------------------------------------------------------------

#: A word longer than this may be folded when a column is narrow (a web address among sources).
LONGEST_WORD = 30
#: A column of running text is not made narrower than this while another column can be stacked instead.
NARROWEST_TEXT = 14


@dataclass(frozen=True)
class Column:
    """A column of a ``Fitted`` table.

    ``whole``: its cells are never broken (ids, dates, versions, states, event types). ``under``: on a
    narrow screen its cell is shown under that column's, after ``said``; ``fold`` orders the stacking
    (the lowest first).
    """

    header: str
    whole: bool = False
    justify: JustifyMethod = "left"
    under: str | None = None
    said: str = ""
    fold: int = 0
    style: str = ""


@dataclass
class _Part:
    text: Text
    whole: bool


@dataclass
class Fitted:
    """A table that lays itself out for the width it is printed at: wrapped, never cut short.

    Columns stack under others (``Column.under``) until the ones that cannot break fit side by side;
    only a terminal too narrow even for that folds them.
    """

    columns: Sequence[Column]
    title: str | None = None
    caption: str | None = None
    rows: list[list[Text]] = field(default_factory=list)

    def add_row(self, *cells: Text | str) -> None:
        assert len(cells) == len(self.columns), (cells, self.columns)
        self.rows.append([cell if isinstance(cell, Text) else Text(cell) for cell in cells])

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.table(options.max_width)

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        width = _width(self.table(options.max_width))
        return Measurement(width, width)

    def table(self, width: int) -> Table:
        """The rich table for ``width`` columns of terminal."""
        hosts = {c.header: c.header for c in self.columns}
        for i, c in enumerate(self.columns):  # a column with nothing in it (no entry changed later) is left out
            if self.rows and not any(row[i].plain for row in self.rows):
                hosts[c.header] = ""
        stackable = sorted((c for c in self.columns if c.under), key=lambda c: c.fold)
        while True:
            laid = self._lay_out(hosts)
            need = sum(minimum for _, _, minimum, _ in laid) + _overhead(len(laid))
            if need <= width or not stackable:
                break
            column = stackable.pop(0)
            assert column.under is not None
            if not hosts[column.header] or not hosts[column.under]:
                continue
            for name, host in hosts.items():  # what was stacked under it goes with it
                if host == column.header or name == column.header:
                    hosts[name] = hosts[column.under]
        if need > width:
            return self._cards(width)
        widths = _share([minimum for _, _, minimum, _ in laid], [want for _, _, _, want in laid],
                        width - _overhead(len(laid)))
        table = Table(title=self.title, title_justify="left", caption=self.caption, caption_justify="left")
        for (column, cells, _, _), size in zip(laid, widths):
            table.add_column(column.header, justify=column.justify, width=size, overflow="fold", style=column.style)
        for i in range(len(self.rows)):
            table.add_row(*(_joined(cells[i]) for _, cells, _, _ in laid))
        return table

    def _cards(self, width: int) -> Table:
        """Too narrow for columns side by side: each row a card of ``column  value`` lines, one under another."""
        names = max((len(c.header) for c in self.columns), default=1)
        table = Table(title=self.title, title_justify="left", caption=self.caption, caption_justify="left",
                      show_header=False)
        table.add_column(width=names, no_wrap=True, style="bold")
        table.add_column(width=max(width - names - _overhead(2), 1), overflow="fold")
        for row in self.rows:
            shown = [(c, cell) for c, cell in zip(self.columns, row) if cell.plain.strip()]
            for i, (column, cell) in enumerate(shown):
                table.add_row(column.header, cell, end_section=i == len(shown) - 1)
        return table

    def _lay_out(self, hosts: dict[str, str]) -> list[tuple[Column, list[list[_Part]], int, int]]:
        """Each column shown, with its cells (parts stacked under it included), minimum and wanted width."""
        shown = [c for c in self.columns if hosts[c.header] == c.header]
        laid = []
        for column in shown:
            guests = [(i, c) for i, c in enumerate(self.columns) if hosts[c.header] == column.header]
            header = "\n".join(c.header for _, c in guests)
            cells: list[list[_Part]] = []
            for row in self.rows:
                parts: list[_Part] = []
                for i, c in guests:
                    cell = row[i]
                    if c is not column and cell.plain.strip() in ("", "—"):
                        continue
                    text = cell if c is column or not c.said else Text(c.said) + cell
                    parts.append(_Part(text, c.whole))
                cells.append(parts)
            minimum = max([_narrowest(_Part(Text(header), column.whole)),
                           *(_narrowest(p) for parts in cells for p in parts)])
            want = max([max(len(h) for h in header.split("\n")),
                        *(_widest(p) for parts in cells for p in parts)])
            if not column.whole:
                minimum = max(minimum, min(want, NARROWEST_TEXT))
            laid.append((Column(header, column.whole, column.justify, style=column.style), cells, minimum,
                         max(want, minimum)))
        return laid


def _overhead(columns: int) -> int:
    """What a table's borders and padding take: a space either side of each cell, a line between and around."""
    return 3 * columns + 1


def _width(table: Table) -> int:
    return sum(column.width or 0 for column in table.columns) + _overhead(len(table.columns))


def _lines(text: Text) -> list[Text]:
    return list(text.split("\n")) or [Text("")]


def _narrowest(part: _Part) -> int:
    """The narrowest a part can be without breaking what must stay whole."""
    if part.whole:
        return max(line.cell_len for line in _lines(part.text))
    return max((min(len(word), LONGEST_WORD) for line in _lines(part.text) for word in line.plain.split()),
               default=1)


def _widest(part: _Part) -> int:
    return max(line.cell_len for line in _lines(part.text))


def _share(minimum: list[int], want: list[int], room: int) -> list[int]:
    """Widths from their minimums up to what each wants, the room left given out a character at a time."""
    widths = list(minimum)
    if sum(widths) > room:  # even stacked it does not fit: every column shrinks alike, and folds
        spare = sum(widths) - room
        while spare > 0 and any(w > 1 for w in widths):
            i = widths.index(max(widths))
            widths[i] -= 1
            spare -= 1
        return widths
    extra = room - sum(widths)
    while extra > 0:
        growing = [i for i, w in enumerate(widths) if w < want[i]]
        if not growing:
            break
        for i in sorted(growing, key=lambda i: widths[i] - want[i]):
            if extra == 0:
                break
            widths[i] += 1
            extra -= 1
    return widths


def _joined(parts: list[_Part]) -> Text:
    return Text("\n").join(p.text for p in parts) if parts else Text("")


# -- the negotiation and its log --------------------------------------------------------------------------


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
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column(overflow="fold")
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
        terms = Fitted([Column("term", style="bold"), Column("value")], title="terms")
        for name, value in negotiation.terms.items():
            terms.add_row(plain(name), plain(words.term(name, value)))
        parts.append(terms)
    return Panel(Group(*parts), title=title or negotiation.id, title_align="left")


def history_table(events: Iterable[RecordedEvent], title: str | None = None) -> Fitted:
    """The log as recorded: every entry, with when it happened, was reported and what later changed it."""
    table = Fitted([Column("v", whole=True, justify="right"), Column("occurred", whole=True),
                    Column("reported", whole=True, under="occurred", fold=1),
                    Column("entry", whole=True),
                    Column("what happened", under="entry", fold=3),
                    Column("sources", under="what happened", said="sources: ", fold=2),
                    Column("changed later", under="entry", fold=0)], title=title)
    for event in events:
        struck = event.retracted_by is not None
        table.add_row(str(event.version), day(event.occurred_at), day(event.reported_at),
                      Text(event.type, style="strike" if struck else ""),
                      plain(words.describe(event.type, event.data)), plain(words.sources(event.sources)),
                      Text(marks(event), style="yellow"))
    return table


def story_table(story: Iterable[StoryEvent], title: str | None = None) -> Fitted:
    """The story: effective events in the order they happened, as corrected."""
    table = Fitted([Column("occurred", whole=True), Column("v", whole=True, justify="right"),
                    Column("event", whole=True), Column("what happened", under="event", fold=3),
                    Column("reported", whole=True, under="occurred", fold=1),
                    Column("sources", under="what happened", said="sources: ", fold=2),
                    Column("corrected by", under="event", said="corrected by ", fold=0)], title=title)
    for event in story:
        table.add_row(day(event.occurred_at), str(event.version), event.type,
                      plain(words.describe(event.type, event.data)), day(event.reported_at),
                      plain(words.sources(event.sources)), ", ".join(f"v{v}" for v in event.corrected_by))
    return table


def steps_table(steps: Iterable[tuple[RecordedEvent, Negotiation]], title: str | None = None) -> Fitted:
    table = Fitted([Column("v", whole=True, justify="right"), Column("occurred", whole=True),
                    Column("event", whole=True), Column("state after", whole=True, under="event", fold=1),
                    Column("open points", under="state after", said="open: ", fold=0)], title=title)
    for event, negotiation in steps:
        table.add_row(str(event.version), day(event.occurred_at), event.type,
                      state_text(negotiation.state), plain(", ".join(negotiation.open_disputes) or "—"))
    return table


def negotiations_table(negotiations: Iterable[Negotiation]) -> Fitted:
    table = Fitted([Column("negotiation", whole=True),
                    Column("parties", whole=True, under="negotiation", fold=1),
                    Column("state", whole=True), Column("entries", whole=True, justify="right"),
                    Column("last event", whole=True, under="state", said="last event ", fold=0)])
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


def measures_table(rows: Iterable[MeasureRow], title: str | None = None, *, across: bool = False) -> Fitted:
    """Measures with their status at the time asked; ``across`` names each row's negotiation."""
    columns = [Column("negotiation", whole=True)] if across else []
    columns += [Column("measure", under="negotiation" if across else None, fold=5), Column("status", whole=True),
                Column("value"),
                Column("by → against", whole=True, under="status", fold=3),
                Column("status since", whole=True),
                Column("effective from", whole=True, under="status since", said="effective ", fold=1),
                Column("paused until", whole=True, under="status since", said="paused until ", fold=2),
                Column("threatened", under="value", said="threatened: ", fold=0),
                Column("v", whole=True, justify="right", under="status since", said="v", fold=4)]
    table = Fitted(columns, title=title)
    for row in rows:
        threat = " ".join(filter(None, [row.threatened_value, f"from {row.effective}" if row.effective else None]))
        cells: list[Text | str] = [
            plain(row.name), Text(words.status(row.status), style=MEASURE_STYLES.get(row.status, "")),
            said(row.value), plain(f"{row.by or '—'} → {row.against or '—'}"), on(row.since),
            on(row.effective_from), on(row.paused_until), plain(threat or "—"), str(row.version)]
        table.add_row(*([row.negotiation_id] if across else []), *cells)
    return table


def deadlines_table(rows: Iterable[DeadlineRow], title: str | None = None, *, across: bool = False) -> Fitted:
    """What falls due, by due day, pending or passed at the time asked."""
    columns = [Column("due", whole=True), Column("status", whole=True, under="due", fold=1)]
    columns += [Column("negotiation", whole=True)] if across else []
    columns += [Column("kind", whole=True, under="what", said="", fold=2), Column("what"),
                Column("by", whole=True, under="what", said="by ", fold=0),
                Column("v", whole=True, justify="right")]
    table = Fitted(columns, title=title)
    for row in rows:
        table.add_row(on(row.due), Text(row.status, style=DUE_STYLES.get(row.status, "")),
                      *([row.negotiation_id] if across else []), row.kind, plain(row.what), said(row.by),
                      str(row.version))
    return table


def deals_table(deals: Iterable[Deal]) -> Fitted:
    table = Fitted([Column("on", whole=True), Column("deal", whole=True), Column("title"),
                    Column("instruments", under="title", fold=1),
                    Column("according to", whole=True, under="deal", said="according to ", fold=0),
                    Column("v", whole=True, justify="right")], title="deals")
    for deal in deals:
        table.add_row(on(deal.on), deal.kind, said(deal.title), plain("\n".join(deal.instruments) or "—"),
                      said(deal.according_to), str(deal.version))
    return table


def meetings_table(meetings: Iterable[Meeting]) -> Fitted:
    table = Fitted([Column("on"), Column("level", whole=True),
                    Column("format", whole=True, under="level", fold=0), Column("venue"),
                    Column("participants", under="venue", said="with ", fold=1),
                    Column("v", whole=True, justify="right")], title="meetings")
    for meeting in meetings:
        days = on(meeting.on) + (f" – {on(meeting.ends_on)}" if meeting.ends_on else "")
        table.add_row(days, meeting.level, said(meeting.format), said(meeting.venue),
                      plain(", ".join(meeting.participants) or "—"), str(meeting.version))
    return table


def views_table(views: Views, *, stated_only: bool = False) -> Fitted:
    """Each term as the common terms give it and as each party tells it; differing terms marked.

    ``stated_only`` keeps the terms some party tells otherwise than the common terms (or adds).
    """
    table = Fitted([Column("term", style="bold"), Column("common"),
                    *(Column(f"according to {party}") for party in views.parties)],
                   title="each party's terms",
                   caption=("the views differ on: " + ", ".join(views.differences)) if views.differences else
                   "the views do not differ")
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
    return Text("—") if name not in terms else plain(words.term(name, terms[name]))


def suspensions_table(suspensions: Iterable[Suspension]) -> Fitted:
    table = Fitted([Column("on", whole=True), Column("by", whole=True),
                    Column("terminated", whole=True, under="by", said="terminated: ", fold=0), Column("reason"),
                    Column("v", whole=True, justify="right")], title="talks suspended")
    for suspension in suspensions:
        table.add_row(on(suspension.on), suspension.by, "yes" if suspension.terminated else "no",
                      said(suspension.reason), str(suspension.version))
    return table


def acts_table(acts: Iterable[ThirdPartyAct]) -> Fitted:
    table = Fitted([Column("on", whole=True), Column("actor"), Column("of", whole=True, under="actor", said="of ",
                                                                       fold=1),
                    Column("kind", whole=True, under="actor", fold=0), Column("action"),
                    Column("v", whole=True, justify="right")], title="third-party acts")
    for act in acts:
        table.add_row(on(act.on), plain(act.actor), said(act.of), said(act.kind), plain(act.action),
                      str(act.version))
    return table


def denied_table(denied: Iterable[DeniedEvent]) -> Fitted:
    table = Fitted([Column("v", whole=True, justify="right"), Column("occurred", whole=True),
                    Column("event", whole=True), Column("what happened", under="event", fold=1),
                    Column("denied by", under="event", said="denied by ", fold=0)], title="denied reports")
    for event in denied:
        table.add_row(str(event.version), day(event.occurred_at), event.type, plain(event.summary),
                      plain(", ".join(event.denied_by)))
    return table


def details_sections(details: Details) -> list[Fitted]:
    """The tables of a negotiation's details, only those with something in them, in the order a reader asks."""
    sections: list[Fitted] = []
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
