"""``negotiation demo``: the seed stories loaded, shown, replayed and asked about, then the report."""

from __future__ import annotations

from pathlib import Path

import click

from . import render
from .main import console, load_files, main, opened
from .views import DEFAULT_REPORT, write_report

#: Where the demo keeps its log unless --url (or $NEGOTIATION_DB_URL) says otherwise: a database of its
#: own, so the seed negotiations never land in the user's own log, which can never remove them.
DEMO_URL = "sqlite:///negotiation-demo.db"


@main.command()
@click.pass_context
def demo(ctx: click.Context) -> None:
    """Load the seed stories, show each negotiation, replay US–Japan step by step and ask two time questions.

    The demo writes into negotiation-demo.db in the current folder (not the default negotiations.db),
    unless --url names a database.

    Example: negotiation demo
    """
    if ctx.obj.get("url") is None:
        ctx.obj["url"] = DEMO_URL
    with opened(ctx, write=True) as ledger:
        console().rule(f"loading the seed story into {ledger.url}")
        # Imported here: the event files' reader serves the commands that load files only.
        from ..files.loading import seed_files

        load_files(ledger, [str(path) for path in seed_files()])
        for negotiation_id in ledger.negotiations():
            console().rule(negotiation_id)
            console().print(render.history_table(ledger.history(negotiation_id), title="history"))
            console().print(render.negotiation_panel(ledger.get(negotiation_id), "now"))
        if "us-japan-2025" in ledger.negotiations():
            console().rule("replaying us-japan-2025 one event at a time")
            console().print(render.steps_table(ledger.steps("us-japan-2025")))
            console().rule("what state was US–Japan in on 28 August 2025?")
            console().print(render.negotiation_panel(ledger.get("us-japan-2025", as_of="2025-08-28"),
                                                     "us-japan-2025 as of 2025-08-28"))
        if "us-korea-2025" in ledger.negotiations():
            console().rule("US–Korea on 20 September 2025, as known that day and as known two days later")
            for known_at in ("2025-09-20", "2025-09-22"):
                then = ledger.get("us-korea-2025", as_of="2025-09-20", known_at=known_at)
                console().print(f"as known at {known_at}:", render.state_text(then.state),
                                f"(open points: {', '.join(then.open_disputes) or 'none'})")
        console().rule("the report: each negotiation's timeline, story and terms, and the spec book")
        write_report(ledger, Path(DEFAULT_REPORT))
