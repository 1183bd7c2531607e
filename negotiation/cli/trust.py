"""Signed checkpoints of the log: checkpoint, public-key, and what ``verify --against`` checks."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .. import signing
from .main import main, opened

if TYPE_CHECKING:
    from ..ledger import Ledger

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


@dataclass(frozen=True)
class Extended:
    """What ``verify --against`` found: the checkpoint, what differs from it, and the log's length now."""

    made: signing.Checkpoint
    findings: list[str]
    #: None when the checkpoint itself was refused (another key, a forged signature): the log was not read.
    entries_now: int | None

    def lines(self) -> list[str]:
        """One line per finding, or one saying the log extends the checkpoint."""
        if self.findings:
            return [f"altered: {finding}" for finding in self.findings]
        made = self.made
        now = made.entries if self.entries_now is None else self.entries_now
        grown = f"; {now - made.entries} recorded since" if now > made.entries else ""
        return [f"extends the checkpoint: the first {made.entries} entries (up to position {made.last_position}) "
                f"are those signed at {signing.utc_text(made.made_at)} by key {made.public_key[:16]}…{grown}"]

    def as_json(self) -> dict[str, Any]:
        return {"extends": not self.findings, "entries_signed": self.made.entries,
                "last_position": self.made.last_position, "signed_at": signing.utc_text(self.made.made_at),
                "public_key": self.made.public_key, "entries_now": self.entries_now, "findings": self.findings}


@dataclass(frozen=True)
class Signed:
    """A checkpoint read from its file, and the key it must be signed by."""

    made: signing.Checkpoint
    trusted: Ed25519PublicKey

    def check(self, ledger: Ledger) -> Extended:
        """Prove that the log extends the checkpoint; entries recorded since are not checked."""
        compared = signing.compare(ledger, self.made, self.trusted)
        return Extended(self.made, compared.findings, compared.entries)


def signed_checkpoint(checkpoint_file: str, public_key_file: str | None, key_file: str | None) -> Signed:
    """The checkpoint at ``checkpoint_file`` and the trusted key; a one-line error if either cannot be read."""
    trusted = _trusted_key(public_key_file, key_file)
    return Signed(signing.Checkpoint.read(checkpoint_file), trusted)


def _trusted_key(public_key_file: str | None, key_file: str | None) -> Ed25519PublicKey:
    if public_key_file is not None:
        return signing.read_public_key(public_key_file)
    if key_file is not None:
        return signing.read_private_key(key_file).public_key()
    path = signing.default_key_path()
    if not path.exists():
        raise click.ClickException(f"no trusted key: give --public-key FILE or --key KEYFILE (there is no "
                                   f"signing key at {path})")
    return signing.read_private_key(path).public_key()


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
