"""Signed checkpoints of the log: the checkpoint and public-key commands (``verify --against`` is in ``against``)."""

from __future__ import annotations

from pathlib import Path

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .. import signing
from .main import main, opened

KEY_OPTION = click.option(
    "--key", "key_file", envvar="NEGOTIATION_SIGNING_KEY", default=None, metavar="KEYFILE",
    type=click.Path(dir_okay=False),
    help="The Ed25519 signing key, a PEM file, made there on first use (default: $NEGOTIATION_SIGNING_KEY, "
         "else signing-key.pem in the user's configuration directory).")


def _signing_key(key_file: str | None) -> Ed25519PrivateKey:
    """The key at ``key_file`` or the default place, made (and said where) if there is none there yet."""
    path = signing.default_key_path() if key_file is None else Path(key_file)
    if path.exists():
        return signing.read_private_key(path)
    key = signing.make_key(path)
    click.echo(f"made a signing key at {path} (readable by you only): keep it, and copies of your "
               f"checkpoints, outside the database", err=True)
    return key


@main.command("checkpoint")
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False, allow_dash=True),
              metavar="FILE", help="Where to write the checkpoint, as JSON ('-': standard output).")
@KEY_OPTION
@click.pass_context
def checkpoint_command(ctx: click.Context, out_file: str, key_file: str | None) -> None:
    """Sign the log as it is now: its length, its last position and the Merkle root of every entry.

    Keep the file (and the key) outside the database: verify --against it then proves that the log
    still holds every entry signed, as signed, whoever rewrote the database since.

    Example: negotiation checkpoint --out checkpoints/2025-09-05.json
    """
    key = _signing_key(key_file)
    with opened(ctx) as ledger:
        made = signing.checkpoint(ledger, key)
    if out_file == "-":
        click.echo(made.to_json().decode(), nl=False)
    else:
        made.write(out_file)
    where = "" if out_file == "-" else f" to {out_file}"
    click.echo(f"signed a checkpoint of {made.entries} entries (up to position {made.last_position}), root "
               f"{made.root[:16]}…, with key {made.public_key[:16]}…{where}", err=out_file == "-")


@main.command("public-key")
@KEY_OPTION
@click.option("--out", "out_file", default=None, type=click.Path(dir_okay=False), metavar="FILE",
              help="Write it to FILE rather than standard output.")
def public_key(key_file: str | None, out_file: str | None) -> None:
    """Print the signing key's public key (PEM): give it to whoever verifies your checkpoints.

    Example: negotiation public-key --out negotiation.pub
    """
    pem = signing.public_key_pem(_signing_key(key_file).public_key())
    if out_file is None:
        click.echo(pem, nl=False)
        return
    Path(out_file).write_text(pem)
    click.echo(f"wrote the public key to {out_file}", err=True)
