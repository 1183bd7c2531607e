"""``negotiation db roles``: the owner, the writer and the reader of a PostgreSQL log."""

from __future__ import annotations

import click

from ..store import roles
from ..store.opening import resolve_url
from .main import console, db

WRITER_HELP = ("The role the application connects as: adds to the log, never changes it "
               f"(default {roles.DEFAULT_WRITER}).")
READER_HELP = f"The role that only reads (default {roles.DEFAULT_READER})."


@db.command("roles")
@click.option("--owner", metavar="NAME", default=None,
              help="The role that owns the tables and runs `db upgrade` (default: the URL's user).")
@click.option("--writer", metavar="NAME", default=roles.DEFAULT_WRITER, help=WRITER_HELP)
@click.option("--reader", metavar="NAME", default=roles.DEFAULT_READER, help=READER_HELP)
@click.option("--print", "print_only", is_flag=True,
              help="Print the SQL for a DBA to review (or run with psql -f) and change nothing.")
@click.pass_context
def db_roles(ctx: click.Context, owner: str | None, writer: str, reader: str, print_only: bool) -> None:
    """Set up least privilege on PostgreSQL: the owner owns the tables, the writer may only add to the log.

    Run it after `db upgrade`, as the owner or an admin: it creates the roles
    that are missing and grants each what it needs, in one transaction; running
    it again changes nothing. The writer may read and append to negotiation_events
    and entry_sources and keep the tables derived from them; it may not update,
    delete, truncate, drop or alter them, nor touch their triggers. The reader
    may only read. Run it again after every `db upgrade`.

    Example: negotiation --url postgresql+psycopg://negotiation_owner@db-host/negotiations db roles
    """
    url = roles.postgres_url(resolve_url(ctx.obj["url"]))
    chosen = owner or roles.url_user(url)
    if chosen is None:
        raise click.UsageError("the URL names no user: name the owner with --owner NAME")
    names = roles.Roles(chosen, writer, reader)
    if print_only:
        click.echo(roles.script(names), nl=False)
        return
    outcome = roles.set_up(url, names)
    said = f"owner {names.owner}, writer {names.writer}, reader {names.reader}"
    if outcome.changed:
        console().print(f"roles set up: {said}", highlight=False)
    else:
        console().print(f"roles already set up, nothing changed: {said}", highlight=False)
    for warning in outcome.warnings:
        click.echo(f"warning: {warning}", err=True)
    for grantee, privileges in outcome.others.items():
        click.echo(f"note: {grantee} also holds {'; '.join(privileges)}: REVOKE what it should not have", err=True)
