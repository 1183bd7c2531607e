"""Commands for what goes on beside the phase: measures, what falls due, each party's terms, the details."""

from __future__ import annotations

import re
from datetime import timedelta

import click

from . import jsonout
from .main import (AS_OF, KNOWN_AT, PARTIAL_HELP, SOURCE, WITHOUT_DENIED, WITHOUT_SOURCE, asked,
                   check_story_question, chosen_sources, console, main, name_unanswered, opened, sources_said)


_SPAN = re.compile(r"(\d{1,5})([dw])")


def _span(ctx: click.Context, param: click.Parameter, value: str | None) -> timedelta | None:
    """``--within`` as typed: ``30d`` (days) or ``2w`` (weeks)."""
    if value is None:
        return None
    found = _SPAN.fullmatch(value.strip().lower())
    if found is None:
        raise click.BadParameter(f"{value!r} is not a span of days: give a number of days or weeks, "
                                 f"such as 30d or 2w", ctx, param)
    count, unit = int(found[1]), found[2]
    return timedelta(days=count * 7 if unit == "w" else count)


def _when(as_of: str | None, known_at: str | None) -> str:
    return asked(f"as of {as_of}" if as_of else "", f"as known at {known_at}" if known_at else "")


@main.command(help=f"""List measures (tariffs, quotas, bans) with their status at the time asked: of one
    negotiation, or (with no NEGOTIATION_ID) of every negotiation.

    A pause that has ended puts the measure back in force, and a threat whose day passed unacted is a
    lapsed threat, with no event recorded that day. --in-force keeps the measures in force then, each
    with the party imposing it and the one it is against. {PARTIAL_HELP}

    Example: negotiation measures --in-force --as-of 2025-08-15
    """)
@click.argument("negotiation_id", required=False)
@click.option("--in-force", is_flag=True, help="Only the measures in force at the time asked.")
@AS_OF
@KNOWN_AT
@jsonout.OPTION
@click.pass_context
def measures(ctx: click.Context, negotiation_id: str | None, in_force: bool, as_of: str | None,
             known_at: str | None, as_json: bool) -> None:
    from .. import questions
    from . import render

    with opened(ctx) as ledger:
        if negotiation_id is not None:
            at = questions.moment_asked(as_of, known_at)
            negotiation = ledger.get(negotiation_id, as_of=as_of, known_at=known_at)
            rows = [row for row in questions.measure_rows(negotiation, at)
                    if not in_force or row.status == questions.IN_FORCE]
            answers = questions.Answers(tuple(rows), (), at)
        else:
            answers = questions.measures(ledger, as_of=as_of, known_at=known_at, in_force=in_force)
    if as_json:
        jsonout.emit([jsonout.measure(row) for row in answers.rows])
    else:
        what = asked("measures in force" if in_force else "measures", _when(as_of, known_at))
        if answers.rows:
            console().print(render.measures_table(
                answers.rows, asked(negotiation_id or "", what), across=negotiation_id is None))
        elif not answers.unanswered:
            console().print(f"no {what}" + (f" in {negotiation_id}" if negotiation_id else ""))
    name_unanswered(answers)


@main.command(help=f"""List what falls due, by due day: every deadline set, every day a threat would take
    effect and every day a pause ends, each pending or passed at the time asked, with its negotiation
    and the entry (version) that set it; of every negotiation, or of one.

    --within 30d (or 2w) keeps what is due from the time asked up to that much later. {PARTIAL_HELP}

    Example: negotiation deadlines --within 30d --as-of 2025-07-01
    """)
@click.argument("negotiation_id", required=False)
@click.option("--within", callback=_span, default=None, metavar="SPAN",
              help="Only what is due from the time asked up to this much later: 30d, 2w.")
