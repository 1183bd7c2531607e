"""Loading event files into a ledger: checked whole first, then written one chunk per transaction.

What a load promises:

* Every file is read and every negotiation checked against the stored state
  before anything is written: a load refused then (a malformed file:
  InvalidEvent from read_streams; an event the ledger refuses: LoadError)
  writes nothing.
* Otherwise the events are written in chunks of at most CHUNK events, each
  chunk its own transaction: a run of whole short negotiations
  (``Ledger.record_together``), or part of a long one. A load stopped midway
  keeps every chunk committed before it and nothing of the chunk it was writing.
  It stops when the process dies, or when a chunk is refused at write time
  (another writer changed the negotiation since the check: ConcurrencyConflict;
  the database failed: StorageError); then LoadStopped says which
  negotiations and events were written and which were not.
* Event ids are derived from the files, so re-running the same load skips
  what is stored and records the rest: it completes a stopped load without
  duplicating anything.
* An event already stored that the file now says differently (edited in
  place, or moved by an event inserted before it) is refused naming the file,
  the negotiation, its place in the document and its id: the log is never
  rewritten, so a change is an EventCorrected entry added to the document.
* Retractions and corrections in a document are written with
  ``Ledger.retract`` and ``Ledger.correct``, one transaction each, and checked
  before anything is written by folding the story they make, as the ledger
  will judge it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ..bundled import bundled
from ..domain.checks import (
    check_event_id,
    check_payload,
    check_reported_at,
    check_sources,
    new_event,
    new_events,
)
from ..domain.entries import NewEvent, Recorded, RecordedEvent, content_difference
from ..domain.payloads import DENIED, RETRACTED
from ..domain.sources import stored_sources
from ..domain.times import day_or_iso, iso, to_utc
from ..errors import ConcurrencyConflict, IllegalTransition, InvalidEvent, NegotiationError
from ..ledger import Ledger, warn_if_backdated
from ..writer import Judged
from .reading import SeedStream, StreamItem, is_correction, read_seed_file

#: Events per transaction when loading a long negotiation: big enough to be
#: fast, small enough that progress shows and an interrupted load keeps most.
CHUNK = 1000

#: What the author of an event file does about an event recorded as reported now.
LOAD_REMEDY = "give each its reported_at, or backfill: true in its document if it was known when it happened"


@dataclass(frozen=True, slots=True)
class _Checked:
    """What the check found of a stream: its negotiation's version, how many of its events are stored,
    and the machine's verdict on the rest (None: judged again when written)."""

    version: int
    stored: int
    judged: Judged | None = None


class LoadError(NegotiationError):
    """A negotiation in the files is refused while checking, before any write: the load wrote nothing."""


@dataclass
class LoadReport:
    """What a load did: negotiations handled, events it recorded, events it found already stored."""

    negotiations: int = 0
    recorded: int = 0
    already_stored: int = 0


class LoadStopped(NegotiationError):
    """A chunk was refused at write time: the chunks before it are stored, it and everything after are not.

    ``report`` counts what the load wrote before it stopped; ``complete`` names
    the negotiations written in full, ``stopped_at`` the one whose first
    ``stored_events`` events were written and no more, ``not_loaded`` the
    negotiations after it, not written by this load. Re-running the load
    completes it.
    """

    def __init__(self, streams: Sequence[SeedStream], index: int, start: int, size: int, report: LoadReport,
                 cause: NegotiationError) -> None:
        stream = streams[index]
        self.report = report
        self.complete = [s.negotiation_id for s in streams[:index]]
        self.stopped_at = stream.negotiation_id
        self.stored_events = start
        self.not_loaded = [s.negotiation_id for s in streams[index + 1:]]
        later_events = sum(len(s.events) for s in streams[index + 1:])
        written = [f"{_names(self.complete)} in full"] if self.complete else []
        if start:
            written.append(f"{self.stopped_at} events 1-{start}")
        not_written = [f"{self.stopped_at} events {start + 1}-{len(stream.events)}"]
        if self.not_loaded:
            not_written.append(f"{_names(self.not_loaded)} with {later_events} event{'s' if later_events != 1 else ''}")
        super().__init__(
            f"{stream.source}: {self.stopped_at}: load stopped at events {start + 1}-{start + size}: {cause}; "
            f"written: {' and '.join(written) or 'nothing'} ({report.recorded} events recorded, "
            f"{report.already_stored} already stored); not written: {' and '.join(not_written)}; "
            "re-run the load to complete it (events already stored are skipped)"
        )


