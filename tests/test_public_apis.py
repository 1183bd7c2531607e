"""The package uses only public APIs of its dependencies, and its SQLite fast path stores what Core stores."""

from __future__ import annotations

import ast
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, Engine, select

import negotiation
from negotiation.store import fastpath, migrate
from negotiation.store.sqlite import SqliteRecorder, make_engine
from negotiation.store.schema import events, heads
from negotiation.store.writers import WriteRace

PACKAGE = Path(negotiation.__file__).parent
OWN = PACKAGE.name
FORBIDDEN_NAMES = {"positiontup"}
ATTRIBUTE_FUNCTIONS = {"getattr", "hasattr", "setattr", "delattr"}


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def is_own_module(module: str | None, level: int) -> bool:
    return level > 0 or module == OWN or (module or "").startswith(OWN + ".")


def own_names(tree: ast.Module) -> set[str]:
    """Module-level names that are the package's own: its functions, classes and imports from itself.

    Plain assignments are left out: they may hold another library's objects.
    """
    names = {"self", "cls"}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.ImportFrom) and is_own_module(node.module, node.level):
            names.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names
                         if alias.name.split(".")[0] == OWN)
    return names


def violations(source: str, filename: str) -> Iterator[str]:
    """Every use of a name another library keeps private (or of ``positiontup``) in ``source``."""
    tree = ast.parse(source, filename)
    own = own_names(tree)
    for node in ast.walk(tree):
        where = f"{filename}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Attribute):
            if node.attr in FORBIDDEN_NAMES:
                yield f"{where}: .{node.attr}"
            elif is_private(node.attr) and not (isinstance(node.value, ast.Name) and node.value.id in own):
                yield f"{where}: {ast.unparse(node)}"
        elif isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
            yield f"{where}: {node.id}"
        elif isinstance(node, ast.ImportFrom) and not is_own_module(node.module, node.level):
            module = node.module or ""
            if any(is_private(part) for part in module.split(".")):
                yield f"{where}: from {module} import ..."
            for alias in node.names:
                if is_private(alias.name) or alias.name in FORBIDDEN_NAMES:
                    yield f"{where}: from {module} import {alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] != OWN and any(is_private(part) for part in parts):
                    yield f"{where}: import {alias.name}"
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
              and node.func.id in ATTRIBUTE_FUNCTIONS and len(node.args) >= 2
              and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str)):
            name = node.args[1].value
            target = node.args[0]
            if name in FORBIDDEN_NAMES or (
                    is_private(name) and not (isinstance(target, ast.Name) and target.id in own)):
                yield f"{where}: {ast.unparse(node)}"


def test_the_package_uses_no_private_name_of_another_library() -> None:
    found = [
        violation
        for path in sorted(PACKAGE.rglob("*.py"))
        for violation in violations(path.read_text(encoding="utf-8"), str(path.relative_to(PACKAGE.parent)))
    ]

    assert found == []


@pytest.mark.parametrize(
    "source",
    [
        "def f(t, d):\n    return t._cached_bind_processor(d)\n",
        "def f(c):\n    return c.compiled.positiontup\n",
        "from sqlalchemy.engine import _processors_cy\n",
        "from sqlalchemy.sql.sqltypes import _Binary\n",
        "import sqlalchemy.engine._processors_cy\n",
        "from sqlalchemy import Connection\ndef f(c: Connection):\n    return Connection._begin_impl\n",
        "def f(d):\n    return getattr(d, '_json_serializer')\n",
    ],
)
def test_the_scan_catches_private_names(source: str) -> None:
    assert list(violations(source, "example.py"))


@pytest.mark.parametrize(
    "source",
    [
        "class A:\n    def f(self):\n        return self._x, type(self).__name__\n",
        "from . import fastpath\ndef f(c):\n    return fastpath._driver(c)\n",
        "from negotiation.store import fastpath\ndef f(c):\n    return fastpath._driver(c)\n",
        "def _helper():\n    pass\n_helper._cache = None\n",
    ],
)
def test_the_scan_allows_the_package_its_own_private_names(source: str) -> None:
    assert list(violations(source, "example.py")) == []


# -- the fast path stores what Core stores -------------------------------------------------------

TOKYO = ZoneInfo("Asia/Tokyo")
HALF_HOUR_WEST = timezone(timedelta(hours=-4, minutes=-30))  # an offset with minutes

