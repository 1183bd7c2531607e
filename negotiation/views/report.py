"""The offline report: one static folder a person opens in a browser, with no network needed.

::

    index.html                  every negotiation: parties, state now, opened, last event, open points,
                                and a small timeline
    negotiations/<id>.html      one negotiation: its timeline, story with sources, disputed points,
                                terms now and how they changed, corrections
    spec/index.html, spec.md    the spec book (the state machine and every scenario)
    assets/vega-embed.js        Vega, Vega-Lite and vega-embed, which draw the charts in the browser
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from ..domain.times import spoken
from ..ledger import Ledger
from ..specbook import book as spec_book
from . import pages
from .files import write_vega_script
from .model import Picture, picture
from .timeline import chart_of, mini_chart

#: Told after each piece of work: (pieces done, pieces in all, what comes next).
Progress = Callable[[int, int, str], None]


@dataclass
class Site:
    """What ``write`` wrote."""

    out: Path
    index: Path
    pages: dict[str, Path] = field(default_factory=dict)
    spec: Path | None = None
    #: What the spec book's writer noticed (a stale coverage report…).
    warnings: list[str] = field(default_factory=list)


def write(ledger: Ledger, out: Path, *, features_dir: Path | None = None, coverage: Path | None = None,
          progress: Progress | None = None) -> Site:
    """Write the report of every negotiation in ``ledger`` into ``out``, with the spec book in ``out/spec``.

    ``features_dir`` and ``coverage`` are the spec book's (default: the
    features of this checkout or of the installed package, and their last
    coverage report). Files of an earlier report are overwritten.
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
    views: list[Picture] = []
    for done, negotiation_id in enumerate(ids, start=2):
        told(done, negotiation_id)
        view = picture(ledger, negotiation_id)
        path = out / "negotiations" / f"{negotiation_id}.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(pages.negotiation_page(view, chart_of(view)), encoding="utf-8")
        site.pages[negotiation_id] = path
        views.append(view)
    told(total - 1, "writing the index")
    written = spoken(datetime.now(UTC))
    site.index.write_text(pages.index_page([(v, mini_chart(v)) for v in views], written), encoding="utf-8")
    told(total, "done")
    return site
