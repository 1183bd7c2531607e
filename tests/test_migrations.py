"""Migrations: a database made at any past revision upgrades to head intact, the history is sound
on each backend, and the migrations stand on their own, importing nothing from the package."""

from __future__ import annotations

import ast
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_alembic
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from pytest_alembic.plugin.error import AlembicTestFailure
from pytest_alembic.tests import default as builtin
from sqlalchemy.dialects import postgresql

from negotiation import Ledger, Negotiation, RecordedEvent, SourceRecord
from negotiation.domain.chain import GENESIS, event_hash_of
from negotiation.store.migrate import alembic_config, head_revision
from negotiation.store.schema import metadata

# About how the storage behaves: on every backend.
pytestmark = pytest.mark.every_backend

Runner = pytest_alembic.MigrationContext

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

#: Every revision a database in the field may still be at.
PAST_REVISIONS = ["0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009", "0010", "0011",
                  "0012"]

# -- the tables as each revision left them, written without the package's schema -------------

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
POSITION = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def events_table(revision: str) -> sa.Table:
    """``negotiation_events`` as it stood at ``revision``: 0002 added the hash."""
    columns: list[sa.Column[Any]] = [
        sa.Column("position", POSITION, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.Uuid(as_uuid=False)),
        sa.Column("negotiation_id", sa.String(64)),
        sa.Column("version", sa.Integer()),
        sa.Column("type", sa.String(64)),
        sa.Column("data", JSON),
        sa.Column("schema_version", sa.SmallInteger()),
        sa.Column("occurred_at", sa.DateTime(timezone=True)),
        sa.Column("recorded_at", sa.DateTime(timezone=True)),
        sa.Column("sources", JSON),
    ]
    if revision >= "0002":
        columns.append(sa.Column("hash", sa.String(64)))
    if revision >= "0006":
        columns.append(sa.Column("reported_at", sa.DateTime(timezone=True)))
    if revision >= "0009":
        columns.append(sa.Column("commit_id", POSITION))
    return sa.Table("negotiation_events", sa.MetaData(), *columns)


#: From 0007 on, each entry's sources are also written to their own table, in the same transaction.
ENTRY_SOURCES_AT_0007 = sa.Table(
    "entry_sources",
    sa.MetaData(),
    sa.Column("source", sa.String(200), primary_key=True),
    sa.Column("position", POSITION, primary_key=True),
    sa.Column("negotiation_id", sa.String(64)),
)

HEADS_AT_0003 = sa.Table(
    "negotiation_heads",
    sa.MetaData(),
    sa.Column("negotiation_id", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer()),
    sa.Column("state", sa.String(32)),
    sa.Column("snapshot", JSON),
    sa.Column("last_hash", sa.String(64)),
    sa.Column("opened_at_position", POSITION),
)

# -- two negotiations, legal under the machine, their events interleaved in the log ---------


@dataclass(frozen=True)
class Outcome:
    """What a negotiation's history makes of it."""

    state: str
    parties: tuple[str, ...]
    open_disputes: tuple[str, ...] = ()
    instruments: tuple[str, ...] = ()
    terms: dict[str, Any] = field(default_factory=dict)
    positions: dict[str, dict[str, str]] = field(default_factory=dict)


STREAMS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "us-japan-2025": [
        ("AgreedInPrinciple", {"parties": ["US", "JP"], "terms": {"tariff_pct": 15}}),
        ("TermsDisputed", {"point": "autos"}),
        ("DisputeResolved", {"point": "autos"}),
        ("AgreementFinalised", {"instruments": ["executive order"]}),
    ],
    "us-uk-2025": [
        ("AgreedInPrinciple", {"parties": ["US", "GB"]}),
        ("TermsDisputed", {"point": "steel", "positions": {"GB": "no 25% on British steel"}}),
    ],
}
OUTCOMES = {
    "us-japan-2025": Outcome("finalised", ("US", "JP"), instruments=("executive order",),
                             terms={"tariff_pct": 15}),
    "us-uk-2025": Outcome("disputed_terms", ("US", "GB"), open_disputes=("steel",),
                          positions={"steel": {"GB": "no 25% on British steel"}}),
}
#: The order the events reach the log: (negotiation, version).
LOG_ORDER = [("us-japan-2025", 1), ("us-uk-2025", 1), ("us-japan-2025", 2),
             ("us-uk-2025", 2), ("us-japan-2025", 3), ("us-japan-2025", 4)]


