"""Commands for time and corrections: the story, and retracting or correcting what was recorded."""

from __future__ import annotations

import click

from . import jsonout
from .main import AS_OF, KNOWN_AT, SOURCE, WITHOUT_SOURCE, chosen_sources, console, main, opened, sources_said


def _target(text: str) -> int | str:
    """A version number or an event id, as the user typed it."""
    return int(text) if text.isdigit() else text


@main.command()
@click.argument("negotiation_id")
@AS_OF
@KNOWN_AT
@SOURCE
@WITHOUT_SOURCE
@jsonout.OPTION
@click.pass_context
def story(ctx: click.Context, negotiation_id: str, as_of: str | None, known_at: str | None,
          only_sources: tuple[str, ...], without_sources: tuple[str, ...], as_json: bool) -> None:
    """Show a negotiation's story: its effective events in the order they happened, as corrected.

    Example: negotiation story us-japan-2025 --as-of 2025-08-28 --known-at 2025-08-30
    """
    from . import render

    with opened(ctx) as ledger:
        told = ledger.story(negotiation_id, as_of=as_of, known_at=known_at,
                            **chosen_sources(only_sources, without_sources))
    if as_json:
        jsonout.emit([jsonout.story_event(event) for event in told])
        return
    when = " ".join(filter(None, [f"as of {as_of}" if as_of else "", f"as known at {known_at}" if known_at else "",
                                  sources_said(only_sources, without_sources)]))
    console().print(render.story_table(told, title=f"{negotiation_id} {when}".strip()))


@main.command()
@click.argument("negotiation_id")
@click.argument("target")
@click.option("--reason", required=True, help="Why the event is withdrawn.")
@click.option("--source", "sources", multiple=True, metavar="NAME", help="Who reported the retraction; repeatable.")
@click.option("--reported-at", metavar="DATE", default=None, help="When the retraction became known (default now).")
@click.option("--expect-version", type=int, default=None, metavar="N", help="Refuse unless the negotiation is at version N.")
@click.pass_context
def retract(ctx: click.Context, negotiation_id: str, target: str, reason: str, sources: tuple[str, ...],
            reported_at: str | None, expect_version: int | None) -> None:
    """Withdraw a wrongly reported event (TARGET: its version or event id) from the story.

    The log keeps the event and the retraction; refused if the story without it is not legal.

    Example: negotiation retract us-japan-2025 11 --reason "the order was not signed that day" --source NHK
    """
    with opened(ctx, write=True) as ledger:
        entry = ledger.retract(negotiation_id, _target(target), reason=reason, sources=sources,
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
@click.option("--reported-at", metavar="DATE", default=None, help="When the correction became known (default now).")
@click.option("--expect-version", type=int, default=None, metavar="N", help="Refuse unless the negotiation is at version N.")
@click.pass_context
def correct(ctx: click.Context, negotiation_id: str, target: str, reason: str, data_json: str | None,
            occurred_at: str | None, sources: tuple[str, ...], reported_at: str | None,
            expect_version: int | None) -> None:
    """Correct a recorded event's data and/or date (TARGET: its version or event id) in the story.

    Refused if the story after the correction is not legal.

    Example: negotiation correct us-japan-2025 3 --occurred-at 2025-08-06 --reason "reported a day late"
    """
    data = None if data_json is None else jsonout.read_data(data_json)
    with opened(ctx, write=True) as ledger:
        entry = ledger.correct(negotiation_id, _target(target), reason=reason, data=data, occurred_at=occurred_at,
                               sources=sources, reported_at=reported_at, expected_version=expect_version)
        negotiation = ledger.get(negotiation_id)
    from . import render

    console().print(f"recorded {entry.type} of version {entry.data['target_version']} as version {entry.version}")
    console().print("state now:", render.state_text(negotiation.state))
