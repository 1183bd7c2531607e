"""What ``verify --against FILE`` checks: the log against a signed checkpoint, with a trusted key.

Apart from the checkpoint commands (``trust``), so that ``verify`` loads the signing library only when a
checkpoint is asked about, and nothing here needs the command group.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .. import signing

if TYPE_CHECKING:
    from ..ledger import Ledger


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