FIRST = {
    "event_id": "0F8FAD5B-D9CB-469F-A165-70867728950E",  # hyphens and capitals, as a caller may give it
    "commit_id": 1,
    "negotiation_id": "us-japan-2025",
    "version": 1,
    "type": "AgreedInPrinciple",
    "data": {"parties": ["US", "JP"], "note": "日本 — accord signé 🤝", "tariff": 15.5, "quota": None,
             "final": False, "nested": {"ключ": [1, 2, 3]}},
    "schema_version": 1,
    "occurred_at": datetime(2025, 7, 22, 9, 30, 15, 123456, tzinfo=TOKYO),  # the day before in UTC
    "recorded_at": datetime(2025, 7, 22, 0, 0, tzinfo=UTC),  # no microseconds at all
    "sources": ("https://example.org/é", "note"),
    "hash": "a" * 64,
    "reported_at": datetime(2025, 7, 23, 18, 45, 0, 250000, tzinfo=HALF_HOUR_WEST),
}
SECOND = {
    **FIRST,
    "event_id": "8e7a3c1d2f4b4a6e9d0c1b2a3f4e5d6c",  # hex without hyphens
    "commit_id": 2,
    "version": 2,
    "type": "TermsAmended",
    "data": {"terms": {"tariff": "10 %", "note": "\u00e9\u0301 \u2028 \"quoted\" \\ back"}},
    "occurred_at": datetime(999, 6, 1, 12, 0, 0, 1, tzinfo=HALF_HOUR_WEST),  # a year that needs padding to four digits
    "recorded_at": datetime(2025, 7, 23, 1, 2, 3, 999999, tzinfo=timezone(timedelta(hours=5, minutes=45))),
    "sources": [],
    "hash": "b" * 64,
    "reported_at": datetime(2025, 7, 23, 1, 2, 3, 999999, tzinfo=UTC),
}
OPENED = {"version": 1, "state": "AgreedInPrinciple", "last_hash": "a" * 64,
          "snapshot": {"parties": ["US", "JP"], "terms": {"note": "合意"}, "opened_at": "2025-07-22T00:30:15+00:00"}}
AMENDED = {"version": 2, "state": "TermsAmended", "last_hash": "b" * 64,
           "snapshot": {"parties": ["US", "JP"], "terms": {"tariff": "10 %", "ü": None}, "opened_at": None}}


def raw(path: Path) -> dict[str, list[dict[str, tuple[Any, str, str]]]]:
    """Every row of both tables, read with sqlite3: each value with its storage class and its bytes in hex."""
    tables: dict[str, list[dict[str, tuple[Any, str, str]]]] = {}
    db = sqlite3.connect(path)
    try:
        for table, order in (("negotiation_events", "position"), ("negotiation_heads", "negotiation_id")):
            columns = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
            exprs = ", ".join(f'"{c}", typeof("{c}"), hex("{c}")' for c in columns)
            tables[table] = [
                {c: (row[3 * i], row[3 * i + 1], row[3 * i + 2]) for i, c in enumerate(columns)}
                for row in db.execute(f"SELECT {exprs} FROM {table} ORDER BY {order}")
            ]
    finally:
        db.close()
    return tables