def _names(ids: Sequence[str]) -> str:
    """``n negotiations (a, b, c)``, eliding the middle of a long list."""
    shown = ", ".join(ids) if len(ids) <= 5 else f"{', '.join(ids[:3])}, ... {ids[-1]}"
    return f"{len(ids)} negotiation{'s' if len(ids) != 1 else ''} ({shown})"


def seeds_dir() -> Path:
    """The seed files shipped with the package, or the checkout's ``seeds/``."""
    return bundled("seeds")


def seed_files() -> list[Path]:
    return sorted(seeds_dir().glob("*.yaml"))


def read_streams(paths: Iterable[str | Path]) -> list[SeedStream]:
    """Read every file first, so a malformed one is reported before anything is written.

    A negotiation's events live in one document: event ids are derived from
    their place in it, so a second document naming the same negotiation is refused.
    """
    streams = [stream for path in paths for stream in read_seed_file(path)]
    first: dict[str, SeedStream] = {}
    for stream in streams:
        if stream.negotiation_id in first:
            raise InvalidEvent(f"{stream.source}: negotiation {stream.negotiation_id!r} already has a document in "
                               f"{first[stream.negotiation_id].source}; keep its events in one document")
        first[stream.negotiation_id] = stream
    return streams


def load_streams(
    ledger: Ledger,
    streams: Iterable[SeedStream],
    progress: Callable[[int], None] = lambda _n: None,
) -> LoadReport:
    """Record every stream's events; events already stored with the same content are skipped.

    First every stream is checked against the stored state, writing nothing: a
    refusal raises LoadError and leaves the database as it was. Then the
    streams are written in chunks of at most CHUNK events, one transaction
    each (several short negotiations together, a long one in parts), and
    ``progress`` is called with the size of each chunk once it is committed.
    A chunk must find its negotiation at the version the check (or the previous
    chunk) left it at; if another writer changed it in between, or the chunk is
    refused for any other reason, LoadStopped is raised: the chunks committed
    before it stay stored, nothing of it or after it is, and the message says
    which. Re-running the load records only what is missing. Events days old
    given no report time are warned about once (BackdatedReport), for every
    chunk committed together.

    The check replaces each stream's new events by their checked form, so
    memory stays that of the files read, and the write takes them as checked;
    it takes the machine's verdict of the check too where the negotiation is
    still at the version the check judged against (another writer moving it
    in between has it judged again).
    """
    streams = list(streams)
    checked = _check_all(ledger, streams)
    report = LoadReport()
    written: list[NewEvent] = []
    try:
        _write_all(ledger, streams, checked, report, progress, written)
    finally:
        # One warning for the events of every chunk committed, not one a transaction (a hundred for a
        # file of 100,000 events), said even when the load stopped: those chunks stay stored.
        warn_if_backdated(written, stacklevel=3, remedy=LOAD_REMEDY)
    _title(ledger, streams)
    return report


def _write_all(ledger: Ledger, streams: Sequence[SeedStream], checked: Sequence[_Checked], report: LoadReport,
               progress: Callable[[int], None], written: list[NewEvent]) -> None:
    """Write the checked streams a chunk per transaction, adding the events of each committed chunk to
    ``written``; LoadStopped at the first chunk refused."""
    index = 0
    while index < len(streams):
        group = _group(streams, checked, index)
        if group:
            _write_group(ledger, streams, checked, index, group, report, progress, written)
            index += group
            continue
        stream, found = streams[index], checked[index]
        version, stored, judged = found.version, found.stored, found.judged
        # The events the check found stored (the document's first ones) say what is stored: not sent again.
        start = stored
        if stored:
            report.already_stored += stored
            progress(stored)
        for part in _parts(stream.events[stored:]):
            try:
                recorded = _write(ledger, stream.negotiation_id, part, version, judged, written)
            except NegotiationError as e:
                raise LoadStopped(streams, index, start, len(part), report, e) from e
            # What this chunk's transaction wrote, not what the check found: another load of the same
            # file may have stored some of these events since.
            fresh = recorded.written
            version = max(version, *(event.version for event in recorded))
            report.recorded += fresh
            report.already_stored += len(part) - fresh
            start += len(part)
            progress(len(part))
        report.negotiations += 1
        index += 1


def _title(ledger: Ledger, streams: Sequence[SeedStream]) -> None:
    """Give the loaded negotiations the titles their documents give, where they are new or changed."""
    stored = ledger.titles()
    changed = {stream.negotiation_id: stream.title for stream in streams
               if stream.title is not None and stored.get(stream.negotiation_id) != stream.title}
    if changed:
        ledger.set_titles(changed)


