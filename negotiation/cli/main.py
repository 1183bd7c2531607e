"""The ``negotiation`` command: record, inspect and replay negotiations from a shell.

It starts fast: the ledger, SQLAlchemy, pydantic and the terminal's tables are
imported inside the commands that use them, and the commands of the modules
that are slow to import (charts, the report, projections) are loaded only when
asked for, so ``negotiation --help`` loads none of them.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

import click

from ..errors import DuplicateEvent, IllegalTransition, InvalidEvent, NegotiationError
from . import jsonout

if TYPE_CHECKING:
    from rich.console import Console

    from .. import questions
    from ..domain.entries import RecordedEvent
    from ..ledger import Ledger


def console() -> Console:
    """The console of the running command, made on first use so it sees the terminal's width."""
    obj = click.get_current_context().find_root().obj
    if obj.get("console") is None:
        from . import render  # rich, only for the commands that print with it

        obj["console"] = render.make_console()
    return cast("Console", obj["console"])


#: The commands of modules that are slow to import, loaded only when one of them is asked for; until
#: then ``negotiation --help`` says of each what the first paragraph of its help says (a test holds the
#: two the same).
LAZY_COMMANDS: dict[str, tuple[str, str]] = {
    "checkpoint": ("negotiation.cli.trust", "Sign the log as it is now: its length, its last position and the "
                                           "Merkle root of every entry."),
    "demo": ("negotiation.cli.demo", "Load the seed stories, show each negotiation, replay US–Japan step by "
                                     "step and ask two time questions."),
    "public-key": ("negotiation.cli.trust", "Print the signing key's public key (PEM): give it to whoever "
                                           "verifies your checkpoints."),
    "project": ("negotiation.cli.follow", "Keep read models (projections) in the database, fed from the log "
                                          "with a checkpoint."),
    "report": ("negotiation.cli.views", "Write an offline report: an index of every negotiation, a page each, "
                                        "and the spec book."),
    "sources": ("negotiation.cli.follow", "List every source named in the log: its entries, negotiations, and "
                                          "how many were retracted or corrected."),
    "timeline": ("negotiation.cli.views", "Draw a negotiation's timeline: its states, events, disputes and what "
                                          "was known when."),
    "watch": ("negotiation.cli.follow", "Print the log's entries as they land, each with the negotiation's "
                                        "state after it, until Ctrl-C."),
}
#: The same for the subcommands of ``db``.
LAZY_DB_COMMANDS: dict[str, tuple[str, str]] = {
    "roles": ("negotiation.cli.roles", "Set up least privilege on PostgreSQL: the owner owns the tables, the "
                                       "writer may only add to the log."),
}

URL_HELP = ("Database URL, or a SQLite file's path (default: $NEGOTIATION_DB_URL, else "
            "sqlite:///negotiations.db). Before or after the command.")