def opened(path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    return engine


def write_with_core(conn: Connection, row: dict[str, Any], head: dict[str, Any], position: int | None) -> None:
    conn.execute(events.insert(), row)
    if position is None:
        conn.execute(heads.update().where(heads.c.negotiation_id == row["negotiation_id"]).values(head))
    else:
        conn.execute(heads.insert(), {"negotiation_id": row["negotiation_id"], "opened_at_position": position,
                                      **head})


def write_with_fast_path(conn: Connection, row: dict[str, Any], head: dict[str, Any], position: int | None) -> None:
    assert fastpath.append(conn, [row], row["commit_id"]) == row["version"]
    fastpath.save_head(conn, row["negotiation_id"], head["version"], head["state"], head["snapshot"],
                       head["last_hash"], position)


def test_rows_written_through_the_fast_path_are_byte_identical_to_rows_written_through_core(tmp_path: Path) -> None:
    written = {}
    for name, write in (("core", write_with_core), ("fast", write_with_fast_path)):
        path = tmp_path / f"{name}.db"
        engine = opened(path)
        store = SqliteRecorder(engine)
        with store.writing() as session:
            write(session.conn, FIRST, OPENED, 1)
        with store.writing() as session:
            write(session.conn, SECOND, AMENDED, None)
        engine.dispose()
        written[name] = raw(path)

    assert written["fast"] == written["core"]
    first, second = written["core"]["negotiation_events"]
    assert len(written["core"]["negotiation_heads"]) == 1
    # What Core stores on SQLite, and so what the fast path's functions must write.
    assert first["event_id"][:2] == ("0F8FAD5BD9CB469FA16570867728950E", "text")
    assert second["event_id"][:2] == ("8e7a3c1d2f4b4a6e9d0c1b2a3f4e5d6c", "text")
    assert first["occurred_at"][:2] == ("2025-07-22 00:30:15.123456", "text")
    assert first["recorded_at"][:2] == ("2025-07-22 00:00:00.000000", "text")
    assert second["occurred_at"][:2] == ("0999-06-01 16:30:00.000001", "text")
    assert first["data"][0] == '{"parties":["US","JP"],"note":"日本 — accord signé 🤝","tariff":15.5,"quota":null,' \
                               '"final":false,"nested":{"ключ":[1,2,3]}}'
    assert first["sources"][0] == '["https://example.org/é","note"]'
    assert first["version"][:2] == (1, "integer")


@pytest.fixture
def written_by_core(tmp_path: Path) -> Iterator[SqliteRecorder]:
    """A store holding FIRST and SECOND (and their heads), written through Core."""
    engine = opened(tmp_path / "core.db")
    store = SqliteRecorder(engine)
    with store.writing() as session:
        write_with_core(session.conn, FIRST, OPENED, 1)
    with store.writing() as session:
        write_with_core(session.conn, SECOND, AMENDED, None)
    yield store
    engine.dispose()


def test_the_fast_path_reads_back_what_core_reads(written_by_core: SqliteRecorder) -> None:
    store = written_by_core

    with store.reading() as session:
        conn = session.conn
        core_head = tuple(conn.execute(
            select(heads.c.version, heads.c.state, heads.c.snapshot, heads.c.last_hash)
            .where(heads.c.negotiation_id == "us-japan-2025")).one())
        core_events = [tuple(row) for row in conn.execute(
            select(events.c.negotiation_id, events.c.version, events.c.type, events.c.data, events.c.occurred_at)
            .order_by(events.c.negotiation_id, events.c.version))]
        fast_head = fastpath.head(conn, "us-japan-2025")
        missing = fastpath.head(conn, "no-such-negotiation")
        fast_events = [(negotiation_id, version, event_type, fastpath.read_json(data), fastpath.read_utc(occurred))
                       for page in fastpath.event_pages(conn, size=1)
                       for negotiation_id, version, event_type, data, occurred in page]

    assert fast_head == core_head
    assert missing is None
    assert fast_events == core_events
    assert all(occurred.tzinfo is UTC for *_, occurred in fast_events)


def test_a_negotiation_read_from_the_driver_is_what_core_reads(written_by_core: SqliteRecorder) -> None:
    store = written_by_core
    read_by_core = select(events.c.event_id, events.c.negotiation_id, events.c.version, events.c.position,
                          events.c.type, events.c.data, events.c.occurred_at, events.c.recorded_at,
                          events.c.sources, events.c.hash, events.c.schema_version, events.c.reported_at,
                          events.c.commit_id)

    with store.reading() as session:
        conn = session.conn
        core = [tuple(row) for row in conn.execute(read_by_core.order_by(events.c.version))]
        whole = fastpath.stream(conn, "us-japan-2025")
        first_only = fastpath.stream(conn, "us-japan-2025", until_version=1)
        none = fastpath.stream(conn, "no-such-negotiation")
        followed = fastpath.entries(conn, 0, 2, 10)

    core = [(*row[:8], tuple(row[8]), *row[9:]) for row in core]  # sources: Core gives the JSON list
    assert len(read_by_core.selected_columns) == len(events.c)  # every column compared
    assert whole == core
    assert first_only == core[:1]
    assert none == []
    assert followed == core
    assert all(moment.tzinfo is UTC for row in whole for moment in (row[6], row[7], row[11]))


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2025, 7, 22, tzinfo=UTC),
        datetime(2025, 7, 22, 23, 59, 59, 999999, tzinfo=TOKYO),
        datetime(2025, 3, 9, 2, 30, tzinfo=ZoneInfo("America/New_York")),  # in the spring gap
        datetime(1, 1, 1, 0, 0, 0, 5, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ],
)
def test_a_time_round_trips_through_its_stored_text(moment: datetime) -> None:
    text = fastpath.utc_text(moment)

    assert len(text) == 26
    assert fastpath.read_utc(text) == moment.astimezone(UTC)


@pytest.mark.parametrize("text", ["2025-07-22 09:00:00+09:00", "2025-07-22T00:00:00Z", "2025-07-22 00:00:00"])
def test_a_stored_time_written_with_an_offset_or_without_microseconds_reads_as_the_same_utc_moment(
        text: str) -> None:
    moment = fastpath.read_utc(text)

    assert (moment, moment.utcoffset()) == (datetime(2025, 7, 22, tzinfo=UTC), timedelta(0))


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        fastpath.utc_text(datetime(2025, 7, 22))


def test_a_second_head_for_one_negotiation_is_a_write_race_on_every_database(ledger: negotiation.Ledger) -> None:
    opened = ledger.record("us-japan-2025", "AgreedInPrinciple", {"parties": ["US", "JP"]})
    kept = ledger.get("us-japan-2025")

    with pytest.raises(WriteRace), ledger.recorder.writing() as transaction:
        transaction.save_head(kept, opened.hash, opened.position)

    assert ledger.get("us-japan-2025") == kept
    assert ledger.verify().intact
