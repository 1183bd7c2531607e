"""Appending to the log: one transaction reads the state, checks the new entries and writes them.

An event dated after everything in the story (the usual case) is checked
against the state kept beside the log, and nothing else is read. A late
event (dated before events already recorded), a batch out of date order, a
retraction and a correction each change the story in its middle, so the
negotiation's whole log is read and its new story folded; the entry is
accepted only if that story is legal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .domain.aggregate import Negotiation, StoryBreak, decide, fold_story, told_story
from .domain.chain import GENESIS, stored_event_hash
from .domain.entries import (
    PAYLOAD_SCHEMA_VERSION,
    Entry,
    NewEvent,
    Recorded,
    RecordedEvent,
    content_difference,
    recorded_event,
)
from .domain.payloads import CORRECTED, DENIED, is_country
from .domain.sources import Source, read_sources, stored_sources
from .domain.story import correction_data, retractions_and_corrections
from .domain.times import day_or_iso, to_utc
from .errors import (
    ConcurrencyConflict,
    DuplicateEvent,
    IllegalStory,
    IllegalTransition,
    InvalidEvent,
    UnknownNegotiation,
    UnknownTarget,
)
from .store.recorder import EventRow, Head, Recorder, Writer
from .store.writers import WriteRace

# Refusals that a retried write (events already stored under the ids given) would also meet.
_RETRY_LOOKS_LIKE = (IllegalTransition, InvalidEvent, ConcurrencyConflict)


@dataclass(frozen=True, slots=True)
class CorrectionRequest:
    """A retraction or correction as the caller asked for it, checked against the log when written."""

    kind: str
    target: int | str
    #: Why it is retracted or corrected; for a denial, the statement quoted (or None).
    reason: str | None
    data: Any = None
    occurred_at: Any = None
    sources: tuple[Source, ...] = ()
    reported_at: datetime | None = None
    event_id: str = ""
    id_given: bool = False
    #: Who denies the event (a denial only).
    by: str | None = None
    #: When the event in fact became known (a correction of its report time).
    event_reported_at: datetime | None = None


def append(recorder: Recorder, negotiation_id: str, batch: Sequence[NewEvent],
           expected_version: int | None, *, write: bool = True) -> Recorded:
    """Append ``batch`` in one transaction (or, with ``write=False``, only check it).

    Events whose caller-given id is already stored with the same content are
    returned as stored, not written again (``Recorded.written`` counts the others).
    Looking ids up costs a query per write, so it is done only when the first
    attempt is refused: a retried
    write is refused by the machine, by ``expected_version`` or by the unique
    ``event_id`` constraint before anything is kept.
    """
    return append_together(recorder, [(negotiation_id, batch, expected_version)], write=write)[0]


#: One negotiation's part of a write: its id, its new events, the version it must be at (None: any).
Batch = tuple[str, Sequence[NewEvent], int | None]


@dataclass(frozen=True, slots=True)
class Judged:
    """What the machine made of a batch against one version of its negotiation: the state the batch leaves.

    A write of those same events that finds the negotiation still at ``version``
    takes ``after`` instead of judging them again: the log up to a version never
    changes, so neither does the machine's verdict on what follows it. Any other
    events, or another version, are judged as they are written.
    """

    version: int
    events: tuple[NewEvent, ...]
    after: Negotiation

    def holds_for(self, version: int, events: Sequence[NewEvent]) -> bool:
        """Whether this verdict is the machine's on ``events`` written after ``version``."""
        return version == self.version and tuple(events) == self.events


def append_together(recorder: Recorder, batches: Sequence[Batch], *, write: bool = True,
                    judged: Sequence[Judged | None] = ()) -> list[Recorded]:
    """Append to several negotiations in one transaction, all or none (``append`` for each).

    ``judged`` (from ``judge_together``, one per batch, or none) spares the
    machine a batch whose negotiation is still at the version it was judged
    against; any other batch is judged as it is written.
    """
    if not any(event.id_given for _, batch, _ in batches for event in batch):
        return _transaction(recorder, batches, write, look_up_ids=False, judged=judged)[0]
    try:
        return _transaction(recorder, batches, write, look_up_ids=not write, judged=judged)[0]
    except _RETRY_LOOKS_LIKE:
        if not write:
            raise
    return _transaction(recorder, batches, write, look_up_ids=True, judged=judged)[0]


def judge_together(recorder: Recorder, batches: Sequence[Batch]) -> list[Judged | None]:
    """Check batches as ``append_together`` would append them, writing nothing; what the machine made of each.

    A batch with an event given no ``occurred_at`` is judged but not kept
    (None): it is dated when it is written, and judged then.
    """
    look_up_ids = any(event.id_given for _, batch, _ in batches for event in batch)
    return _transaction(recorder, batches, False, look_up_ids=look_up_ids)[1]


