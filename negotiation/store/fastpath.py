"""The few hot statements on SQLite, compiled once by Core and run on the driver's cursor.

Executing a statement through Core costs 10–20 µs of Python per execution
(and per row of an executemany): more than SQLite needs to run it. Appending
events and reading or writing a negotiation's head are therefore compiled by
Core once for the connection's dialect, their values converted by each column
type's own bind and result processors (so what is stored is exactly what Core
would store), and executed on the DBAPI connection of the same SQLAlchemy
connection and transaction. Everything else goes through Core as usual.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.sql import Executable

from ..errors import StorageError

Processor = Callable[[Any], Any] | None


class UniqueViolation(Exception):
    """A unique constraint refused a row; the store turns it into its own error."""


@dataclass(frozen=True)
class Plan:
    sql: str
    binds: tuple[tuple[str, Processor], ...]
    results: tuple[Processor, ...]


def result_processor(conn: Connection, statement: Executable, column: int) -> Processor:
    return plan(conn.dialect, statement).results[column]


@cache
def plan(dialect: Dialect, statement: Executable) -> Plan:
    compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
    binds = tuple((name, compiled.binds[name].type._cached_bind_processor(dialect))
                  for name in compiled.positiontup or ())
    columns = getattr(statement, "selected_columns", ())
    results = tuple(column.type._cached_result_processor(dialect, None) for column in columns)
    return Plan(str(compiled), binds, results)


def _values(binds: tuple[tuple[str, Processor], ...], params: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(params[name] if process is None else process(params[name]) for name, process in binds)


def _driver(conn: Connection) -> sqlite3.Connection:
    return conn.connection.driver_connection  # type: ignore[return-value]


def _translated(run: Callable[[], Any]) -> Any:
    try:
        return run()
    except sqlite3.IntegrityError as e:
        raise UniqueViolation(str(e)) from e
    except sqlite3.Error as e:
        raise StorageError(f"database error: {e}") from e


def fetch_one(conn: Connection, statement: Executable, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """The first row of a SELECT, each value through its column's result processor."""
    p = plan(conn.dialect, statement)
    row = _translated(lambda: _driver(conn).execute(p.sql, _values(p.binds, params)).fetchone())
    if row is None:
        return None
    return tuple(value if process is None else process(value) for value, process in zip(row, p.results))


def pages(conn: Connection, statement: Executable, params: Mapping[str, Any],
          size: int = 5000) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of a SELECT a page at a time, as the driver gives them (see ``result_processor``)."""
    p = plan(conn.dialect, statement)
    cursor = _translated(lambda: _driver(conn).execute(p.sql, _values(p.binds, params)))
    while page := _translated(lambda: cursor.fetchmany(size)):
        yield page


def execute(conn: Connection, statement: Executable, params: Mapping[str, Any]) -> None:
    p = plan(conn.dialect, statement)
    _translated(lambda: _driver(conn).execute(p.sql, _values(p.binds, params)))


def insert_many(conn: Connection, statement: Executable, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert rows in one executemany; returns the rowid of the last one."""
    p = plan(conn.dialect, statement)
    names = [name for name, _process in p.binds]
    processed = [(i, process) for i, (_name, process) in enumerate(p.binds) if process is not None]
    # The rows of one append share values (the recording time, often the day
    # things happened): convert each hashable value once per column.
    converted: dict[tuple[int, Any], Any] = {}
    values = []
    for row in rows:
        value = [row[name] for name in names]
        for i, process in processed:
            raw = value[i]
            if raw.__hash__ is None:  # a dict or list payload: never shared
                value[i] = process(raw)
                continue
            key = (i, raw)
            if key not in converted:
                converted[key] = process(raw)
            value[i] = converted[key]
        values.append(value)

    def run() -> int:
        driver = _driver(conn)
        driver.executemany(p.sql, values)
        return int(driver.execute("SELECT last_insert_rowid()").fetchone()[0])

    return int(_translated(run))
