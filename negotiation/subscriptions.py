"""Following the log: catch up from a position, then take each new entry as it is committed.

>>> with ledger.subscribe(after=0, types=["AgreementFinalised"], timeout=60) as entries:
...     for entry in entries:
...         print(entry.position, entry.negotiation_id, entry.type)

Every appending transaction holds one lock for the whole log until it
commits, so positions are handed out in commit order: a reader that goes on
from the last position it read never skips an entry, and never sees one twice.
Once caught up, the subscription waits without spinning (``store/waiting.py``:
LISTEN/NOTIFY on PostgreSQL, ``PRAGMA data_version`` on a short back-off on
SQLite) and reads again when something was committed.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from types import TracebackType

from .domain.checks import check_count, check_negotiation_id
from .domain.entries import RecordedEvent
from .domain.payloads import ENTRY_PAYLOADS
from .errors import InvalidEvent
from .store.recorder import Recorder
from .store.waiting import Waiter

#: Every type of entry the log holds: the events, and the retractions, corrections and denials of them.
ENTRY_TYPES: tuple[str, ...] = tuple(ENTRY_PAYLOADS)


def check_types(types: Iterable[str] | None) -> tuple[str, ...] | None:
    """The entry types asked for, checked: None for every type."""
    if types is None:
        return None
    if isinstance(types, str):
        types = [types]
    chosen = tuple(dict.fromkeys(types))
    unknown = [name for name in chosen if name not in ENTRY_TYPES]
    if unknown:
        raise InvalidEvent(f"unknown entry type {unknown[0]!r}; known: {', '.join(ENTRY_TYPES)}")
    if not chosen:
        raise InvalidEvent("types must name at least one entry type (or be None for every type)")
    return chosen


class Subscription(Iterator[RecordedEvent]):
    """The entries after a position, in position order: those already in the log, then each new one.

    Iterating blocks while nothing new is committed; it ends on ``close()``
    (from any thread) or when ``timeout`` seconds pass with nothing new. Use it
    as a context manager, or call ``close()``, to release its connection.
    """

    def __init__(self, recorder: Recorder, after: int = 0, *, negotiation_id: str | None = None,
                 types: Iterable[str] | None = None, timeout: float | None = None, batch: int = 500) -> None:
        if after is None:
            raise InvalidEvent("after must be a position, 0 for the beginning of the log")
        check_count("after", after, 0)
        check_count("batch", batch, 1)
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                    or not timeout >= 0):
            raise InvalidEvent(f"timeout must be a number of seconds, at least 0, got {timeout!r}")
        self.negotiation_id = None if negotiation_id is None else check_negotiation_id(negotiation_id)
        self.types = check_types(types)
        self.timeout = timeout
        self._recorder = recorder
        self._batch = batch
        self._read_to = after  # the log was read up to here: nothing matching is left at or before it
        self._delivered = after
        self._buffer: deque[RecordedEvent] = deque()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._busy = False
        self._waiter: Waiter | None = recorder.waiter()

    @property
    def position(self) -> int:
        """Where to subscribe again to go on from here: nothing matching at or before it is left to deliver."""
        return self._delivered if self._buffer else self._read_to

    @property
    def closed(self) -> bool:
        return self._stop.is_set()

    def __iter__(self) -> Subscription:
        return self

    def __next__(self) -> RecordedEvent:
        with self._lock:
            if self._stop.is_set() or self._waiter is None:
                self._release()
                raise StopIteration
            self._busy = True
        try:
            entry = self._next_entry(self._waiter)
        finally:
            with self._lock:
                self._busy = False
                if self._stop.is_set():
                    self._release()
        if entry is None:
            self.close()
            raise StopIteration
        self._delivered = entry.position
        return entry

    def _next_entry(self, waiter: Waiter) -> RecordedEvent | None:
        deadline: float | None = None
        while not self._buffer:
            waiter.arm()  # before the read: a commit after it wakes the wait below
            with self._recorder.reading() as view:
                found, self._read_to = view.following(self._read_to, self._batch,
                                                      negotiation_id=self.negotiation_id, types=self.types)
            if found:
                self._buffer.extend(found)
                break
            if deadline is None:
                deadline = float("inf") if self.timeout is None else time.monotonic() + self.timeout
            left = deadline - time.monotonic()
            if left <= 0 or self._stop.is_set():
                return None
            waiter.wait(min(left, 3600.0), self._stop)
            if self._stop.is_set():
                return None
        return self._buffer.popleft()

    def close(self) -> None:
        """End the iteration (a blocked ``next`` returns soon, from any thread) and release the connection."""
        self._stop.set()
        with self._lock:
            if not self._busy:
                self._release()

    def _release(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None:
            waiter.close()

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()
