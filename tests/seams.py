"""Seams for fault tests: a writing transaction made to fail, or stall, at a chosen point."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any


class FailingSaveHead:
    """A writing transaction whose head's write fails, after its rows and sources are inserted."""

    def __init__(self, transaction: Any, then: Callable[[Any], None]) -> None:
        self.transaction, self.then = transaction, then

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transaction, name)

    def save_head(self, *args: Any) -> None:
        self.transaction.save_head(*args)
        self.then(self.transaction)


def fail_after_rows(recorder: Any, then: Callable[[Any], None]) -> None:
    """Make each writing transaction of ``recorder`` call ``then(transaction)`` once its rows and head are written."""
    writing = recorder.writing

    @contextmanager
    def failing() -> Iterator[FailingSaveHead]:
        with writing() as transaction:
            yield FailingSaveHead(transaction, then)

    recorder.writing = failing