def _plain(stream: SeedStream, stored: int = 0) -> bool:
    """Whether what is left to write of a stream is one run of events: no retraction or correction, one chunk."""
    rest = stream.events[stored:]
    return 0 < len(rest) <= CHUNK and not any(is_correction(item) for item in rest)


def _check_all(ledger: Ledger, streams: Sequence[SeedStream]) -> list[_Checked]:
    """Each stream's version and stored events, every stream checked; LoadError names the first refused.

    Runs of negotiations not stored yet are checked together, a chunk's worth
    at a time (``check_together``, one read); a run that is refused is checked
    again a negotiation at a time, which says which one and why.
    """
    checked: list[_Checked] = []
    index = 0
    while index < len(streams):
        size = 0
        end = index
        while (end < len(streams) and _plain(streams[end]) and size + len(streams[end].events) <= CHUNK
               and not ledger.version(streams[end].negotiation_id)):
            size += len(streams[end].events)
            end += 1
        if end - index > 1:
            try:
                batches = [(stream.negotiation_id, _shaped(stream.negotiation_id, stream.events), 0)
                           for stream in streams[index:end]]
                verdicts = ledger.judge_together(batches)
            except NegotiationError:
                pass  # told apart below, one negotiation at a time
            else:
                for stream, (_, events, _), verdict in zip(streams[index:end], batches, verdicts):
                    stream.events[:] = events
                    checked.append(_Checked(0, 0, verdict))
                index = end
                continue
        for stream in streams[index:max(end, index + 1)]:
            checked.append(_check_one(ledger, stream))
        index = max(end, index + 1)
    return checked


#: How many times a negotiation is checked again when another writer records into it meanwhile.
CHECK_ATTEMPTS = 10


def _check_one(ledger: Ledger, stream: SeedStream) -> _Checked:
    for attempt in range(1, CHECK_ATTEMPTS + 1):
        try:
            return _check(ledger, stream)
        except LoadError:
            raise
        except ConcurrencyConflict as e:
            # Another writer (another load of the same file, say) recorded into the negotiation between
            # the read of its version and the check: checked again against what is stored now.
            if attempt < CHECK_ATTEMPTS:
                continue
            error: NegotiationError = e
        except NegotiationError as e:
            error = e
        said = str(error).removesuffix("; nothing was written")
        raise LoadError(f"{stream.source}: {stream.negotiation_id}: {said}; nothing was written") from error
    raise AssertionError("unreachable")


def _group(streams: Sequence[SeedStream], checked: Sequence[_Checked], index: int) -> int:
    """How many streams from ``index`` on go in one transaction: whole plain runs, at most CHUNK events (0: none)."""
    size = 0
    end = index
    while end < len(streams) and _plain(streams[end], checked[end].stored):
        rest = len(streams[end].events) - checked[end].stored
        if size + rest > CHUNK:
            break
        size += rest
        end += 1
    return end - index if end - index > 1 else 0


def _write_group(ledger: Ledger, streams: Sequence[SeedStream], checked: Sequence[_Checked], index: int,
                 count: int, report: LoadReport, progress: Callable[[int], None], written: list[NewEvent]) -> None:
    """Write several streams' remaining events in one transaction (``record_judged``)."""
    batches = [(streams[i].negotiation_id, _as_checked(streams[i].events[checked[i].stored:]), checked[i].version)
               for i in range(index, index + count)]
    try:
        recorded_batches = ledger.record_judged(batches, [checked[i].judged for i in range(index, index + count)],
                                                warn_backdated=False)
    except NegotiationError as e:
        first = streams[index]
        stored = checked[index].stored
        raise LoadStopped(streams, index, stored, len(first.events) - stored, report, e) from e
    written.extend(event for _, events, _ in batches for event in events)
    for (_, events, _), recorded, found in zip(batches, recorded_batches, checked[index:index + count]):
        stored, fresh = found.stored, recorded.written
        report.already_stored += stored + len(events) - fresh
        report.recorded += fresh
        report.negotiations += 1
        progress(stored + len(events))


def _parts(items: Sequence[StreamItem]) -> Iterator[list[StreamItem]]:
    """A stream's writes, in order: runs of events (at most CHUNK each), and each retraction or correction alone."""
    run: list[StreamItem] = []
    for item in items:
        if is_correction(item):
            if run:
                yield run
                run = []
            yield [item]
            continue
        run.append(item)
        if len(run) >= CHUNK:
            yield run
            run = []
    if run:
        yield run