def _url_after_the_command(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """``--url`` given after a command: it overrides the one given before it (and $NEGOTIATION_DB_URL)."""
    if value is not None and ctx.obj is not None:
        ctx.obj["url"] = value


def url_option() -> click.Option:
    """The ``--url`` every command takes, as the group does: ``negotiation show X --url talks.db``."""
    return click.Option(["--url"], metavar="URL", default=None, expose_value=False,
                        callback=_url_after_the_command, help=URL_HELP)


class Commands(click.Group):
    """Turns library errors into one line on stderr and exit status 1, never a traceback; gives every
    command ``--url``; loads the commands of ``lazy`` modules when one is asked for."""

    group_class = type  # a group made with ``main.group()`` is one of these too

    def __init__(self, *args: Any, lazy: Mapping[str, tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        if not any(param.name == "url" for param in cmd.params):
            cmd.params.append(url_option())
        super().add_command(cmd, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            importlib.import_module(self.lazy[cmd_name][0])  # its commands register themselves
        return self.commands.get(cmd_name)

    def load_all(self) -> None:
        """Import every lazy module: each command is then in ``commands``."""
        for module, _ in self.lazy.values():
            importlib.import_module(module)

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None,
                                                                               list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError:
            self.load_all()  # so that "did you mean" can name a command not loaded yet
            return super().resolve_command(ctx, args)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The list of commands, as click writes it, without loading a lazy one to say what it does."""
        commands = []
        for name in self.list_commands(ctx):
            cmd = self.commands.get(name)
            if cmd is None and name in self.lazy:
                cmd = click.Command(name, help=self.lazy[name][1])
            if cmd is not None and not cmd.hidden:
                commands.append((name, cmd))
        if commands:
            limit = formatter.width - 6 - max(len(name) for name, _ in commands)
            with formatter.section("Commands"):
                formatter.write_dl([(name, cmd.get_short_help_str(limit)) for name, cmd in commands])

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NegotiationError as e:
            raise click.ClickException(str(e)) from e
        except OSError as e:  # a folder that is a file, a full disk, no permission: one line, never a traceback
            where = f": {e.filename}" if e.filename else ""
            raise click.ClickException(f"{e.strerror or type(e).__name__}{where}") from e


@contextmanager
def opened(ctx: click.Context, *, write: bool = False) -> Iterator[Ledger]:
    """The ledger at ``--url``; only commands that write bring its schema up to date.

    A read-only command never creates or migrates a database: a mistyped
    SQLite path is reported, not created empty.
    """
    from sqlalchemy.engine import make_url

    from ..ledger import Ledger
    from ..store.opening import resolve_url

    url = resolve_url(ctx.obj["url"])
    database = make_url(url).database if url.startswith("sqlite") else None
    if not write and url.startswith("sqlite") and database and database != ":memory:" \
            and not Path(database).exists():
        raise click.ClickException(f"no database at {database}: record or load events first, or check --url")
    with Ledger.open(url, upgrade=write) as ledger:
        yield ledger


@click.group(cls=Commands, lazy=LAZY_COMMANDS)
@click.option("--url", envvar="NEGOTIATION_DB_URL", default=None, metavar="URL", help=URL_HELP)
@click.version_option(package_name="negotiation")
@click.pass_context
def main(ctx: click.Context, url: str | None) -> None:
    """Track bilateral negotiations as an append-only log of events.

    Example: negotiation show us-japan-2025 --url talks.db
    """
    ctx.obj = {"url": url, "console": None}


@main.group(lazy=LAZY_DB_COMMANDS)
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
    from ..store.opening import open_recorder

    recorder = open_recorder(ctx.obj["url"])
    recorder.close()
    shown, (before, after) = recorder.url, recorder.revisions
    if after is None:  # a log in memory has no schema
        console().print(f"{shown}: a log in memory has no schema to upgrade")
    elif before == after:
        console().print(f"{shown}: already at revision {after}")
    else:
        console().print(f"{shown}: upgraded from {before or 'an empty database'} to revision {after}")


def payload_fields(model: Any) -> str:
    """A payload model's fields as ``record --help`` lists them: ``point*`` for a required one, and
    the choices of a field that takes one of a few words: ``level* (working | ministerial | leaders)``."""
    from typing import Literal, get_args, get_origin

    said = []
    for name, info in model.model_fields.items():
        kinds = (info.annotation,) if get_origin(info.annotation) is Literal else get_args(info.annotation)
        choices = [str(choice) for kind in kinds if get_origin(kind) is Literal for choice in get_args(kind)]
        said.append(name + ("*" if info.is_required() else "") + (f" ({' | '.join(choices)})" if choices else ""))
    return ", ".join(said) or "(no fields)"


class RecordCommand(click.Command):
    """``record``, whose help ends with every event type and its fields, read from the payload models
    when the help is asked for (so ``negotiation --help`` does not load them)."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        from ..domain.payloads import ENTRY_PAYLOADS, EVENT_KINDS

        with formatter.section("Event types and their --data fields (* required)"):
            formatter.write_dl([(kind, payload_fields(ENTRY_PAYLOADS[kind])) for kind in EVENT_KINDS])
            formatter.write_paragraph()
            formatter.write_text("parties (two codes, such as [\"US\", \"JP\"]) is required of the event that "
                                 "opens a negotiation: " + ", ".join(kind for kind in EVENT_KINDS
                                                                    if ENTRY_PAYLOADS[kind].opens) + ".")
        super().format_epilog(ctx, formatter)


#: The articles behind an entry, for record, retract and correct alike.
SOURCE_RECORD_OPTION = click.option(
    "--source-record", "source_records", multiple=True, metavar="JSON",
    help="The article that reported it, as a JSON object: outlet, url, headline, published (a date), quote "
         "(optional); @FILE reads it from a file. Repeatable; named after the --source names.")


def sources_named(sources: Sequence[str], source_records: Sequence[str]) -> list[str | dict[str, Any]]:
    """The names, then each record read as JSON: the ledger checks a record's keys, and refuses a bad one
    naming the field."""
    return [*sources, *(jsonout.read_data(record, "--source-record") for record in source_records)]


@main.command(cls=RecordCommand)
@click.argument("negotiation_id")
@click.argument("event_type", required=False)
@click.option("--data", "data_json", default=None, metavar="JSON",
              help="The event's data as a JSON object; @FILE reads it from a file, - from stdin.")
@click.option("--occurred-at", metavar="DATE",
              help="When it happened (ISO date or datetime); left out, now, and a notice on stderr says so.")
@click.option("--reported-at", metavar="DATE", help="When it became known (default now; never later than now).")
@click.option("--backfill", is_flag=True, default=False,
              help="History known as it happened: without --reported-at (or a line's reported_at), reported when "
                   "it occurred.")
@click.option("--source", "sources", multiple=True, metavar="NAME", help="Who reported it; repeatable.")
@SOURCE_RECORD_OPTION
@click.option("--expect-version", type=int, default=None, metavar="N",
              help="Refuse unless the negotiation is at version N (0: must not exist yet).")
@click.option("--event-id", default=None, metavar="UUID", help="An id for the event, so a retry is not recorded twice.")
@click.option("--batch", type=click.File("r", encoding="utf-8-sig", lazy=False), default=None, metavar="FILE",
              help="Record the events of FILE (- for stdin) in one transaction, one JSON object a line: "
                   "type, data, occurred_at, reported_at, sources, event_id.")
@click.pass_context
def record(ctx: click.Context, negotiation_id: str, event_type: str | None, data_json: str | None,
           occurred_at: str | None, reported_at: str | None, backfill: bool, sources: tuple[str, ...],
           source_records: tuple[str, ...], expect_version: int | None, event_id: str | None,
           batch: IO[str] | None) -> None:
    """Record one event, if the negotiation's story allows it (a late event takes its place in it).

    With --batch, record a line's events instead, all in one transaction or none: a refused line is
    named by its number and nothing is written. Blank lines are skipped.

    A source may be the article itself, so a reader can check it: --source-record '{"outlet": "Reuters",
    "url": "https://...", "headline": "...", "published": "2025-08-28"}' (quote optional).

    Example: negotiation record us-japan-2025 TermsDisputed --data '{"point": "profit sharing"}' --source Reuters
    """
    if batch is not None:
        given = [option for option, value in (("EVENT_TYPE", event_type), ("--data", data_json),
                                               ("--occurred-at", occurred_at), ("--reported-at", reported_at),
                                               ("--source", sources), ("--source-record", source_records),
                                               ("--event-id", event_id)) if value]
        if given:
            raise click.UsageError(f"--batch takes each event, with its data, times, sources and id, from its "
                                   f"line: leave out {', '.join(given)}")
        record_batch(ctx, negotiation_id, batch, expect_version, backfill)
        return
    if event_type is None:
        raise click.UsageError("name the EVENT_TYPE to record, or give --batch FILE (- for stdin)")
    from . import render

    data = jsonout.read_data(data_json or "{}")
    # Each record as JSON: the ledger checks its keys, and refuses a bad one naming the field.
    named = sources_named(sources, source_records)
    with opened(ctx, write=True) as ledger:
        with warned():
            event = ledger.record(negotiation_id, event_type, data, occurred_at=occurred_at,
                                  reported_at=reported_at, sources=named, expected_version=expect_version,
                                  event_id=event_id, backfill=backfill)
        negotiation = ledger.get(negotiation_id)
    if occurred_at is None:
        said_now([event])
    console().print(render.recorded(event))
    console().print("state now:", render.state_text(negotiation.state))


def said_now(events: Sequence[RecordedEvent], lines: Sequence[int] | None = None) -> None:
    """A notice on stderr (never in what a command prints on stdout) for events recorded without an
    ``occurred_at``: they are recorded as happening when they were recorded."""
    by_moment: dict[str, list[int]] = {}
    for index, event in enumerate(events):
        by_moment.setdefault(jsonout.moment(event.occurred_at) or "", []).append(lines[index] if lines else 0)
    for moment, numbers in by_moment.items():
        where = "" if lines is None else f" on line{'s' if len(numbers) > 1 else ''} {_numbers(numbers)}"
        click.echo(f"occurred_at not given{where}: recorded as happening now, {moment}", err=True)


def _numbers(numbers: Sequence[int]) -> str:
    """``1, 3, 5`` for a few numbers; ``2–40`` for a run."""
    if len(numbers) > 2 and list(numbers) == list(range(numbers[0], numbers[-1] + 1)):
        return f"{numbers[0]}–{numbers[-1]}"
    return ", ".join(map(str, numbers))


_EVENTS_INDEX = re.compile(r"events\[(\d+)\]:? ")


def read_batch(stream: IO[str]) -> tuple[list[dict[str, Any]], list[int]]:
    """The events of a ``--batch`` stream, one JSON object a line, and the number of each one's line.

    Refused (one line, naming the line) at the first line that is not a JSON object.
    """
    where = _batch_name(stream)
    items: list[dict[str, Any]] = []
    lines: list[int] = []
    for number, text in enumerate(stream, start=1):
        if not text.strip():
            continue
        try:
            item = json.loads(text.rstrip("\r\n"))
        except json.JSONDecodeError as e:
            at = " " if e.msg.endswith(" at") else " at "  # "Unterminated string starting at" column 9
            raise click.ClickException(f"line {number} of {where}: not valid JSON ({e.msg}{at}column {e.colno}); "
                                       "nothing was written") from None
        if not isinstance(item, dict):
            raise click.ClickException(f"line {number} of {where}: not a JSON object but {_json_kind(item)}; "
                                       "each line is one event: {\"type\": ..., \"data\": {...}}; "
                                       "nothing was written")
        items.append(item)
        lines.append(number)
    if not items:
        raise click.ClickException(f"no events in {where}: give one JSON object a line; nothing was written")
    return items, lines


def _batch_name(stream: IO[str]) -> str:
    name = getattr(stream, "name", "-")
    return "stdin" if name in ("-", "<stdin>") or not isinstance(name, str) else name


def _json_kind(value: Any) -> str:
    return {list: "an array", str: "a string", bool: "true or false", type(None): "null"}.get(
        type(value), "a number")


@contextmanager
def warned() -> Iterator[None]:
    """The ledger's warnings (an event days old recorded as reported now) as one line each on stderr."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:  # a load stopped part way keeps the chunks it committed, and their warning
            for warning in caught:
                click.echo(f"warning: {warning.message}", err=True)


def record_batch(ctx: click.Context, negotiation_id: str, stream: IO[str], expect_version: int | None,
                 backfill: bool = False) -> None:
    """``record --batch``: every line's event in one transaction, or none and a line naming the refused one."""
    from . import render

    items, lines = read_batch(stream)
    where = _batch_name(stream)
    with opened(ctx, write=True) as ledger:
        try:
            with warned():
                events = ledger.record_many(negotiation_id, items, expected_version=expect_version, backfill=backfill)
        except (InvalidEvent, IllegalTransition, DuplicateEvent) as e:
            index, said = refused_line(ledger, negotiation_id, items, expect_version, e)
            if index is None:
                raise
            written = "" if said.rstrip().endswith("nothing was written") else "; nothing was written"
            raise click.ClickException(f"line {lines[index]} of {where}: {said}{written}") from e
        negotiation = ledger.get(negotiation_id)
    missing = [index for index, item in enumerate(items) if item.get("occurred_at") is None]
    if missing:
        said_now([events[index] for index in missing], [lines[index] for index in missing])
    versions = [event.version for event in events]
    shown = _numbers(versions) if len(versions) > 1 else str(versions[0])
    console().print(f"recorded {len(events)} event{'s' if len(events) != 1 else ''} in one transaction as "
                    f"version{'s' if len(events) != 1 else ''} {shown} of {negotiation.id}")
    console().print("state now:", render.state_text(negotiation.state))


#: A refused batch longer than this is not searched for the line a refusal is about when the ledger
#: does not name it (each search checks the batch up to every line, so it grows as the square).
SEARCHED_LINES = 1000


def refused_line(ledger: Ledger, negotiation_id: str, items: Sequence[Mapping[str, Any]],
                 expect_version: int | None, error: NegotiationError) -> tuple[int | None, str]:
    """Which item of a refused batch the refusal is about (None: not known), and what it says of it.

    The ledger names a malformed item (``events[3]: ...``), a refused one (``index``, counted among the
    events not already stored) and one whose id is taken. A refusal that names none is about the first
    item at which the batch so far is refused the same way: checked item by item, nothing written.
    """
    said = str(error)
    found = _EVENTS_INDEX.match(said)
    if found is not None:
        return int(found[1]), said[found.end():]
    if isinstance(error, DuplicateEvent):
        taken = [index for index, item in enumerate(items)
                 if str(item.get("event_id", "")).lower() == error.event_id.lower()]
        return (taken[0] if taken else None), said
    if isinstance(error, IllegalTransition) and error.index is not None \
            and not any(item.get("event_id") is not None for item in items):
        return error.index, said
    if len(items) > SEARCHED_LINES:
        return None, said
    for end in range(1, len(items)):
        try:
            ledger.check_many(negotiation_id, items[:end], expected_version=expect_version)
        except NegotiationError as e:
            if _same_refusal(e, error):
                return end - 1, said
    return len(items) - 1, said


def _same_refusal(one: NegotiationError, other: NegotiationError) -> bool:
    """Whether two refusals say the same of the same event (a story's refusal names the new events
    too, so it is compared by what it refuses, not word for word)."""
    if isinstance(one, IllegalTransition) and isinstance(other, IllegalTransition):
        return (type(one), one.state, one.event_type, one.reason, getattr(one, "version", None)) == \
            (type(other), other.state, other.event_type, other.reason, getattr(other, "version", None))
    return type(one) is type(other) and str(one) == str(other)


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

#: When to ask about (story and the questions beside the phase): in the world, and as known.
AS_OF = click.option("--as-of", metavar="DATE", default=None,
                     help="As it stood then in the world (a date means the end of that day, UTC).")
KNOWN_AT = click.option("--known-at", metavar="DATE", default=None,
                        help="As it was known then: only what had been reported by that time.")
#: The log as recorded up to an entry (show, story and details).
AT_VERSION = click.option("--at-version", type=click.IntRange(min=1), default=None, metavar="N",
                          help="As the ledger held it after entry N of its log.")


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
    from .. import questions
    from . import render

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
    from . import render

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
    from .. import questions
    from . import render

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
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from ..files.loading import load_streams, read_streams

    streams = read_streams(paths)
    total = sum(len(stream.events) for stream in streams)
    columns = (TextColumn("loading"), BarColumn(), MofNCompleteColumn(), TextColumn("events"),
               TimeRemainingColumn())
    errors = Console(stderr=True)
    # Off when stderr is not a terminal: a transient bar would still leave a blank line there.
    # The warning after the bar, as one line.
    with warned(), Progress(*columns, console=errors, transient=True, disable=not errors.is_terminal) as bar:
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
@click.option("--against", "checkpoint_file", default=None, metavar="FILE", type=click.Path(dir_okay=False),
              help="Also prove that the log extends this signed checkpoint (written by 'checkpoint'), and name "
                   "each entry changed or removed since it was signed.")
@click.option("--public-key", "public_key_file", default=None, metavar="FILE", type=click.Path(dir_okay=False),
              help="With --against: the trusted public key, a PEM file (default: the public key of --key).")
@click.option("--key", "key_file", envvar="NEGOTIATION_SIGNING_KEY", default=None, metavar="KEYFILE",
              type=click.Path(dir_okay=False),
              help="With --against: trust the public key of this signing key (default: "
                   "$NEGOTIATION_SIGNING_KEY, else signing-key.pem in the user's configuration directory).")
@click.pass_context
def verify(ctx: click.Context, as_json: bool, checkpoint_file: str | None, public_key_file: str | None,
           key_file: str | None) -> None:
    """Check every negotiation's hash chain; exit 1 naming the first altered event of each.

    The chain shows an entry changed by someone who did not recompute it; with --against a checkpoint
    signed earlier (and kept outside the database), verify also finds a rewrite whose chain was
    recomputed, a negotiation deleted whole, or the end of the log cut off.

    Example: negotiation --url sqlite:///talks.db verify --against checkpoints/2025-09-05.json --public-key negotiation.pub
    """
    # The checkpoint and its key are read before the database is opened: a bad file is its own one line.
    signed = None
    if checkpoint_file is not None:
        from . import against  # the signing library is loaded only when a checkpoint is asked about

        signed = against.signed_checkpoint(checkpoint_file, public_key_file, key_file)
    with opened(ctx) as ledger:
        report = ledger.verify()
        extended = signed.check(ledger) if signed is not None else None
    intact = report.intact and (extended is None or not extended.findings)
    if as_json:
        shown = jsonout.verify_report(report)
        if extended is not None:
            shown["checkpoint"] = extended.as_json()
        jsonout.emit(shown)
        if not intact:
            raise click.exceptions.Exit(1)
        return
    if report.intact:
        console().print(f"intact: {report.events} events in {report.negotiations} negotiations")
    for broken in report.broken:
        console().print(f"[bold red]altered[/] {broken}", highlight=False)
    if extended is not None:
        for line in extended.lines():
            click.echo(line)  # one finding a line, however long: for grep
    if not intact:
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
