"""Commands that follow the log and question its sources: watch, project and sources."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import TypeVar

import click
from rich.table import Table
from rich.text import Text

from ..domain.aggregate import Negotiation
from ..domain.entries import RecordedEvent
from ..domain.replay import StatesAfter
from ..errors import NegotiationError
from ..projections import PROJECTIONS, projection_named, rebuild, run
from ..subscriptions import ENTRY_TYPES
from ..views.words import watch_line
from . import jsonout, render
from .main import console, main, opened

T = TypeVar("T")

#: How ``watch`` styles each kind of piece of its lines.
_STYLES = {"position": "dim", "type": "bold", "sources": "dim"}


def _entry_line(entry: RecordedEvent, after: Negotiation | None) -> Text:
    line = Text()
    for piece in watch_line(entry, after):
        if piece.state is not None:
            line.append_text(render.state_text(piece.state))
        else:
            line.append(piece.text, style=_STYLES.get(piece.kind, ""))
    return line


def watched(entry: RecordedEvent, after: Negotiation | None) -> dict[str, object]:
    """A line of ``watch --json``: the entry's keys as ``history --json`` has them, then ``after``."""
    return {**jsonout.recorded_event(entry), "after": None if after is None else jsonout.negotiation(after)}


@main.command()
@click.argument("negotiation_id", required=False)
@click.option("--type", "types", multiple=True, metavar="TYPE", type=click.Choice(ENTRY_TYPES),
              help="Only entries of this type; repeatable.")
@click.option("--after", type=click.IntRange(min=0), default=0, show_default=True, metavar="N",
              help="Start after log position N (0: from the beginning).")
@click.option("--timeout", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
              help="Stop when nothing new comes for this long (default: run until Ctrl-C or SIGTERM).")
@click.option("--json", "as_json", is_flag=True,
              help="Print JSON lines: each entry as `history --json` prints one, with `after`, the negotiation "
                   "after it as `show --json` prints it (null when it cannot be told).")
@click.pass_context
def watch(ctx: click.Context, negotiation_id: str | None, types: tuple[str, ...], after: int,
          timeout: float | None, as_json: bool) -> None:
    """Print the log's entries as they land, each with the negotiation's state after it, until Ctrl-C.

    It first prints what is already there after --after, then waits. --json prints one JSON object a line.
    SIGTERM (a service manager stopping it) ends it as Ctrl-C does.

    Example: negotiation watch us-japan-2025 --type TermsDisputed --type DisputeResolved
    """
    out = console()
    with opened(ctx) as ledger:
        states = StatesAfter()
        subscription = ledger.subscribe(after, negotiation_id=negotiation_id, types=types or None, timeout=timeout)

        def follow() -> None:
            with subscription:
                for entry in subscription:
                    try:
                        after_entry: Negotiation | None = states.after(entry, ledger.history)
                    except NegotiationError:
                        after_entry = None  # the line still shows the entry
                    if as_json:
                        jsonout.emit_lines([watched(entry, after_entry)])
                        continue
                    out.print(_entry_line(entry, after_entry), highlight=False, soft_wrap=True)
                    out.file.flush()

        until_stopped(follow, subscription.close)


class _StopSignal(Exception):
    """SIGTERM, as a service manager stops a follower: taken as Ctrl-C is."""


def _raise_stop_signal(_signum: int, _frame: object) -> None:
    raise _StopSignal


#: The signals that stop a follower.
_STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM})
#: How long the waiting thread sleeps at most between looks at the signals that came (seconds).
_SIGNAL_LOOK = 0.2


