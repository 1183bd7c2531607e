"""Commands that move the log: ``export`` it as event files."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import click

from .main import main, opened


@main.command()
@click.argument("negotiation_ids", nargs=-1, metavar="[ID]...")
@click.option("--out", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="Write to FILE (replaced only once the export is complete); default: stdout.")
@click.option("--format", "file_format", type=click.Choice(["yaml", "json"]), default=None,
              help="yaml or json; default: json for an --out FILE ending .json, else yaml.")
@click.pass_context
def export(ctx: click.Context, negotiation_ids: tuple[str, ...], out: str | None, file_format: str | None) -> None:
    """Write negotiations (default: all) as event files that `load` reads back, corrections included.

    Every entry keeps its id, occurred_at, reported_at and sources, so loading
    the export into an empty database gives the same negotiations, states and
    stories, and loading it where it came from records nothing.

    Example: negotiation export us-japan-2025 --out us-japan.yaml
    """
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


def _write_replacing(path: Path, writing: Callable[[TextIO], tuple[int, int]]) -> tuple[int, int]:
    """Write a file beside ``path`` and move it there once complete: an export that fails leaves no half file."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path("."))
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
            counted = writing(stream)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return counted

