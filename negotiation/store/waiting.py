"""Waiting, cheaply, for the log to change: what a subscriber does once it has caught up.

A waiter is *armed* before each read of the log and then *waits* until
something may have been committed since it was armed (or its time is up).
Armed first, it cannot miss a commit that lands between the read and the
wait: that commit wakes it, and the next read finds the entries.

* PostgreSQL: a dedicated connection made from the engine's URL runs
  ``LISTEN negotiation_events``; a trigger on the log (migration 0007) sends
  the notification when a transaction that appended commits, whoever wrote it.
  Waiting is blocking on the socket, in slices so that ``close`` is noticed.
* SQLite: a dedicated connection asks ``PRAGMA data_version``, which changes
  when another connection commits to the file; it asks after a short sleep
  that grows from 10 ms to 200 ms while nothing changes, and starts short again
  after a change. An in-memory database has no second connection to ask: there
  the log's last position is asked instead, on the same back-off.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import closing
from typing import Any, Protocol

from sqlalchemy import Engine

from ..errors import StorageError

#: The channel the log's trigger notifies (migration 0007).
CHANNEL = "negotiation_events"
#: SQLite's back-off between two looks at the database: first, and at most.
FIRST_DELAY = 0.010
LONGEST_DELAY = 0.200
#: PostgreSQL waits on the socket at most this long at a time, to notice ``close``.
LISTEN_SLICE = 0.5


class Waiter(Protocol):
    def arm(self) -> None:
        """Note the database as it is now: call before reading the log."""

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        """Wait until the database may have changed since ``arm`` (True), ``seconds`` pass or
        ``stop`` is set (False)."""

    def close(self) -> None: ...


class BackOff:
    """Sleeps that grow from FIRST_DELAY to LONGEST_DELAY while nothing changes."""

    def __init__(self) -> None:
        self.delay = FIRST_DELAY

    def changed(self) -> None:
        self.delay = FIRST_DELAY

    def sleep(self, deadline: float, stop: threading.Event) -> bool:
        """Sleep one step (never past ``deadline``); False if there is no time left or ``stop`` was set."""
        left = deadline - time.monotonic()
        if left <= 0 or stop.is_set():
            return False
        stopped = stop.wait(min(self.delay, left))
        self.delay = min(self.delay * 2, LONGEST_DELAY)
        return not stopped


class PollingWaiter:
    """A waiter that looks at a number that changes when the database does, on a back-off."""

    def __init__(self, look: Callable[[], Any]) -> None:
        self.look = look
        self.seen: Any = None
        self.back_off = BackOff()

    def arm(self) -> None:
        self.seen = self.look()

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        deadline = time.monotonic() + seconds
        while self.back_off.sleep(deadline, stop):
            if self.look() != self.seen:
                self.back_off.changed()
                return True
        return False

    def close(self) -> None:
        pass


class DataVersionWaiter(PollingWaiter):
    """SQLite: ``PRAGMA data_version`` on a connection of its own, which never writes."""

    def __init__(self, path: str) -> None:
        try:
            self.connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as e:
            raise StorageError(f"database error: {e}") from e
        super().__init__(self.data_version)

    def data_version(self) -> int:
        try:
            return int(self.connection.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.Error as e:
            raise StorageError(f"database error: {e}") from e

    def close(self) -> None:
        self.connection.close()


class ProbeWaiter(PollingWaiter):
    """An in-memory SQLite database: the log's last position, read through the engine."""

    def __init__(self, probe: Callable[[], int]) -> None:
        super().__init__(probe)


class NotificationWaiter:
    """PostgreSQL: ``LISTEN negotiation_events`` on a connection of its own, in autocommit."""

    def __init__(self, engine: Engine) -> None:
        import psycopg

        self.errors = psycopg.Error
        args, options = engine.dialect.create_connect_args(engine.url)
        try:
            self.connection = psycopg.connect(*args, **options, autocommit=True)
            self.connection.execute(f"LISTEN {CHANNEL}")
        except psycopg.Error as e:
            raise StorageError(f"database error: {_first_line(e)}") from e

    def arm(self) -> None:
        # Whatever was notified before now is covered by the read that follows: drop it all.
        self._received(0, stop_after=None)

    def wait(self, seconds: float, stop: threading.Event) -> bool:
        deadline = time.monotonic() + seconds
        while not stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if self._received(min(left, LISTEN_SLICE)):
                return True
        return False

    def _received(self, seconds: float, stop_after: int | None = 1) -> bool:
        """Whether a notification came within ``seconds`` (all of those already here are taken)."""
        try:
            with closing(self.connection.notifies(timeout=seconds, stop_after=stop_after)) as notified:
                return sum(1 for _ in notified) > 0
        except self.errors as e:
            raise StorageError(f"database error: {_first_line(e)}") from e

    def close(self) -> None:
        self.connection.close()


def _first_line(error: Exception) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
