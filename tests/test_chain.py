"""Tamper evidence: an event altered behind the ledger's back is found and named."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from alembic import command
from click.testing import CliRunner
from sqlalchemy import Connection, create_engine, inspect, text
from sqlalchemy.exc import IntegrityError

from negotiation import Ledger
from negotiation.cli import main
from negotiation.store.migrate import alembic_config

# About how the storage behaves: on every backend.
pytestmark = pytest.mark.every_backend

US_JAPAN = "us-japan-2025"


def record_story(ledger: Ledger) -> None:
    ledger.record(US_JAPAN, "AgreedInPrinciple", {"parties": ["US", "JP"], "terms": {"reciprocal tariff": "15%"}},
                  occurred_at="2025-07-22")
    ledger.record(US_JAPAN, "TermsDisputed", {"point": "profit sharing"}, occurred_at="2025-08-28")
    ledger.record(US_JAPAN, "VisitCancelled", {"envoy": "Ryosei Akazawa"}, occurred_at="2025-08-28")
    ledger.record("india-japan-2025", "AgreedInPrinciple", {"parties": ["IN", "JP"]}, occurred_at="2025-08-29")


@contextmanager
def behind_the_ledgers_back(url: str) -> Iterator[Connection]:
    """A connection with the append-only triggers lifted, as a careless superuser might."""
    engine = create_engine(url)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))  # skips ordinary triggers
            yield conn
        else:
            conn.execute(text("DROP TRIGGER negotiation_events_no_update"))
            conn.execute(text("DROP TRIGGER negotiation_events_no_delete"))
            yield conn
    engine.dispose()


def test_an_intact_log_verifies(ledger: Ledger, database_url: str) -> None:
    record_story(ledger)

    report = ledger.verify()
    result = CliRunner().invoke(main, ["--url", database_url, "verify"])

    assert report.intact
    assert (report.negotiations, report.events) == (2, 4)
    assert result.exit_code == 0
    assert "intact: 4 events in 2 negotiations" in result.output


SWAP_FIRST_AND_THIRD = [  # through a free value: uniqueness is checked row by row
    "UPDATE negotiation_events SET version = 100 WHERE negotiation_id = :id AND version = 1",
    "UPDATE negotiation_events SET version = 1 WHERE negotiation_id = :id AND version = 3",
    "UPDATE negotiation_events SET version = 3 WHERE negotiation_id = :id AND version = 100",
]


@pytest.mark.parametrize(
    ("tampering", "version", "reason"),
    [
        (["UPDATE negotiation_events SET data = :data WHERE negotiation_id = :id AND version = 2"],
         2, "content or order altered"),
        (["UPDATE negotiation_events SET sources = '[\"Reuters\"]' WHERE negotiation_id = :id AND version = 3"],
         3, "content or order altered"),
        (["DELETE FROM negotiation_events WHERE negotiation_id = :id AND version = 2"],
         3, "expected version 2 here"),
        (SWAP_FIRST_AND_THIRD, 1, "content or order altered"),
    ],
    ids=["payload rewritten", "sources rewritten", "event deleted", "events swapped"],
)
def test_an_altered_event_is_named_with_its_negotiation(
    ledger: Ledger, database_url: str, tampering: list[str], version: int, reason: str
) -> None:
    record_story(ledger)

    with behind_the_ledgers_back(database_url) as conn:
        for statement in tampering:
            conn.execute(text(statement), {"id": US_JAPAN, "data": '{"point": "beef"}'})
    report = ledger.verify()
    result = CliRunner().invoke(main, ["--url", database_url, "verify"])

    assert [(b.negotiation_id, b.version) for b in report.broken] == [(US_JAPAN, version)]
    assert reason in report.broken[0].reason
    assert result.exit_code == 1
    assert f"{US_JAPAN}: version {version}" in result.output
    assert "india-japan-2025" not in result.output


def test_a_current_state_altered_behind_the_ledgers_back_is_reported(ledger: Ledger, database_url: str) -> None:
    record_story(ledger)
    engine = create_engine(database_url)

    with engine.begin() as conn:
        conn.execute(text("UPDATE negotiation_heads SET state = 'finalised' WHERE negotiation_id = :id"),
                     {"id": US_JAPAN})
    engine.dispose()
    report = ledger.verify()

    assert [(b.negotiation_id, b.version) for b in report.broken] == [(US_JAPAN, 3)]
    assert "not what its story gives" in report.broken[0].reason


def test_a_negotiation_whose_whole_log_was_deleted_is_reported(ledger: Ledger, database_url: str) -> None:
    record_story(ledger)

    with behind_the_ledgers_back(database_url) as conn:
        conn.execute(text("DELETE FROM negotiation_events WHERE negotiation_id = 'india-japan-2025'"))
    report = ledger.verify()

    assert [(b.negotiation_id, b.reason) for b in report.broken] == [
        ("india-japan-2025", "its events are missing from the log")]


def test_upgrading_an_existing_database_backfills_the_chain(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
    insert = text(
        "INSERT INTO negotiation_events (event_id, negotiation_id, version, type, data, schema_version, "
        "occurred_at, recorded_at, sources) VALUES (:event_id, :id, :version, :type, :data, 1, :at, :at, '[]')"
    )
    at = datetime(2025, 7, 22, tzinfo=UTC)
    if engine.dialect.name == "sqlite":
        at = at.replace(tzinfo=None)  # as revision 0001 stored times on SQLite: naive UTC
    with engine.begin() as conn:
        for version, (kind, data) in enumerate(
            [("AgreedInPrinciple", '{"parties": ["US", "JP"]}'), ("TermsDisputed", '{"point": "beef"}')], start=1
        ):
            event_id = uuid.uuid4().hex if engine.dialect.name == "sqlite" else str(uuid.uuid4())
            conn.execute(insert, {"event_id": event_id, "id": US_JAPAN, "version": version, "type": kind,
                                  "data": data, "at": at})

    with Ledger.open(database_url) as ledger:
        report = ledger.verify()
        state = ledger.get(US_JAPAN).state
        appended = ledger.record(US_JAPAN, "DisputeResolved", {"point": "beef"})
        after = ledger.verify()

    with engine.connect() as conn:
        hash_column = next(c for c in inspect(conn).get_columns("negotiation_events") if c["name"] == "hash")
    with pytest.raises(IntegrityError), engine.begin() as conn:  # the version check survived the upgrade
        conn.execute(insert.bindparams(version=0), {"event_id": uuid.uuid4().hex, "id": "x", "type": "x",
                                                    "data": "{}", "at": at})
    engine.dispose()
    assert report.intact and report.events == 2
    assert state == "disputed_terms"
    assert appended.version == 3
    assert after.intact and after.events == 3
    assert hash_column["nullable"] is False


def test_verify_reads_one_moment_while_a_writer_appends(ledger: Ledger, database_url: str) -> None:
    import threading

    for n in range(40):
        ledger.record(f"talks-{n:02d}", "AgreedInPrinciple", {"parties": ["US", "JP"]})
    ledger.record("zz-last", "AgreedInPrinciple", {"parties": ["US", "JP"]})
    stop, appending = threading.Event(), threading.Event()

    def keep_appending() -> None:
        with Ledger.open(database_url, upgrade=False) as writer:
            round_ = 0
            while not stop.is_set():
                round_ += 1
                writer.record("zz-last", "TermsAmended", {"terms": {"round": round_}})
                appending.set()

    thread = threading.Thread(target=keep_appending)
    thread.start()
    try:
        assert appending.wait(60), "the writer never appended"  # on a busy machine it can start late
        reports = [ledger.verify() for _ in range(5)]
    finally:
        stop.set()
        thread.join()

    assert [report.broken for report in reports] == [[]] * 5
    assert ledger.version("zz-last") > 1  # the writer really ran alongside


@pytest.mark.parametrize(("tamper", "reported"), [
    ("DELETE FROM entry_sources WHERE source = 'Kyodo'", (US_JAPAN, 2)),
    ("UPDATE entry_sources SET source = 'NHK' WHERE source = 'Kyodo'", (US_JAPAN, 2)),
    ("INSERT INTO entry_sources (source, position, negotiation_id) "
     "SELECT 'Rumour', position, negotiation_id FROM negotiation_events WHERE negotiation_id = 'india-japan-2025'",
     ("india-japan-2025", 1)),
    ("INSERT INTO entry_sources (source, position, negotiation_id) VALUES ('Rumour', 999, 'us-korea-2025')",
     ("us-korea-2025", 0)),
], ids=["a source dropped", "a source renamed", "a source added", "an entry that is not in the log"])
def test_an_index_of_sources_altered_behind_the_ledgers_back_is_reported(
        ledger: Ledger, database_url: str, tamper: str, reported: tuple[str, int]) -> None:
    ledger.record(US_JAPAN, "AgreedInPrinciple", {"parties": ["US", "JP"]}, occurred_at="2025-07-22",
                  sources=["Reuters"])
    ledger.record(US_JAPAN, "TermsDisputed", {"point": "profit sharing"}, occurred_at="2025-08-28",
                  sources=["Kyodo", "Reuters", "Kyodo"])
    ledger.record("india-japan-2025", "AgreedInPrinciple", {"parties": ["IN", "JP"]}, occurred_at="2025-08-29")
    assert ledger.verify().intact

    with behind_the_ledgers_back(database_url) as conn:
        conn.execute(text(tamper))
    report = ledger.verify()

    assert [(b.negotiation_id, b.version) for b in report.broken] == [reported]
    assert "index of sources" in report.broken[0].reason
