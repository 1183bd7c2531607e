"""Signed checkpoints: a log rewritten by whoever owns the database passes the hash chain's audit, not a checkpoint.

Each tampering here is done as the database's owner could: with the triggers
dropped (SQLite) or disabled (PostgreSQL) and put back after, every hash
recomputed with the project's own function and the kept state fixed, so that
``verify`` finds the log intact. A checkpoint signed before it, with a key kept
outside the database, does not.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, create_engine, text

from negotiation import Ledger, signing
from negotiation.cli import main
from negotiation.domain.aggregate import fold_log, snapshot
from negotiation.domain.chain import GENESIS, event_hash
from negotiation.domain.entries import RecordedEvent
from negotiation.files.loading import load_streams, read_streams
from negotiation.signing import Checkpoint, CheckpointError

US_JAPAN = "us-japan-2025"
SEED_ENTRIES = 183  # what seeds/*.yaml hold: if they grow, the positions below move with them


# -- the owner's tools ---------------------------------------------------------------------------

@contextmanager
def as_the_owner(url: str) -> Iterator[Connection]:
    """A transaction with the append-only triggers out of the way, put back as they were before it commits."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("ALTER TABLE negotiation_events DISABLE TRIGGER negotiation_events_no_rewrite"))
                yield conn
                conn.execute(text("ALTER TABLE negotiation_events ENABLE TRIGGER negotiation_events_no_rewrite"))
            else:
                triggers = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                             "AND tbl_name = 'negotiation_events'")).all()
                assert {name for name, _ in triggers} >= {"negotiation_events_no_update",
                                                          "negotiation_events_no_delete"}
                for name, _ in triggers:
                    conn.execute(text(f"DROP TRIGGER {name}"))
                yield conn
                for _, sql in triggers:
                    conn.execute(text(sql))
    finally:
        engine.dispose()


def _json(conn: Connection, name: str) -> str:
    return f"CAST(:{name} AS JSONB)" if conn.dialect.name == "postgresql" else f":{name}"


def stream_of(ledger: Ledger, negotiation_id: str) -> list[RecordedEvent]:
    with ledger.recorder.reading() as view:
        return view.stream(negotiation_id)


def rewrite_chain(conn: Connection, entries: list[RecordedEvent]) -> None:
    """Store a negotiation's entries as given, every hash recomputed, and its kept state to match."""
    previous = GENESIS
    for entry in entries:
        chained = event_hash(previous, entry)
        conn.execute(text(f"UPDATE negotiation_events SET data = {_json(conn, 'data')}, hash = :hash "
                          "WHERE position = :p"),
                     {"data": orjson.dumps(entry.data).decode(), "hash": chained, "p": entry.position})
        previous = chained
    fix_head(conn, entries, previous)


def fix_head(conn: Connection, entries: list[RecordedEvent], last_hash: str) -> None:
    told = fold_log(entries[0].negotiation_id, entries)
    conn.execute(text(f"UPDATE negotiation_heads SET version = :version, state = :state, "
                      f"snapshot = {_json(conn, 'snapshot')}, last_hash = :hash WHERE negotiation_id = :id"),
                 {"version": told.version, "state": told.state, "snapshot": orjson.dumps(snapshot(told)).decode(),
                  "hash": last_hash, "id": told.id})


def raise_the_tariff(ledger: Ledger, url: str) -> RecordedEvent:
    """The deal's 15% reciprocal tariff made 50%, the rest of its negotiation's chain recomputed."""
    entries = stream_of(ledger, US_JAPAN)
    index, deal = next((i, e) for i, e in enumerate(entries)
                       if e.type == "AgreedInPrinciple" and e.data["terms"]["reciprocal tariff"] == "15%")
    entries[index] = dataclasses.replace(deal, data={**deal.data,
                                                     "terms": {**deal.data["terms"], "reciprocal tariff": "50%"}})
    with as_the_owner(url) as conn:
        rewrite_chain(conn, entries)
    return deal


def remove_negotiation(url: str, negotiation_id: str) -> None:
    with as_the_owner(url) as conn:
        for table in ("entry_sources", "negotiation_events", "negotiation_heads", "negotiation_titles"):
            conn.execute(text(f"DELETE FROM {table} WHERE negotiation_id = :id"), {"id": negotiation_id})


