"""An event-sourced state machine for bilateral negotiations on an append-only SQL log."""

from .domain.aggregate import Negotiation
from .domain.chain import BrokenLink
from .domain.entries import RecordedEvent
from .domain.machine import EVENT_TYPES, STATES
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
from .ledger import Ledger, VerifyReport

__all__ = [
    "EVENT_TYPES",
    "STATES",
    "BrokenLink",
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
    "VerifyReport",
]