def _write(ledger: Ledger, negotiation_id: str, part: list[StreamItem], version: int,
           judged: Judged | None, written: list[NewEvent]) -> Recorded:
    """One transaction: a run of events, or a retraction or correction (stored ones come back as stored);
    the events of a run written are added to ``written``.

    A run checked already is written as checked, with the check's verdict (the
    writer takes it only if the run is the one judged, at the version found);
    a run after a retraction or correction is checked for shape here.
    """
    first = part[0]
    if isinstance(first, NewEvent):
        events, verdict = _as_checked(part), judged
    elif not is_correction(first):
        events, verdict = _shaped(negotiation_id, part), None
    else:
        entry = _correct(ledger, negotiation_id, first, version)
        # A retraction or correction found stored comes back with the version it has; one written extends
        # the stream. (Another load that wrote the same one at the same place between the check and this
        # write is not told apart from this one writing it.)
        return Recorded([entry], written=int(entry.version > version))
    recorded = ledger.record_judged([(negotiation_id, events, version)], [verdict], warn_backdated=False)[0]
    written.extend(events)
    return recorded


def _correct(ledger: Ledger, negotiation_id: str, item: dict[str, Any], version: int) -> RecordedEvent:
    """A retraction, correction or denial of the document, written in its own transaction."""
    said: dict[str, Any] = {"sources": item.get("sources", ()), "reported_at": item.get("reported_at"),
                            "expected_version": version, "event_id": item["event_id"]}
    if item["type"] == DENIED:
        return ledger.deny(negotiation_id, item["target"], by=item["by"], statement=item.get("statement"), **said)
    common = {"reason": item["reason"], **said}
    if item["type"] == RETRACTED:
        return ledger.retract(negotiation_id, item["target"], **common)
    return ledger.correct(negotiation_id, item["target"], data=item.get("data"), occurred_at=item.get("occurred_at"),
                         event_reported_at=item.get("event_reported_at"), **common)


def _check(ledger: Ledger, stream: SeedStream) -> _Checked:
    """Check a stream against what is stored, writing nothing.

    Returns the negotiation's version and how many of the document's events
    are stored already (always its first ones).

    Events stored already must say what the document says. New events before
    the first new retraction or correction are checked by the ledger itself
    (``check_many``); when the document brings retractions or corrections,
    the story of every new entry is folded as the ledger will judge it, a
    write at a time.
    """
    negotiation_id = stream.negotiation_id
    version = ledger.version(negotiation_id)
    stored = {entry.event_id: entry for entry in ledger.history(negotiation_id)} if version else {}
    if stored:
        _refuse_edits(stream, stored)
        new = [item for item in stream.events if _id(item) not in stored]
    else:  # a new negotiation: every item is new, and the ledger checks the ids
        new = stream.events
    first = next((i for i, item in enumerate(new) if is_correction(item)), len(new))
    ahead = _shaped(negotiation_id, new[:first])
    judged = None
    if ahead:
        try:
            judged = ledger.judge_together([(negotiation_id, ahead, version)])[0]
        except IllegalTransition as e:
            if e.index is None:
                raise
            item = ahead[e.index]
            ordinal = len(stream.events) - len(new) + e.index + 1
            when = f" of {day_or_iso(item.occurred_at)}" if item.occurred_at is not None else ""
            said = str(e).removesuffix("; nothing was written")
            raise LoadError(f"{stream.source}: {negotiation_id}: event {ordinal} of the document ({item.type}"
                            f"{when}): {said}; nothing was written") from e
    if first < len(new):
        ledger.check_in_turn(negotiation_id, _rehearsal(stream, set(stored)), expected_version=version)
    # The checked form replaces the read one (the new events are the document's last ones): the write
    # takes them as they are, and the document is not held twice.
    start = len(stream.events) - len(new)
    stream.events[start:start + len(ahead)] = ahead
    return _Checked(version, start, judged)


def _shaped(negotiation_id: str, items: Sequence[StreamItem]) -> list[NewEvent]:
    """Events of a stream checked for shape, as the ledger checks them (a load's earlier check is kept)."""
    read = iter(new_events(negotiation_id, _as_read(items)))
    return [item if isinstance(item, NewEvent) else next(read) for item in items]


def _as_checked(items: Sequence[StreamItem]) -> list[NewEvent]:
    """A run of events the check has put in their checked form."""
    checked = [item for item in items if isinstance(item, NewEvent)]
    if len(checked) != len(items):
        raise AssertionError("a run is written only after the check replaced its events by their checked form")
    return checked