def cut_the_end(ledger: Ledger, url: str, count: int) -> None:
    """The log's last ``count`` entries removed (all of one negotiation's), its kept state fixed to match."""
    with ledger.recorder.reading() as view:
        last = list(view.in_log_order())[-count:]
    (negotiation_id,) = {entry.negotiation_id for entry in last}
    kept = stream_of(ledger, negotiation_id)[:-count]
    with as_the_owner(url) as conn:
        for entry in last:
            conn.execute(text("DELETE FROM entry_sources WHERE position = :p"), {"p": entry.position})
            conn.execute(text("DELETE FROM negotiation_events WHERE position = :p"), {"p": entry.position})
        fix_head(conn, kept, kept[-1].hash)


# -- fixtures ------------------------------------------------------------------------------------

@pytest.fixture
def seeded(ledger: Ledger, seeds: list[Path]) -> Ledger:
    load_streams(ledger, read_streams(seeds))
    return ledger


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def key_file(tmp_path: Path, key: Ed25519PrivateKey) -> Path:
    path = tmp_path / "signing-key.pem"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return path


Run = Callable[..., Any]


@pytest.fixture
def runner(database_url: str, tmp_path: Path) -> Run:
    """The command line on the test's database, with a configuration directory of the test's own."""
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config"), "NEGOTIATION_SIGNING_KEY": None}

    def invoke(*args: str) -> Any:
        return CliRunner(env=env).invoke(main, ["--url", database_url, *args])

    return invoke


# -- on every backend: what an owner's rewrite leaves, and what a checkpoint finds ----------------

@pytest.mark.every_backend
class TestAnOwnersRewrite:
    def test_an_untouched_log_extends_its_checkpoint_and_so_does_one_that_grew(
            self, seeded: Ledger, key: Ed25519PrivateKey) -> None:
        made = signing.checkpoint(seeded, key)
        end = seeded.recorder.end_of_log()
        seeded.record(US_JAPAN, "TermsDisputed", {"point": "beef"}, occurred_at="2025-09-10")

        assert (made.entries, made.last_position, made.level) == (SEED_ENTRIES, end, 0)
        assert made.database == seeded.url
        assert signing.verify_against(seeded, made, key.public_key()) == []

    def test_a_rewritten_term_passes_the_chain_but_not_the_checkpoint(
            self, seeded: Ledger, database_url: str, key: Ed25519PrivateKey) -> None:
        made = signing.checkpoint(seeded, key)

        deal = raise_the_tariff(seeded, database_url)

        assert seeded.verify().intact  # the hash chain and the kept state say nothing
        assert stream_of(seeded, US_JAPAN)[deal.version - 1].data["terms"]["reciprocal tariff"] == "50%"
        later = len(stream_of(seeded, US_JAPAN)) - deal.version  # each later hash chains to the rewritten one
        assert signing.verify_against(seeded, made, key.public_key()) == [
            f"position {deal.position} ({US_JAPAN} version {deal.version}, event {deal.event_id}) is not the "
            f"entry the checkpoint signed there",
            f"in all, {later + 1} of the {SEED_ENTRIES} signed entries are not in the log as signed",
        ]

    def test_a_removed_negotiation_passes_the_chain_but_not_the_checkpoint(
            self, seeded: Ledger, database_url: str, key: Ed25519PrivateKey) -> None:
        made = signing.checkpoint(seeded, key)
        removed = stream_of(seeded, US_JAPAN)

        remove_negotiation(database_url, US_JAPAN)

        report = seeded.verify()
        assert report.intact and US_JAPAN not in seeded.negotiations()
        before, after = removed[0].position - 1, removed[-1].position + 1
        assert signing.verify_against(seeded, made, key.public_key()) == [
            f"the log has {SEED_ENTRIES - len(removed)} entries; the checkpoint signed {SEED_ENTRIES} "
            f"(up to position {made.last_position})",
            f"{len(removed)} signed entries are missing between position {before} and position {after} "
            f"(us-korea-2025 version 1)",
        ]

    def test_a_cut_off_end_passes_the_chain_but_not_the_checkpoint(
            self, seeded: Ledger, database_url: str, key: Ed25519PrivateKey) -> None:
        made = signing.checkpoint(seeded, key)

        cut_the_end(seeded, database_url, 3)

        assert seeded.verify().intact
        assert signing.verify_against(seeded, made, key.public_key()) == [
            f"the log has {SEED_ENTRIES - 3} entries; the checkpoint signed {SEED_ENTRIES} "
            f"(up to position {made.last_position}): its last 3 are missing",
        ]

    def test_the_command_line_says_the_chain_is_intact_and_the_checkpoint_altered(
            self, seeded: Ledger, database_url: str, runner: Run, key_file: Path, tmp_path: Path) -> None:
        out = tmp_path / "checkpoint.json"
        signed = runner("checkpoint", "--out", str(out), "--key", str(key_file))
        deal = raise_the_tariff(seeded, database_url)

        audit = runner("verify")
        checked = runner("verify", "--against", str(out), "--key", str(key_file))

        assert signed.exit_code == 0, signed.output
        assert signed.stdout.startswith(f"signed a checkpoint of {SEED_ENTRIES} entries (up to position ")
        assert audit.exit_code == 0 and "intact" in audit.output
        assert checked.exit_code == 1
        chain, *lines = checked.stdout.splitlines()
        assert chain == audit.stdout.strip()  # the recomputed chain holds: only the checkpoint sees the rewrite
        assert len(lines) == 2 and all(line.startswith("altered: ") for line in lines)
        assert f"position {deal.position} ({US_JAPAN} version {deal.version}," in lines[0]


