"""The words a reader sees, in one place: the terminal's tables and the report say the same.

The machine keeps its own names (``agreed_in_principle``, ``in_force``, a
term's value ``550000000000``): they stay in ``--json`` and the Python API.
Here they become what a person reads: ``agreed in principle``, ``in force``,
``$550 billion`` (the term's name says it is in USD), ``1 day later``.

Nothing here draws or prints, and nothing here is heavy to import: the
command line loads it on every command.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from ..domain import machine
from ..domain.payloads import describe as machine_describe
from ..domain.sources import Source, SourceRecord
from ..domain.times import day_or_iso

if TYPE_CHECKING:  # only named in annotations: the command loads this module on every call
    from ..domain.aggregate import Negotiation
    from ..domain.entries import RecordedEvent

#: Each state of the machine as a reader says it.
STATE_WORDS: dict[str, str] = {
    machine.NOT_OPENED: "not opened",
    machine.AGREED: "agreed in principle",
    machine.DISPUTED: "terms disputed",
    machine.VISIT_CANCELLED: "visit cancelled",
    machine.TALKS: "working-level talks",
    machine.SUSPENDED: "talks suspended",
    machine.FINALISED: "finalised",
}
#: The currencies written with their sign; any other code in a term's name is written after the amount.
CURRENCY_SIGNS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}
#: A currency named in a term's name, in brackets: ``investment (USD)``, ``goal (JPY, set 2022)``.
_CURRENCY = re.compile(r"\(([A-Z]{3})[,)]")
_SCALES = ((10 ** 12, "trillion"), (10 ** 9, "billion"), (10 ** 6, "million"))


def state(name: str) -> str:
    """A state as a reader says it: ``working-level talks``; a name it does not know, with spaces."""
    return STATE_WORDS.get(name, name.replace("_", " "))


def change_of_state(before: str, after: str) -> str:
    """``working-level talks → finalised``."""
    return f"{state(before)} → {state(after)}"


def status(name: str) -> str:
    """A measure's status as a reader says it: ``in force``, ``threat lapsed``."""
    return name.replace("_", " ")


def plural(count: int, word: str, words: str | None = None) -> str:
    """``1 day``, ``3 days``."""
    return f"{count} {word if count == 1 else (words or word + 's')}"


def days_later(days: int) -> str:
    """How long after: ``the same day``, ``1 day later``, ``10 days later``."""
    return "the same day" if days == 0 else f"{plural(days, 'day')} later"


def number(value: int | float) -> str:
    """A number with its thousands marked from ten thousand up (a year stays ``2028``): ``550,000,000,000``."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if abs(value) >= 10_000 else str(value)


def currency(term: str) -> str | None:
    """The currency a term's name says its amount is in (``investment (USD)``: USD), if it says one."""
    found = _CURRENCY.search(term)
    return found[1] if found else None


def amount(value: int | float, code: str) -> str:
    """An amount of money as a reader says it: ``$550 billion``, ``¥10 trillion``, ``1.2 trillion KRW``.

    Exact or not at all: an amount that a scale cannot say in three decimals is written in full.
    """
    sign = CURRENCY_SIGNS.get(code, "")
    said = number(value)
    for scale, word in _SCALES:
        if abs(value) >= scale:
            scaled = round(value / scale, 3)
            if scaled * scale == value:
                said = f"{scaled:.3f}".rstrip("0").rstrip(".") + f" {word}"
            break
    return f"{sign}{said}" if sign else f"{said} {code}"


def value(item: Any) -> str:
    """A value of the log as a reader reads it: numbers with their thousands marked, yes or no, text as written."""
    if isinstance(item, bool):
        return "yes" if item else "no"
    if isinstance(item, (int, float)):
        return number(item)
    if item is None:
        return "—"
    if isinstance(item, (list, tuple)):
        return ", ".join(value(i) for i in item)
    return str(item)


def term(name: str, item: Any) -> str:
    """A term's value: an amount of money when its name says the currency (``$550 billion``), else ``value``."""
    code = currency(name)
    if code is not None and isinstance(item, (int, float)) and not isinstance(item, bool):
        return amount(item, code)
    return value(item)