def until_stopped(work: Callable[[], T], stop: Callable[[], object]) -> T | None:
    """``work()`` in a thread of its own, this one waiting for it; on Ctrl-C or SIGTERM, ``stop()`` it and
    give None.

    Ctrl-C raises KeyboardInterrupt wherever the main thread is: inside a database driver's call it
    leaves a connection half-used (PostgreSQL's pool then warns on stderr), inside a subscription it
    could leave its lock held. So the work (reading the log, printing, writing) runs in a thread that
    never sees Ctrl-C; this one only waits. SIGTERM, which a service manager sends to stop a follower,
    ends it the same way instead of killing it on the spot; a second one, while it stops, kills it as
    before. ``stop`` must end the work soon from another thread (closing a subscription, setting a
    projection's stop event). An error of the work is raised here, as the command's.
    """
    # Signal handlers can be set only from the main thread (a command run from another keeps its own);
    # as Python does for Ctrl-C, a SIGTERM that was ignored when the command started stays ignored, and
    # a handler of the caller's own is kept.
    on_main_thread = threading.current_thread() is threading.main_thread()
    ours = on_main_thread and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    # Both signals are held back until the work has started and is waited on. A watch was once seen to
    # take Ctrl-C and never end, its main thread done and its work's thread still waiting: an interrupt
    # inside ``submit``, as the thread starts, leaves a thread the executor does not know to stop or
    # join. The work's thread starts with them blocked, so they only ever reach this one.
    # (POSIX only: elsewhere there is no mask to hold them with.)
    can_hold = on_main_thread and hasattr(signal, "pthread_sigmask")
    held = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS) if can_hold else None

    def release() -> None:
        if held is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)

    def restore() -> None:
        if ours:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)

    if ours:
        signal.signal(signal.SIGTERM, _raise_stop_signal)
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="negotiation-follow") as worker:
            try:
                doing = worker.submit(work)
                release()  # a signal that came meanwhile is taken here
                # A signal's handler runs when this thread next runs Python. The kernel may hand the signal
                # to another thread of the process (one a library started), leaving this one asleep on the
                # work: it wakes to look, a few times a second.
                while not wait([doing], timeout=_SIGNAL_LOOK).done:
                    pass
                return doing.result()  # the work's error, if any, raised here with its traceback
            except (KeyboardInterrupt, _StopSignal):
                restore()
                stop()  # leaving the block waits for the work to end
                return None
    finally:
        release()
        restore()


@main.group()
def project() -> None:
    """Keep read models (projections) in the database, fed from the log with a checkpoint.

    Example: negotiation project run negotiation_states
    """


_NAME = click.argument("name", type=click.Choice(list(PROJECTIONS)))
_BATCH = click.option("--batch", type=click.IntRange(min=1), default=500, show_default=True, metavar="N",
                      help="Entries per transaction.")


@project.command("run")
@_NAME
@_BATCH
@click.option("--follow", is_flag=True,
              help="Then keep applying new entries as they land, until Ctrl-C or SIGTERM.")
@click.pass_context
def project_run(ctx: click.Context, name: str, batch: int, follow: bool) -> None:
    """Apply the entries after the projection's checkpoint, a batch per transaction.

    Example: negotiation project run negotiation_states --follow
    """
    with opened(ctx, write=True) as ledger:
        stop = threading.Event()
        report = until_stopped(
            lambda: run(ledger, projection_named(name), batch=batch, follow=follow, stop=stop), stop.set)
        if report is None:  # stopped by Ctrl-C or SIGTERM: what was applied is kept, a whole batch at a time
            return
    console().print(f"{name}: applied {report.entries} entries in {report.batches} batches; "
                    f"checkpoint at position {report.position}")


@project.command("rebuild")
@_NAME
@_BATCH
@click.pass_context
def project_rebuild(ctx: click.Context, name: str, batch: int) -> None:
    """Empty the projection's tables and checkpoint, then apply the whole log again.

    Example: negotiation project rebuild negotiation_states
    """
    with opened(ctx, write=True) as ledger:
        report = rebuild(ledger, projection_named(name), batch=batch)
    console().print(f"{name}: rebuilt from {report.entries} entries; checkpoint at position {report.position}")


@main.command()
@jsonout.OPTION
@click.pass_context
def sources(ctx: click.Context, as_json: bool) -> None:
    """List every source named in the log: its entries, negotiations, and how many were retracted or corrected.

    Example: negotiation sources
    """
    with opened(ctx) as ledger:
        summaries = ledger.sources()
    if as_json:
        jsonout.emit([jsonout.source_summary(summary) for summary in summaries])
        return
    if not summaries:
        console().print("no sources named in the log")
        return
    table = Table()
    table.add_column("source")
    for heading in ("entries", "negotiations", "retracted", "corrected"):
        table.add_column(heading, justify="right")
    for summary in summaries:
        table.add_row(render.plain(summary.source), str(summary.entries), str(summary.negotiations),
                      str(summary.retracted), str(summary.corrected))
    console().print(table)
