"""An event-sourced state machine for bilateral negotiations on an append-only SQL log."""

from .aggregate import Negotiation
from .chain import BrokenLink
from .errors import (
    ConcurrencyConflict,
    CorruptHistory,
    DuplicateEvent,
    IllegalTransition,
    InvalidEvent,
    NegotiationError,
    StorageError,
    UnknownNegotiation,
)
from .events import RecordedEvent
from .ledger import Ledger, VerifyReport
from .machine import EVENT_TYPES, STATES

__all__ = [
    "BrokenLink",
    "VerifyReport",
    "EVENT_TYPES",
    "STATES",
    "ConcurrencyConflict",
    "CorruptHistory",
    "DuplicateEvent",
    "IllegalTransition",
    "InvalidEvent",
    "Ledger",
    "Negotiation",
    "NegotiationError",
    "RecordedEvent",
    "StorageError",
    "UnknownNegotiation",
]
