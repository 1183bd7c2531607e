"""Commands that draw negotiations: a timeline picture, and the offline report of them all."""

from __future__ import annotations

from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..domain.times import end_of
from ..ledger import Ledger
from .main import console, main, opened

#: Where ``report`` and ``demo`` write the report unless told otherwise.
DEFAULT_REPORT = "negotiation-report"

AS_OF = click.option("--as-of", metavar="DATE", default=None,
                     help="As it stood then in the world (a date means the end of that day, UTC).")
KNOWN_AT = click.option("--known-at", metavar="DATE", default=None,
                        help="As it was known then: only what had been reported by that time.")


@main.command()
@click.argument("negotiation_ids", nargs=-1, required=True, metavar="ID...")
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The file to write: .svg, .png or .html (a page with tooltips that works offline).")
@AS_OF
@KNOWN_AT
@click.pass_context
def timeline(ctx: click.Context, negotiation_ids: tuple[str, ...], out_file: Path, as_of: str | None,
             known_at: str | None) -> None:
    """Draw a negotiation's timeline: its states, events, disputes and what was known when.

    Given several ids, draw their states on one time axis instead, one row each.

    Example: negotiation timeline us-japan-2025 --out us-japan.png --as-of 2025-08-28
    """
    from ..views import files  # the chart libraries serve these commands only
    from ..views import timeline as drawing
    from ..views.model import picture

    try:
        suffix = files.check_format(out_file)
    except ValueError as e:
        raise click.ClickException(f"--out: {e}") from None
    twice = sorted({n for n in negotiation_ids if negotiation_ids.count(n) > 1})
    if twice:
        raise click.ClickException(f"negotiation {', '.join(map(repr, twice))} named more than once")
    with opened(ctx) as ledger:
        views = [picture(ledger, negotiation_id, as_of=as_of, known_at=known_at) for negotiation_id in negotiation_ids]
    if len(views) > 1:
        files.save(drawing.chart_of_several(views), out_file, title=", ".join(negotiation_ids))
    else:
        (view,) = views
        narrow = drawing.chart_of(view, drawing.NARROW_WIDTH, narrow=True) if suffix == ".html" else None
        files.save(drawing.chart_of(view), out_file, title=view.named or view.id, narrow=narrow)
    console().print(f"wrote {out_file}", soft_wrap=True)


@main.command()
@click.option("--out", "out_dir", default=DEFAULT_REPORT, show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="The folder to write the report into.")
@AS_OF
@KNOWN_AT
@click.pass_context
def report(ctx: click.Context, out_dir: Path, as_of: str | None, known_at: str | None) -> None:
    """Write an offline report: an index of every negotiation, a page each, and the spec book.

    With --as-of or --known-at every page, and the index's deadlines and measures in force, are
    as of that day, or as known then.

    Example: negotiation report --out negotiation-report --as-of 2025-08-28
    """
    with opened(ctx) as ledger:
        write_report(ledger, out_dir, as_of=as_of, known_at=known_at)


def write_report(ledger: Ledger, out_dir: Path, *, as_of: str | None = None, known_at: str | None = None) -> Path:
    """Write the report of ``ledger`` into ``out_dir`` with a progress bar, and say which file to open."""
    from ..specbook.features import FeatureFileError
    from ..views import report as site_writer

    for name, value in (("as_of", as_of), ("known_at", known_at)):
        if value is not None:
            end_of(value, name)  # a bad time is refused before anything is written

    columns = (TextColumn("[bold]report[/]"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("{task.description}"))
    with Progress(*columns, console=console(), transient=True) as bar:
        task = bar.add_task("", total=None)

        def advance(done: int, total: int, next_up: str) -> None:
            bar.update(task, completed=done, total=total, description=next_up)

        try:
            site = site_writer.write(ledger, out_dir, progress=advance, as_of=as_of, known_at=known_at)
        except FeatureFileError as e:
            raise click.ClickException(str(e)) from e
    for warning in site.warnings:
        click.echo(f"warning: {warning}", err=True)
    index = site.index.resolve()
    console().print(f"wrote the report of {len(site.pages)} negotiations: open {index}", soft_wrap=True)
    return index
