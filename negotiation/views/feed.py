"""The log as an Atom feed: an entry per log entry, the newest first, each saying what it changed.

A feed reader (a newsroom's, a subscriber's) sees each entry of the log once,
under an id that never changes (``urn:uuid:`` and its event id), updated when
it was recorded. Its title is the entry as ``watch`` words it, and its content
what it changed: the negotiation's state before and after it, with the points
left open, then the entry's sources. The feed is of the log as it is: a
retraction or correction is an entry of its own, and the entry it names stays.

The XML is written by feedgen, which keeps to the Atom format (RFC 4287).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from feedgen.feed import FeedGenerator

from ..domain import machine
from ..domain.aggregate import Negotiation
from ..domain.entries import RecordedEvent
from ..domain.replay import StatesAfter
from ..domain.sources import SourceRecord, outlet_of
from ..errors import NegotiationError
from ..ledger import Ledger
from . import words
from .words import change_said, entry_said, plain

#: What a feed says it is when it holds no entry to date it by.
EMPTY_FEED_TIME = "1970-01-01T00:00:00+00:00"


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One entry of the log as the feed tells it."""

    entry: RecordedEvent
    #: The entry as ``watch`` words it, without its position and sources.
    title: str
    #: What it changed: ``agreed in principle → terms disputed (open: tariff stacking)``; None when the
    #: negotiation's story cannot be told after it.
    changed: str | None

    @property
    def id(self) -> str:
        return f"urn:uuid:{self.entry.event_id}"

    @property
    def content(self) -> str:
        sources = f"Sources: {words.sources(self.entry.sources)}." if self.entry.sources else "No source named."
        return "\n".join(filter(None, [self.changed, sources]))


def feed_entries(ledger: Ledger) -> list[FeedEntry]:
    """Every entry of the log, the newest first, each with what it changed."""
    states = StatesAfter()
    held: dict[str, Negotiation] = {}
    told: list[FeedEntry] = []
    for entry in _log(ledger):
        before = held.get(entry.negotiation_id)
        try:
            after = states.after(entry, ledger.history)
        except NegotiationError:
            changed = None  # the entry is still news; what it did to the story cannot be said
        else:
            held[entry.negotiation_id] = after
            changed = plain(change_said(after, before.state if before is not None else machine.NOT_OPENED))
        told.append(FeedEntry(entry, plain(entry_said(entry)), changed))
    return told[::-1]


def _log(ledger: Ledger, page: int = 1000) -> Iterator[RecordedEvent]:
    """The whole log in position order, read a page at a time."""
    after = 0
    while batch := ledger.read_all(after, limit=page):
        yield from batch
        after = batch[-1].position


def atom(ledger: Ledger, *, title: str = "Negotiations: the log", pages: dict[str, str] | None = None,
         feed_id: str | None = None) -> str:
    """The Atom feed of the log, as XML text.

    ``pages`` links each negotiation to its page (a path relative to the
    feed); ``feed_id`` is the feed's own permanent id (default: from the
    log's first entry, so a feed of the same log keeps it).
    """
    entries = feed_entries(ledger)
    feed = FeedGenerator()
    feed.id(feed_id or (f"urn:uuid:{entries[-1].entry.event_id}" if entries else "urn:negotiation:empty-log"))
    feed.title(title)
    feed.author({"name": "the negotiation ledger"})
    feed.updated(max((e.entry.recorded_at for e in entries), default=datetime.fromisoformat(EMPTY_FEED_TIME)))
    for told in entries:
        item = feed.add_entry(order="append")
        item.id(told.id)
        item.title(told.title)
        item.updated(told.entry.recorded_at)
        item.content(told.content, type="text")
        item.category([{"term": told.entry.negotiation_id, "label": "negotiation"},
                       {"term": told.entry.type, "label": "entry type"}])
        for source in told.entry.sources:
            item.contributor({"name": outlet_of(source)})
            if isinstance(source, SourceRecord) and source.linkable:  # the article, for a reader to check
                item.link(href=source.url, rel="related", type="text/html", title=source.headline)
        page = (pages or {}).get(told.entry.negotiation_id)
        if page is not None:
            item.link(href=page, rel="alternate", type="text/html")
    xml: bytes = feed.atom_str(pretty=True)
    return xml.decode("utf-8")