@AS_OF
@KNOWN_AT
@jsonout.OPTION
@click.pass_context
def deadlines(ctx: click.Context, negotiation_id: str | None, within: timedelta | None, as_of: str | None,
              known_at: str | None, as_json: bool) -> None:
    from .. import questions
    from . import render

    with opened(ctx) as ledger:
        if negotiation_id is not None:
            at = questions.moment_asked(as_of, known_at)
            negotiation = ledger.get(negotiation_id, as_of=as_of, known_at=known_at)
            story = ledger.story(negotiation_id, as_of=as_of, known_at=known_at)
            answers = questions.Answers(questions.deadline_rows(negotiation, at, story, within=within), (), at)
        else:
            answers = questions.deadlines(ledger, as_of=as_of, known_at=known_at, within=within)
    if as_json:
        jsonout.emit([jsonout.deadline(row) for row in answers.rows])
    else:
        days = within.days if within is not None else 0
        what = asked("falling due", f"within {days} day{'s' if days != 1 else ''}" if within is not None else "",
                     _when(as_of, known_at))
        if answers.rows:
            console().print(render.deadlines_table(answers.rows, asked(negotiation_id or "", what),
                                                   across=negotiation_id is None))
        elif not answers.unanswered:
            console().print(f"nothing {what}" + (f" in {negotiation_id}" if negotiation_id else ""))
    name_unanswered(answers)


@main.command()
@click.argument("negotiation_id")
@AS_OF
@KNOWN_AT
@jsonout.OPTION
@click.pass_context
def views(ctx: click.Context, negotiation_id: str, as_of: str | None, known_at: str | None, as_json: bool) -> None:
    """Show each party's view of the terms: the common terms with what it states overlaid, and where they differ.

    Example: negotiation views us-japan-2025 --as-of 2025-09-01
    """
    from .. import questions
    from . import render

    with opened(ctx) as ledger:
        seen = questions.views_of(ledger.get(negotiation_id, as_of=as_of, known_at=known_at))
    if as_json:
        jsonout.emit(jsonout.views(seen))
        return
    if not any(seen.views.values()) and not seen.common:
        console().print(f"{negotiation_id}: no terms yet")
        return
    table = render.views_table(seen)
    table.title = asked(negotiation_id, "terms by party", _when(as_of, known_at))
    console().print(table)


@main.command()
@click.argument("negotiation_id")
@click.option("--at-version", type=int, default=None, metavar="N",
              help="As the ledger held it after entry N of its log.")
@AS_OF
@KNOWN_AT
@SOURCE
@WITHOUT_SOURCE
@WITHOUT_DENIED
@jsonout.OPTION
@click.pass_context
def details(ctx: click.Context, negotiation_id: str, at_version: int | None, as_of: str | None,
            known_at: str | None, only_sources: tuple[str, ...], without_sources: tuple[str, ...],
            without_denied: bool, as_json: bool) -> None:
    """Show what goes on in a negotiation beside its phase: measures, what falls due, deals, meetings,
    each party's terms, suspensions, third-party acts and denied reports.

    --json prints one object: the negotiation (as show --json prints it), the moment the answers are for,
    and a key for each of those, always all of them.

    Example: negotiation details us-japan-2025 --json
    """
    from .. import questions
    from . import render

    check_story_question(at_version, as_of, known_at, only_sources, without_sources, without_denied)
    with opened(ctx) as ledger:
        told = questions.details(ledger, negotiation_id, as_of=as_of, known_at=known_at,
                                 exclude_denied=without_denied, at_version=at_version,
                                 **chosen_sources(only_sources, without_sources))
    if as_json:
        jsonout.emit(jsonout.details(told))
        return
    sections = render.details_sections(told)
    when = asked(f"after entry {at_version}" if at_version else "", _when(as_of, known_at),
                 sources_said(only_sources, without_sources), "without the denied events" if without_denied else "")
    if not sections:
        console().print(asked(negotiation_id, when) + ": nothing beside the phase yet")
        return
    console().print(asked(negotiation_id, when), style="bold", highlight=False)
    for section in sections:
        console().print(section)
