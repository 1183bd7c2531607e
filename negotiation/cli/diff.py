"""``negotiation diff``: what changed in what was known between two times, of one negotiation or of all."""

from __future__ import annotations

import click

from . import jsonout
from .main import PARTIAL_HELP, main, name_unanswered, opened


@main.command(help=f"""Say what changed in what was known between two times: the story, state, open
    points, measures, deadlines and terms as known at each, and the entries reported in between (late
    news, new events, corrections, retractions, denials) that made each difference.

    Give the two times with --known-at twice (the earlier first), or --since for the time from then to
    now. With no NEGOTIATION_ID, every negotiation is compared, each named with what changed, or that
    nothing did. {PARTIAL_HELP}

    Example: negotiation diff us-korea-2025 --known-at 2025-09-20 --known-at 2025-09-22
    """)
@click.argument("negotiation_id", required=False)
@click.option("--known-at", "known_at", multiple=True, metavar="DATE",
              help="A time to compare, as known then; give it twice, the earlier first.")
@click.option("--since", metavar="DATE", default=None, help="Compare what was known then with what is known now.")
@jsonout.OPTION
@click.pass_context
def diff(ctx: click.Context, negotiation_id: str | None, known_at: tuple[str, ...], since: str | None,
         as_json: bool) -> None:
    from datetime import UTC, datetime

    from .. import questions
    from ..views import changes

    if since is not None and known_at:
        raise click.UsageError("give --known-at twice or --since once, not both")
    if since is None and len(known_at) != 2:
        given = f", not {len(known_at)} times" if len(known_at) > 2 else ", not once" if known_at else ""
        raise click.UsageError(f"give --known-at twice (the earlier time first) or --since{given}")
    first, second = (since, datetime.now(UTC)) if since is not None else known_at
    with opened(ctx) as ledger:
        if negotiation_id is not None:
            answers = questions.Answers((ledger.diff(negotiation_id, first, second),), (), datetime.now(UTC))
        else:
            answers = questions.changes_since(ledger, first, second)
    if as_json:
        jsonout.emit(jsonout.belief_diff(answers.rows[0]) if negotiation_id is not None
                     else [jsonout.belief_diff(told) for told in answers.rows])
    else:
        for index, told in enumerate(answers.rows):
            if index:
                click.echo()
            click.echo(f"{told.negotiation_id}: " + "\n".join(changes.lines(told)))
        if not answers.rows and not answers.unanswered:
            click.echo("no negotiations recorded yet")
    name_unanswered(answers)

