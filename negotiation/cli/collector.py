"""The ``load`` command's own process, tuned for a bulk load: Python's cycle collector spared the files.

A parsed event file is millions of dicts, lists and strings that live until
the load ends, and none of them is in a reference cycle: reference counting
frees them. The collector cannot know that. Each collection of its oldest
generation walks every object alive, so while a file is parsed (the document
growing all the time) and while it is loaded (the document held) it walks
the same objects again and again: a fifth of a 50,000-event JSON load's time
(``python -m benchmarks.load``).

The library leaves the collector alone: a process's collector is its
owner's to tune. The command owns its process, so it tunes it here, and
both helpers put back what they change (the command also runs inside other
processes: ``CliRunner``, ``demo``).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """No collection inside the block (a parser makes no cycles, so nothing is lost by waiting)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def frozen() -> Iterator[None]:
    """Everything alive now (the files as read) is kept out of collections until the block ends.

    ``gc.freeze`` moves every tracked object to a generation no collection
    walks; objects made inside the block are collected as usual. A process
    that has frozen objects itself is left as it is: unfreezing would undo
    its own freeze.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
