"""Projections: read models kept in the log's own database, fed from the log with a checkpoint.

A projection is a class with a handler per entry type it cares about
(``on_<EntryType>(self, conn, entry)``) and the tables it writes. ``run``
feeds it every entry after its checkpoint, in position order, a batch per
transaction; the handlers write on the connection they are given, and the
checkpoint (``projection_checkpoints``) moves in that same transaction. A
runner killed at any moment leaves the projection's tables and its checkpoint
as of the last committed batch: no entry is applied twice, none is lost, and
running again goes on from there.

The tables: the shipped projection's are the package's, made by its
migrations. A projection of your own declares its tables on a ``MetaData`` of
its own; ``run`` and ``rebuild`` create those that do not exist yet
(``Projection.create``: ``CREATE TABLE`` for each table missing, in the
transaction of the first batch). A table that exists is left as it is: to
change one, drop it and ``rebuild``, or migrate it yourself.

>>> finalised_table = Table("finalised", MetaData(), Column("negotiation_id", String(64)))
>>> class Finalised(Projection):
...     name = "finalised"
...     tables = (finalised_table,)
...     def on_AgreementFinalised(self, conn, entry):
...         conn.execute(finalised_table.insert().values(negotiation_id=entry.negotiation_id))
>>> run(ledger, Finalised())            # creates its table, catches up; run again later to go on
>>> rebuild(ledger, Finalised())        # empties its tables and checkpoint, then runs from the start

One projection ships: ``NegotiationStates`` (``negotiation_states``: every
negotiation's state, parties, open points and last event).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import Connection, Table, bindparam, select

from .domain.checks import check_count
from .domain.entries import RecordedEvent
from .domain.replay import StatesAfter
from .errors import InvalidEvent, NegotiationError, StorageError
from .ledger import Ledger
from .store import checkpoints
from .store.core import CoreReads
from .store.recorder import SqlRecorder
from .store.schema import negotiation_states


class UnknownProjection(NegotiationError):
    """No projection of that name ships with the package."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"no projection named {name!r}; known: {', '.join(PROJECTIONS)}")


class Projection:
    """A read model fed from the log. Subclass it, name it, list its tables, write handlers.

    ``create`` makes its tables that do not exist yet (see the module's
    doc). ``handle`` calls ``on_<type>(conn, entry)`` for each entry whose type has
    one and skips the rest (the checkpoint moves past them all the same).
    ``flush`` runs once per batch, after the handlers and before the checkpoint
    moves, in the same transaction: a projection may gather its writes and do
    them there. ``reset`` forgets whatever it keeps in memory; the runner calls
    it when a batch fails and before a rebuild.
    """

    #: The projection's name: its checkpoint's key and what the command line calls it.
    name: ClassVar[str] = ""
    #: The tables it owns: ``run`` and ``rebuild`` create those missing (``create``), ``rebuild`` empties them.
    tables: ClassVar[tuple[Table, ...]] = ()

    def create(self, conn: Connection) -> None:
        """Create the projection's tables that the database does not hold yet; leave the others as they are.

        Called by ``run`` and ``rebuild`` in their first transaction, before
        any entry is applied. The shipped projection's tables come from the
        migrations, so it creates nothing.
        """
        for table in self.tables:
            table.create(conn, checkfirst=True)

    def handle(self, conn: Connection, entry: RecordedEvent) -> None:
        handler: Callable[[Connection, RecordedEvent], None] | None = getattr(self, f"on_{entry.type}", None)
        if handler is not None:
            handler(conn, entry)

    def flush(self, conn: Connection) -> None:
        """Write what the batch's handlers gathered (nothing, unless a subclass gathers)."""

    def reset(self) -> None:
        """Forget what is kept in memory between entries (nothing, unless a subclass keeps something)."""


@dataclass(frozen=True, slots=True)
class RunReport:
    """What a run did: the entries it applied and where the projection's checkpoint stands."""

    name: str
    entries: int
    position: int
    batches: int


def checkpoint(ledger: Ledger, name: str) -> int:
    """The position of the last entry projection ``name`` applied; 0 if none."""
    with _host(ledger).engine.connect() as conn:  # a read: the runner's write lock is not waited for
        return checkpoints.position(conn, name) or 0


def run(ledger: Ledger, projection: Projection, *, batch: int = 500, follow: bool = False,
        timeout: float | None = None, stop: threading.Event | None = None) -> RunReport:
    """Feed ``projection`` the entries after its checkpoint, ``batch`` per transaction, until the log's end.

    Each batch is one transaction: the entries' handlers, the projection's
    ``flush`` and the checkpoint, together or not at all. With ``follow`` it
    then waits for new entries (as a subscription does) and goes on applying
    them until ``stop`` is set or ``timeout`` seconds pass with nothing new.
    """
    check_count("batch", batch, 1)
    _check_projection(projection)
    recorder, name = _host(ledger), projection.name
    applied = batches = 0
    at = 0
    waiter = recorder.waiter() if follow else None
    stop = stop or threading.Event()
    deadline: float | None = None
    created = False
    try:
        while not stop.is_set():
            if waiter is not None:
                waiter.arm()  # before the read: a commit after it wakes the wait below
            with recorder.projection_transaction(name) as session:
                conn = session.conn
                if not created:
                    projection.create(conn)
                    created = True
                saved = checkpoints.position(conn, name)
                at = saved or 0
                entries, _ = session.following(at, batch)
                for entry in entries:
                    projection.handle(conn, entry)
                projection.flush(conn)
                if entries:
                    at = entries[-1].position
                    checkpoints.save(conn, name, at, exists=saved is not None)
            applied += len(entries)
            batches += bool(entries)
            if len(entries) == batch:
                continue
            if waiter is None:
                break
            if entries or deadline is None:
                deadline = float("inf") if timeout is None else time.monotonic() + timeout
            left = deadline - time.monotonic()
            if left <= 0:
                break
            waiter.wait(min(left, 3600.0), stop)
    except BaseException:
        projection.reset()  # what it kept in memory may be ahead of what was committed
        raise
    finally:
        if waiter is not None:
            waiter.close()
    return RunReport(name, applied, at, batches)


