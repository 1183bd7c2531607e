"""The ``negotiation`` command: record, inspect and replay negotiations from a shell."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import click
from rich.console import Console
from sqlalchemy.engine import make_url

from ..errors import NegotiationError
from ..ledger import Ledger
from .. import questions
from ..store.opening import open_recorder, resolve_url
from . import jsonout, render


def console() -> Console:
    """The console of the running command, made per invocation so it sees the terminal's width."""
    return cast(Console, click.get_current_context().obj["console"])


class Commands(click.Group):
    """Turns library errors into one line on stderr and exit status 1, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NegotiationError as e:
            raise click.ClickException(str(e)) from e
        except FileNotFoundError as e:
            raise click.ClickException(f"{e.strerror}: {e.filename}") from e


@contextmanager
def opened(ctx: click.Context, *, write: bool = False) -> Iterator[Ledger]:
    """The ledger at ``--url``; only commands that write bring its schema up to date.

    A read-only command never creates or migrates a database: a mistyped
    SQLite path is reported, not created empty.
    """
    url = resolve_url(ctx.obj["url"])
    database = make_url(url).database if url.startswith("sqlite") else None
    if not write and url.startswith("sqlite") and database and database != ":memory:" \
            and not Path(database).exists():
        raise click.ClickException(f"no database at {database}: record or load events first, or check --url")
    with Ledger.open(url, upgrade=write) as ledger:
        yield ledger


@click.group(cls=Commands)
@click.option("--url", envvar="NEGOTIATION_DB_URL", default=None, metavar="URL",
              help="Database URL (default: $NEGOTIATION_DB_URL, else sqlite:///negotiations.db).")
@click.version_option(package_name="negotiation")
@click.pass_context
def main(ctx: click.Context, url: str | None) -> None:
    """Track bilateral negotiations as an append-only log of events.

    Example: negotiation --url sqlite:///talks.db show us-japan-2025
    """
    ctx.obj = {"url": url, "console": render.make_console()}


@main.group()
def db() -> None:
    """Manage the database schema.

    Example: negotiation db upgrade
    """


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Bring the database schema to the latest migration.

    Example: negotiation --url postgresql+psycopg://localhost/talks db upgrade
    """
    recorder = open_recorder(ctx.obj["url"])
    recorder.close()
    shown, (before, after) = recorder.url, recorder.revisions
    if after is None:  # a log in memory has no schema
        console().print(f"{shown}: a log in memory has no schema to upgrade")
    elif before == after:
        console().print(f"{shown}: already at revision {after}")
    else:
        console().print(f"{shown}: upgraded from {before or 'an empty database'} to revision {after}")


@main.command()
@click.argument("negotiation_id")
@click.argument("event_type")
@click.option("--data", "data_json", default="{}", metavar="JSON",
              help="The event's data as a JSON object; @FILE reads it from a file, - from stdin.")
@click.option("--occurred-at", metavar="DATE", help="When it happened (ISO date or datetime; default now).")
@click.option("--reported-at", metavar="DATE", help="When it became known (default now; never later than now).")
@click.option("--source", "sources", multiple=True, metavar="NAME", help="Who reported it; repeatable.")
@click.option("--expect-version", type=int, default=None, metavar="N",
              help="Refuse unless the negotiation is at version N (0: must not exist yet).")
@click.option("--event-id", default=None, metavar="UUID", help="An id for the event, so a retry is not recorded twice.")
@click.pass_context
def record(ctx: click.Context, negotiation_id: str, event_type: str, data_json: str, occurred_at: str | None,
           reported_at: str | None, sources: tuple[str, ...], expect_version: int | None,
           event_id: str | None) -> None:
    """Record one event, if the negotiation's story allows it (a late event takes its place in it).

    Example: negotiation record us-japan-2025 TermsDisputed --data '{"point": "profit sharing"}' --source Reuters
    """
    data = jsonout.read_data(data_json)
    with opened(ctx, write=True) as ledger:
        event = ledger.record(negotiation_id, event_type, data, occurred_at=occurred_at, reported_at=reported_at,
                              sources=sources, expected_version=expect_version, event_id=event_id)
        negotiation = ledger.get(negotiation_id)
    console().print(render.recorded(event))
    console().print("state now:", render.state_text(negotiation.state))


#: Whose word to go by (show, story and history): entries naming a source, or not resting only on some.
SOURCE = click.option("--source", "only_sources", multiple=True, metavar="NAME",
                      help="Only the entries that name this source; repeatable.")
WITHOUT_SOURCE = click.option("--without-source", "without_sources", multiple=True, metavar="NAME",
                              help="Leave out the entries that rest only on this source (or these); repeatable.")


def chosen_sources(only: tuple[str, ...], without: tuple[str, ...]) -> dict[str, Any]:
    """``--source`` and ``--without-source`` as the ledger's ``sources`` and ``exclude_sources``."""
    return {"sources": only or None, "exclude_sources": without or None}