@pytest.mark.every_backend
def test_an_entry_rewritten_without_its_hash_is_named_by_the_checkpoint_too(
        seeded: Ledger, database_url: str, key: Ed25519PrivateKey) -> None:
    """The leaves are made from each entry's content, not from the hash stored beside it."""
    made = signing.checkpoint(seeded, key)
    deal = next(e for e in stream_of(seeded, US_JAPAN) if e.type == "AgreedInPrinciple")
    with as_the_owner(database_url) as conn:
        conn.execute(text(f"UPDATE negotiation_events SET data = {_json(conn, 'data')} WHERE position = :p"),
                     {"data": orjson.dumps({**deal.data, "parties": ["US", "KR"]}).decode(), "p": deal.position})

    findings = signing.verify_against(seeded, made, key.public_key())

    assert not seeded.verify().intact
    assert findings[0].startswith(f"position {deal.position} ({US_JAPAN} version {deal.version}")


@pytest.mark.every_backend
def test_a_log_whose_chain_is_broken_is_not_checkpointed(
        seeded: Ledger, database_url: str, key: Ed25519PrivateKey) -> None:
    deal = next(e for e in stream_of(seeded, US_JAPAN) if e.type == "AgreedInPrinciple")
    with as_the_owner(database_url) as conn:
        conn.execute(text("UPDATE negotiation_events SET hash = :hash WHERE position = :p"),
                     {"hash": "0" * 64, "p": deal.position})

    with pytest.raises(CheckpointError, match=f"position {deal.position} \\({US_JAPAN} version {deal.version}\\)"):
        signing.checkpoint(seeded, key)


# -- the checkpoint itself: its key, its signature, its file --------------------------------------

def test_a_checkpoint_signed_by_another_key_is_refused(seeded: Ledger, key: Ed25519PrivateKey) -> None:
    other = Ed25519PrivateKey.generate()
    made = signing.checkpoint(seeded, other)

    findings = signing.verify_against(seeded, made, key.public_key())

    assert findings == [f"the checkpoint is signed by key {made.public_key[:16]}…, not by the trusted key "
                        f"{signing.public_key_hex(key.public_key())[:16]}…"]


def test_a_checkpoint_whose_key_was_swapped_for_the_trusted_one_fails_its_signature(
        seeded: Ledger, key: Ed25519PrivateKey) -> None:
    forged = dataclasses.replace(signing.checkpoint(seeded, Ed25519PrivateKey.generate()),
                                 public_key=signing.public_key_hex(key.public_key()))

    assert signing.verify_against(seeded, forged, key.public_key()) == [
        "the checkpoint's signature is not valid: the file was altered after it was signed"]


