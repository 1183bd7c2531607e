"""The schema comes from Alembic, agrees with the models, and refuses to rewrite history."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DBAPIError

from negotiation import Ledger, StorageError
from negotiation.store.migrate import alembic_config, head_revision

# About how the storage behaves: on every backend.
pytestmark = pytest.mark.every_backend


def scalar(url: str, sql: str) -> object:
    """One value read behind the ledger's back."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.scalar(text(sql))
    finally:
        engine.dispose()


def table_names(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return inspect(conn).get_table_names()
    finally:
        engine.dispose()


def test_opening_a_ledger_brings_an_empty_database_to_head(database_url: str) -> None:
    with Ledger.open(database_url):
        pass

    revision = scalar(database_url, "SELECT version_num FROM alembic_version")

    assert revision == head_revision()
    assert "negotiation_events" in table_names(database_url)


def test_models_and_migrations_agree(database_url: str) -> None:
    with Ledger.open(database_url):
        pass
    engine = create_engine(database_url)

    with engine.begin() as conn:
        command.check(alembic_config(conn))  # raises if autogenerate would find a difference

    engine.dispose()


def test_a_ledger_opened_without_upgrade_refuses_an_empty_database_and_leaves_it_alone(database_url: str) -> None:
    with pytest.raises(StorageError, match="has no negotiation schema, not .*: run `negotiation db upgrade`"):
        Ledger.open(database_url, upgrade=False)

    assert "negotiation_events" not in table_names(database_url)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE negotiation_events SET type = 'TermsAmended'",
        "UPDATE negotiation_events SET data = '{}' WHERE version = 1",
        "DELETE FROM negotiation_events",
        "INSERT OR REPLACE INTO negotiation_events SELECT position, event_id, negotiation_id, version, type, "
        "'{}', schema_version, occurred_at, recorded_at, sources, hash, reported_at, commit_id FROM negotiation_events",
    ],
)
def test_the_database_refuses_to_rewrite_or_delete_events(ledger: Ledger, database_url: str, statement: str) -> None:
    ledger.record("us-japan-2025", "AgreedInPrinciple", {"parties": ["US", "JP"]})
    before = ledger.history("us-japan-2025")
    engine = create_engine(database_url)

    if engine.dialect.name == "postgresql" and "REPLACE" in statement:
        statement = ("INSERT INTO negotiation_events SELECT * FROM negotiation_events "
                     "ON CONFLICT (position) DO UPDATE SET data = '{}'")
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text(statement))

    engine.dispose()
    assert ledger.history("us-japan-2025") == before


def test_sqlite_runs_in_wal_mode(sqlite_url: str) -> None:
    with Ledger.open(sqlite_url):
        pass

    mode = scalar(sqlite_url, "PRAGMA journal_mode")

    assert mode == "wal"


def test_sqlite_keeps_the_index_of_sources_without_a_rowid_table_beside_it(sqlite_url: str) -> None:
    with Ledger.open(sqlite_url) as ledger:
        ledger.record("us-japan-2025", "AgreedInPrinciple", {"parties": ["US", "JP"]}, sources=["Reuters"])

    made = scalar(sqlite_url, "SELECT sql FROM sqlite_schema WHERE name = 'entry_sources'")

    assert made.rstrip().endswith("WITHOUT ROWID")
    assert scalar(sqlite_url, "SELECT source || ' ' || position FROM entry_sources") == "Reuters 1"


def test_postgres_stores_data_as_jsonb_and_times_with_zones(postgres_url: str) -> None:
    with Ledger.open(postgres_url):
        pass

    engine = create_engine(postgres_url)
    with engine.connect() as conn:
        columns = {c["name"]: c["type"] for c in inspect(conn).get_columns("negotiation_events")}
    engine.dispose()
    assert str(columns["data"]) == str(columns["sources"]) == "JSONB"
    assert columns["occurred_at"].timezone and columns["recorded_at"].timezone
    assert str(columns["event_id"]) == "UUID"


def test_migrations_downgrade_and_upgrade_again(database_url: str) -> None:
    with Ledger.open(database_url):
        pass
    engine = create_engine(database_url)

    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    emptied = "negotiation_events" not in table_names(database_url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "head")
    restored = "negotiation_events" in table_names(database_url)

    engine.dispose()
    assert emptied and restored


def test_postgres_refuses_to_truncate_the_log(postgres_url: str) -> None:
    with Ledger.open(postgres_url) as ledger:
        ledger.record("us-japan-2025", "AgreedInPrinciple", {"parties": ["US", "JP"]})
        engine = create_engine(postgres_url)

        with pytest.raises(DBAPIError, match="append-only: TRUNCATE refused"), engine.begin() as conn:
            conn.execute(text("TRUNCATE negotiation_events"))

        engine.dispose()
        assert len(ledger.history("us-japan-2025")) == 1


def test_a_database_from_a_newer_version_is_refused_not_crashed_on(database_url: str) -> None:
    with Ledger.open(database_url):
        pass
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    engine.dispose()

    with pytest.raises(StorageError, match="schema is at revision 0999, newer than this version"):
        Ledger.open(database_url)


@pytest.mark.slow
def test_processes_opening_a_fresh_database_at_once_all_succeed(database_url: str) -> None:
    import workers

    with workers.pool(6) as pool:
        outcomes = list(pool.map(workers.open_and_count, [database_url] * 6, timeout=120))

    assert outcomes == [0] * 6