def _as_read(items: Sequence[StreamItem]) -> list[dict[str, Any]]:
    return [item for item in items if not isinstance(item, NewEvent)]


def _id(item: StreamItem) -> str:
    return item.event_id if isinstance(item, NewEvent) else check_event_id(item["event_id"])


def _refuse_edits(stream: SeedStream, stored: dict[str, RecordedEvent]) -> None:
    """Refuse a document that says otherwise of an event already stored, or puts a new one before a stored one."""
    where = f"{stream.source}: {stream.negotiation_id}"
    first_new = None
    for ordinal, item in enumerate(stream.events, start=1):
        entry = stored.get(_id(item))
        if entry is None:
            first_new = first_new or ordinal
            continue
        if first_new is not None:
            raise LoadError(f"{where}: event {first_new} of the document is not stored but event {ordinal} after it "
                            f"is (version {entry.version}, id {entry.event_id}): an event was inserted or its id "
                            "changed; add new events at the end of the document; nothing was written")
        difference = _difference(stream.negotiation_id, item, entry, stored)
        if difference:
            raise LoadError(f"{where}: event {ordinal} of the document (id {entry.event_id}) differs from what is "
                            f"stored as version {entry.version}: {difference}; to change a recorded event, add an "
                            "EventCorrected entry for it instead of editing it; nothing was written")


def _same(first: object, second: object) -> bool:
    """Equal as JSON: in Python True == 1, but not in the log."""
    return orjson.dumps(first, option=orjson.OPT_SORT_KEYS) == orjson.dumps(second, option=orjson.OPT_SORT_KEYS)


def _difference(negotiation_id: str, item: StreamItem, entry: RecordedEvent,
                stored: dict[str, RecordedEvent]) -> str | None:
    """What the document says otherwise of a stored entry, in words; None if nothing."""
    if isinstance(item, NewEvent):  # checked by an earlier load of these streams
        return content_difference(entry, item)
    if not is_correction(item):
        return content_difference(entry, new_event(
            negotiation_id, item["type"], item.get("data", {}), occurred_at=item.get("occurred_at"),
            sources=item.get("sources", ()), event_id=item["event_id"], reported_at=item.get("reported_at")))
    target = stored.get(item["target"])
    if entry.type != item["type"] or entry.negotiation_id != negotiation_id:
        return "type differs"
    if target is None or entry.data["target"] != target.event_id:
        return "target differs"
    if item["type"] == DENIED:
        if not _same((entry.data["by"], entry.data.get("statement")), (item["by"], item.get("statement"))):
            return "by or statement differs"
    elif not _same(entry.data["reason"], item["reason"]):
        return "reason differs"
    if "data" in item or "data" in entry.data:
        data = check_payload(target.type, item["data"]) if "data" in item else None
        if not _same(data, entry.data.get("data")):
            return "data differs"
    moment = None if item.get("occurred_at") is None else iso(to_utc(item["occurred_at"]))
    if moment != entry.data.get("occurred_at"):
        return "occurred_at differs"
    known = None if item.get("event_reported_at") is None else iso(to_utc(item["event_reported_at"]))
    if known != entry.data.get("reported_at"):
        return "event_reported_at differs"
    if not _same(stored_sources(check_sources(item.get("sources", ()))), stored_sources(entry.sources)):
        return "sources differs"
    reported = check_reported_at(item.get("reported_at"))
    if reported is not None and reported != entry.reported_at:
        return "reported_at differs"
    return None


def _rehearsal(stream: SeedStream, stored: set[str]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The stream's writes not stored yet, in order, each named by its place in the document."""
    writes = []
    start = 0
    for part in _parts(stream.events):
        ordinals = [ordinal for ordinal, item in enumerate(part, start=start + 1) if _id(item) not in stored]
        start += len(part)
        if not ordinals:
            continue
        fresh = [_as_mapping(item) for item in part if _id(item) not in stored]
        place = (f"event {ordinals[0]} of the document" if is_correction(part[0])
                 else f"events {ordinals[0]}-{start} of the document")
        writes.append((place, fresh))
    return writes


def _as_mapping(item: StreamItem) -> dict[str, Any]:
    """An item as ``Ledger.check_in_turn`` takes it: an event checked by an earlier load of these streams
    is given back in the form it was read in, its fields as checked."""
    if not isinstance(item, NewEvent):
        return item
    return {"type": item.type, "data": item.data, "occurred_at": item.occurred_at, "sources": item.sources,
            "event_id": item.event_id, "reported_at": item.reported_at}
