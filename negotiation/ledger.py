"""The ledger: the public face that checks events against the machine and appends them."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import groupby
from typing import Any

from . import writer
from .domain.aggregate import Negotiation, StoryBreak, fold, fold_log, fold_story, is_own_story
from .domain.chain import BrokenLink, walk
from .domain.checks import (
    check_count,
    check_event_id,
    check_negotiation_id,
    check_reported_at,
    check_sources,
    new_event,
    new_events,
)
from .domain.entries import NewEvent, RecordedEvent
from .domain.payloads import CORRECTED, CORRECTION_TYPES, RETRACTED
from .domain.story import StoryEvent, retractions_and_corrections, story_of
from .domain.times import Moment, end_of
from .errors import CorruptHistory, IllegalSourceStory, InvalidEvent, UnknownNegotiation
from .writer import CorrectionRequest
from .store import migrate
from .store.eventstore import EventStore, make_engine, resolve_url
from .store.sources import SourceSummary, index_breaks, summaries
from .subscriptions import Subscription



@dataclass
class VerifyReport:
    """What ``Ledger.verify`` found: how much it walked and every broken chain."""

    negotiations: int = 0
    events: int = 0
    broken: list[BrokenLink] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.broken


class Ledger:
    """An append-only log of negotiation events and the state machine that guards it.

    >>> with Ledger.open("sqlite:///negotiations.db") as ledger:
    ...     ledger.record("us-japan-2025", "AgreedInPrinciple", {"parties": ["US", "JP"]})
    """

    def __init__(self, store: EventStore) -> None:
        self._store = store
        #: Where the ledger is, safe to show: any password is masked.
        self.url = store.engine.url.render_as_string(hide_password=True)

    @classmethod
    def open(cls, url: str | None = None, *, upgrade: bool = True) -> Ledger:
        """Open the ledger at ``url`` (default ``$NEGOTIATION_DB_URL`` or ``sqlite:///negotiations.db``).

        The schema is brought to the latest migration; with ``upgrade=False`` a
        database not already there is refused instead (StorageError).
        """
        resolved = resolve_url(url)
        engine = make_engine(resolved)
        store = EventStore(engine)
        with store.translating_errors():
            if upgrade:
                migrate.upgrade(engine)
            else:
                migrate.require_head(engine)
        return cls(store)

    @property
    def store(self) -> EventStore:
        """The event store under the ledger, for code that keeps read models beside the log (projections)."""
        return self._store

    def close(self) -> None:
        self._store.engine.dispose()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ---------------------------------------------------------------------------

    def record(
        self,
        negotiation_id: str,
        event_type: str,
        data: Mapping[str, Any] | None = None,
        *,
        occurred_at: Moment | None = None,
        reported_at: Moment | None = None,
        sources: Iterable[str] = (),
        expected_version: int | None = None,
        event_id: Any = None,
    ) -> RecordedEvent:
        """Check one event against the negotiation's story and append it.

        ``occurred_at`` is when it happened (default: now), ``reported_at`` when
        it became known (default: when it is recorded; never later than now).
        An event dated before events already recorded takes its place in the
        story and is accepted only if the whole story with it is legal.

        Raises IllegalTransition (IllegalStory for a late event that would break
        the story), InvalidEvent, ConcurrencyConflict or DuplicateEvent, and
        writes nothing, when the event is refused.
        """
        event = new_event(negotiation_id, event_type, {} if data is None else data,
                          occurred_at=occurred_at, reported_at=reported_at, sources=sources, event_id=event_id)
        return self._append(event.negotiation_id, [event], expected_version)[0]

    def retract(self, negotiation_id: str, target: int | str, *, reason: str, sources: Iterable[str] = (),
                reported_at: Moment | None = None, expected_version: int | None = None,
                event_id: Any = None) -> RecordedEvent:
        """Withdraw a wrongly reported event from the story (``target``: its version or event id).

        The log keeps both the event and the retraction. Accepted only if the
        story without the event is legal (IllegalStory otherwise, nothing written).
        """
        return self._correct(negotiation_id, RETRACTED, target, reason, None, None, sources, reported_at,
                             expected_version, event_id)

    def correct(self, negotiation_id: str, target: int | str, *, reason: str, data: Mapping[str, Any] | None = None,
                occurred_at: Moment | None = None, sources: Iterable[str] = (),
                reported_at: Moment | None = None, expected_version: int | None = None,
                event_id: Any = None) -> RecordedEvent:
        """Replace an event's content (``data``: its whole new payload) and/or date in the story.

        A second correction applies on top of the first. Accepted only if the
        story after it is legal (IllegalStory otherwise, nothing written).
        """
        return self._correct(negotiation_id, CORRECTED, target, reason, data, occurred_at, sources, reported_at,
                             expected_version, event_id)

    def _correct(self, negotiation_id: str, kind: str, target: int | str, reason: str, data: Any,
                 occurred_at: Any, sources: Iterable[str], reported_at: Any, expected_version: int | None,
                 event_id: Any) -> RecordedEvent:
        negotiation_id = check_negotiation_id(negotiation_id)
        check_count("expected_version", expected_version, 0)
        if isinstance(target, bool) or not isinstance(target, (int, str)):
            raise InvalidEvent(f"target must be a version or an event id, got {target!r}")
        if isinstance(target, int):
            check_count("target", target, 1)
        else:
            target = check_event_id(target)
        request = CorrectionRequest(kind, target, reason, data, occurred_at, check_sources(sources),
                                    check_reported_at(reported_at), check_event_id(event_id), event_id is not None)
        return writer.correct(self._store, negotiation_id, request, expected_version)

    def record_many(
        self,
        negotiation_id: str,
        events: Iterable[Mapping[str, Any]],
        *,
        expected_version: int | None = None,
    ) -> list[RecordedEvent]:
        """Append several events to one negotiation in one transaction: all of them or none.

        Each item is a mapping with ``type`` and ``data`` and optionally ``occurred_at``,
        ``sources`` and ``event_id``. Items whose ``event_id`` is already stored with the
        same content are returned as stored and not written again.
        """
        negotiation_id = check_negotiation_id(negotiation_id)
        return self._append(negotiation_id, self._batch(negotiation_id, events), expected_version)

    @staticmethod
    def _batch(negotiation_id: str, events: Iterable[Mapping[str, Any]]) -> list[NewEvent]:
        batch = new_events(negotiation_id, events)
        if not batch:
            raise InvalidEvent("a batch needs at least one event")
        return batch

    def check_many(self, negotiation_id: str, events: Iterable[Mapping[str, Any]], *,
                   expected_version: int | None = None) -> None:
        """Raise what ``record_many`` would raise for these events now, writing nothing either way."""
        negotiation_id = check_negotiation_id(negotiation_id)
        self._append(negotiation_id, self._batch(negotiation_id, events), expected_version, write=False)

    def record_together(self, batches: Iterable[tuple[str, Iterable[Mapping[str, Any]], int | None]]
                        ) -> list[list[RecordedEvent]]:
        """Append to several negotiations in one transaction: every batch or none.

        Each batch is ``(negotiation_id, events, expected_version)``, as
        ``record_many`` takes them (``expected_version`` None: any version). A
        bulk load writes many short negotiations this way, a commit for many
        instead of one each. Returns each batch's events, in order.
        """
        return self._append_together(batches, write=True)

    def check_together(self, batches: Iterable[tuple[str, Iterable[Mapping[str, Any]], int | None]]) -> None:
        """Raise what ``record_together`` would raise for these batches now, writing nothing either way."""
        self._append_together(batches, write=False)

    def _append_together(self, batches: Iterable[tuple[str, Iterable[Mapping[str, Any]], int | None]],
                         write: bool) -> list[list[RecordedEvent]]:
        checked: list[writer.Batch] = []
        named: set[str] = set()
        for index, given in enumerate(batches):
            try:
                negotiation_id, events, expected_version = given
            except (TypeError, ValueError):
                raise InvalidEvent(f"batches[{index}] must be (negotiation_id, events, expected_version), "
                                   f"got {type(given).__name__}") from None
            negotiation_id = check_negotiation_id(negotiation_id)
            check_count("expected_version", expected_version, 0)
            if negotiation_id in named:
                raise InvalidEvent(f"negotiation {negotiation_id!r} has two batches; give its events in one")
            named.add(negotiation_id)
            try:
                checked.append((negotiation_id, self._batch(negotiation_id, events), expected_version))
            except InvalidEvent as e:
                raise InvalidEvent(f"{negotiation_id}: {e}") from None
        if not checked:
            raise InvalidEvent("record_together needs at least one batch")
        _refuse_repeated_ids(event for _, batch, _ in checked for event in batch)
        return writer.append_together(self._store, checked, write=write)

    def _append(self, negotiation_id: str, batch: Sequence[NewEvent],
                expected_version: int | None, write: bool = True) -> list[RecordedEvent]:
        check_count("expected_version", expected_version, 0)
        _refuse_repeated_ids(batch)
        return writer.append(self._store, negotiation_id, batch, expected_version, write=write)

    # -- reading ---------------------------------------------------------------------------

    def history(self, negotiation_id: str, *, sources: Iterable[str] | None = None,
                exclude_sources: Iterable[str] | None = None) -> list[RecordedEvent]:
        """The log of the negotiation: every entry in version order, retractions and corrections included.

        Each event says whether a later entry retracted it (``retracted_by``) or
        corrected it (``corrected_by``), by version. ``sources`` keeps the entries
        that name one of them; ``exclude_sources`` leaves out the entries that
        rest only on those (an entry naming another source too stays).
        """
        negotiation_id = check_negotiation_id(negotiation_id)
        choice = _SourceChoice.of(sources, exclude_sources)
        with self._store.reading() as conn:
            recorded = EventStore.stream(conn, negotiation_id)
        if not recorded:
            raise UnknownNegotiation(negotiation_id)
        retracted, corrections = retractions_and_corrections(recorded)
        return [replace(entry, retracted_by=retracted.get(entry.event_id),
                        corrected_by=corrections.get(entry.event_id, ()))
                if entry.event_id in retracted or entry.event_id in corrections else entry
                for entry in (choice.kept(recorded) if choice else recorded)]

    def get(self, negotiation_id: str, *, as_of: Moment | None = None,
            known_at: Moment | None = None, sources: Iterable[str] | None = None,
            exclude_sources: Iterable[str] | None = None) -> Negotiation:
        """The negotiation as its story makes it: now, or as of a world time, or as known at a time.

        ``as_of`` D keeps the events that occurred by D; ``known_at`` K keeps the
        entries (events and corrections) reported by K; a date means the end of
        that day, UTC. With neither, the state kept beside the log is read (one
        row, written in the same transaction as every append), so a long
        negotiation loads as fast as a short one. Asked before the negotiation
        opened, or before anything about it was reported, raises UnknownNegotiation.

        ``sources`` and ``exclude_sources`` ask what the story would be on the
        word of some sources only: ``exclude_sources=["Reuters"]`` leaves out
        every entry that rests only on Reuters (an event, or a retraction or
        correction, which then no longer applies); ``sources`` keeps only the
        entries that name one of them. A story that is then not legal is
        refused with IllegalSourceStory, naming where it breaks.
        """
        negotiation_id = check_negotiation_id(negotiation_id)
        choice = _SourceChoice.of(sources, exclude_sources)
        if choice is not None:
            return choice.negotiation(negotiation_id, self._entries(negotiation_id), _moment(as_of, "as_of"),
                                      _moment(known_at, "known_at"))
        if as_of is None and known_at is None:
            head = self._store.current_head(negotiation_id)
            if head is None:
                raise UnknownNegotiation(negotiation_id)
            return head.negotiation
        as_of_moment, known_moment = _moment(as_of, "as_of"), _moment(known_at, "known_at")
        if as_of_moment is not None and known_moment is None:
            with self._store.reading(single_statement=True) as conn:
                told = EventStore.told_as_of(conn, negotiation_id, as_of_moment)
            if told is not None:
                return told
        entries = self._entries(negotiation_id)
        return _told(negotiation_id, entries, as_of_moment, known_moment)

    def story(self, negotiation_id: str, *, as_of: Moment | None = None,
              known_at: Moment | None = None, sources: Iterable[str] | None = None,
              exclude_sources: Iterable[str] | None = None) -> list[StoryEvent]:
        """The negotiation's effective events in world order (``occurred_at``, then version).

        Retracted events are left out and corrected ones carry their corrected
        data and date, naming the corrections (``corrected_by``). ``as_of``,
        ``known_at``, ``sources`` and ``exclude_sources`` narrow it as in ``get``
        (a story told by some sources only is refused if it is not legal).
        """
        negotiation_id = check_negotiation_id(negotiation_id)
        choice = _SourceChoice.of(sources, exclude_sources)
        as_of_moment, known_moment = _moment(as_of, "as_of"), _moment(known_at, "known_at")
        if choice is not None:
            return choice.story(negotiation_id, self._entries(negotiation_id), as_of_moment, known_moment)
        return story_of(self._entries(negotiation_id), as_of=as_of_moment, known_at=known_moment)

    def sources(self) -> list[SourceSummary]:
        """Every source named in the log, by name: how many entries and negotiations rest on it,
        and how many of its entries were later retracted or corrected."""
        with self._store.reading() as conn:
            return summaries(conn)

    def reported_by(self, source: str, *, negotiation_id: str | None = None) -> list[RecordedEvent]:
        """The entries that name ``source`` (in one negotiation, or in all), in position order.

        Read through the source's index, not by scanning the log.
        """
        (source,) = check_sources([source])
        if negotiation_id is not None:
            negotiation_id = check_negotiation_id(negotiation_id)
        with self._store.reading() as conn:
            return EventStore.by_source(conn, source, negotiation_id)

    def subscribe(self, after: int = 0, *, negotiation_id: str | None = None, types: Iterable[str] | None = None,
                  timeout: float | None = None) -> Subscription:
        """Follow the log: the entries after position ``after``, then each new one as it is committed.

        An iterator of RecordedEvent in position order, never skipping or
        repeating one: it first catches up with what is in the log, then
        waits (LISTEN/NOTIFY on PostgreSQL, a cheap change check on SQLite)
        and yields each entry as it lands. ``negotiation_id`` and ``types``
        narrow it. It ends on ``close()`` or when ``timeout`` seconds pass with
        nothing new; use it in a ``with`` block to release its connection.
        """
        return Subscription(self._store, after, negotiation_id=negotiation_id, types=types, timeout=timeout)

    def _entries(self, negotiation_id: str) -> list[RecordedEvent]:
        with self._store.reading() as conn:
            entries = EventStore.stream(conn, negotiation_id)
        if not entries:
            raise UnknownNegotiation(negotiation_id)
        return entries

    def replay(self, negotiation_id: str, until_version: int | None = None) -> Negotiation:
        """The negotiation as the ledger held it after entry ``until_version`` (default: its latest).

        The story of the first ``until_version`` entries of the log, folded.
        """
        check_count("until_version", until_version, 1)
        negotiation_id = check_negotiation_id(negotiation_id)
        with self._store.reading() as conn:
            recorded = EventStore.stream(conn, negotiation_id, until_version)
        if not recorded:
            raise UnknownNegotiation(negotiation_id)
        if until_version is not None and recorded[-1].version < until_version:
            raise InvalidEvent(
                f"negotiation {negotiation_id!r} has only {recorded[-1].version} events, "
                f"not {until_version}"
            )
        if until_version is None:
            return _told(negotiation_id, recorded)
        return _held_after(negotiation_id, self._entries(negotiation_id), until_version)

    def steps(self, negotiation_id: str) -> Iterator[tuple[RecordedEvent, Negotiation]]:
        """Each entry of the log with the negotiation as the ledger held it right after it."""
        entries = self.history(negotiation_id)
        if is_own_story(entries):  # the story only ever grew: fold it once, step by step
            state: Negotiation | None = None
            for recorded in entries:
                state = fold(negotiation_id, [recorded], state)
                yield recorded, state
            return
        for recorded in entries:
            yield recorded, _held_after(negotiation_id, entries, recorded.version)

    def rebuild_all(self, *, as_of: Moment | None = None,
                    known_at: Moment | None = None) -> Iterator[Negotiation]:
        """Every negotiation rebuilt from the log, ordered by id: now, or at the times asked.

        The log is streamed, so memory stays flat however long it grows; the
        read is one transaction, so the result is one consistent moment. A
        negotiation with nothing by those times is left out.
        """
        as_of_moment, known_moment = _moment(as_of, "as_of"), _moment(known_at, "known_at")
        with self._store.reading() as conn:
            if as_of_moment is None and known_moment is None:
                yield from EventStore.rebuild_all(conn)
                return
            for negotiation_id, stream in groupby(EventStore.every_stream(conn), key=lambda e: e.negotiation_id):
                entries = list(stream)
                if story_of(entries, as_of=as_of_moment, known_at=known_moment):
                    yield _told(negotiation_id, entries, as_of_moment, known_moment)

    def version(self, negotiation_id: str) -> int:
        """The negotiation's latest version: 0 if nothing is recorded for it yet."""
        negotiation_id = check_negotiation_id(negotiation_id)
        head = self._store.current_head(negotiation_id)  # one row, as get reads it
        return head.negotiation.version if head else 0

    def negotiations(self) -> list[str]:
        """Ids of every negotiation with at least one event, in the order they were opened."""
        with self._store.reading() as conn:
            return EventStore.negotiation_ids(conn)

    def verify(self) -> VerifyReport:
        """Walk the whole log and report, per negotiation, the first event that breaks its hash chain.

        Also checks the data kept beside the log against it: each negotiation's
        state is what its story gives, and the index of sources holds each
        entry's sources and nothing else.
        """
        report = VerifyReport()
        seen: set[str] = set()
        with self._store.reading() as conn:
            for negotiation_id, stream in groupby(EventStore.every_stream(conn), key=lambda e: e.negotiation_id):
                events = list(stream)
                seen.add(negotiation_id)
                count, broken = walk(events)
                report.negotiations += 1
                report.events += count
                if broken is not None:
                    report.broken.append(broken)
                    continue
                misaimed = _misaimed_correction(events)
                if misaimed is not None:
                    report.broken.append(misaimed)
                    continue
                head = EventStore.head(conn, negotiation_id)
                last = events[-1]
                try:
                    told: Negotiation | None = _told(negotiation_id, events)
                except CorruptHistory:
                    told = None
                if head is None or head.last_hash != last.hash or head.negotiation != told:
                    report.broken.append(BrokenLink(negotiation_id, last.version, last.event_id, last.position,
                                                    "the stored current state is not what its story gives"))
            for negotiation_id in set(EventStore.negotiation_ids(conn)) - seen:
                report.broken.append(BrokenLink(negotiation_id, 0, "-", 0, "its events are missing from the log"))
            named = {link.negotiation_id for link in report.broken}
            report.broken.extend(link for link in index_breaks(conn) if link.negotiation_id not in named)
        return report

    def read_all(self, after: int = 0, limit: int | None = None) -> list[RecordedEvent]:
        """Recorded events with a position greater than ``after``, in position order."""
        check_count("after", after, 0)
        check_count("limit", limit, 1)
        with self._store.reading() as conn:
            return EventStore.all_after(conn, after, limit)


@dataclass(frozen=True, slots=True)
class _SourceChoice:
    """Whose word the story is told on: only entries naming one of ``only``, none resting only on ``without``."""

    only: frozenset[str] | None
    without: frozenset[str] | None

    @classmethod
    def of(cls, sources: Iterable[str] | None, exclude_sources: Iterable[str] | None) -> _SourceChoice | None:
        if sources is None and exclude_sources is None:
            return None
        return cls(_names("sources", sources), _names("exclude_sources", exclude_sources))

    def keeps(self, entry: RecordedEvent) -> bool:
        named = set(entry.sources)
        if self.only is not None and not named & self.only:
            return False
        return self.without is None or not named or not named <= self.without

    def kept(self, entries: Sequence[RecordedEvent]) -> list[RecordedEvent]:
        return [entry for entry in entries if self.keeps(entry)]

    @property
    def told(self) -> str:
        """How a message names the choice: ``by Reuters, without NDTV``."""
        said = []
        if self.only is not None:
            said.append("by " + _listed(self.only, "or"))
        if self.without is not None:
            said.append("without " + _listed(self.without, "and"))
        return ", ".join(said)

    def story(self, negotiation_id: str, entries: Sequence[RecordedEvent], as_of: datetime | None,
              known_at: datetime | None) -> list[StoryEvent]:
        """The story the chosen entries tell, once its whole is checked to be legal."""
        self.negotiation(negotiation_id, entries, None, known_at)
        return story_of(self.kept(entries), as_of=as_of, known_at=known_at)

    def negotiation(self, negotiation_id: str, entries: Sequence[RecordedEvent], as_of: datetime | None,
                    known_at: datetime | None) -> Negotiation:
        """The negotiation the chosen entries' story gives; IllegalSourceStory where it breaks."""
        kept = [entry for entry in self.kept(entries) if known_at is None or entry.reported_at <= known_at]
        whole = story_of(kept)
        if not whole:
            raise IllegalSourceStory(negotiation_id, self.told)
        try:
            fold_story(negotiation_id, whole, version=kept[-1].version)
        except StoryBreak as broken:
            event, why = broken.event, broken.refusal.reason
            raise IllegalSourceStory(negotiation_id, self.told, event.version, event.type, _day(event.occurred_at),
                                     broken.state, why) from None
        return fold_log(negotiation_id, kept, as_of)


def _names(field: str, names: Iterable[str] | None) -> frozenset[str] | None:
    if names is None:
        return None
    checked = check_sources(names)
    if not checked:
        raise InvalidEvent(f"{field} must name at least one source")
    return frozenset(checked)


def _listed(names: frozenset[str], word: str) -> str:
    ordered = sorted(names)
    return ordered[0] if len(ordered) == 1 else f"{', '.join(ordered[:-1])} {word} {ordered[-1]}"


def _day(moment: datetime) -> str:
    if (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0):
        return moment.date().isoformat()
    return moment.isoformat()


def _moment(value: Any, field: str) -> datetime | None:
    return None if value is None else end_of(value, field)


def _refuse_repeated_ids(events: Iterable[NewEvent]) -> None:
    ids = [event.event_id for event in events]
    if len(set(ids)) != len(ids):
        raise InvalidEvent("the same event_id appears twice in one batch")


def _told(negotiation_id: str, entries: Sequence[RecordedEvent], as_of: datetime | None = None,
          known_at: datetime | None = None) -> Negotiation:
    """The negotiation the entries' story gives at those times; a story that breaks is corrupt."""
    return fold_log(negotiation_id, entries, as_of, known_at)


def _held_after(negotiation_id: str, entries: Sequence[RecordedEvent], version: int) -> Negotiation:
    """What the ledger held after entry ``version``.

    A batch is judged as a whole (a dispute and its resolution dated before a
    finalisation go in together), so the story of a batch's first entries
    alone may be illegal: the ledger never held it, and the answer is then the
    state after the whole batch (the entries recorded in the same transaction).
    """
    try:
        return _told(negotiation_id, entries[:version])
    except CorruptHistory:
        recorded_at = entries[version - 1].recorded_at
        end = max(e.version for e in entries if e.recorded_at == recorded_at)
        if end == version:
            raise
        return replace(_told(negotiation_id, entries[:end]), version=version)


def _misaimed_correction(entries: Sequence[RecordedEvent]) -> BrokenLink | None:
    """A retraction or correction whose target is not an earlier event of the same negotiation."""
    earlier: set[str] = set()
    for entry in entries:
        if entry.type not in CORRECTION_TYPES:
            earlier.add(entry.event_id)
        elif entry.data.get("target") not in earlier:
            return BrokenLink(entry.negotiation_id, entry.version, entry.event_id, entry.position,
                              f"{entry.type} names no earlier event of this negotiation")
    return None