def terms(said: Mapping[str, Any]) -> str:
    """Terms with their values: ``framework → 15% ceiling; investment (USD) → $550 billion``."""
    return "; ".join(f"{name} → {term(name, item)}" for name, item in said.items())


def describe(event_type: str, data: Mapping[str, Any]) -> str:
    """What an event did, in one line, with the values of the terms it amended."""
    if event_type == "TermsAmended" and isinstance(data.get("terms"), Mapping):
        who = f" according to {data['according_to']}" if data.get("according_to") else ""
        return f"terms amended{who}: {terms(data['terms'])}"
    return machine_describe(event_type, data)


def moment(when: datetime | None) -> str:
    """A moment in a table or a line: its day when it is midnight, else ISO 8601 to the second; a dash for none."""
    return "—" if when is None else day_or_iso(when, "seconds")


class Said(NamedTuple):
    """A piece of a line about a log entry, and what it is: the terminal styles each kind its own way, a feed
    takes the text."""

    text: str
    #: "position", "type", "sources", "state" (then ``state`` is the machine's name), or "" for plain text.
    kind: str = ""
    state: str | None = None


def plain(pieces: Iterable[Said]) -> str:
    """The pieces as one line of text."""
    return "".join(piece.text for piece in pieces)


def entry_said(entry: RecordedEvent) -> list[Said]:
    """``us-japan-2025 v5 TermsDisputed 2025-08-05: point disputed: tariff stacking``."""
    return [Said(f"{entry.negotiation_id} v{entry.version} "), Said(entry.type, "type"),
            Said(f" {moment(entry.occurred_at)}: "), Said(describe(entry.type, entry.data))]


def sources_said(entry: RecordedEvent) -> list[Said]:
    """`` [NHK, Nikkei]``; nothing for an entry that names no source."""
    return [Said(f" [{sources(entry.sources)}]", "sources")] if entry.sources else []


def change_said(after: Negotiation, before: str | None = None) -> list[Said]:
    """The state an entry left the negotiation in, with its open points: ``terms disputed (open: tariff
    stacking)``; with the state ``before`` it, what the entry changed: ``agreed in principle → terms disputed
    (open: tariff stacking)``, or ``still agreed in principle``."""
    now = Said(state(after.state), "state", after.state)
    if before is None:
        said = [now]
    elif before == after.state:
        said = [Said("still "), now]
    else:
        said = [Said(state(before), "state", before), Said(" → "), now]
    if after.open_disputes:
        said.append(Said(f" (open: {', '.join(after.open_disputes)})"))
    return said


def watch_line(entry: RecordedEvent, after: Negotiation | None) -> list[Said]:
    """What ``watch`` prints of an entry: ``#12 us-japan-2025 v5 TermsDisputed 2025-08-05: point disputed:
    tariff stacking [NHK] → terms disputed (open: tariff stacking)``; no state when its story cannot be told."""
    line = [Said(f"#{entry.position} ", "position"), *entry_said(entry), *sources_said(entry)]
    return line + ([Said(" → "), *change_said(after)] if after is not None else [])


def published(record: SourceRecord) -> str:
    """The day an article appeared, as a reader says it: ``22 Jul 2025``."""
    return f"{record.published.day} {record.published:%b %Y}"


def source(said: Source) -> str:
    """A source as a reader reads it: the outlet's name; an article as ``Reuters, 22 Jul 2025: “Headline”
    <https://…>``, with the words quoted from it after."""
    if isinstance(said, str):
        return said
    words = f"{said.outlet}, {published(said)}: “{said.headline}” <{said.url}>"
    return words + (f" quoting “{said.quote}”" if said.quote is not None else "")


def sources(said: Iterable[Source]) -> str:
    """An entry's sources, one after another: ``Reuters, Kyodo``, or ``""`` for none.

    Names are parted by commas, as they always were; an article's headline may hold
    commas of its own, so where one is named they are parted by semicolons."""
    listed = list(said)
    parting = ", " if all(isinstance(each, str) for each in listed) else "; "
    return parting.join(source(each) for each in listed)