def sources_said(only: tuple[str, ...], without: tuple[str, ...]) -> str:
    """How a title says whose word it goes by: ``by Reuters, without NDTV``."""
    return ", ".join(filter(None, [f"by {', '.join(only)}" if only else "",
                                   f"without {', '.join(without)}" if without else ""]))


#: Leave out the events someone denied (show and details).
WITHOUT_DENIED = click.option("--without-denied", "without_denied", is_flag=True,
                              help="Leave out the events a party or a source denied (they are still listed).")


def check_story_question(at_version: int | None, as_of: str | None, known_at: str | None,
                         only_sources: tuple[str, ...], without_sources: tuple[str, ...],
                         without_denied: bool = False) -> None:
    """Refuse ``--at-version`` (the log) together with the options that question the story."""
    if at_version is not None and (as_of or known_at):
        raise click.UsageError("--at-version reads the log; --as-of and --known-at read the story: use one or the other")
    if at_version is not None and (only_sources or without_sources or without_denied):
        raise click.UsageError("--at-version reads the log as recorded; --source, --without-source and "
                               "--without-denied read the story: use one or the other")


def asked(*said: str) -> str:
    """The words a title adds for the question asked, the empty ones left out."""
    return " ".join(filter(None, said))


@main.command()
@click.argument("negotiation_id")
@click.option("--at-version", type=int, default=None, metavar="N",
              help="As the ledger held it after entry N of its log.")
@click.option("--as-of", metavar="DATE", default=None,
              help="As it stood then in the world (a date means the end of that day, UTC).")
@click.option("--known-at", metavar="DATE", default=None,
              help="As it was known then: only what had been reported by that time.")
@SOURCE
@WITHOUT_SOURCE
@WITHOUT_DENIED
@jsonout.OPTION
@click.pass_context
def show(ctx: click.Context, negotiation_id: str, at_version: int | None, as_of: str | None,
         known_at: str | None, only_sources: tuple[str, ...], without_sources: tuple[str, ...],
         without_denied: bool, as_json: bool) -> None:
    """Show a negotiation: state, parties, terms, open points and what may happen next, then what goes on
    beside the phase (measures, what falls due, deals, meetings, each party's terms, suspensions,
    third-party acts, denied reports), each only when there is some.

    --json prints the negotiation alone; `negotiation details --json` prints the rest.

    Example: negotiation show us-japan-2025 --as-of 2025-08-28 --known-at 2025-08-30
    """
    check_story_question(at_version, as_of, known_at, only_sources, without_sources, without_denied)
    with opened(ctx) as ledger:
        if as_json:
            if at_version is not None:
                negotiation = ledger.replay(negotiation_id, until_version=at_version)
            else:
                negotiation = ledger.get(negotiation_id, as_of=as_of, known_at=known_at, exclude_denied=without_denied,
                                         **chosen_sources(only_sources, without_sources))
            jsonout.emit(jsonout.negotiation(negotiation))
            return
        details = questions.details(ledger, negotiation_id, as_of=as_of, known_at=known_at,
                                    exclude_denied=without_denied, at_version=at_version,
                                    **chosen_sources(only_sources, without_sources))
    negotiation = details.negotiation
    when = asked(f"after entry {at_version}" if at_version else "", f"as of {as_of}" if as_of else "",
                 f"as known at {known_at}" if known_at else "", sources_said(only_sources, without_sources),
                 "without the denied events" if without_denied else "")
    console().print(render.negotiation_panel(negotiation, asked(negotiation.id, when)))
    for section in render.details_sections(details):
        console().print(section)


@main.command()
@click.argument("negotiation_id")
@SOURCE
@WITHOUT_SOURCE
@jsonout.OPTION
@click.pass_context
def history(ctx: click.Context, negotiation_id: str, only_sources: tuple[str, ...], without_sources: tuple[str, ...],
            as_json: bool) -> None:
    """List a negotiation's log in recording order, marking retracted and corrected entries.

    Example: negotiation history us-japan-2025 --source NDTV
    """
    with opened(ctx) as ledger:
        events = ledger.history(negotiation_id, **chosen_sources(only_sources, without_sources))
    if as_json:
        jsonout.emit([jsonout.recorded_event(event) for event in events])
        return
    console().print(render.history_table(
        events, title=" ".join(filter(None, [negotiation_id, sources_said(only_sources, without_sources)]))))


#: The exit status of a question about many negotiations that answered, but not for every one of them.
PARTIAL = 3

#: What the help of a question about many negotiations says of the ones it cannot answer.
PARTIAL_HELP = ("A negotiation that cannot be answered then (its reports, as known at that time, do not yet "
                "make a legal story) does not stop the others: they are printed, then a line on stderr names "
                f"each one not answered and why, and the exit status is {PARTIAL}.")


def name_unanswered(answers: questions.Answers[Any]) -> None:
    """After the answers: a line on stderr for each negotiation not answered, and exit status ``PARTIAL``."""
    for negotiation_id, reason in answers.unanswered:
        click.echo(f"could not answer for {negotiation_id}: {reason}", err=True)
    if answers.unanswered:
        raise click.exceptions.Exit(PARTIAL)


