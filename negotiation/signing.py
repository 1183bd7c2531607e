"""Signed checkpoints of the whole log: tamper evidence that whoever owns the database cannot fake.

The hash chain (``domain.chain``) proves nothing to someone who can rewrite the
database: they can edit an entry, recompute every later hash with the same
function, fix the kept state and put the triggers back. A checkpoint is a
statement signed with a key kept outside the database, in the manner of
Certificate Transparency's signed tree heads (RFC 6962, RFC 9162): "the log had
``entries`` entries, the last at ``last_position``, and its Merkle tree had
this ``root``".

The tree. Its leaves are the log's entries in position order; the leaf of an
entry is ``SHA-256(0x00 || position as 8 bytes big-endian || chain hash)``,
where the chain hash is the one ``domain.chain.event_hash`` gives the entry's
content chained to the previous entry of its negotiation (the stored hash, for
an intact log). A node is ``SHA-256(0x01 || left || right)``; the root of n > 1
leaves splits them at the largest power of two below n, as RFC 6962's Merkle
Tree Hash does, and the root of no leaf is ``SHA-256()``. So the first N leaves
of a longer log give the root of a log of N entries: a log that only grew
since a checkpoint still proves it, and one whose checkpointed entries were
edited, reordered, removed or cut off does not.

The file also keeps the tree's nodes at one level (``level``: ranges of
2**level entries, at most ``MAX_NODES`` of them), which hash up to the signed
root: enough to name the first entry that differs in a log of up to
``MAX_NODES`` entries, and the first range of entries that does in a longer one.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .domain.chain import GENESIS, event_hash
from .domain.entries import RecordedEvent
from .errors import NegotiationError
from .store.recorder import Recorder

#: What the ``format`` of a checkpoint file says; a checkpoint of another format is refused.
FORMAT = "negotiation-checkpoint/1"
#: Prefixed to what is signed, so that no other message signed with the same key reads as a checkpoint.
SIGNED_PREFIX = b"negotiation checkpoint v1\n"
#: The most nodes a checkpoint keeps: a log of up to this many entries has its every leaf kept.
MAX_NODES = 1024
#: The file the signing key is kept in, in the user's configuration directory, unless another is given.
KEY_FILE_NAME = "signing-key.pem"


class CheckpointError(NegotiationError):
    """A checkpoint or key file cannot be read, or the log cannot be checkpointed as it is."""


class HasRecorder(Protocol):
    """What a checkpoint reads: a ``Ledger`` (or anything else with the recorder of a log)."""

    @property
    def recorder(self) -> Recorder: ...


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement of the log's length and Merkle root, and the tree's nodes at one level."""

    entries: int
    last_position: int
    root: str
    made_at: datetime
    database: str
    public_key: str  # the raw Ed25519 public key, in hex
    signature: str  # over ``signed_message()``, in hex
    level: int
    nodes: tuple[str, ...]

    def signed_message(self) -> bytes:
        """The bytes the signature covers: every field but the key, the signature and the nodes.

        The nodes need no signature of their own: they must hash up to the signed root.
        """
        return signed_message(self.entries, self.last_position, self.root, self.made_at, self.database)

    def to_json(self) -> bytes:
        return orjson.dumps({
            "format": FORMAT,
            "entries": self.entries,
            "last_position": self.last_position,
            "root": self.root,
            "made_at": utc_text(self.made_at),
            "database": self.database,
            "public_key": self.public_key,
            "signature": self.signature,
            "tree": {"level": self.level, "nodes": list(self.nodes)},
        }, option=orjson.OPT_INDENT_2) + b"\n"

    @classmethod
    def from_json(cls, text: bytes | str) -> Checkpoint:
        """A checkpoint from its file's text; ``CheckpointError`` saying what is wrong with it otherwise."""
        try:
            loaded = orjson.loads(text)
        except orjson.JSONDecodeError as e:
            raise CheckpointError(f"not a checkpoint: not JSON ({e})") from None
        if not isinstance(loaded, dict):
            raise CheckpointError("not a checkpoint: not a JSON object")
        if loaded.get("format") != FORMAT:
            raise CheckpointError(f"not a checkpoint: its format is {loaded.get('format')!r}, not {FORMAT!r}")
        tree = _field(loaded, "tree", dict)
        made_at = _field(loaded, "made_at", str)
        try:
            moment = datetime.fromisoformat(made_at)
        except ValueError:
            raise CheckpointError(f"not a checkpoint: made_at {made_at!r} is not a time") from None
        if moment.tzinfo is None:
            raise CheckpointError(f"not a checkpoint: made_at {made_at!r} has no time zone")
        nodes = _field(tree, "nodes", list)
        checkpoint = cls(
            entries=_count(loaded, "entries"),
            last_position=_count(loaded, "last_position"),
            root=_hex(loaded, "root", 32),
            made_at=moment.astimezone(UTC),
            database=_field(loaded, "database", str),
            public_key=_hex(loaded, "public_key", 32),
            signature=_hex(loaded, "signature", 64),
            level=_count(tree, "level"),
            nodes=tuple(_hex({"node": node}, "node", 32) for node in nodes),
        )
        if checkpoint.level > 62 or len(checkpoint.nodes) != _ranges(checkpoint.entries, checkpoint.level):
            raise CheckpointError(f"not a checkpoint: a tree of {checkpoint.entries} entries has "
                                  f"{_ranges(checkpoint.entries, min(checkpoint.level, 62))} nodes at level "
                                  f"{checkpoint.level}, not {len(checkpoint.nodes)}")
        return checkpoint

    @classmethod
    def read(cls, path: str | Path) -> Checkpoint:
        """The checkpoint in a file; ``CheckpointError`` naming the file if it is none."""
        try:
            text = Path(path).read_bytes()
        except OSError as e:
            raise CheckpointError(f"cannot read the checkpoint {path}: {e.strerror}") from None
        try:
            return cls.from_json(text)
        except CheckpointError as e:
            raise CheckpointError(f"{path}: {e}") from None

    def write(self, path: str | Path) -> None:
        Path(path).write_bytes(self.to_json())


