"""Commands for time and corrections: the story, and retracting or correcting what was recorded."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from . import jsonout
from .main import (AS_OF, AT_VERSION, KNOWN_AT, SOURCE, SOURCE_RECORD_OPTION, WITHOUT_SOURCE, check_story_question,
                   chosen_sources, console, main, opened, sources_named, sources_said)

if TYPE_CHECKING:
    from ..domain.story import StoryEvent
    from ..ledger import Ledger


def _target(text: str) -> int | str:
    """A version number or an event id, as the user typed it."""
    return int(text) if text.isdigit() else text


@main.command()
@click.argument("negotiation_id")
@AT_VERSION
@AS_OF
@KNOWN_AT
@SOURCE
@WITHOUT_SOURCE
@jsonout.OPTION
@click.pass_context
def story(ctx: click.Context, negotiation_id: str, at_version: int | None, as_of: str | None, known_at: str | None,
          only_sources: tuple[str, ...], without_sources: tuple[str, ...], as_json: bool) -> None:
    """Show a negotiation's story: its effective events in the order they happened, as corrected.

    --at-version N shows the story as the ledger held it after entry N of the log: the corrections
    and late events recorded after it not yet applied.

    Example: negotiation story us-japan-2025 --as-of 2025-08-28 --known-at 2025-08-30
    """
    from . import render

    check_story_question(at_version, as_of, known_at, only_sources, without_sources)
    with opened(ctx) as ledger:
        if at_version is not None:
            told = story_held_after(ledger, negotiation_id, at_version)
        else:
            told = ledger.story(negotiation_id, as_of=as_of, known_at=known_at,
                                **chosen_sources(only_sources, without_sources))
    if as_json:
        jsonout.emit([jsonout.story_event(event) for event in told])
        return
    when = " ".join(filter(None, [f"after entry {at_version}" if at_version else "",
                                  f"as of {as_of}" if as_of else "", f"as known at {known_at}" if known_at else "",
                                  sources_said(only_sources, without_sources)]))
    console().print(render.story_table(told, title=f"{negotiation_id} {when}".strip()))


def story_held_after(ledger: Ledger, negotiation_id: str, version: int) -> list[StoryEvent]:
    """The story as the ledger held it after entry ``version``: told by the log up to that entry, or,
    as ``show --at-version`` answers, up to the end of its transaction when the entries before it in
    that transaction were never a story on their own."""
    from ..domain.replay import held_after, same_write
    from ..domain.story import story_of
    from ..errors import InvalidEvent

    entries = ledger.history(negotiation_id)
    if version > len(entries):
        raise InvalidEvent(f"negotiation {negotiation_id!r} has only {len(entries)} events, not {version}")
    _, itself = held_after(negotiation_id, entries, version)
    return story_of(entries[:version if itself else same_write(entries, version)])


@main.command()
@click.argument("negotiation_id")
@click.argument("target")
@click.option("--reason", required=True, help="Why the event is withdrawn.")
@click.option("--source", "sources", multiple=True, metavar="NAME", help="Who reported the retraction; repeatable.")
@SOURCE_RECORD_OPTION
@click.option("--reported-at", metavar="DATE", default=None, help="When the retraction became known (default now).")
@click.option("--expect-version", type=int, default=None, metavar="N", help="Refuse unless the negotiation is at version N.")
@click.pass_context
def retract(ctx: click.Context, negotiation_id: str, target: str, reason: str, sources: tuple[str, ...],
            source_records: tuple[str, ...], reported_at: str | None, expect_version: int | None) -> None:
    """Withdraw a wrongly reported event (TARGET: its version or event id) from the story.

    The log keeps the event and the retraction; refused if the story without it is not legal.

    Example: negotiation retract us-japan-2025 11 --reason "the order was not signed that day" --source NHK
    """
    with opened(ctx, write=True) as ledger:
        entry = ledger.retract(negotiation_id, _target(target), reason=reason,
                               sources=sources_named(sources, source_records),
                               reported_at=reported_at, expected_version=expect_version)
        negotiation = ledger.get(negotiation_id)
    from . import render

    console().print(f"recorded {entry.type} of version {entry.data['target_version']} as version {entry.version}")
    console().print("state now:", render.state_text(negotiation.state))


@main.command()
@click.argument("negotiation_id")
@click.argument("target")
@click.option("--reason", required=True, help="What was wrong.")
@click.option("--data", "data_json", default=None, metavar="JSON",
              help="The event's whole corrected data; @FILE reads it from a file, - from stdin.")
@click.option("--occurred-at", metavar="DATE", default=None, help="The event's corrected date.")
@click.option("--source", "sources", multiple=True, metavar="NAME", help="Who reported the correction; repeatable.")
@SOURCE_RECORD_OPTION
@click.option("--event-reported-at", metavar="DATE", default=None,
              help="When the event in fact became known (its report time corrected, for every --known-at).")
@click.option("--reported-at", metavar="DATE", default=None, help="When the correction became known (default now).")
@click.option("--expect-version", type=int, default=None, metavar="N", help="Refuse unless the negotiation is at version N.")
@click.pass_context
def correct(ctx: click.Context, negotiation_id: str, target: str, reason: str, data_json: str | None,
            occurred_at: str | None, sources: tuple[str, ...], source_records: tuple[str, ...],
            event_reported_at: str | None, reported_at: str | None, expect_version: int | None) -> None:
    """Correct a recorded event's data, date and/or report time (TARGET: its version or event id) in the story.

    Refused if the story after the correction is not legal.

    Example: negotiation correct us-japan-2025 3 --event-reported-at 2025-08-05 --reason "in the news that day"
    """
    data = None if data_json is None else jsonout.read_data(data_json)
    with opened(ctx, write=True) as ledger:
        entry = ledger.correct(negotiation_id, _target(target), reason=reason, data=data, occurred_at=occurred_at,
                               sources=sources_named(sources, source_records), reported_at=reported_at,
                               expected_version=expect_version, event_reported_at=event_reported_at)
        negotiation = ledger.get(negotiation_id)
    from . import render

    console().print(f"recorded {entry.type} of version {entry.data['target_version']} as version {entry.version}")
    console().print("state now:", render.state_text(negotiation.state))
