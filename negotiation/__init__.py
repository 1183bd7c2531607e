"""An event-sourced state machine for bilateral negotiations on an append-only SQL log.

The names below are imported when first used, not with the package: a
program that needs only part of it (``negotiation --help``, say) does not pay
for the ledger, SQLAlchemy and pydantic.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .errors import (
    BackdatedReport,
    ConcurrencyConflict,
    CorruptHistory,
    DuplicateEvent,
    IllegalSourceStory,
    IllegalStory,
    IllegalTransition,
    InvalidEvent,
    NegotiationError,
    StorageError,
    UnknownNegotiation,
    UnknownTarget,
)

if TYPE_CHECKING:
    from .audit import VerifyReport
    from .domain.belief import BeliefDiff, Change, ReportedEntry
    from .domain.aggregate import Negotiation
    from .domain.chain import BrokenLink
    from .domain.entries import RecordedEvent
    from .domain.machine import EVENT_TYPES, STATES
    from .domain.payloads import BESIDE_TYPES, EVENT_KINDS
    from .domain.sources import Source, SourceRecord, outlet_of
    from .domain.times import Moment
    from .ledger import Ledger

#: Where each name not imported above lives.
_LAZY = {
    "BESIDE_TYPES": ".domain.payloads",
    "EVENT_KINDS": ".domain.payloads",
    "EVENT_TYPES": ".domain.machine",
    "STATES": ".domain.machine",
    "BeliefDiff": ".domain.belief",
    "BrokenLink": ".domain.chain",
    "Change": ".domain.belief",
    "Ledger": ".ledger",
    "Moment": ".domain.times",
    "Negotiation": ".domain.aggregate",
    "RecordedEvent": ".domain.entries",
    "ReportedEntry": ".domain.belief",
    "Source": ".domain.sources",
    "SourceRecord": ".domain.sources",
    "outlet_of": ".domain.sources",
    "VerifyReport": ".audit",
}

__all__ = [
    "BESIDE_TYPES",
    "BackdatedReport",
    "EVENT_KINDS",
    "EVENT_TYPES",
    "STATES",
    "BeliefDiff",
    "BrokenLink",
    "Change",
    "ConcurrencyConflict",
    "CorruptHistory",
    "DuplicateEvent",
    "IllegalSourceStory",
    "IllegalStory",
    "IllegalTransition",
    "InvalidEvent",
    "Ledger",
    "Moment",
    "Negotiation",
    "NegotiationError",
    "RecordedEvent",
    "ReportedEntry",
    "Source",
    "SourceRecord",
    "StorageError",
    "UnknownNegotiation",
    "UnknownTarget",
    "VerifyReport",
    "outlet_of",
]

if not TYPE_CHECKING:  # hidden from type checkers, so a misspelt name is still an error to them

    def __getattr__(name: str) -> Any:
        where = _LAZY.get(name)
        if where is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(import_module(where, __name__), name)
        globals()[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*globals(), *__all__})
