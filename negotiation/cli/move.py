"""Commands that move the log: ``export`` it as event files, ``copy`` it whole to another database."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import click

from ..outfiles import replacing
from .main import console, main, opened


@main.command()
@click.argument("negotiation_ids", nargs=-1, metavar="[ID]...")
@click.option("--out", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="Write to FILE (replaced only once the export is complete); default: stdout.")
@click.option("--format", "file_format", type=click.Choice(["yaml", "json", "plover", "csv"]), default=None,
              help="yaml or json (default: json for an --out FILE ending .json, csv for one ending .csv, else "
                   "yaml); plover: the stories as PLOVER event records, JSON lines; csv: the stories as a table, "
                   "a row per event with the state after it.")
@click.pass_context
def export(ctx: click.Context, negotiation_ids: tuple[str, ...], out: str | None, file_format: str | None) -> None:
    """Write negotiations (default: all) as event files that `load` reads back, corrections included.

    Every entry keeps its id, occurred_at, reported_at and sources, so loading
    the export into an empty database gives the same negotiations, states and
    stories, and loading it where it came from records nothing.

    `--format plover` writes the stories instead, one PLOVER event record a line,
    for event-data tools, and `--format csv` a table of them for a spreadsheet:
    `load` reads neither back.

    Example: negotiation export us-japan-2025 --out us-japan.yaml
    """
    if file_format == "plover":
        _export_plover(ctx, negotiation_ids, out)
        return
    if file_format == "csv" or (file_format is None and out is not None and out.lower().endswith(".csv")):
        _export_csv(ctx, negotiation_ids, out)
        return
    from ..files.export import documents, write

    chosen = file_format or ("json" if out and out.lower().endswith(".json") else "yaml")
    if out and (chosen == "json") != out.lower().endswith(".json"):
        raise click.UsageError(f"load reads a file ending .json as JSON and any other as YAML: name the {chosen} "
                               f"export {Path(out).stem}{'.json' if chosen == 'json' else '.yaml'}")
    with opened(ctx) as ledger:
        docs = documents(ledger, negotiation_ids)
        if out is None:
            count, entries = write(docs, sys.stdout, chosen)
        else:
            count, entries = _write_replacing(Path(out), lambda stream: write(docs, stream, chosen))
    where = f" to {out}" if out else ""
    click.echo(f"exported {count} negotiation{'s' if count != 1 else ''} ({entries} entries){where}", err=True)


def _export_plover(ctx: click.Context, negotiation_ids: tuple[str, ...], out: str | None) -> None:
    from ..files.plover import plover_lines, write_lines

    _export_records(ctx, negotiation_ids, out, plover_lines, write_lines, "PLOVER event record")


def _export_csv(ctx: click.Context, negotiation_ids: tuple[str, ...], out: str | None) -> None:
    from ..files.export import story_rows, write_csv

    _export_records(ctx, negotiation_ids, out, story_rows, write_csv, "story row")


def _export_records(ctx: click.Context, negotiation_ids: tuple[str, ...], out: str | None,
                    made: Callable[[Any, tuple[str, ...]], Any], write: Callable[[Any, TextIO], tuple[int, int]],
                    noun: str) -> None:
    """Export records ``made`` from the ledger, one ``noun`` each, with ``write``; say how many of how many
    negotiations, and where they went."""
    with opened(ctx) as ledger:
        records = made(ledger, negotiation_ids)
        (count, written), where = _write_out(out, lambda stream: write(records, stream))
    click.echo(f"exported {written} {noun}{'s' if written != 1 else ''} of {count} "
               f"negotiation{'s' if count != 1 else ''}{where}", err=True)


def _write_out(out: str | None, writing: Callable[[TextIO], tuple[int, int]]) -> tuple[tuple[int, int], str]:
    """Write to standard output, or whole to the file ``out``; what ``writing`` counted, and where it went as
    the closing line says it."""
    if out is None:
        return writing(sys.stdout), ""
    return _write_replacing(Path(out), writing), f" to {out}"


def _write_replacing(path: Path, writing: Callable[[TextIO], tuple[int, int]]) -> tuple[int, int]:
    """Write a file beside ``path`` and move it there once complete: an export that fails leaves no half file."""
    with replacing(path, newline="\n") as stream:
        return writing(stream)


@main.command("copy")
@click.option("--to", "target", required=True, metavar="URL",
              help="The database to copy to: empty, or a copy that stopped.")

@click.option("--chunk", type=click.IntRange(min=1), default=None, metavar="N",
              help="Entries per transaction (default 2000).")
@click.pass_context
def copy_command(ctx: click.Context, target: str, chunk: int | None) -> None:
    """Copy the whole log to another database, every entry as stored, then verify it there.

    Event ids, versions, positions, the three times and hashes are kept, and
    each negotiation's state is rebuilt beside the copied log, chunk by chunk.
    The target must be empty; a copy that stopped is completed by running it
    again. SQLite to PostgreSQL is the documented way to outgrow one machine.

    Example: negotiation --url sqlite:///negotiations.db copy --to postgresql://db-host/negotiations
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from ..ledger import Ledger
    from ..store.copy import CHUNK, copy_log, shown
    from ..store.opening import resolve_url

    with opened(ctx) as ledger:  # a missing source file or an old schema is refused here, as by every reader
        source = ledger.url
    source_url = resolve_url(ctx.obj["url"])
    errors = Console(stderr=True)
    columns = (TextColumn("copying"), BarColumn(), MofNCompleteColumn(), TextColumn("entries"),
               TimeRemainingColumn())
    # Off when stderr is not a terminal: a transient bar would still leave a blank line there.
    with Progress(*columns, console=errors, transient=True, disable=not errors.is_terminal) as bar:
        task = bar.add_task("copy", total=None)
        report = copy_log(source_url, target, chunk=chunk or CHUNK,
                          progress=lambda done, total: bar.update(task, completed=done, total=total))
    again = f", {report.already_there} were there already" if report.already_there else ""
    click.echo(f"copied {report.copied} entries from {source} to {shown(resolve_url(target))}{again} "
               f"({report.per_second:,.0f} entries/s)")
    with Ledger.open(target, upgrade=False) as copied:
        verified = copied.verify()
    if not verified.intact:
        for broken in verified.broken:
            console().print(f"[bold red]altered[/] {broken}", highlight=False)
        raise click.exceptions.Exit(1)
    click.echo(f"verified on the target: {verified.events} entries in {verified.negotiations} negotiations, intact")