def correct(recorder: Recorder, negotiation_id: str, request: CorrectionRequest,
            expected_version: int | None) -> RecordedEvent:
    """Append a retraction or correction in one transaction, if the story after it is legal."""
    seen: list[int] = []
    try:
        with recorder.writing() as tx:
            return _correct_in(tx, negotiation_id, request, expected_version, seen)
    except WriteRace:
        _raise_conflict(recorder, negotiation_id, expected_version, seen)
        raise


def _transaction(recorder: Recorder, batches: Sequence[Batch], write: bool, look_up_ids: bool,
                 judged: Sequence[Judged | None] = ()) -> tuple[list[Recorded], list[Judged | None]]:
    seen: list[int] = []
    # The batch being written when another writer wins a race: the conflict names it.
    negotiation_id, _, expected_version = batches[0]
    try:
        with recorder.writing() as tx:
            # Every id of every batch looked up at once: a query per negotiation would cost more than the check.
            stored = tx.by_ids([event.event_id for _, batch, _ in batches for event in batch]
                                       ) if look_up_ids else {}
            done = []
            verdicts = []
            now = datetime.now(UTC)  # one recording time for the whole transaction
            for index, (negotiation_id, batch, expected_version) in enumerate(batches):
                seen.clear()
                recorded, verdict = _append_in(tx, negotiation_id, batch, expected_version, write, stored, seen,
                                               now=now, judged=judged[index] if judged else None)
                done.append(recorded)
                verdicts.append(verdict)
            return done, verdicts
    except WriteRace:
        _raise_conflict(recorder, negotiation_id, expected_version, seen)
        raise


def _raise_conflict(recorder: Recorder, negotiation_id: str, expected_version: int | None,
                    seen: list[int]) -> None:
    # A unique constraint stopped the insert: another writer got there first.
    with recorder.reading() as view:
        actual = view.version(negotiation_id)
    expected = expected_version if expected_version is not None else seen[0] if seen else 0
    raise ConcurrencyConflict(negotiation_id, expected, actual) from None


def _current(tx: Writer, negotiation_id: str, expected_version: int | None,
             seen: list[int]) -> tuple[Head | None, Negotiation]:
    head = tx.head(negotiation_id)
    current = head.negotiation if head else Negotiation(id=negotiation_id)
    seen.append(current.version)
    if expected_version is not None and expected_version != current.version:
        raise ConcurrencyConflict(negotiation_id, expected_version, current.version)
    return head, current


def _append_in(tx: Writer, negotiation_id: str, batch: Sequence[NewEvent], expected_version: int | None,
               write: bool, stored: Mapping[str, RecordedEvent], seen: list[int],
               place: str | None = None, now: datetime | None = None,
               judged: Judged | None = None) -> tuple[Recorded, Judged | None]:
    """One negotiation's part of a transaction, and the machine's verdict on it (None: not one to keep).

    ``stored`` holds the events already stored under its ids. ``place`` names
    the events in a refusal of their story (a rehearsal names their place in a
    document). ``judged`` is taken for the verdict if it was made against the
    version found and for every event of the batch.
    """
    for event in batch:
        if event.event_id in stored:
            difference = content_difference(stored[event.event_id], event)
            if difference:
                raise DuplicateEvent(event.event_id, difference)
    fresh = [event for event in batch if event.event_id not in stored]
    if not fresh:  # a retried write: everything is already there
        return Recorded(stored[event.event_id] for event in batch), None

    head, current = _current(tx, negotiation_id, expected_version, seen)
    now = now or datetime.now(UTC)
    rows = _rows(head, negotiation_id, current.version, now, [
        (event.event_id, event.type, event.data, event.occurred_at or now, event.reported_at or now, event.sources)
        for event in fresh], chained=write)
    if judged is not None and judged.holds_for(current.version, fresh):
        after = judged.after
    elif _in_story_order(current, rows):
        after = decide(current, [(event, row["occurred_at"]) for event, row in zip(fresh, rows)])
    else:
        after = _retold(tx, negotiation_id, rows, place or _late_entries(rows))
    # Dated by the write's own clock where an event gives no date: that verdict holds for this moment only.
    dated = all(event.occurred_at is not None for event in fresh)
    verdict = Judged(current.version, tuple(fresh), after) if dated else None
    if not write:
        return Recorded(), verdict
    written = _write(tx, head, after, rows, [event.sources for event in fresh])
    return (Recorded((stored.get(event.event_id) or written[event.event_id] for event in batch), written=len(fresh)),
            verdict)