def insert_events(conn: sa.Connection, revision: str) -> list[RecordedEvent]:
    """Write the log as a ledger of ``revision`` did; returns every event as head must read it back."""
    table = events_table(revision)
    chain_ends: dict[str, str] = {}
    stored: list[RecordedEvent] = []
    for step, (negotiation_id, version) in enumerate(LOG_ORDER):
        event_type, data = STREAMS[negotiation_id][version - 1]
        event_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"negotiation:{negotiation_id}/{version}"))
        occurred_at = datetime(2025, 7, 1 + step, 9, 30, tzinfo=UTC)
        recorded_at = datetime(2025, 11, 25, 12, 0, step, 250_000 + step, tzinfo=UTC)
        sources = [f"https://example.org/{negotiation_id}/{version}"]
        # Before 0002 no hash was stored; the migration must backfill this very one.
        digest = event_hash_of(chain_ends.get(negotiation_id, GENESIS), event_id, negotiation_id, version,
                               event_type, data, occurred_at, recorded_at, sources, 1)
        chain_ends[negotiation_id] = digest
        row = {"event_id": event_id, "negotiation_id": negotiation_id, "version": version, "type": event_type,
               "data": data, "schema_version": 1, "occurred_at": occurred_at, "recorded_at": recorded_at,
               "sources": sources}
        if revision >= "0002":
            row["hash"] = digest
        if revision >= "0006":
            row["reported_at"] = recorded_at
        if revision >= "0009":
            row["commit_id"] = step + 1  # each event its own transaction, the log's first entries
        position = conn.execute(table.insert().values(row).returning(table.c.position)).scalar_one()
        if revision >= "0007":
            conn.execute(ENTRY_SOURCES_AT_0007.insert(), [
                {"source": source, "position": position, "negotiation_id": negotiation_id} for source in sources])
        stored.append(RecordedEvent(event_id=event_id, negotiation_id=negotiation_id, version=version,
                                    position=position, type=event_type, data=data, occurred_at=occurred_at,
                                    recorded_at=recorded_at, sources=tuple(sources), hash=digest,
                                    schema_version=1, commit_id=position))
    return stored


def history_of(stored: list[RecordedEvent], negotiation_id: str) -> list[RecordedEvent]:
    return sorted((e for e in stored if e.negotiation_id == negotiation_id), key=lambda e: e.version)


#: What the tests compare of a negotiation: what the events above decide.
FOLDED = ("state", "version", "parties", "terms", "open_disputes", "instruments", "opened_at", "updated_at",
          "positions", "deal_announced_at", "deals", "measures", "deadlines", "meetings")


def folded(negotiation: Negotiation) -> dict[str, Any]:
    return {name: getattr(negotiation, name) for name in FOLDED}


def expected_negotiation(stored: list[RecordedEvent], negotiation_id: str) -> dict[str, Any]:
    history, outcome = history_of(stored, negotiation_id), OUTCOMES[negotiation_id]
    return {"state": outcome.state, "version": len(history), "parties": outcome.parties,
            "terms": outcome.terms, "open_disputes": outcome.open_disputes,
            "instruments": outcome.instruments, "opened_at": history[0].occurred_at,
            "updated_at": history[-1].occurred_at, "positions": outcome.positions,
            # Under the first table every negotiation opened with its deal.
            "deal_announced_at": history[0].occurred_at,
            # Every deal of the story, as revision 0010 teaches the kept state; nothing of the newer kinds.
            "deals": tuple({"on": e.occurred_at.date().isoformat(), "version": e.version,
                            **({"kind": "in principle"} if e.type == "AgreedInPrinciple" else
                               {"kind": "finalised", "instruments": e.data["instruments"]})}
                           for e in history if e.type in ("AgreedInPrinciple", "AgreementFinalised")),
            "measures": {}, "deadlines": {}, "meetings": ()}


