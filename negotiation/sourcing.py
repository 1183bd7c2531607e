"""Whose word a story is told on: only the entries of some sources, without those of others, or without
the events someone denied."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from .domain.aggregate import Negotiation, StoryBreak, fold_log, fold_story
from .domain.checks import check_source_names
from .domain.entries import RecordedEvent
from .domain.payloads import CORRECTED, DENIED
from .domain.sources import outlets
from .domain.story import StoryEvent, known_by, story_of
from .domain.times import day_or_iso
from .errors import IllegalSourceStory, InvalidEvent


@dataclass(frozen=True, slots=True)
class SourceChoice:
    """Whose word the story is told on: only entries naming one of ``only``, none resting only on ``without``,
    and, with ``without_denied``, none of the events a party or a source denied."""

    only: frozenset[str] | None
    without: frozenset[str] | None
    without_denied: bool = False

    @classmethod
    def of(cls, sources: Iterable[str] | None, exclude_sources: Iterable[str] | None,
           exclude_denied: bool = False) -> SourceChoice | None:
        if sources is None and exclude_sources is None and not exclude_denied:
            return None
        return cls(_names("sources", sources), _names("exclude_sources", exclude_sources), bool(exclude_denied))

    def keeps(self, entry: RecordedEvent) -> bool:
        named = set(outlets(entry.sources))
        if self.only is not None and not named & self.only:
            return False
        return self.without is None or not named or not named <= self.without

    def kept(self, entries: Sequence[RecordedEvent]) -> list[RecordedEvent]:
        """The entries the choice keeps; a denied event goes with its denials (when they are left out).

        An event whose own sources are left out stays when a kept correction names it: the correcting
        source gives its own account of the event, which the story tells as corrected.
        """
        vouched = {entry.data["target"] for entry in entries if entry.type == CORRECTED and self.keeps(entry)}
        kept = [entry for entry in entries if self.keeps(entry) or entry.event_id in vouched]
        if not self.without_denied:
            return kept
        denied = {entry.data["target"] for entry in kept if entry.type == DENIED}
        return [entry for entry in kept if entry.type != DENIED and entry.event_id not in denied]

    @property
    def told(self) -> str:
        """How a message names the choice: ``by Reuters, without NDTV``."""
        said = []
        if self.only is not None:
            said.append("by " + _listed(self.only, "or"))
        if self.without is not None:
            said.append("without " + _listed(self.without, "and"))
        if self.without_denied:
            said.append("without the denied events")
        return ", ".join(said)

    def story(self, negotiation_id: str, entries: Sequence[RecordedEvent], as_of: datetime | None,
              known_at: datetime | None) -> list[StoryEvent]:
        """The story the chosen entries tell, once its whole is checked to be legal."""
        self.negotiation(negotiation_id, entries, None, known_at)
        return story_of(self.kept(_known(entries, known_at)), as_of=as_of)

    def negotiation(self, negotiation_id: str, entries: Sequence[RecordedEvent], as_of: datetime | None,
                    known_at: datetime | None) -> Negotiation:
        """The negotiation the chosen entries' story gives; IllegalSourceStory where it breaks."""
        kept = self.kept(_known(entries, known_at))
        whole = story_of(kept)
        if not whole:
            raise IllegalSourceStory(negotiation_id, self.told)
        try:
            fold_story(negotiation_id, whole, version=kept[-1].version)
        except StoryBreak as broken:
            event, why = broken.event, broken.refusal.reason
            raise IllegalSourceStory(negotiation_id, self.told, event.version, event.type,
                                     day_or_iso(event.occurred_at),
                                     broken.state, why) from None
        return fold_log(negotiation_id, kept, as_of)


def _known(entries: Sequence[RecordedEvent], known_at: datetime | None) -> list[RecordedEvent]:
    return known_by(entries, known_at)


def _names(field: str, names: Iterable[str] | None) -> frozenset[str] | None:
    if names is None:
        return None
    checked = check_source_names(names)
    if not checked:
        raise InvalidEvent(f"{field} must name at least one source")
    return frozenset(checked)


def _listed(names: frozenset[str], word: str) -> str:
    ordered = sorted(names)
    return ordered[0] if len(ordered) == 1 else f"{', '.join(ordered[:-1])} {word} {ordered[-1]}"