# -- the tree ------------------------------------------------------------------------------------

def leaf_hash(position: int, chain_hash: str) -> bytes:
    """The tree's leaf of an entry: its position and its chain hash, domain-separated from nodes."""
    return hashlib.sha256(b"\x00" + position.to_bytes(8, "big") + bytes.fromhex(chain_hash)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def tree_root(hashes: Sequence[bytes]) -> bytes:
    """RFC 6962's Merkle Tree Hash over hashes already made (leaves, or aligned ranges of 2**k leaves).

    Ranges of 2**k leaves, the last possibly shorter, give the same root as the leaves themselves:
    each split at the largest power of two below the count falls on a range's edge.
    """
    if not hashes:
        return hashlib.sha256().digest()
    # Bottom up, pairing from the left and carrying an odd last one up as it is: the same tree.
    level = list(hashes)
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def level_for(entries: int) -> int:
    """The lowest level of the tree with at most ``MAX_NODES`` nodes: ranges of 2**level entries."""
    level = 0
    while _ranges(entries, level) > MAX_NODES:
        level += 1
    return level


def _ranges(entries: int, level: int) -> int:
    return -(-entries // (1 << level))


@dataclass(frozen=True, slots=True)
class _Leaf:
    entry: RecordedEvent
    hash: bytes
    chain_hash: str


def _leaves(entries: Iterable[RecordedEvent]) -> Iterator[_Leaf]:
    """Each entry in position order with its leaf, its chain hash recomputed from its content."""
    last: dict[str, str] = {}
    for entry in entries:
        chained = event_hash(last.get(entry.negotiation_id, GENESIS), entry)
        last[entry.negotiation_id] = chained
        yield _Leaf(entry, leaf_hash(entry.position, chained), chained)


def _range_hashes(leaves: Iterable[_Leaf], level: int, limit: int) -> Iterator[tuple[bytes, list[_Leaf]]]:
    """The hash of each range of 2**level leaves among the first ``limit``, with the range's leaves."""
    size = 1 << level
    taken: list[_Leaf] = []
    for count, leaf in enumerate(leaves, start=1):
        if count > limit:
            break
        taken.append(leaf)
        if len(taken) == size:
            yield tree_root([t.hash for t in taken]), taken
            taken = []
    if taken:
        yield tree_root([t.hash for t in taken]), taken


# -- signing -------------------------------------------------------------------------------------

def signed_message(entries: int, last_position: int, root: str, made_at: datetime, database: str) -> bytes:
    content = {"format": FORMAT, "entries": entries, "last_position": last_position, "root": root,
               "made_at": utc_text(made_at), "database": database}
    return SIGNED_PREFIX + orjson.dumps(content, option=orjson.OPT_SORT_KEYS)


def public_key_hex(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def checkpoint(ledger: HasRecorder, key: Ed25519PrivateKey, *, now: datetime | None = None) -> Checkpoint:
    """Sign the log as it is now, in one read: its length, its last position and its Merkle root.

    A log whose hash chain does not hold (an entry whose stored hash is not the one its content
    gives) is refused with ``CheckpointError``: a checkpoint vouches only for an intact chain.
    """
    made_at = (now or datetime.now(UTC)).astimezone(UTC)
    recorder = ledger.recorder
    with recorder.reading() as view:
        entries = view.count()
        level = level_for(entries)
        versions: dict[str, int] = {}
        last_position = 0

        def checked(leaves: Iterable[_Leaf]) -> Iterator[_Leaf]:
            nonlocal last_position
            for leaf in leaves:
                entry = leaf.entry
                expected = versions.get(entry.negotiation_id, 0) + 1
                if entry.version != expected or leaf.chain_hash != entry.hash:
                    raise CheckpointError(
                        f"the log's hash chain does not hold at position {entry.position} ({entry.negotiation_id} "
                        f"version {entry.version}): run negotiation verify; only an intact log is checkpointed")
                versions[entry.negotiation_id] = entry.version
                last_position = entry.position
                yield leaf

        nodes = [hashed for hashed, _ in _range_hashes(checked(_leaves(view.in_log_order())), level, entries)]
    root = tree_root(nodes).hex()
    signature = key.sign(signed_message(entries, last_position, root, made_at, recorder.url))
    return Checkpoint(entries=entries, last_position=last_position, root=root, made_at=made_at,
                      database=recorder.url, public_key=public_key_hex(key.public_key()), signature=signature.hex(),
                      level=level, nodes=tuple(node.hex() for node in nodes))


def checkpoint_problem(checkpoint: Checkpoint, public_key: Ed25519PublicKey) -> str | None:
    """What makes the checkpoint itself untrustworthy (its key, its signature, its nodes), or None."""
    trusted = public_key_hex(public_key)
    if checkpoint.public_key != trusted:
        return (f"the checkpoint is signed by key {checkpoint.public_key[:16]}…, not by the trusted key "
                f"{trusted[:16]}…")
    try:
        public_key.verify(bytes.fromhex(checkpoint.signature), checkpoint.signed_message())
    except InvalidSignature:
        return "the checkpoint's signature is not valid: the file was altered after it was signed"
    if tree_root([bytes.fromhex(node) for node in checkpoint.nodes]).hex() != checkpoint.root:
        return "the checkpoint's tree nodes do not give its signed root: the file was altered after it was signed"
    return None


def verify_against(ledger: HasRecorder, checkpoint: Checkpoint, public_key: Ed25519PublicKey) -> list[str]:
    """Check that the log extends a checkpoint signed by ``public_key``: one line per finding, none if it does.

    What ``compare`` finds, without the log's length.
    """
    return compare(ledger, checkpoint, public_key).findings


@dataclass(frozen=True, slots=True)
class Comparison:
    """What a log holds against a checkpoint: one line per finding (none: the log extends it), and how many
    entries the log held when compared (None when the checkpoint itself was refused, unread)."""

    findings: list[str]
    entries: int | None


def compare(ledger: HasRecorder, checkpoint: Checkpoint, public_key: Ed25519PublicKey) -> Comparison:
    """Compare the log, in one reading, with a checkpoint signed by ``public_key``.

    The checkpoint must be signed by that key, and its first ``checkpoint.entries`` entries must
    give its root. Otherwise the findings say what differs: the key or the signature; that signed
    entries are missing from the end; the first entry that is not the one signed, or the first
    signed entries missing before an entry, or (for a log too long to keep every leaf) the first
    range of entries that differs; and how many signed entries in all are not in the log as signed.
    """
    problem = checkpoint_problem(checkpoint, public_key)
    if problem is not None:
        return Comparison([problem], None)
    signed, size = checkpoint.entries, 1 << checkpoint.level
    kept: list[_Leaf] = []  # every leaf compared, when the checkpoint keeps every leaf
    first_differing: tuple[int, list[_Leaf]] | None = None  # the first range that differs: its index, its leaves
    different = 0  # how many ranges do
    with ledger.recorder.reading() as view:
        count = view.count()
        for index, (hashed, leaves) in enumerate(_range_hashes(_leaves(view.in_log_order()), checkpoint.level,
                                                                signed)):
            if checkpoint.level == 0:
                kept.extend(leaves)
            # A shorter last range is missing entries, which the count says: not a difference in itself.
            if hashed.hex() != checkpoint.nodes[index] and len(leaves) == min(size, signed - index * size):
                different += 1
                if first_differing is None:
                    first_differing = (index, leaves)
    findings: list[str] = []
    if count < signed:
        findings.append(f"the log has {count} entries; the checkpoint signed {signed} "
                        f"(up to position {checkpoint.last_position})")
    if first_differing is None:
        if findings and checkpoint.level == 0:
            findings[0] += f": its last {signed - count} are missing"
        return Comparison(findings, count)
    if checkpoint.level == 0:
        return Comparison(findings + _leaf_findings(checkpoint, kept), count)
    index, leaves = first_differing
    first, last = leaves[0].entry, leaves[-1].entry
    findings.append(f"entries {index * size + 1}–{index * size + len(leaves)} of the log (positions "
                    f"{first.position}–{last.position}) are not all those the checkpoint signed; it keeps the "
                    f"tree of its {signed} entries in ranges of {size}")
    if different > 1:
        findings.append(f"in all, {different} of its {len(checkpoint.nodes)} ranges differ")
    return Comparison(findings, count)


def _leaf_findings(checkpoint: Checkpoint, leaves: Sequence[_Leaf]) -> list[str]:
    """Where a log differs from a checkpoint that keeps every leaf: its first difference, then how much."""
    signed = {node: index for index, node in enumerate(checkpoint.nodes)}
    present = {leaf.hash.hex() for leaf in leaves}
    gone = sum(1 for node in checkpoint.nodes if node not in present)
    first = next((i for i, leaf in enumerate(leaves) if leaf.hash.hex() != checkpoint.nodes[i]), None)
    findings: list[str] = []
    explained = 0
    if first is not None:
        entry = leaves[first].entry
        at = f"position {entry.position} ({entry.negotiation_id} version {entry.version}"
        later = signed.get(leaves[first].hash.hex(), -1)
        if later > first:  # the entry is one signed further on: those signed before it are gone
            after = f"position {leaves[first - 1].entry.position}" if first else "the start of the log"
            findings.append(f"{later - first} signed entries are missing between {after} and {at})")
            explained = later - first
        else:
            findings.append(f"{at}, event {entry.event_id}) is not the entry the checkpoint signed there")
            explained = 1
    if gone > explained:
        findings.append(f"in all, {gone} of the {checkpoint.entries} signed entries are not in the log as signed")
    return findings


# -- keys ----------------------------------------------------------------------------------------

def default_key_path() -> Path:
    """Where the signing key is kept unless another is given: the user's configuration directory."""
    import platformdirs  # only the commands that sign with the default key need it

    return Path(platformdirs.user_config_dir("negotiation")) / KEY_FILE_NAME


def make_key(path: Path) -> Ed25519PrivateKey:
    """A new signing key, written to ``path`` (which must not exist) readable by its owner only."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(descriptor, 0o600)  # whatever the umask
        os.write(descriptor, pem)
    finally:
        os.close(descriptor)
    return key


def read_private_key(path: str | Path) -> Ed25519PrivateKey:
    """The Ed25519 signing key in a PEM file."""
    key = _pem(path, private=True)
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointError(f"{path}: not an Ed25519 private key")
    return key


def read_public_key(path: str | Path) -> Ed25519PublicKey:
    """The Ed25519 public key in a PEM file (a private key's file gives its public key)."""
    try:
        key = _pem(path, private=False)
    except CheckpointError:
        return read_private_key(path).public_key()
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointError(f"{path}: not an Ed25519 public key")
    return key


def public_key_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def _pem(path: str | Path, *, private: bool) -> object:
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise CheckpointError(f"cannot read the key {path}: {e.strerror}") from None
    try:
        if private:
            return serialization.load_pem_private_key(data, password=None)
        return serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as e:
        kind = "private" if private else "public"
        raise CheckpointError(f"{path}: not a PEM {kind} key without a passphrase ({e})") from None


# -- reading a checkpoint file -------------------------------------------------------------------

def utc_text(moment: datetime) -> str:
    """A time as the checkpoint files write it: ISO 8601 in UTC, with Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _field(loaded: dict[str, Any], name: str, kind: type) -> Any:
    if name not in loaded:
        raise CheckpointError(f"not a checkpoint: it has no {name}")
    value = loaded[name]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise CheckpointError(f"not a checkpoint: its {name} is not a {kind.__name__}")
    return value


def _count(loaded: dict[str, Any], name: str) -> int:
    value: int = _field(loaded, name, int)
    if value < 0:
        raise CheckpointError(f"not a checkpoint: its {name} is negative")
    return value


def _hex(loaded: dict[str, Any], name: str, size: int) -> str:
    value: str = _field(loaded, name, str)
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise CheckpointError(f"not a checkpoint: its {name} is not hexadecimal") from None
    if len(raw) != size or value != raw.hex():
        raise CheckpointError(f"not a checkpoint: its {name} is not {size} bytes in lower-case hex")
    return value
