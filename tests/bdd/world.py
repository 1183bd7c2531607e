"""The world a scenario acts on: one negotiation in one ledger, and what the last step did to it.

Steps stay thin by calling these few methods, which use only the public API.
``record`` is the one place a scenario's *When* records an event: it notes, for
the transition coverage, the state before, the event and what the ledger did.
An event dated before the story's last one is judged against the whole story,
where it meets another state than the negotiation's current one, so it is not
noted, and neither is a batch (judged as a whole). ``correct`` is the one place
a *When* retracts or corrects an event: it notes the kind, the state before and
whether it was accepted. Setup (*Given*) goes through ``setup``, which is not
observed: a cell counts as covered only where a scenario states the outcome it
expects.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from negotiation import (
    IllegalTransition,
    InvalidEvent,
    Ledger,
    Negotiation,
    NegotiationError,
    RecordedEvent,
)
from negotiation.domain import machine
from negotiation.domain.payloads import RETRACTED
from negotiation.errors import IllegalStory
from negotiation.files.loading import seed_files
from negotiation.files.reading import read_seed_file
from negotiation.specbook.coverage import guard_name

Rows = list[tuple[object, ...]]
Observe = Callable[..., None]
ObserveCorrection = Callable[[str, str, str], None]
E = TypeVar("E", bound=NegotiationError)

#: The opening events as a step records them when they open a negotiation: they name its parties.
OPENING: dict[str, tuple[str, dict[str, Any]]] = {
    "working-level talks": ("WorkingLevelTalksOpened", {"venue": "Washington"}),
    "a visit being called off": ("VisitCancelled", {"envoy": "Yeo Han-koo"}),
}

#: What a step records when it names only the event type: a typical event of that type.
TYPICAL: dict[str, dict[str, Any]] = {
    "AgreedInPrinciple": {"parties": ["US", "JP"]},
    "TermsDisputed": {"point": "profit sharing"},
    "DisputeResolved": {"point": "tariff stacking"},
    "VisitCancelled": {"envoy": "Ryosei Akazawa"},
    "WorkingLevelTalksOpened": {"venue": "Washington"},
    "AgreementFinalised": {"instruments": ["US executive order"]},
    "TermsAmended": {"terms": {"auto tariff": "15%"}},
}

#: The one event that takes an open negotiation into each state, for "Given it is in state …".
HOPS: dict[str, tuple[str, dict[str, Any]]] = {
    "disputed_terms": ("TermsDisputed", {"point": "tariff stacking"}),
    "visit_cancelled": ("VisitCancelled", {"envoy": "Ryosei Akazawa"}),
    "working_level_talks": ("WorkingLevelTalksOpened", {"venue": "Washington"}),
    "finalised": ("AgreementFinalised", {"instruments": ["US executive order"]}),
}


def seed_story(negotiation_id: str) -> list[dict[str, Any]]:
    """The events of the shipped seed file for ``negotiation_id``, as ``record_many`` takes them."""
    streams = [s for path in seed_files() for s in read_seed_file(path) if s.negotiation_id == negotiation_id]
    assert len(streams) == 1, f"one seed story for {negotiation_id} expected, found {len(streams)}"
    return list(streams[0].events)


@dataclass
class World:
    """One scenario's negotiation and the outcome of its last step."""

    ledger: Ledger
    stored_rows: Callable[[], Rows]
    observe: Observe
    observe_correction: ObserveCorrection
    negotiation_id: str = "us-japan-2025"
    attempted: str | None = None
    last: RecordedEvent | None = None
    batch: list[RecordedEvent] = field(default_factory=list)
    error: NegotiationError | None = None
    error_expected: bool = False
    log_before: list[RecordedEvent] = field(default_factory=list)
    rows_before: Rows = field(default_factory=list)
    replayed: Negotiation | None = None
    story: list[dict[str, Any]] = field(default_factory=list)
    story_length: int = 0

    # -- reading ---------------------------------------------------------------------------

    def negotiation(self) -> Negotiation:
        """The negotiation now; one with nothing recorded is in the machine's ``not_opened`` state."""
        if self.ledger.version(self.negotiation_id) == 0:
            return Negotiation(id=self.negotiation_id)
        return self.ledger.get(self.negotiation_id)

    def state(self) -> str:
        return self.negotiation().state

    # -- writing ---------------------------------------------------------------------------

    def setup(self, event_type: str, data: Mapping[str, Any] | None = None, **options: Any) -> None:
        """Record what a *Given* needs; a refusal here means the scenario itself is wrong, so it raises."""
        self.ledger.record(self.negotiation_id, event_type, TYPICAL[event_type] if data is None else data,
                           **options)

    def drive(self, state: str) -> None:
        """Bring the negotiation into ``state`` with the one event that leads there (see ``HOPS``)."""
        if self.state() != state:
            if state not in HOPS:
                raise AssertionError(f"no single event leads from {self.state()} into {state}")
            self.setup(*HOPS[state])
        assert self.state() == state, f"the negotiation is {self.state()}, not {state}"

    def record(self, event_type: str, data: Mapping[str, Any] | None = None, **options: Any) -> None:
        """Try to record an event the way a user would, and note what the ledger did."""
        self.settled()
        before = self.ledger.version(self.negotiation_id)
        negotiation = self.negotiation()
        state = negotiation.state
        self.snapshot()
        self.attempted, self.error, self.error_expected = event_type, None, False
        try:
            self.last = self.ledger.record(self.negotiation_id, event_type,
                                           TYPICAL[event_type] if data is None else data, **options)
        except IllegalStory as e:
            # A late event, refused where it falls in the story: the state it met there is not
            # the negotiation's current one, so this is no outcome of a current cell.
            self.error = e
        except IllegalTransition as e:
            self.error = e
            # Which guards said no, asked of the machine with the negotiation as it stood.
            guards = tuple(guard_name(guard, target)
                           for guard, target in machine.refusing_guards(state, event_type, negotiation))
            self.observe(state, event_type, "refused", offered=event_type in e.allowed, guards=guards)
        except NegotiationError as e:
            # Refused before the machine had a say (a stale version, a reused id, a malformed
            # payload): not a transition outcome, so not observed.
            self.error = e
        else:
            late = negotiation.updated_at is not None and self.last.occurred_at < negotiation.updated_at
            if self.last.version > before and not late:  # a retry answered from the log moves nothing
                self.observe(state, event_type, "allowed", after=self.state())

    def record_together(self, events: list[dict[str, Any]]) -> None:
        """Try to record several events in one batch, judged as a whole (so not observed)."""
        self.settled()
        self.snapshot()
        self.attempted, self.error, self.error_expected, self.batch = "the batch", None, False, []
        try:
            self.batch = self.ledger.record_many(self.negotiation_id, events)
            self.last = self.batch[-1]
        except NegotiationError as e:
            self.error = e

    def correct(self, kind: str, target: int, **options: Any) -> None:
        """Try to retract or correct an event the way a user would, and note whether it was accepted."""
        self.settled()
        state = self.state()
        self.snapshot()
        self.attempted, self.error, self.error_expected = f"the {kind} of version {target}", None, False
        change = self.ledger.retract if kind == RETRACTED else self.ledger.correct
        try:
            self.last = change(self.negotiation_id, target, **options)
        except (IllegalStory, InvalidEvent) as e:  # the story would break, or the request is wrong
            self.error = e
            self.observe_correction(kind, state, "refused")
        except NegotiationError as e:  # a stale version, a reused id: not the correction's outcome
            self.error = e
        else:
            self.observe_correction(kind, state, "accepted")

    def ask(self, *, as_of: str | None = None, known_at: str | None = None) -> None:
        """Ask how the negotiation stood as of a day and/or as known on a day, keeping the answer."""
        self.settled()
        self.snapshot()
        self.attempted, self.error, self.error_expected, self.replayed = "the question", None, False, None
        try:
            self.replayed = self.ledger.get(self.negotiation_id, as_of=as_of, known_at=known_at)
        except NegotiationError as e:
            self.error = e

    def replay(self, negotiation_id: str | None = None, until_version: int | None = None) -> None:
        """Replay a negotiation, keeping the result or the refusal."""
        self.settled()
        self.snapshot()
        self.attempted, self.error, self.error_expected, self.replayed = "the replay", None, False, None
        try:
            self.replayed = self.ledger.replay(negotiation_id or self.negotiation_id, until_version)
        except NegotiationError as e:
            self.error = e

    def snapshot(self) -> None:
        """Remember the whole log, through the API and row by row, to prove later that nothing changed."""
        self.log_before = self.ledger.read_all()
        self.rows_before = self.stored_rows()

    # -- outcomes --------------------------------------------------------------------------

    def recorded(self) -> RecordedEvent:
        """The event the last step recorded; fails if the ledger refused it."""
        if self.error is not None:
            raise AssertionError(f"expected {self.attempted} to be recorded, but it was refused: "
                                 f"{self.error}")
        assert self.last is not None, "no event has been recorded yet"
        return self.last

    def refusal(self, kind: type[E]) -> E:
        """The refusal the last step met, which must be a ``kind``."""
        if not isinstance(self.error, kind):
            met = "nothing was refused" if self.error is None else f"the ledger said: {self.error!r}"
            raise AssertionError(f"expected a refusal ({kind.__name__}), but {met}")
        self.error_expected = True
        return self.error

    def settled(self) -> None:
        """Fail if the last step was refused and no step said it should be."""
        if self.error is not None and not self.error_expected:
            self.error_expected = True  # reported once, here, not again when the scenario ends
            raise AssertionError(f"{self.attempted or 'the last step'} was refused unexpectedly: "
                                 f"{self.error}")
