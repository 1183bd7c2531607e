"""The ledger: the public face that checks events against the machine and appends them."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import groupby
from operator import itemgetter
from typing import Any

from . import questions, writer
from .audit import VerifyReport, verify
from .domain.aggregate import Negotiation, fold_log
from .domain.belief import BeliefDiff, belief_diff, two_times
from .domain.checks import (
    check_count,
    check_event_id,
    check_negotiation_id,
    check_reported_at,
    check_source_names,
    check_sources,
    check_title,
    new_event,
    new_events,
)
from .domain.entries import NewEvent, Recorded, RecordedEvent
from .domain.payloads import CORRECTED, CORRECTION_TYPES, DENIED, RETRACTED
from .domain.replay import held_after, steps, told_from_rows
from .domain.sources import GivenSource
from .domain.story import StoryEvent, known_by, retractions_and_corrections, story_of
from .domain.times import Moment, day_or_iso, end_of
from .errors import BackdatedReport, InvalidEvent, UnknownNegotiation
from .sourcing import SourceChoice
from .store.opening import open_recorder
from .store.recorder import Recorder
from .store.sources import SourceSummary, summaries
from .subscriptions import Subscription
from .writer import CorrectionRequest


class Ledger:
    """An append-only log of negotiation events and the state machine that guards it.

    >>> with Ledger.open("sqlite:///negotiations.db") as ledger:
    ...     ledger.record("us-japan-2025", "AgreedInPrinciple", {"parties": ["US", "JP"]})
    """

    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder
        #: Where the ledger is, safe to show: any password is masked.
        self.url = recorder.url

    @classmethod
    def open(cls, url: str | None = None, *, upgrade: bool = True) -> Ledger:
        """Open the ledger at ``url`` (default ``$NEGOTIATION_DB_URL`` or ``sqlite:///negotiations.db``).

        ``memory://`` opens a new log held in this process. The schema of a
        database is brought to the latest migration; with ``upgrade=False`` a
        database not already there is refused instead (StorageError).
        """
        return cls(open_recorder(url, upgrade=upgrade))

    @property
    def recorder(self) -> Recorder:
        """The recorder under the ledger, for code that keeps read models beside the log (projections)."""
        return self._recorder

    def close(self) -> None:
        self._recorder.close()

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
        sources: Iterable[GivenSource] = (),
        expected_version: int | None = None,
        event_id: Any = None,
        backfill: bool = False,
    ) -> RecordedEvent:
        """Check one event against the negotiation's story and append it.

        ``occurred_at`` is when it happened (default: now), ``reported_at`` when
        it became known (default: when it is recorded; never later than now,
        never before it happened). ``backfill=True`` records history known as
        it happened: with no ``reported_at``, it is reported when it occurred.
        An event days old recorded as reported now warns (BackdatedReport),
        since "as known at" any day before now will not know it.
        An event dated before events already recorded takes its place in the
        story and is accepted only if the whole story with it is legal.

        Raises IllegalTransition (IllegalStory for a late event that would break
        the story), InvalidEvent, ConcurrencyConflict or DuplicateEvent, and
        writes nothing, when the event is refused.
        """
        event = new_event(negotiation_id, event_type, {} if data is None else data, occurred_at=occurred_at,
                          reported_at=reported_at, sources=sources, event_id=event_id, backfill=backfill)
        return self._append(event.negotiation_id, [event], expected_version)[0]

    def retract(self, negotiation_id: str, target: int | str, *, reason: str, sources: Iterable[GivenSource] = (),
                reported_at: Moment | None = None, expected_version: int | None = None,
                event_id: Any = None) -> RecordedEvent:
        """Withdraw a wrongly reported event from the story (``target``: its version or event id).

        The log keeps both the event and the retraction. Accepted only if the
        story without the event is legal (IllegalStory otherwise, nothing written).
        """
        return self._correct(negotiation_id, RETRACTED, target, reason, None, None, sources, reported_at,
                             expected_version, event_id)

    def correct(self, negotiation_id: str, target: int | str, *, reason: str, data: Mapping[str, Any] | None = None,
                occurred_at: Moment | None = None, sources: Iterable[GivenSource] = (),
                reported_at: Moment | None = None, expected_version: int | None = None,
                event_id: Any = None, event_reported_at: Moment | None = None) -> RecordedEvent:
        """Replace an event's content (``data``: its whole new payload), date and/or report time in the story.

        ``event_reported_at`` says when the event in fact became known (an event
        back-filled as "reported now" that was in the news when it happened):
        questions asked as known at any time take it, whenever the correction
        itself was reported. ``reported_at`` is, as for any entry, when the
        correction became known. A second correction applies on top of the
        first. Accepted only if the story after it is legal (IllegalStory
        otherwise, nothing written).
        """
        return self._correct(negotiation_id, CORRECTED, target, reason, data, occurred_at, sources, reported_at,
                             expected_version, event_id, event_reported_at=event_reported_at)

    def deny(self, negotiation_id: str, target: int | str, *, by: str, statement: str | None = None,
             sources: Iterable[GivenSource] = (), reported_at: Moment | None = None, expected_version: int | None = None,
             event_id: Any = None) -> RecordedEvent:
        """Record that ``by`` (a party, or a source) denies a reported event (``target``: its version or id).

        The event stays in the story, marked as denied (``StoryEvent.denied_by``);
        questions asked with ``exclude_denied=True`` leave it out. The target
        must be an event of the negotiation that is not retracted.
        """
        return self._correct(negotiation_id, DENIED, target, statement, None, None, sources, reported_at,
                             expected_version, event_id, by=by)

    def _correct(self, negotiation_id: str, kind: str, target: int | str, reason: str | None, data: Any,
                 occurred_at: Any, sources: Iterable[GivenSource], reported_at: Any, expected_version: int | None,
                 event_id: Any, by: str | None = None, event_reported_at: Any = None) -> RecordedEvent:
        negotiation_id = check_negotiation_id(negotiation_id)
        check_count("expected_version", expected_version, 0)
        request = _correction_request(kind, target, reason, data, occurred_at, sources, reported_at, event_id, by,
                                      event_reported_at)
        return writer.correct(self._recorder, negotiation_id, request, expected_version)

    def check_in_turn(self, negotiation_id: str, writes: Iterable[tuple[str, Sequence[Mapping[str, Any]]]], *,
                      expected_version: int | None = None) -> None:
        """Raise what recording these writes one after another would raise now, writing nothing either way.

        Each write is ``(place, items)``: a run of events as ``record_many``
        takes them, or one retraction or correction (an item of type
        ``EventRetracted`` or ``EventCorrected`` with its ``target``, ``reason``
        and, as ``retract`` and ``correct`` take them, its other fields). Each
        is judged on the log the ones before it would leave; a refusal names
        the write by its ``place`` (a loader says where in a document it is).
        """
        negotiation_id = check_negotiation_id(negotiation_id)
        check_count("expected_version", expected_version, 0)
        rehearsed = []
        for place, items in writes:
            first = items[0] if items else {}
            if first.get("type") in (RETRACTED, CORRECTED, DENIED):
                said = first.get("statement") if first["type"] == DENIED else first.get("reason")
                request = _correction_request(first["type"], first.get("target"), said,
                                              first.get("data"), first.get("occurred_at"), first.get("sources", ()),
                                              first.get("reported_at"), first.get("event_id"), first.get("by"),
                                              first.get("event_reported_at"))
                rehearsed.append(writer.Rehearsed(place, correction=request))
            else:
                batch = self._batch(negotiation_id, items)
                _refuse_repeated_ids(batch)
                rehearsed.append(writer.Rehearsed(place, events=batch))
        if rehearsed:
            writer.rehearse(self._recorder, negotiation_id, rehearsed, expected_version)

    def record_many(
        self,
        negotiation_id: str,
        events: Iterable[Mapping[str, Any]],
        *,
        expected_version: int | None = None,
        backfill: bool = False,
    ) -> Recorded:
        """Append several events to one negotiation in one transaction: all of them or none.

        Each item is a mapping with ``type`` and ``data`` and optionally ``occurred_at``,
        ``sources`` and ``event_id``. Items whose ``event_id`` is already stored with the
        same content are returned as stored and not written again: the list's ``written``
        counts the events this call stored, as its transaction found them.
        """
        negotiation_id = check_negotiation_id(negotiation_id)
        return self._append(negotiation_id, self._batch(negotiation_id, events, backfill), expected_version)

    @staticmethod
    def _batch(negotiation_id: str, events: Iterable[Mapping[str, Any]], backfill: bool = False) -> list[NewEvent]:
        batch = new_events(negotiation_id, events, backfill=backfill)
        if not batch:
            raise InvalidEvent("a batch needs at least one event")
        return batch

    def check_many(self, negotiation_id: str, events: Iterable[Mapping[str, Any]], *,
                   expected_version: int | None = None, backfill: bool = False) -> None:
        """Raise what ``record_many`` would raise for these events now, writing nothing either way."""
        negotiation_id = check_negotiation_id(negotiation_id)
        self._append(negotiation_id, self._batch(negotiation_id, events, backfill), expected_version, write=False)

    def record_together(self, batches: Iterable[tuple[str, Iterable[Mapping[str, Any]], int | None]], *,
                        backfill: bool = False) -> list[Recorded]:
        """Append to several negotiations in one transaction: every batch or none.

        Each batch is ``(negotiation_id, events, expected_version)``, as
        ``record_many`` takes them (``expected_version`` None: any version). A
        bulk load writes many short negotiations this way, a commit for many
        instead of one each. Returns each batch's events, in order (each with its ``written``, as
        ``record_many``).
        """
        return self._append_together(batches, write=True, backfill=backfill)

    def check_together(self, batches: Iterable[tuple[str, Iterable[Mapping[str, Any]], int | None]], *,
                       backfill: bool = False) -> None:
        """Raise what ``record_together`` would raise for these batches now, writing nothing either way."""
        self._append_together(batches, write=False, backfill=backfill)

    def _append_together(self, batches: Iterable[tuple[str, Iterable[Mapping[str, Any]], int | None]],
                         write: bool, backfill: bool = False) -> list[Recorded]:
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
                checked.append((negotiation_id, self._batch(negotiation_id, events, backfill), expected_version))
            except InvalidEvent as e:
                raise InvalidEvent(f"{negotiation_id}: {e}") from None
        if not checked:
            raise InvalidEvent("record_together needs at least one batch")
        if not write:
            self.judge_together(checked)
            return []
        written = self._record_judged(checked, ())
        warn_if_backdated([event for _, batch, _ in checked for event in batch])
        return written

    def judge_together(self, batches: Sequence[writer.Batch]) -> list[writer.Judged | None]:
        """``check_together`` of events already checked for shape (``domain.checks.new_events``), writing nothing.

        Returns what the machine made of each batch, for ``record_judged`` to
        write it without judging it again (None for a batch only judged when
        written: an event in it is dated by the write).
        """
        _refuse_repeated_ids(event for _, batch, _ in batches for event in batch)
        return writer.judge_together(self._recorder, batches)

    def record_judged(self, batches: Sequence[writer.Batch], judged: Sequence[writer.Judged | None] = (), *,
                      warn_backdated: bool = True) -> list[Recorded]:
        """``record_together`` of events already checked for shape, each batch with its verdict from
        ``judge_together`` (or none): a batch whose negotiation is no longer at the version it was judged
        against is judged again, so a verdict is only ever a saving.

        ``warn_backdated=False`` leaves the BackdatedReport warning to the caller: a bulk write of many
        calls (``load_streams``) gives one for all of them with ``warn_if_backdated``.
        """
        written = self._record_judged(batches, judged)
        if warn_backdated:
            warn_if_backdated([event for _, batch, _ in batches for event in batch], stacklevel=3)
        return written

    def _record_judged(self, batches: Sequence[writer.Batch],
                       judged: Sequence[writer.Judged | None]) -> list[Recorded]:
        if judged and len(judged) != len(batches):
            raise InvalidEvent(f"{len(judged)} verdicts for {len(batches)} batches; give one for each, or none")
        _refuse_repeated_ids(event for _, batch, _ in batches for event in batch)
        return writer.append_together(self._recorder, batches, write=True, judged=judged)

    def _append(self, negotiation_id: str, batch: Sequence[NewEvent],
                expected_version: int | None, write: bool = True) -> Recorded:
        check_count("expected_version", expected_version, 0)
        _refuse_repeated_ids(batch)
        written = writer.append(self._recorder, negotiation_id, batch, expected_version, write=write)
        if write:
            warn_if_backdated(batch)
        return written

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
        choice = SourceChoice.of(sources, exclude_sources)
        with self._recorder.reading() as view:
            recorded = view.stream(negotiation_id)
        if not recorded:
            raise UnknownNegotiation(negotiation_id)
        retracted, corrections = retractions_and_corrections(recorded)
        return [replace(entry, retracted_by=retracted.get(entry.event_id),
                        corrected_by=corrections.get(entry.event_id, ()))
                if entry.event_id in retracted or entry.event_id in corrections else entry
                for entry in (choice.kept(recorded) if choice else recorded)]

    def get(self, negotiation_id: str, *, as_of: Moment | None = None,
            known_at: Moment | None = None, sources: Iterable[str] | None = None,
            exclude_sources: Iterable[str] | None = None, exclude_denied: bool = False) -> Negotiation:
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
        ``exclude_denied`` leaves out the events a party or a source denied.

        Measures and deadlines are answered at the time asked (``at``): as of
        D, what was in force and pending on D; as known at K alone, on K; with
        neither, now.
        """
        negotiation_id = check_negotiation_id(negotiation_id)
        as_of_moment, known_moment = _moment(as_of, "as_of"), _moment(known_at, "known_at")
        choice = SourceChoice.of(sources, exclude_sources, exclude_denied)
        if choice is not None:
            return choice.negotiation(negotiation_id, self._entries(negotiation_id), as_of_moment, known_moment)
        if as_of_moment is None and known_moment is None:
            head = self._recorder.current_head(negotiation_id)
            if head is None:
                raise UnknownNegotiation(negotiation_id)
            return head.negotiation
        if as_of_moment is not None and known_moment is None:
            # The usual log is its own story: folded from bare rows up to the date.
            with self._recorder.reading() as view:
                rows = view.story_rows(negotiation_id)
            told = told_from_rows(negotiation_id, rows, as_of_moment)
            if told is not None:
                return told
        entries = self._entries(negotiation_id)
        return _told(negotiation_id, entries, as_of_moment, known_moment)

    def story(self, negotiation_id: str, *, as_of: Moment | None = None,
              known_at: Moment | None = None, sources: Iterable[str] | None = None,
              exclude_sources: Iterable[str] | None = None, exclude_denied: bool = False) -> list[StoryEvent]:
        """The negotiation's effective events in world order (``occurred_at``, then version).

        Retracted events are left out and corrected ones carry their corrected
        data and date, naming the corrections (``corrected_by``). ``as_of``,
        ``known_at``, ``sources`` and ``exclude_sources`` narrow it as in ``get``
        (a story told by some sources only is refused if it is not legal).
        A denied event says who denied it (``denied_by``); ``exclude_denied``
        leaves it out.
        """
        negotiation_id = check_negotiation_id(negotiation_id)
        choice = SourceChoice.of(sources, exclude_sources, exclude_denied)
        as_of_moment, known_moment = _moment(as_of, "as_of"), _moment(known_at, "known_at")
        if choice is not None:
            return choice.story(negotiation_id, self._entries(negotiation_id), as_of_moment, known_moment)
        return story_of(self._entries(negotiation_id), as_of=as_of_moment, known_at=known_moment)

    def diff(self, negotiation_id: str, known_at_1: Moment, known_at_2: Moment) -> BeliefDiff:
        """What changed in what was known of the negotiation between ``known_at_1`` and ``known_at_2``.

        The negotiation as known at each time (``before`` is None when nothing
        about it had been reported by the first), both stories, every entry
        reported after the first time and by the second (``reported``: late
        news, new events, corrections, retractions, denials) and each
        difference in the story, state, open points, measures, deadlines and
        terms, naming the entries that made it (``changes``). A date means the
        end of that day, UTC. A second time before the first is refused
        (InvalidEvent); so is a negotiation with nothing reported by the
        second (UnknownNegotiation).
        """
        negotiation_id = check_negotiation_id(negotiation_id)
        first, second = two_times(known_at_1, known_at_2)
        entries = self._entries(negotiation_id)
        after = _told(negotiation_id, entries, known_at=second)
        try:
            before: Negotiation | None = _told(negotiation_id, entries, known_at=first)
        except UnknownNegotiation:
            before = None  # nothing about it had been reported by the first time
        earlier = {entry.version for entry in known_by(entries, first)}
        reported = [entry for entry in known_by(entries, second) if entry.version not in earlier]
        events = {entry.event_id: entry for entry in entries if entry.type not in CORRECTION_TYPES}
        return belief_diff(negotiation_id, first, second, before, after, story_of(entries, known_at=first),
                           story_of(entries, known_at=second), reported, events)

    def sources(self) -> list[SourceSummary]:
        """Every source named in the log, by name: how many entries and negotiations rest on it,
        and how many of its entries were later retracted or corrected."""
        with self._recorder.reading() as view:
            return summaries(view)

    def reported_by(self, source: str, *, negotiation_id: str | None = None) -> list[RecordedEvent]:
        """The entries that name ``source`` (in one negotiation, or in all), in position order.

        Read through the source's index, not by scanning the log.
        """
        (source,) = check_source_names([source])
        if negotiation_id is not None:
            negotiation_id = check_negotiation_id(negotiation_id)
        with self._recorder.reading() as view:
            return view.by_source(source, negotiation_id)

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
        return Subscription(self._recorder, after, negotiation_id=negotiation_id, types=types, timeout=timeout)

    def _entries(self, negotiation_id: str) -> list[RecordedEvent]:
        with self._recorder.reading() as view:
            entries = view.stream(negotiation_id)
        if not entries:
            raise UnknownNegotiation(negotiation_id)
        return entries

    def replay(self, negotiation_id: str, until_version: int | None = None) -> Negotiation:
        """The negotiation as the ledger held it after entry ``until_version`` (default: its latest).

        The story of the first ``until_version`` entries of the log, folded.
        """
        check_count("until_version", until_version, 1)
        negotiation_id = check_negotiation_id(negotiation_id)
        with self._recorder.reading() as view:
            recorded = view.stream(negotiation_id, until_version)
        if not recorded:
            raise UnknownNegotiation(negotiation_id)
        if until_version is not None and recorded[-1].version < until_version:
            raise InvalidEvent(
                f"negotiation {negotiation_id!r} has only {recorded[-1].version} events, "
                f"not {until_version}"
            )
        if until_version is None:
            return _told(negotiation_id, recorded)
        return held_after(negotiation_id, self._entries(negotiation_id), until_version)[0]

    def steps(self, negotiation_id: str) -> Iterator[tuple[RecordedEvent, Negotiation]]:
        """Each entry of the log with the negotiation as the ledger held it right after it."""
        yield from steps(negotiation_id, self.history(negotiation_id))

    def rebuild_all(self, *, as_of: Moment | None = None,
                    known_at: Moment | None = None) -> Iterator[Negotiation]:
        """Every negotiation rebuilt from the log, ordered by id: now, or at the times asked.

        The log is streamed, so memory stays flat however long it grows; the
        read is one transaction, so the result is one consistent moment. A
        negotiation with nothing by those times is left out.
        """
        as_of_moment, known_moment = _moment(as_of, "as_of"), _moment(known_at, "known_at")
        with self._recorder.reading() as view:
            if as_of_moment is None and known_moment is None:
                for negotiation_id, rows in groupby(view.every_story_row(), key=itemgetter(0)):
                    told = told_from_rows(negotiation_id, [row for _, row in rows])
                    # Late events or corrections: the story is not the log's order; tell it from the entries.
                    yield told or _told(negotiation_id, view.stream(negotiation_id))
                return
            for negotiation_id, stream in groupby(view.every_stream(), key=lambda e: e.negotiation_id):
                entries = list(stream)
                if story_of(entries, as_of=as_of_moment, known_at=known_moment):
                    yield _told(negotiation_id, entries, as_of_moment, known_moment)

    def version(self, negotiation_id: str) -> int:
        """The negotiation's latest version: 0 if nothing is recorded for it yet."""
        negotiation_id = check_negotiation_id(negotiation_id)
        head = self._recorder.current_head(negotiation_id)  # one row, as get reads it
        return head.negotiation.version if head else 0

    def negotiations(self) -> list[str]:
        """Ids of every negotiation with at least one entry, in the order each was first recorded.

        That is the order of each negotiation's first entry in the log: it never
        changes, whatever late news arrives, and an export or a copy keeps it.
        It is not the order in which they opened in the world (a negotiation
        recorded later may have opened earlier): sort by ``get(id).opened_at``
        for that.
        """
        with self._recorder.reading() as view:
            return view.negotiation_ids()

    def titles(self) -> dict[str, str]:
        """The title of each negotiation that has one (an event file's ``title``), by id."""
        with self._recorder.reading() as view:
            return view.titles()

    def set_titles(self, titles: Mapping[str, str]) -> None:
        """Give recorded negotiations their titles (what reports and exports call them), in one transaction,
        replacing any they had; an unknown negotiation or a bad title is refused and nothing is written."""
        checked = {check_negotiation_id(negotiation_id): check_title(title) for negotiation_id, title in titles.items()}
        with self._recorder.writing() as tx:
            for negotiation_id, title in checked.items():
                if tx.head(negotiation_id) is None:
                    raise UnknownNegotiation(negotiation_id)
                tx.save_title(negotiation_id, title)

    def verify(self) -> VerifyReport:
        """Walk the whole log and report, per negotiation, the first event that breaks its hash chain.

        Also checks the data kept beside the log against it: each negotiation's
        state is what its story gives, and the index of sources holds each
        entry's sources and nothing else.
        """
        return verify(self._recorder)

    def read_all(self, after: int = 0, limit: int | None = None) -> list[RecordedEvent]:
        """Recorded events with a position greater than ``after``, in position order."""
        check_count("after", after, 0)
        check_count("limit", limit, 1)
        with self._recorder.reading() as view:
            return view.all_after(after, limit)

    # -- questions across negotiations (negotiation.questions) --------------------------------

    def deadlines(self, *, as_of: Moment | None = None, known_at: Moment | None = None,
                  within: timedelta | None = None) -> questions.Answers[questions.DeadlineRow]:
        """What falls due across every negotiation: deadlines, the days threats would take effect and the
        days pauses end, by due day, each pending or passed at the time asked (``questions.deadlines``).

        ``within`` keeps what is due from the time asked up to that much later. A
        negotiation that cannot be answered then is named in ``.unanswered``.
        """
        return questions.deadlines(self, as_of=as_of, known_at=known_at, within=within)

    def measures(self, *, as_of: Moment | None = None, known_at: Moment | None = None,
                 in_force: bool = False) -> questions.Answers[questions.MeasureRow]:
        """Every measure of every negotiation at the time asked, or only those in force then
        (``questions.measures``). A negotiation that cannot be answered then is named in ``.unanswered``."""
        return questions.measures(self, as_of=as_of, known_at=known_at, in_force=in_force)


