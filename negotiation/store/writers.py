"""How appending transactions are kept apart, shared by the store and its PostgreSQL path."""

from __future__ import annotations

from ..errors import NegotiationError

#: PostgreSQL advisory lock held by every appending transaction (ASCII "nego").
APPEND_LOCK_KEY = 0x6E65676F


class WriteRace(NegotiationError):
    """Another writer stored the same event id or version first; the ledger reports the conflict."""
