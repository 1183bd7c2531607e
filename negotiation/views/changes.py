"""What changed in what was known (``Ledger.diff``), in a reader's words: the terminal and the report say the same.

A difference is told as one line, ``what: before → after``, followed by the
entries that made it (``by version 8, late news``), or by ``time passed,
nothing reported`` when no entry did. Each entry reported in between is one
line too: its version, the kind of news it was, when it happened and when it
was reported, its sources and what it said.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..domain.belief import (
    DEADLINE,
    MEASURE,
    OPEN_POINT,
    STATE,
    STORY,
    TERM,
    BeliefDiff,
    Change,
    ReportedEntry,
)
from ..domain.times import from_iso, spoken_day
from . import words
from .words import describe, plural, state, status, term


def between(diff: BeliefDiff) -> str:
    """``from 20 Sep 2025 to 22 Sep 2025``."""
    return f"from {spoken_day(diff.known_at_1)} to {spoken_day(diff.known_at_2)}"


def counts(diff: BeliefDiff, when: str = "") -> str:
    """How many things changed (``when``: between which times, said after it) and how many entries were
    reported in between, or that nothing changed."""
    reported = plural(len(diff.reported), "entry", "entries")
    when = f" {when}" if when else ""
    if not diff.changes:
        return f"nothing changed{when} ({reported} reported, none changing what was known)" if diff.reported \
            else f"nothing changed{when}"
    return f"{plural(len(diff.changes), 'change')}{when}, {reported} reported in between"


def summary(diff: BeliefDiff) -> str:
    """One line: what ``counts`` says, and between which times."""
    return counts(diff, between(diff))


def entry_line(entry: ReportedEntry) -> str:
    """``version 8, late news of 19 Sep 2025, reported 22 Sep 2025 (Reuters, KBS): point disputed: …``."""
    about = f" of version {entry.target_version}" if entry.target_version is not None else ""
    happened = "" if entry.target_version is not None else f" of {spoken_day(entry.occurred_at)}"
    sources = f" ({words.sources(entry.sources)})" if entry.sources else ""
    return (f"version {entry.version}, {entry.kind}{about}{happened}, reported {spoken_day(entry.reported_at)}"
            f"{sources}: {describe(entry.type, entry.data)}")


def change_line(change: Change, diff: BeliefDiff) -> str:
    """``open point currency swap: not open → open, by version 8 (late news)``."""
    return f"{_what(change)}: {_told(change, change.before)} → {_told(change, change.after)}, {_why(change, diff)}"


def lines(diff: BeliefDiff) -> list[str]:
    """The whole difference: the summary, what changed, the entries reported in between, and the state."""
    said = [summary(diff)]
    if diff.changes:
        said += ["what changed:", *(f"  {change_line(change, diff)}" for change in diff.changes)]
    if diff.reported:
        said += ["reported in between:", *(f"  {entry_line(entry)}" for entry in diff.reported)]
    if not any(change.aspect == STATE for change in diff.changes):
        said.append(f"state: {state(diff.after.state)}, as before")
    return said


def _what(change: Change) -> str:
    if change.aspect == STORY:
        return f"story, {change.subject}"
    if change.aspect == STATE:
        return STATE
    if change.aspect == TERM:
        whose, name = change.subject.split(": ", 1)
        return f"term {name} ({'common' if whose == 'common' else f'as {whose} tells it'})"
    return f"{change.aspect} {change.subject}"


def _told(change: Change, value: Any) -> str:
    """What was believed of it at one of the two times, in words."""
    if change.aspect == STORY:
        # What an added or withdrawn event said is in its entry's line; a corrected one is told in full.
        return "not in the story" if value is None else _event(value, full=None not in (change.before,
                                                                                        change.after))
    if change.aspect == OPEN_POINT:
        return "not open" if value is None else "open"
    if value is None:
        return "not known"
    if change.aspect == STATE:
        return state(value)
    if change.aspect == MEASURE:
        return status(value["status"]) + (f", {value['value']}" if value.get("value") else "")
    if change.aspect == DEADLINE:
        return f"due {_day(value['due'])}, {value['status']}"
    if change.aspect == TERM:
        return term(change.subject.split(": ", 1)[1], value)
    return str(value)


def _event(told: dict[str, Any], full: bool) -> str:
    moment = from_iso(told["occurred_at"])
    denied = f", denied by {', '.join(told['denied_by'])}" if told.get("denied_by") else ""
    what = f"{told['type']} ({describe(told['type'], told['data'])})" if full else told["type"]
    return f"{what} of {spoken_day(moment) if moment else '—'}{denied}"


def _day(iso_day: str) -> str:
    return spoken_day(datetime.fromisoformat(iso_day))


def _why(change: Change, diff: BeliefDiff) -> str:
    """The entries that made the difference, with the kind of news each was; or that time alone did."""
    if not change.because:
        return "time passed, nothing reported"
    return "by " + ", ".join(_cause(diff.entry(version)) for version in change.because)


def _cause(entry: ReportedEntry) -> str:
    return f"version {entry.version} ({entry.kind})"