def _moment(value: Any, field: str) -> datetime | None:
    return None if value is None else end_of(value, field)


def _correction_request(kind: str, target: Any, reason: Any, data: Any, occurred_at: Any, sources: Iterable[GivenSource],
                        reported_at: Any, event_id: Any, by: Any = None,
                        event_reported_at: Any = None) -> CorrectionRequest:
    """A retraction or correction as the caller asked for it, its arguments checked (not yet against the log)."""
    if isinstance(target, bool) or not isinstance(target, (int, str)):
        raise InvalidEvent(f"target must be a version or an event id, got {target!r}")
    if isinstance(target, int):
        check_count("target", target, 1)
    else:
        target = check_event_id(target)
    return CorrectionRequest(kind, target, reason, data, occurred_at, check_sources(sources),
                             check_reported_at(reported_at), check_event_id(event_id), event_id is not None, by,
                             check_reported_at(event_reported_at))


#: How old an event may be, recorded as reported now, before the ledger warns that it may be history.
BACKDATED = timedelta(days=2)


#: What a caller of the Python API or the command line does about an event recorded as reported now.
RECORD_REMEDY = "give reported_at, or backfill=True (--backfill) if it was known when it happened"


def warn_if_backdated(events: Sequence[NewEvent], stacklevel: int = 4, remedy: str = RECORD_REMEDY) -> None:
    """Warn once for events days old that were given no ``reported_at``: they count as reported now."""
    now = datetime.now(UTC)
    history = now - BACKDATED
    old = [event for event in events if event.reported_at is None and event.occurred_at is not None
           and event.occurred_at < history]
    if old:
        first, when = old[0], old[0].occurred_at
        assert when is not None  # chosen for its date above
        which = f"{first.type} of {day_or_iso(when)}" + (f" and {len(old) - 1:,} more" if len(old) > 1 else "")
        warnings.warn(f"{which} recorded as reported now ({day_or_iso(now, 'seconds')}): as known at any earlier "
                      f"day it is not known; {remedy}", BackdatedReport, stacklevel=stacklevel)


def _refuse_repeated_ids(events: Iterable[NewEvent]) -> None:
    ids = [event.event_id for event in events]
    if len(set(ids)) != len(ids):
        raise InvalidEvent("the same event_id appears twice in one batch")


def _told(negotiation_id: str, entries: Sequence[RecordedEvent], as_of: datetime | None = None,
          known_at: datetime | None = None) -> Negotiation:
    """The negotiation the entries' story gives at those times; a story that breaks is corrupt."""
    return fold_log(negotiation_id, entries, as_of, known_at)
