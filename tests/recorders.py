"""What the recorder tests share: valid rows to append, heads to save, and recorders on fresh logs."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from negotiation.domain.aggregate import Negotiation
from negotiation.store.memory import MemoryRecorder
from negotiation.store.postgres import PostgresRecorder
from negotiation.store.sqlite import SqliteRecorder
from negotiation.store.recorder import EventRow, Writer

#: The moment the rows of the tests start from, one second a version after it.
START = datetime(2025, 7, 22, 9, 30, tzinfo=UTC)


def postgres_database_url(name: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


@pytest.fixture
def postgres_recorders(postgres_at_head: Any) -> Iterator[Callable[[], PostgresRecorder]]:
    """Makes recorders, each on a database of its own at the latest migration (a copy of the session's)."""
    made: list[tuple[PostgresRecorder, str]] = []

    def make() -> PostgresRecorder:
        name = postgres_at_head.take()
        made.append((PostgresRecorder.open(postgres_database_url(name)), name))
        return made[-1][0]

    try:
        yield make
    finally:
        for recorder, name in made:
            recorder.close()
            postgres_at_head.give_back(name)


@pytest.fixture
def sqlite_recorders(sqlite_directory: Path, sqlite_template: Path) -> Iterator[Callable[[], SqliteRecorder]]:
    """Makes recorders, each on a SQLite file of its own at the latest migration (a copy of the session's)."""
    made: list[SqliteRecorder] = []

    def make() -> SqliteRecorder:
        directory = Path(tempfile.mkdtemp(dir=sqlite_directory))
        shutil.copyfile(sqlite_template, directory / "negotiations.db")
        made.append(SqliteRecorder.open(f"sqlite:///{directory / 'negotiations.db'}", upgrade=False))
        return made[-1]

    try:
        yield make
    finally:
        for recorder in made:
            recorder.close()


@pytest.fixture
def memory_recorders() -> Callable[[], MemoryRecorder]:
    """Makes recorders, each a new empty log in memory."""
    return MemoryRecorder


@pytest.fixture
def postgres_recorder(postgres_recorders: Callable[[], PostgresRecorder]) -> PostgresRecorder:
    """A recorder on a database of the test's own, at the latest migration."""
    return postgres_recorders()


def row(negotiation_id: str, version: int, *, event_id: str | None = None, type: str = "TermsAmended",
        data: dict[str, Any] | None = None, sources: Sequence[str] = (), hash: str | None = None,
        at: datetime | None = None) -> EventRow:
    """A valid new entry; its hash is any text, its data any JSON object, as the recorder does not check them."""
    moment = at or START + timedelta(seconds=version)
    return EventRow(event_id=event_id or str(uuid.uuid4()), negotiation_id=negotiation_id, version=version,
                    type=type, data={"version": version} if data is None else data, schema_version=1,
                    occurred_at=moment, recorded_at=moment, sources=tuple(sources),
                    hash=hash or f"{negotiation_id}:{version}", reported_at=moment)


def rows(negotiation_id: str, first: int, count: int, **given: Any) -> list[EventRow]:
    return [row(negotiation_id, version, **given) for version in range(first, first + count)]


def state_after(negotiation_id: str, version: int, state: str = "TermsAmended") -> Negotiation:
    return Negotiation(id=negotiation_id, state=state, version=version)


def append(writer: Writer, batch: Sequence[EventRow]) -> list[int]:
    """What the ledger does in a writing transaction: read the head, append, save the head."""
    negotiation_id = batch[0]["negotiation_id"]
    head = writer.head(negotiation_id)
    positions = writer.append(batch)
    writer.save_head(state_after(negotiation_id, batch[-1]["version"]), batch[-1]["hash"],
                     positions[0] if head is None else None)
    return positions