def insert_heads(conn: sa.Connection, stored: list[RecordedEvent], revision: str) -> None:
    """From 0003 on, a ledger kept each negotiation's state beside the log, in this shape."""
    for negotiation_id in STREAMS:
        history = history_of(stored, negotiation_id)
        expected = expected_negotiation(stored, negotiation_id)
        snapshot = {
            "parties": list(expected["parties"]),
            "terms": expected["terms"],
            "open_disputes": list(expected["open_disputes"]),
            "instruments": list(expected["instruments"]),
            "opened_at": history[0].occurred_at.isoformat(),
            "updated_at": history[-1].occurred_at.isoformat(),
        }
        if revision >= "0005":
            snapshot["positions"] = expected["positions"]
            snapshot["deal_announced_at"] = expected["deal_announced_at"].isoformat()
        if revision >= "0010":
            snapshot.update(statements={}, deals=list(expected["deals"]), suspensions=[], meetings=[], measures={},
                            deadlines={}, third_party_acts=[])
        conn.execute(HEADS_AT_0003.insert().values(
            negotiation_id=negotiation_id, version=len(history), state=expected["state"], snapshot=snapshot,
            last_hash=history[-1].hash, opened_at_position=history[0].position,
        ))


def make_database_at(url: str, revision: str) -> list[RecordedEvent]:
    """A database migrated to ``revision`` only, holding two negotiations written the way it knew."""
    engine = sa.create_engine(url)
    try:
        command.upgrade(alembic_config(engine), revision)
        with engine.begin() as conn:
            stored = insert_events(conn, revision)
            if revision >= "0003":
                insert_heads(conn, stored, revision)
    finally:
        engine.dispose()
    return stored


def stored_revision(url: str) -> str | None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            revision: str | None = conn.scalar(sa.text("SELECT version_num FROM alembic_version"))
            return revision
    finally:
        engine.dispose()


def test_the_head_revision_the_package_expects_is_the_head_of_the_migrations() -> None:
    script = ScriptDirectory.from_config(alembic_config())

    assert script.get_current_head() == head_revision() == PAST_REVISIONS[-1]


def test_every_revision_in_the_history_is_one_a_database_is_made_at_below() -> None:
    script = ScriptDirectory.from_config(alembic_config())

    revisions = sorted(r.revision for r in script.walk_revisions())

    assert revisions == PAST_REVISIONS, "a new revision needs a database made at it in PAST_REVISIONS"


@pytest.mark.parametrize("revision", PAST_REVISIONS)
def test_a_database_made_at_an_old_revision_upgrades_to_head_intact(database_url: str, revision: str) -> None:
    stored = make_database_at(database_url, revision)

    with Ledger.open(database_url) as ledger:
        report = ledger.verify()
        negotiations = {nid: folded(ledger.get(nid)) for nid in STREAMS}
        histories = {nid: ledger.history(nid) for nid in STREAMS}

    assert stored_revision(database_url) == head_revision()
    assert report.intact, [str(link) for link in report.broken]
    assert (report.negotiations, report.events) == (2, 6)
    assert negotiations == {nid: expected_negotiation(stored, nid) for nid in STREAMS}
    assert {nid: n["state"] for nid, n in negotiations.items()} == {"us-japan-2025": "finalised",
                                                                  "us-uk-2025": "disputed_terms"}
    assert histories == {nid: history_of(stored, nid) for nid in STREAMS}


@pytest.mark.parametrize("revision", PAST_REVISIONS)
def test_a_database_upgraded_from_an_old_revision_takes_new_events_on_its_old_chains(
    database_url: str, revision: str
) -> None:
    stored = make_database_at(database_url, revision)

    with Ledger.open(database_url) as ledger:
        recorded = ledger.record("us-uk-2025", "DisputeResolved", {"point": "steel"})
        report = ledger.verify()
        state = ledger.get("us-uk-2025").state

    assert recorded.version == 3
    assert recorded.position > max(e.position for e in stored)
    assert report.intact, [str(link) for link in report.broken]
    assert state == "agreed_in_principle"


