"""The offline report: one static folder a person opens in a browser, with no network needed.

::

    index.html                  every negotiation: parties, state now, opened, last event, open points,
                                and a small timeline; their states on one time line; the deadlines of the
                                next 30 days and the measures in force across them; any negotiation it
                                could not tell, with why
    feed.atom                   the log as an Atom feed, the newest entry first, each saying what it changed
    negotiations/<id>.html      one negotiation: its timeline, story with sources (denied reports marked),
                                each party's view of the terms side by side, deals, measures, deadlines,
                                meetings, third-party acts, disputed points, how the terms changed,
                                corrections
    spec/index.html, spec.md    the spec book (the state machine and every scenario)
    assets/vega-embed.js        Vega, Vega-Lite and vega-embed, which draw the charts in the browser

A report is of the ledger now, or as of a world time and/or as known at a
time, as the timeline is. It answers for every negotiation it can: one whose
story cannot be told then (not opened yet, or reports out of step) gets no
page, and the index names it with why.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ..domain.belief import BeliefDiff
from ..domain.times import Moment, end_of, spoken
from ..errors import NegotiationError
from ..ledger import Ledger
from ..outfiles import write_whole
from ..specbook import book as spec_book
from . import pages
from .feed import atom
from .files import write_vega_script
from .model import Picture, day, picture
from .overview import overview
from .timeline import NARROW_SEVERAL, NARROW_WIDTH, chart_of, chart_of_several, mini_chart

#: How far back each page tells what changed in what was known: a week of reporting.
CHANGES_OVER = timedelta(days=7)

#: Told after each piece of work: (pieces done, pieces in all, what comes next).
Progress = Callable[[int, int, str], None]
#: A moment as the ledger's messages write it (ISO 8601 with its offset).
_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?[+-]\d{2}:\d{2}")


def readable(message: str) -> str:
    """The ledger's message with each moment in it written as a reader says it (``26 Jul 2025``)."""
    return _ISO_MOMENT.sub(lambda found: day(datetime.fromisoformat(found[0])), message)


@dataclass
class Site:
    """What ``write`` wrote."""

    out: Path
    index: Path
    pages: dict[str, Path] = field(default_factory=dict)
    spec: Path | None = None
    #: The Atom feed of the log.
    feed: Path | None = None
    #: What the spec book's writer noticed (a stale coverage report…).
    warnings: list[str] = field(default_factory=list)
    #: The negotiations it could not tell, each with why, in the order of the ledger.
    failed: dict[str, str] = field(default_factory=dict)


def write(ledger: Ledger, out: Path, *, features_dir: Path | None = None, coverage: Path | None = None,
          progress: Progress | None = None, as_of: Moment | None = None, known_at: Moment | None = None,
          now: datetime | None = None) -> Site:
    """Write the report of every negotiation in ``ledger`` into ``out``, with the spec book in ``out/spec``.

    ``features_dir`` and ``coverage`` are the spec book's (default: the
    features of this checkout or of the installed package, and their last
    coverage report). ``as_of`` and ``known_at`` ask about a time, as
    ``Ledger.get`` does; the index's deadlines and measures are for that
    time (``as_of``, else ``known_at``), else for ``now`` (default: the
    clock). Files of an earlier report are overwritten; a negotiation it
    cannot tell is named in the index and in ``Site.failed``.
    """
    def told(done: int, next_up: str) -> None:
        if progress is not None:
            progress(done, total, next_up)

    ids = ledger.negotiations()
    total = len(ids) + 3
    site = Site(out, out / "index.html")
    told(0, "bundling the chart scripts")
    write_vega_script(out / pages.VEGA_SCRIPT)
    told(1, "writing the spec book")
    book = spec_book.write(out / "spec", features_dir or spec_book.default_features_dir(), coverage)
    site.spec, site.warnings = out / pages.SPEC_BOOK, list(book.warnings)
    clock = now or datetime.now(UTC)
    at = end_of(as_of, "as_of") if as_of is not None else end_of(known_at, "known_at") if known_at is not None \
        else clock
    # What each page says changed is of the reports up to the time the report knows of: known at, else as of.
    known = end_of(known_at, "known_at") if known_at is not None else at
    views: list[Picture] = []
    for done, negotiation_id in enumerate(ids, start=2):
        told(done, negotiation_id)
        path = out / "negotiations" / f"{negotiation_id}.html"
        try:
            view = picture(ledger, negotiation_id, as_of=as_of, known_at=known_at)
            drawn = pages.negotiation_page(view, chart_of(view), chart_of(view, NARROW_WIDTH, narrow=True),
                                           changed=_changed(ledger, negotiation_id, known))
        except NegotiationError as e:
            site.failed[negotiation_id] = readable(str(e))
        except Exception as e:  # a page that cannot be drawn must not take the others with it
            site.failed[negotiation_id] = f"its page could not be drawn ({type(e).__name__}: {e})"
        else:
            write_whole(path, drawn)
            site.pages[negotiation_id] = path
            views.append(view)
            continue
        path.unlink(missing_ok=True)  # an earlier report's page of it would say what this one cannot
    told(total - 1, "writing the index")
    when = ", ".join(filter(None, [f"as of {day(end_of(as_of, 'as_of'))}" if as_of is not None else "",
                                   f"as known at {day(end_of(known_at, 'known_at'))}" if known_at is not None
                                   else ""]))
    summary = overview(views, at, site.failed.items(), when=when)
    site.feed = write_whole(out / pages.FEED, atom(ledger, pages={
        negotiation_id: path.relative_to(out).as_posix() for negotiation_id, path in site.pages.items()}))
    together = (chart_of_several(views), chart_of_several(views, NARROW_SEVERAL, narrow=True)) \
        if views else None
    write_whole(site.index, pages.index_page([(v, mini_chart(v)) for v in views], spoken(clock), summary,
                                             together=together, feed=pages.FEED))
    told(total, "done")
    return site


def _changed(ledger: Ledger, negotiation_id: str, known: datetime) -> BeliefDiff | str:
    """What changed in what was known of it in the week of reporting up to ``known``, or why that cannot be told."""
    try:
        return ledger.diff(negotiation_id, known - CHANGES_OVER, known)
    except NegotiationError as e:
        return readable(str(e))