def _more_entries(written: dict[str, Any]) -> None:
    written["entries"] += 1
    written["tree"]["nodes"].append("ab" * 32)


@pytest.mark.parametrize("change", [
    _more_entries, lambda written: written.update(root="ab" * 32),
    lambda written: written.update(database="sqlite:///elsewhere.db"),
    lambda written: written.update(last_position=1), lambda written: written.update(made_at="2030-01-01T00:00:00Z"),
], ids=["entries", "root", "database", "last position", "time"])
def test_a_signed_field_changed_in_the_file_fails_its_signature(
        seeded: Ledger, key: Ed25519PrivateKey, tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    path = tmp_path / "checkpoint.json"
    signing.checkpoint(seeded, key).write(path)
    written = orjson.loads(path.read_bytes())
    change(written)
    path.write_bytes(orjson.dumps(written))

    findings = signing.verify_against(seeded, Checkpoint.read(path), key.public_key())

    assert findings == ["the checkpoint's signature is not valid: the file was altered after it was signed"]


def test_a_changed_node_of_the_tree_is_found_though_nodes_are_not_signed(
        seeded: Ledger, key: Ed25519PrivateKey) -> None:
    made = signing.checkpoint(seeded, key)
    altered = dataclasses.replace(made, nodes=("00" * 32, *made.nodes[1:]))

    assert signing.verify_against(seeded, altered, key.public_key()) == [
        "the checkpoint's tree nodes do not give its signed root: the file was altered after it was signed"]


@pytest.mark.parametrize(("content", "message"), [
    (b'{"format": "negotiation-checkpoint/1", "entries": 18', "not a checkpoint: not JSON"),
    (b"[]", "not a checkpoint: not a JSON object"),
    (b'{"format": "something else"}', "its format is 'something else'"),
    (b'{"format": "negotiation-checkpoint/1"}', "not a checkpoint: it has no tree"),
], ids=["cut short", "a list", "another format", "no fields"])
def test_a_corrupt_checkpoint_file_is_one_line_on_stderr(
        runner: Run, seeded: Ledger, key_file: Path, tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "checkpoint.json"
    path.write_bytes(content)

    result = runner("verify", "--against", str(path), "--key", str(key_file))

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [result.stderr.strip()]
    assert result.stderr.startswith(f"Error: {path}: ") and message in result.stderr


def test_a_checkpoint_file_reads_back_as_written(seeded: Ledger, key: Ed25519PrivateKey, tmp_path: Path) -> None:
    made = signing.checkpoint(seeded, key)
    made.write(tmp_path / "checkpoint.json")

    assert Checkpoint.read(tmp_path / "checkpoint.json") == made


@pytest.mark.parametrize(("field", "value", "message"), [
    ("root", "AB" * 32, "its root is not 32 bytes in lower-case hex"),
    ("signature", "zz", "its signature is not hexadecimal"),
    ("entries", -1, "its entries is negative"),
    ("entries", True, "its entries is not a int"),
    ("made_at", "yesterday", "made_at 'yesterday' is not a time"),
    ("made_at", "2025-09-05T10:00:00", "has no time zone"),
], ids=["upper-case root", "signature", "negative count", "a boolean count", "no time", "a local time"])
def test_a_field_of_the_wrong_kind_is_named(seeded: Ledger, key: Ed25519PrivateKey, field: str, value: Any,
                                            message: str) -> None:
    written = orjson.loads(signing.checkpoint(seeded, key).to_json())

    with pytest.raises(CheckpointError, match=message):
        Checkpoint.from_json(orjson.dumps({**written, field: value}))


def test_a_tree_with_the_wrong_number_of_nodes_is_not_a_checkpoint(seeded: Ledger, key: Ed25519PrivateKey) -> None:
    written = orjson.loads(signing.checkpoint(seeded, key).to_json())
    written["tree"]["nodes"].pop()

    with pytest.raises(CheckpointError, match=f"has {SEED_ENTRIES} nodes at level 0, not {SEED_ENTRIES - 1}"):
        Checkpoint.from_json(orjson.dumps(written))


# -- a log too long to keep every leaf --------------------------------------------------------------

def test_a_long_log_is_kept_in_ranges_and_the_first_that_differs_is_named(
        seeded: Ledger, database_url: str, key: Ed25519PrivateKey, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signing, "MAX_NODES", 64)
    made = signing.checkpoint(seeded, key)
    deal = raise_the_tariff(seeded, database_url)
    with seeded.recorder.reading() as view:
        entries = list(view.in_log_order())

    findings = signing.verify_against(seeded, made, key.public_key())

    assert (made.level, len(made.nodes)) == (2, 46)  # 183 entries in ranges of 4
    index = [entry.position for entry in entries].index(deal.position)
    start = index // 4 * 4
    # Every later entry of the negotiation chains to the rewritten one: its ranges differ too.
    last = max(i for i, entry in enumerate(entries) if entry.negotiation_id == US_JAPAN)
    assert findings == [
        f"entries {start + 1}–{start + 4} of the log (positions {entries[start].position}–"
        f"{entries[start + 3].position}) are not all those the checkpoint signed; it keeps the tree of its "
        f"{SEED_ENTRIES} entries in ranges of 4",
        f"in all, {last // 4 - index // 4 + 1} of its 46 ranges differ",
    ]


# -- the tree ---------------------------------------------------------------------------------------

#: RFC 6962's test vectors (as the Certificate Transparency reference code has them): leaf data, and
#: the root of the first n leaves.
CT_LEAVES = [b"", b"\x00", b"\x10", b"\x20\x21", b"\x30\x31", b"\x40\x41\x42\x43", bytes(range(0x50, 0x58)),
             bytes(range(0x60, 0x70))]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


@pytest.mark.parametrize("size", range(len(CT_ROOTS)))
def test_the_root_is_rfc_6962s_merkle_tree_hash(size: int) -> None:
    leaves = [hashlib.sha256(b"\x00" + data).digest() for data in CT_LEAVES[:size]]

    assert signing.tree_root(leaves).hex() == CT_ROOTS[size]


def _rfc_6962(leaves: list[bytes]) -> bytes:
    """The Merkle Tree Hash as RFC 6962 defines it: split at the largest power of two below n."""
    if len(leaves) == 1:
        return leaves[0]
    split = 1 << (len(leaves) - 1).bit_length() - 1
    return signing.node_hash(_rfc_6962(leaves[:split]), _rfc_6962(leaves[split:]))


@pytest.mark.parametrize("count", [1, 2, 3, 5, 8, 13, 31, 32, 33, 100])
def test_ranges_at_any_level_give_the_root_of_their_leaves(count: int) -> None:
    leaves = [hashlib.sha256(b"\x00" + bytes([i])).digest() for i in range(count)]
    for level in range(8):
        size = 1 << level
        ranges = [signing.tree_root(leaves[i:i + size]) for i in range(0, count, size)]

        assert signing.tree_root(ranges) == _rfc_6962(leaves), level


def test_the_level_keeps_at_most_max_nodes() -> None:
    assert [signing.level_for(n) for n in (0, 1, 1024, 1025, 2048, 2049, 10**6)] == [0, 0, 0, 1, 1, 2, 10]


# -- keys ------------------------------------------------------------------------------------------

def test_without_a_key_one_is_made_on_first_use_readable_by_its_owner_only(
        runner: Run, seeded: Ledger, tmp_path: Path) -> None:
    expected = tmp_path / "config" / "negotiation" / "signing-key.pem"

    first = runner("checkpoint", "--out", str(tmp_path / "first.json"))
    second = runner("checkpoint", "--out", str(tmp_path / "second.json"))
    checked = runner("verify", "--against", str(tmp_path / "first.json"))

    assert first.exit_code == 0, first.output
    assert f"made a signing key at {expected}" in first.stderr
    assert "made a signing key" not in second.stderr
    assert stat.S_IMODE(os.stat(expected).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(expected.parent).st_mode) == 0o700
    assert Checkpoint.read(tmp_path / "first.json").public_key == Checkpoint.read(tmp_path / "second.json").public_key
    assert checked.exit_code == 0
    assert checked.stdout.splitlines()[1].startswith(f"extends the checkpoint: the first {SEED_ENTRIES} entries")


def test_a_key_named_but_missing_is_made_there_for_signing_and_refused_for_verifying(
        runner: Run, seeded: Ledger, tmp_path: Path) -> None:
    named = tmp_path / "keys" / "ours.pem"

    refused = runner("verify", "--against", str(tmp_path / "none.json"), "--key", str(named))
    signed = runner("checkpoint", "--out", str(tmp_path / "checkpoint.json"), "--key", str(named))
    checked = runner("verify", "--against", str(tmp_path / "checkpoint.json"), "--key", str(named))

    assert refused.exit_code == 1 and f"cannot read the key {named}" in refused.stderr
    assert signed.exit_code == 0 and f"made a signing key at {named}" in signed.stderr
    assert stat.S_IMODE(os.stat(named).st_mode) == 0o600
    assert not (tmp_path / "config").exists()  # the default place is left alone
    assert checked.exit_code == 0


def test_a_published_public_key_verifies_and_refuses_another_keys_checkpoint(
        runner: Run, seeded: Ledger, key_file: Path, tmp_path: Path) -> None:
    public = tmp_path / "negotiation.pub"
    runner("public-key", "--key", str(key_file), "--out", str(public))
    runner("checkpoint", "--out", str(tmp_path / "ours.json"), "--key", str(key_file))
    runner("checkpoint", "--out", str(tmp_path / "theirs.json"))  # with a key made in the configuration directory
    seeded.record(US_JAPAN, "TermsDisputed", {"point": "beef"}, occurred_at="2025-09-10")

    ours = runner("verify", "--against", str(tmp_path / "ours.json"), "--public-key", str(public))
    theirs = runner("verify", "--against", str(tmp_path / "theirs.json"), "--public-key", str(public))

    assert public.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    assert ours.exit_code == 0 and ours.stdout.rstrip().endswith("; 1 recorded since")
    assert theirs.exit_code == 1
    assert theirs.stdout.splitlines()[1].startswith("altered: the checkpoint is signed by key ")


def test_verifying_with_no_key_at_all_says_what_to_give(runner: Run, seeded: Ledger, tmp_path: Path,
                                                        key: Ed25519PrivateKey) -> None:
    signing.checkpoint(seeded, key).write(tmp_path / "checkpoint.json")

    result = runner("verify", "--against", str(tmp_path / "checkpoint.json"))

    assert result.exit_code == 1
    assert "no trusted key: give --public-key FILE or --key KEYFILE" in result.stderr


def test_a_key_file_that_is_no_key_is_one_line(runner: Run, seeded: Ledger, tmp_path: Path) -> None:
    (tmp_path / "key.pem").write_text("not a key\n")

    result = runner("checkpoint", "--out", str(tmp_path / "checkpoint.json"), "--key", str(tmp_path / "key.pem"))

    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {tmp_path / 'key.pem'}: not a PEM private key")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "checkpoint.json").exists()


def test_a_checkpoint_can_go_to_standard_output(runner: Run, seeded: Ledger, key_file: Path) -> None:
    result = runner("checkpoint", "--out", "-", "--key", str(key_file))

    assert result.exit_code == 0
    assert Checkpoint.from_json(result.stdout).entries == SEED_ENTRIES
    assert result.stderr.startswith(f"signed a checkpoint of {SEED_ENTRIES} entries")


def test_verify_against_in_json_gives_the_chain_and_the_checkpoint(runner: Run, seeded: Ledger, key_file: Path,
                                                                   tmp_path: Path) -> None:
    runner("checkpoint", "--out", str(tmp_path / "checkpoint.json"), "--key", str(key_file))
    seeded.record(US_JAPAN, "TermsDisputed", {"point": "beef"}, occurred_at="2025-09-10")

    result = runner("verify", "--against", str(tmp_path / "checkpoint.json"), "--key", str(key_file), "--json")

    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["intact"] is True and shown["events"] == SEED_ENTRIES + 1
    assert shown["checkpoint"]["extends"] is True and shown["checkpoint"]["findings"] == []
    assert (shown["checkpoint"]["entries_signed"], shown["checkpoint"]["entries_now"]) == (SEED_ENTRIES,
                                                                                         SEED_ENTRIES + 1)
