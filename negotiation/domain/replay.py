"""The state after an entry: the one answer replay, projections, ``watch`` and ``copy`` all give.

A log that is its own story (no retraction or correction, every event dated
no earlier than the one before it) is folded as it comes, one entry onto the
state before it. Anything else is told again from the negotiation's log: its
story up to the entry, folded. A batch is judged whole when it is written (a
dispute and its resolution dated before a finalisation go in together), so the
story of a batch's first entries alone may be illegal: the ledger never held
it, and the state after the whole batch (the entries written in one
transaction) stands for each entry of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from ..errors import CorruptHistory
from .aggregate import Negotiation, fold, fold_log, fold_rows
from .entries import RecordedEvent
from .payloads import EVENT_KINDS
from .payloads import CORRECTION_TYPES
from .story import StoryEvent

#: What folding a log needs of each entry, in version order: (version, type, data, occurred_at).
Row = tuple[int, str, Mapping[str, Any], datetime]


def rows_are_own_story(rows: Sequence[Row]) -> bool:
    """Whether a log's rows (in version order) are already its story: no retraction or correction, and
    no event dated before the one recorded before it."""
    return all(row[1] not in CORRECTION_TYPES for row in rows) and all(
        earlier[3] <= later[3] for earlier, later in zip(rows, rows[1:]))


def told_from_rows(negotiation_id: str, rows: Sequence[Row], as_of: datetime | None = None) -> Negotiation | None:
    """The negotiation its rows give (as of ``as_of``) when the log is its own story and had opened by then.

    None sends the caller to the whole entries, which tell any other story
    (and name what had not happened by then).
    """
    if not rows or not rows_are_own_story(rows):
        return None
    kept = rows if as_of is None else [row for row in rows if row[3] <= as_of]
    if not kept:
        return None
    return fold_rows(negotiation_id, kept, at=as_of)  # its version is its last row's: fold_rows checks each


def same_write(entries: Sequence[RecordedEvent], version: int) -> int:
    """The last version written in the same transaction as entry ``version`` (entries: the log, in order)."""
    commit_id = entries[version - 1].commit_id
    return max(entry.version for entry in entries if entry.commit_id == commit_id)


def held_after(negotiation_id: str, entries: Sequence[RecordedEvent], version: int) -> tuple[Negotiation, bool]:
    """What the ledger held after entry ``version`` of ``entries`` (the negotiation's log, at least up to the
    end of that entry's transaction); and whether it is the state after that entry itself (False: after the
    whole batch it was written in)."""
    try:
        return fold_log(negotiation_id, entries[:version]), True
    except CorruptHistory:
        end = same_write(entries, version)
        if end == version:
            raise
        return replace(fold_log(negotiation_id, entries[:end]), version=version), False


def extends(before: Negotiation | None, entry: RecordedEvent) -> bool:
    """Whether ``entry`` only extends the story whose state is ``before``: the next event, dated no earlier."""
    if entry.type not in EVENT_KINDS:
        return False
    if before is None:
        return entry.version == 1
    return (before.version == entry.version - 1 and before.updated_at is not None
            and entry.occurred_at >= before.updated_at)


def story_steps(negotiation_id: str, story: Iterable[StoryEvent]
                ) -> Iterator[tuple[StoryEvent, Negotiation, Negotiation]]:
    """Each event of a story (in story order) with the negotiation right before it and right after it.

    The story is folded once, each event as the next version: a story's
    events keep their log versions, which a corrected date may have put out of order.
    """
    before = Negotiation(id=negotiation_id)
    for event in story:
        after = fold(negotiation_id, [replace(event, version=before.version + 1)], before)
        yield event, before, after
        before = after


#: Reads a negotiation's log, in version order.
ReadLog = Callable[[str], Sequence[RecordedEvent]]


class StatesAfter:
    """The state the ledger held right after each entry, for entries met in position order.

    An entry that extends the story is folded onto the state before it;
    anything else (the first entry met of a negotiation that opened before,
    a late event, a retraction or correction) is told again from the log that
    ``read_log`` gives.
    """

    def __init__(self) -> None:
        self._known: dict[str, tuple[Negotiation, bool, int]] = {}

    def after(self, entry: RecordedEvent, read_log: ReadLog) -> Negotiation:
        """The state after ``entry``."""
        negotiation_id = entry.negotiation_id
        kept = self._known.get(negotiation_id)
        before = None if kept is None else kept[0]
        # A state that stands for a whole batch is told again for the batch's next entries too.
        exact = kept is None or kept[1] or kept[2] != entry.commit_id
        if exact and extends(before, entry) and (kept is not None or entry.version == 1):
            try:
                state = fold(negotiation_id, [entry], before)
            except CorruptHistory:
                pass
            else:
                self._known[negotiation_id] = (state, True, entry.commit_id)
                return state
        state, exact = held_after(negotiation_id, read_log(negotiation_id), entry.version)
        self._known[negotiation_id] = (state, exact, entry.commit_id)
        return state

    def forget(self) -> None:
        """Forget every state kept: what comes next is told from the log."""
        self._known.clear()


def steps(negotiation_id: str, entries: Sequence[RecordedEvent]) -> Iterable[tuple[RecordedEvent, Negotiation]]:
    """Each entry of one negotiation's log with the state the ledger held right after it."""
    states = StatesAfter()
    for entry in entries:
        yield entry, states.after(entry, lambda _negotiation_id: entries)