def rebuild(ledger: Ledger, projection: Projection, *, batch: int = 500) -> RunReport:
    """Empty the projection's tables and checkpoint in one transaction, then run it from the log's start."""
    check_count("batch", batch, 1)
    _check_projection(projection)
    projection.reset()
    with _host(ledger).projection_transaction(projection.name) as session:
        projection.create(session.conn)
        for table in projection.tables:
            session.conn.execute(table.delete())
        checkpoints.forget(session.conn, projection.name)
    return run(ledger, projection, batch=batch)


def _check_projection(projection: Projection) -> None:
    if not isinstance(projection, Projection):
        raise InvalidEvent(f"a projection must be a Projection, got {type(projection).__name__}")
    if not isinstance(projection.name, str) or not projection.name.strip() or len(projection.name) > 64:
        raise InvalidEvent(f"a projection needs a name of 1 to 64 characters, got {projection.name!r}")


def _host(ledger: Ledger) -> SqlRecorder:
    """The ledger's recorder, which must be a SQL database: a projection's tables live beside the log."""
    recorder = ledger.recorder
    if not isinstance(recorder, SqlRecorder):
        raise StorageError(f"projections keep their tables in a SQL database; {recorder.url} has none")
    return recorder


# -- the projection that ships: every negotiation's state -----------------------------------------


@dataclass(frozen=True, slots=True)
class NegotiationState:
    """A row of ``negotiation_states``."""

    negotiation_id: str
    state: str
    version: int
    parties: tuple[str, ...]
    open_points: tuple[str, ...]
    #: When the last event of its story happened; None while its story is empty.
    last_event_at: datetime | None
    #: The log position of the entry the row is as of.
    last_position: int


class NegotiationStates(Projection):
    """``negotiation_states``: each negotiation's state, parties, open points and last event, from its story.

    A negotiation's first entry, and an event dated no earlier than its story
    (the usual case), are folded onto the state kept in memory from the entry
    before; a late event, a retraction or a correction, or a negotiation not
    seen yet in this run, is told again from its log up to that entry, read in
    the same transaction. Rows are written once per batch, for the negotiations the
    batch touched.
    """

    name: ClassVar[str] = "negotiation_states"
    tables: ClassVar[tuple[Table, ...]] = (negotiation_states,)

    def __init__(self) -> None:
        self._states = StatesAfter()
        self._pending: dict[str, dict[str, Any]] = {}

    def handle(self, conn: Connection, entry: RecordedEvent) -> None:
        # A negotiation's log is read, in the runner's transaction, only when the entry does not extend its story.
        told = self._states.after(entry, CoreReads(conn).stream)
        self._pending[entry.negotiation_id] = {
            "negotiation_id": entry.negotiation_id, "state": told.state, "version": told.version,
            "parties": list(told.parties), "open_points": list(told.open_disputes),
            "last_event_at": told.updated_at, "last_position": entry.position,
        }

    def flush(self, conn: Connection) -> None:
        rows, self._pending = list(self._pending.values()), {}
        if not rows:
            return
        table = negotiation_states
        stored: set[str] = set()
        for start in range(0, len(rows), 1000):  # drivers cap the parameters of one statement
            ids = [row["negotiation_id"] for row in rows[start:start + 1000]]
            stored.update(conn.scalars(select(table.c.negotiation_id).where(table.c.negotiation_id.in_(ids))))
        updates = [{**{k: v for k, v in row.items() if k != "negotiation_id"}, "key": row["negotiation_id"]}
                   for row in rows if row["negotiation_id"] in stored]
        inserts = [row for row in rows if row["negotiation_id"] not in stored]
        if updates:
            conn.execute(table.update().where(table.c.negotiation_id == bindparam("key")), updates)
        if inserts:
            conn.execute(table.insert(), inserts)

    def reset(self) -> None:
        self._states.forget()
        self._pending.clear()


def states(ledger: Ledger) -> list[NegotiationState]:
    """Every row of ``negotiation_states``, by negotiation id."""
    table = negotiation_states
    with _host(ledger).engine.connect() as conn:
        rows = conn.execute(select(table).order_by(table.c.negotiation_id)).all()
    return [NegotiationState(row.negotiation_id, row.state, row.version, tuple(row.parties),
                             tuple(row.open_points), row.last_event_at, row.last_position) for row in rows]


#: The projections that ship, by name (``negotiation project run NAME``).
PROJECTIONS: Mapping[str, Callable[[], Projection]] = {NegotiationStates.name: NegotiationStates}


def projection_named(name: str) -> Projection:
    """A new instance of the shipped projection called ``name``; UnknownProjection if there is none."""
    make = PROJECTIONS.get(name)
    if make is None:
        raise UnknownProjection(name)
    return make()
