"""An event-sourced state machine for bilateral negotiations on an append-only SQL log."""

from .domain.aggregate import Negotiation
from .domain.chain import BrokenLink
from .domain.entries import RecordedEvent
from .domain.machine import EVENT_TYPES, STATES
from .domain.payloads import BESIDE_TYPES, EVENT_KINDS
from .domain.times import Moment
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
from .audit import VerifyReport
from .ledger import Ledger

__all__ = [
    "BESIDE_TYPES",
    "BackdatedReport",
    "EVENT_KINDS",
    "EVENT_TYPES",
    "STATES",
    "BrokenLink",
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
    "StorageError",
    "UnknownNegotiation",
    "UnknownTarget",
    "VerifyReport",
]