@pytest.mark.parametrize("revision", PAST_REVISIONS)
def test_a_database_upgraded_from_an_old_revision_takes_an_article_as_a_source(
    database_url: str, revision: str
) -> None:
    make_database_at(database_url, revision)
    article = {"outlet": "Reuters", "url": "https://www.reuters.com/markets/steel-deal/",
               "headline": "US and UK settle steel", "published": "2025-06-16"}

    with Ledger.open(database_url) as ledger:
        before = {s.source: s.entries for s in ledger.sources()}
        recorded = ledger.record("us-uk-2025", "DisputeResolved", {"point": "steel"}, sources=[article])
        report = ledger.verify()
        after = {s.source: s.entries for s in ledger.sources()}
        stored = ledger.history("us-uk-2025")[-1]

    assert report.intact, [str(link) for link in report.broken]  # the old chains, and the new entry on them
    (source,) = stored.sources
    assert stored.sources == recorded.sources
    assert isinstance(source, SourceRecord) and source.url == article["url"]
    assert after == {**before, "Reuters": before.get("Reuters", 0) + 1}


# -- pytest-alembic's built-in checks, on each backend -----------------------------------------


def runner_config(target_metadata: sa.MetaData = metadata) -> pytest_alembic.Config:
    # pytest-alembic sets the Alembic config's target_metadata from its own options, so it goes here too.
    return pytest_alembic.Config(alembic_config=alembic_config(),
                                 config_options={"target_metadata": target_metadata})


@pytest.fixture
def alembic_engine(database_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def alembic_runner(alembic_engine: sa.Engine) -> Iterator[Runner]:
    """The runner pytest-alembic's built-in tests take, over a fresh database of each backend."""
    with pytest_alembic.runner(config=runner_config(), engine=alembic_engine) as runner:
        yield runner


def test_the_migration_history_has_a_single_head(alembic_runner: Runner) -> None:
    builtin.test_single_head_revision(alembic_runner)


def test_the_migrations_upgrade_an_empty_database_to_head(alembic_runner: Runner) -> None:
    builtin.test_upgrade(alembic_runner)

    assert alembic_runner.current == head_revision()


def test_the_schema_the_migrations_build_is_the_one_the_models_describe(alembic_runner: Runner) -> None:
    builtin.test_model_definitions_match_ddl(alembic_runner)


def test_every_migration_downgrades_and_upgrades_again(alembic_runner: Runner) -> None:
    builtin.test_up_down_consistency(alembic_runner)


def test_a_model_the_migrations_do_not_build_is_caught(alembic_engine: sa.Engine) -> None:
    changed = sa.MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["negotiation_heads"].append_column(sa.Column("summary", sa.Text()))

    with pytest_alembic.runner(config=runner_config(changed), engine=alembic_engine) as runner, \
            pytest.raises(AlembicTestFailure, match="out of sync") as failure:
        builtin.test_model_definitions_match_ddl(runner)

    assert "summary" in str(failure.value)


# -- the migrations import nothing from the package ---------------------------------------------

#: An import line as it may appear in a template, where the file is not Python yet.
PACKAGE_IMPORT_LINE = re.compile(r"^\s*(from|import)\s+negotiation\b", re.MULTILINE)


def package_imports(source: str) -> list[str]:
    """Every module of the package that ``source`` imports, at any depth of the code."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        found += [name for name in names if name == "negotiation" or name.startswith("negotiation.")]
    return found


@pytest.mark.parametrize(
    "source",
    [
        "from negotiation.domain.chain import event_hash_of",
        "import negotiation",
        "import os, negotiation.store.schema as schema",
        "def upgrade() -> None:\n    from negotiation import machine\n",
    ],
)
def test_the_scan_for_package_imports_finds_one_wherever_it_is(source: str) -> None:
    found = package_imports(source)

    assert found


def test_no_migration_imports_the_package() -> None:
    sources = sorted(MIGRATIONS.rglob("*.py"))
    templates = sorted(MIGRATIONS.rglob("*.mako"))

    offenders = {str(path.relative_to(MIGRATIONS)): package_imports(path.read_text()) for path in sources}
    offenders |= {str(path.relative_to(MIGRATIONS)): [m.group(0).strip() for m in
                                                      PACKAGE_IMPORT_LINE.finditer(path.read_text())]
                  for path in templates}

    assert len(sources) >= 5  # env.py and the revisions
    assert {path: names for path, names in offenders.items() if names} == {}
