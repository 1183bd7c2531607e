"""The errors the ledger raises: one root, one subclass per thing that went wrong."""

from __future__ import annotations

from collections.abc import Sequence


class NegotiationError(Exception):
    """Root of every error the ledger raises on purpose."""


class InvalidEvent(NegotiationError):
    """An event, its payload or one of its identifiers is malformed."""


class UnknownNegotiation(NegotiationError):
    """No event has been recorded for this negotiation id (or none by the time asked about)."""

    def __init__(self, negotiation_id: str, when: str | None = None) -> None:
        self.negotiation_id = negotiation_id
        if when:
            super().__init__(f"negotiation {negotiation_id!r} is unknown then: {when}")
        else:
            super().__init__(f"negotiation {negotiation_id!r} has no recorded events")


class IllegalTransition(NegotiationError):
    """The event is not allowed in the negotiation's current state, or not with what it says.

    When the machine would take an event of this type but not this one (a
    resolved point that is not open), the message says what is wrong with its
    content rather than that the type is barred. For a batch, ``index`` is the
    place (from 0) in the batch of the event refused, when it was one of them.
    """

    index: int | None = None

    def __init__(
        self,
        negotiation_id: str,
        state: str,
        event_type: str,
        allowed: Sequence[str],
        reason: str | None = None,
    ) -> None:
        self.negotiation_id = negotiation_id
        self.state = state
        self.event_type = event_type
        self.allowed = tuple(allowed)
        self.reason = reason
        if event_type in self.allowed and reason:
            super().__init__(f"{event_type} is refused for negotiation {negotiation_id!r} in state {state}: "
                             f"{reason}")
            return
        allowed_text = ", ".join(self.allowed) if self.allowed else "nothing"
        why = f" ({reason})" if reason else ""
        super().__init__(
            f"{event_type} is not allowed for negotiation {negotiation_id!r} "
            f"in state {state}{why}; allowed: {allowed_text}"
        )


class ConcurrencyConflict(NegotiationError):
    """The negotiation is not at the version the writer expected."""

    def __init__(self, negotiation_id: str, expected: int, actual: int) -> None:
        self.negotiation_id = negotiation_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"negotiation {negotiation_id!r} is at version {actual}, expected version {expected}"
        )


class DuplicateEvent(NegotiationError):
    """An event id is already stored with different content."""

    def __init__(self, event_id: str, detail: str) -> None:
        self.event_id = event_id
        super().__init__(f"event {event_id} is already recorded with different content ({detail})")


class CorruptHistory(NegotiationError):
    """The stored history cannot be replayed (a gap, a wrong version or an illegal step)."""


class StorageError(NegotiationError):
    """The database failed or could not be reached."""


class IllegalStory(IllegalTransition):
    """A late event, a retraction or a correction would make the negotiation's story illegal.

    The story is the negotiation's events in the order they happened; the new
    entry would put an event of it (``version``, ``event_type``, dated
    ``occurred_at``) where the machine refuses it. Nothing is written.
    """

    def __init__(self, negotiation_id: str, entry: str, version: int, state: str, event_type: str,
                 occurred_at: str, allowed: Sequence[str], reason: str | None, itself: bool) -> None:
        self.entry = entry
        self.version = version
        self.occurred_at = occurred_at
        super().__init__(negotiation_id, state, event_type, allowed, reason)
        which = "itself" if itself else f"version {version}, {event_type} of {occurred_at}"
        why = f" ({reason})" if reason else ""
        Exception.__init__(
            self,
            f"{entry} would make the story of negotiation {negotiation_id!r} illegal: {which} would then "
            f"come in state {state}, where it is refused{why}; nothing was written",
        )


class UnknownTarget(InvalidEvent):
    """A retraction or correction names an event the negotiation does not have."""


class IllegalSourceStory(NegotiationError):
    """The story told by some sources only (or without some) is not a legal one; nothing is written.

    ``told`` says which entries were kept (``"without NDTV"``). Where the story
    breaks, ``version``, ``event_type``, ``occurred_at`` and ``state`` name the
    first event the machine refuses in it and the state it would meet; they are
    None when nothing of the story is left.
    """

    def __init__(self, negotiation_id: str, told: str, version: int | None = None, event_type: str | None = None,
                 occurred_at: str | None = None, state: str | None = None, reason: str | None = None) -> None:
        self.negotiation_id = negotiation_id
        self.told = told
        self.version = version
        self.event_type = event_type
        self.occurred_at = occurred_at
        self.state = state
        self.reason = reason
        if version is None:
            super().__init__(f"negotiation {negotiation_id!r} told {told}: nothing of its story is left")
            return
        why = f" ({reason})" if reason else ""
        super().__init__(f"negotiation {negotiation_id!r} told {told} is not a legal story: it breaks at version "
                         f"{version}, {event_type} of {occurred_at}, which would come in state {state}, where it "
                         f"is refused{why}")


class BackdatedReport(UserWarning):
    """An event that happened days ago was recorded as reported now: "as known at" any earlier day will
    not know it. Give its ``reported_at``, or ``backfill=True`` when it was known as it happened."""