def _correct_in(tx: Writer, negotiation_id: str, request: CorrectionRequest,
                expected_version: int | None, seen: list[int], place: str | None = None) -> RecordedEvent:
    if request.id_given:
        stored = tx.by_ids([request.event_id]).get(request.event_id)
        if stored is not None:
            difference = _correction_difference(stored, negotiation_id, request)
            if difference:
                raise DuplicateEvent(request.event_id, difference)
            return stored
    head, current = _current(tx, negotiation_id, expected_version, seen)
    if head is None:
        raise UnknownNegotiation(negotiation_id)
    entries = tx.stream(negotiation_id)
    target = _target(negotiation_id, entries, request.target)
    retracted, _corrections = retractions_and_corrections(entries)
    data = correction_data(request.kind, target, retracted, request.reason, request.data, request.occurred_at,
                           request.by, request.event_reported_at)
    if request.kind == DENIED and is_country(request.by) and request.by not in current.parties:
        raise InvalidEvent(f"{request.kind} of version {target.version}: by: {request.by} is not a party to "
                           f"{negotiation_id!r} ({', '.join(current.parties)}); a source denying it is named as such")
    now = datetime.now(UTC)
    reported = request.reported_at or now
    if reported < target.reported_at:
        raise InvalidEvent(f"{request.kind} of version {target.version}: reported_at {reported.isoformat()} is "
                           f"before the event itself was reported ({target.reported_at.isoformat()})")
    rows = _rows(head, negotiation_id, current.version, now,
                 [(request.event_id, request.kind, data, reported, reported, request.sources)])
    named = f"{request.kind} of version {target.version}"
    after = _retold(tx, negotiation_id, rows, f"{place} ({named})" if place else named, entries)
    return _write(tx, head, after, rows, [request.sources])[request.event_id]


@dataclass(frozen=True, slots=True)
class Rehearsed:
    """One write of a rehearsal: a run of events or a retraction or correction, and what to call its place."""

    place: str
    events: Sequence[NewEvent] = ()
    correction: CorrectionRequest | None = None

    @property
    def kind(self) -> str:
        return self.correction.kind if self.correction is not None else self.events[0].type


class _RolledBack(Exception):
    """Ends a rehearsal's transaction: everything it wrote is rolled back."""


def rehearse(recorder: Recorder, negotiation_id: str, writes: Sequence[Rehearsed],
             expected_version: int | None) -> None:
    """Judge writes to one negotiation as if each were written in turn, by the writer itself; store nothing.

    They are written in one transaction that is then rolled back, so each is
    judged on the log the ones before it leave, exactly as it will be. A
    refusal names the write by its ``place``.
    """
    try:
        with recorder.writing() as tx:
            version = expected_version
            for write in writes:
                try:
                    if write.correction is None:
                        last = _append_in(tx, negotiation_id, write.events, version, True, {}, [], write.place)[0][-1]
                    else:
                        last = _correct_in(tx, negotiation_id, write.correction, version, [], write.place)
                except IllegalStory:
                    raise  # it names the write by its place already
                except (IllegalTransition, InvalidEvent, ConcurrencyConflict) as e:
                    raise InvalidEvent(f"{write.place} ({write.kind}): {e}") from None
                version = last.version
            raise _RolledBack
    except _RolledBack:
        return


def _correction_difference(stored: RecordedEvent, negotiation_id: str, request: CorrectionRequest) -> str | None:
    """What differs between a stored retraction or correction and a retry of it under the same id."""
    if (stored.negotiation_id, stored.type) != (negotiation_id, request.kind):
        return "negotiation or type differs"
    if request.target not in (stored.data["target"], stored.data["target_version"]):
        return "target differs"
    if request.kind == DENIED:
        if (request.by, request.reason) != (stored.data["by"], stored.data.get("statement")):
            return "by or statement differs"
    elif request.reason != stored.data["reason"]:
        return "reason differs"
    if request.kind == CORRECTED:
        if request.data is not None and request.data != stored.data.get("data"):
            return "data differs"
        if (request.data is None) != ("data" not in stored.data):
            return "data differs"
        moment = None if request.occurred_at is None else to_utc(request.occurred_at).isoformat()
        if moment != stored.data.get("occurred_at"):
            return "occurred_at differs"
        known = None if request.event_reported_at is None else request.event_reported_at.isoformat()
        if known != stored.data.get("reported_at"):
            return "event_reported_at differs"
    return None


def _target(negotiation_id: str, entries: Sequence[RecordedEvent], target: int | str) -> RecordedEvent:
    """The entry a retraction or correction names, by version or event id, in this negotiation."""
    for entry in entries:
        if target in (entry.version, entry.event_id):
            return entry
    what = f"version {target}" if isinstance(target, int) else f"event {target}"
    raise UnknownTarget(f"negotiation {negotiation_id!r} has no {what} (it has versions 1 to {len(entries)})")