@main.command("list", help=f"""List every negotiation with its state (now, or as of a date, or as known at one).

    In the order each was first recorded. {PARTIAL_HELP}

    Example: negotiation list --as-of 2025-08-28
    """)
@click.option("--as-of", metavar="DATE", default=None, help="Every negotiation as it stood then in the world.")
@click.option("--known-at", metavar="DATE", default=None, help="Every negotiation as it was known then.")
@jsonout.OPTION
@click.pass_context
def list_negotiations(ctx: click.Context, as_of: str | None, known_at: str | None, as_json: bool) -> None:
    with opened(ctx) as ledger:
        answers = questions.all_negotiations(ledger, as_of=as_of, known_at=known_at)
    if as_json:
        jsonout.emit([jsonout.negotiation(negotiation) for negotiation in answers.rows])
    elif answers.rows:
        console().print(render.negotiations_table(answers.rows))
    elif not answers.unanswered:
        when = asked(f"as of {as_of}" if as_of else "", f"as known at {known_at}" if known_at else "")
        console().print(f"no negotiation is known {when}" if when else "no negotiations recorded yet")
    name_unanswered(answers)


def load_files(ledger: Ledger, paths: list[str]) -> None:
    """Load event files into ``ledger`` with a progress bar, and say what was recorded."""
    # Imported here: the YAML parser and the progress bar serve the commands that load files only,
    # and every other command starts faster without them.
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from ..files.loading import load_streams, read_streams

    streams = read_streams(paths)
    total = sum(len(stream.events) for stream in streams)
    columns = (TextColumn("loading"), BarColumn(), MofNCompleteColumn(), TextColumn("events"),
               TimeRemainingColumn())
    errors = Console(stderr=True)
    # Off when stderr is not a terminal: a transient bar would still leave a blank line there.
    with Progress(*columns, console=errors, transient=True, disable=not errors.is_terminal) as bar:
        task = bar.add_task("load", total=total)
        report = load_streams(ledger, streams, lambda n: bar.advance(task, n))
    console().print(f"loaded {report.negotiations} negotiation{'s' if report.negotiations != 1 else ''}: "
                  f"{report.recorded} events recorded, {report.already_stored} already stored")


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.pass_context
def load(ctx: click.Context, files: tuple[str, ...]) -> None:
    """Load event files (YAML or JSON); loading the same file again records nothing new.

    Every negotiation is checked first: a refused one is reported and nothing is
    written. A load stopped while writing (another writer changed a negotiation,
    or the database failed) keeps the chunks already committed, says on one line
    what was and was not written, and exits 1; running it again completes it.

    Example: negotiation load seeds/us-japan-2025.yaml seeds/india-japan-2025.yaml
    """
    with opened(ctx, write=True) as ledger:
        load_files(ledger, list(files))


@main.command()
@jsonout.OPTION
@click.pass_context
def verify(ctx: click.Context, as_json: bool) -> None:
    """Check every negotiation's hash chain; exit 1 naming the first altered event of each.

    Example: negotiation --url sqlite:///talks.db verify
    """
    with opened(ctx) as ledger:
        report = ledger.verify()
    if as_json:
        jsonout.emit(jsonout.verify_report(report))
        if not report.intact:
            raise click.exceptions.Exit(1)
        return
    if report.intact:
        console().print(f"intact: {report.events} events in {report.negotiations} negotiations")
        return
    for broken in report.broken:
        console().print(f"[bold red]altered[/] {broken}", highlight=False)
    raise click.exceptions.Exit(1)


@main.command()
@click.option("--out", "out_dir", default="build/spec", show_default=True, type=click.Path(file_okay=False),
              help="Directory to write spec.md and index.html into.")
@click.option("--features", "features_dir", default=None, type=click.Path(exists=True, file_okay=False),
              help="The Gherkin features (default: features/ of this checkout, else ./features).")
@click.option("--coverage", default=None, type=click.Path(exists=True, dir_okay=False),
              help="The feature suite's coverage report (default: build/spec-coverage.json beside the features).")
def docs(out_dir: str, features_dir: str | None, coverage: str | None) -> None:
    """Write the spec book: the machine's diagram and transition table, then every feature, as Markdown and HTML.

    Example: negotiation docs --out build/spec
    """
    # Imported here: the Gherkin parser, Markdown renderer and diagram engine serve this command only.
    from ..specbook import book as spec_book
    from ..specbook.features import FeatureFileError

    features = Path(features_dir) if features_dir else spec_book.default_features_dir()
    try:
        book = spec_book.write(Path(out_dir), features, Path(coverage) if coverage else None)
    except FeatureFileError as e:
        raise click.ClickException(str(e)) from e
    except ValueError as e:  # a coverage report that is not the feature suite's JSON
        raise click.ClickException(f"{coverage}: not a coverage report ({e})") from e
    for warning in book.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"wrote {Path(out_dir) / 'spec.md'} and {Path(out_dir) / 'index.html'}"
               + (f" ({book.summary})" if book.summary else " (no coverage report: run pytest to link the cells)"))




if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
