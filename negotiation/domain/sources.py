"""Who reported an entry: a source is an outlet's name, or a record of the article that reported it.

A record (``SourceRecord``) names the outlet and the article a reader can
check: its address, headline, day of publication and, if given, the words
quoted. Wherever sources are counted, chosen or indexed, a record counts as
its outlet (``outlet_of``), so "Reuters" and a Reuters article are one source.

A plain name is stored, hashed and exported as the text it always was; a
record as an object of its keys (``stored_source``), so entries recorded
before records existed keep their hashes. What a record must hold is checked
on the way in (``checks.check_sources``); nothing here imports the checks, so
reading the log stays light.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

#: The schemes a reader's browser opens as a page: anything else (``javascript:``, ``data:``) could act on it.
LINKABLE_SCHEMES = ("http", "https")


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """The article an entry rests on: where it appeared, its address, headline and day of publication."""

    outlet: str
    url: str
    headline: str
    published: date
    #: The words of the article the entry rests on, when given.
    quote: str | None = None

    @property
    def linkable(self) -> bool:
        """Whether a page may link to it: checked on the way in, and again where it is drawn, since a log
        copied or written by other means could hold any address."""
        return urlsplit(self.url).scheme.lower() in LINKABLE_SCHEMES

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any]) -> SourceRecord:
        """A record as the log stores it (checked on its way in, so read as it is)."""
        return cls(stored["outlet"], stored["url"], stored["headline"], date.fromisoformat(stored["published"]),
                   stored.get("quote"))


#: A source as an entry names it: an outlet's name, or the record of an article.
Source = str | SourceRecord
#: A source as a caller gives it: a name, a record, or a record's keys as a file or JSON gives them.
GivenSource = str | SourceRecord | Mapping[str, Any]
#: A source as the log stores it (JSON): the name, or the record's keys.
StoredSource = str | dict[str, str]


def outlet_of(source: Source) -> str:
    """The name a source is counted, chosen and indexed by: a record's outlet, or the name itself."""
    return source.outlet if isinstance(source, SourceRecord) else source


def outlets(sources: Iterable[Source]) -> list[str]:
    """The outlets named, each once, in the order first named."""
    return list(dict.fromkeys(outlet_of(source) for source in sources))


def stored_outlets(stored: Iterable[StoredSource]) -> list[str]:
    """The outlets of sources in their stored form, each once (the index of sources is written from these)."""
    return list(dict.fromkeys(source if isinstance(source, str) else source["outlet"] for source in stored))


def stored_source(source: Source) -> StoredSource:
    """A source as the log stores, hashes and exports it: a name as text; a record with the keys it was given."""
    if isinstance(source, str):
        return source
    said = {"outlet": source.outlet, "url": source.url, "headline": source.headline,
            "published": source.published.isoformat()}
    if source.quote is not None:
        said["quote"] = source.quote
    return said


def stored_sources(sources: Iterable[Source]) -> list[StoredSource]:
    return [stored_source(source) for source in sources]


def read_sources(stored: Sequence[StoredSource]) -> tuple[Source, ...]:
    """The sources of an entry as the log stored them."""
    return tuple(source if isinstance(source, str) else SourceRecord.from_stored(source) for source in stored)