def _rows(head: Head | None, negotiation_id: str, version: int, now: datetime,
          entries: Sequence[tuple[str, str, dict[str, Any], datetime, datetime, tuple[Source, ...]]],
          chained: bool = True) -> list[EventRow]:
    """The new rows, versioned and hash-chained after the negotiation's last entry.

    Rows only checked, never written, are not ``chained``: their hash is left empty.
    """
    rows: list[EventRow] = []
    last_hash = head.last_hash if head else GENESIS
    for number, (event_id, kind, data, occurred_at, reported_at, sources) in enumerate(entries, start=version + 1):
        stored = stored_sources(sources)  # one list, both hashed and written
        if chained:
            last_hash = stored_event_hash(last_hash, event_id, negotiation_id, number, kind, data, occurred_at, now,
                                          stored, PAYLOAD_SCHEMA_VERSION, reported_at)
        rows.append({"event_id": event_id, "negotiation_id": negotiation_id, "version": number, "type": kind,
                     "data": data, "schema_version": PAYLOAD_SCHEMA_VERSION, "occurred_at": occurred_at,
                     "recorded_at": now, "sources": stored, "hash": last_hash if chained else "",
                     "reported_at": reported_at})
    return rows


def _in_story_order(current: Negotiation, rows: Sequence[EventRow]) -> bool:
    """Whether the new events come after the whole story, in date order: then the story only grows."""
    last = current.updated_at
    for row in rows:
        if last is not None and row["occurred_at"] < last:
            return False
        last = row["occurred_at"]
    return True


def _late_entries(rows: Sequence[EventRow]) -> str:
    """The new events as a refusal names them: type and date of each."""
    named = ", ".join(f"{row['type']} of {day_or_iso(row['occurred_at'])}" for row in rows[:3])
    more = f" and {len(rows) - 3} more" if len(rows) > 3 else ""
    return f"the new {named}{more}" if len(rows) == 1 else f"the new events {named}{more}"


def _retold(tx: Writer, negotiation_id: str, rows: Sequence[EventRow], entry: str,
            entries: Sequence[RecordedEvent] | None = None) -> Negotiation:
    """The negotiation the story gives with the new rows in it; refused naming where it breaks.

    Only the story as it is now is judged: an entry is never refused because
    of when other entries were reported (see ``fold_log`` for what "as known
    at" answers when the reports themselves do not make a legal story).
    """
    logged = list(entries if entries is not None else tx.stream(negotiation_id))
    pending = [_recorded(row, position=0) for row in rows]
    story = told_story([*logged, *pending])
    if not story:
        raise InvalidEvent(f"{entry} would leave negotiation {negotiation_id!r} with no events in its story; "
                           "nothing was written")
    return _fold_or_refuse(negotiation_id, story, rows[-1]["version"], rows, entry)


def _fold_or_refuse(negotiation_id: str, story: Sequence[Entry], version: int, rows: Sequence[EventRow],
                    entry: str) -> Negotiation:
    try:
        return fold_story(negotiation_id, story, version=version)
    except StoryBreak as broken:
        new = {row["version"] for row in rows}
        event, refusal = broken.event, broken.refusal
        if refusal.invalid_data and event.version in new:
            raise InvalidEvent(f"{event.type} data: {refusal.reason}") from None
        error = IllegalStory(negotiation_id, entry, event.version, broken.state, event.type,
                             day_or_iso(event.occurred_at), broken.allowed, refusal.reason,
                             itself=event.version in new and len(rows) == 1)
        if event.version in new:
            error.index = event.version - rows[0]["version"]
        raise error from None


def _write(tx: Writer, head: Head | None, after: Negotiation, rows: Sequence[EventRow],
           sources: Sequence[tuple[Source, ...]]) -> dict[str, RecordedEvent]:
    """Store the rows and the head; the entries stored, by id, with ``sources`` (each row's, as checked)."""
    positions = tx.append(rows)
    tx.save_head(after, rows[-1]["hash"], None if head else positions[0])
    commit_id = tx.commit_id or positions[0]
    return {row["event_id"]: _recorded(row, position=position, commit_id=commit_id, sources=given)
            for row, position, given in zip(rows, positions, sources)}


def _recorded(row: EventRow, *, position: int, commit_id: int = 0,
              sources: tuple[Source, ...] | None = None) -> RecordedEvent:
    """A row as the entry it is once stored: its sources as checked on the way in (the very values its
    stored form was made from), or, not given, read back from that form."""
    # In the order of its fields: an append builds one per event, and named arguments cost a third more.
    return recorded_event(row["event_id"], row["negotiation_id"], row["version"], position, row["type"], row["data"],
                          row["occurred_at"], row["recorded_at"],
                          read_sources(row["sources"]) if sources is None else sources, row["hash"],
                          row["schema_version"], row["reported_at"], commit_id)
