"""Files written whole: a temporary file beside the target, renamed over it once complete.

A page, a book or an export interrupted while it is written (a full disk, a
kill) leaves the file as it was before, never half of the new one. The file
gets the permissions a plain ``open()`` would give it (0666 less the umask):
a report is published by a web server running as another user, an export is
handed on.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO


@contextlib.contextmanager
def replacing(path: Path, *, newline: str | None = None) -> Iterator[TextIO]:
    """A new text file (UTF-8) beside ``path``, renamed over it when the block ends, removed if it raises."""
    for _ in range(100):  # a name another writer took (or left) is tried again
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.part")
        try:
            handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(f"no free name for a temporary file beside {path}")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline=newline) as out:
            yield out
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_whole(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path``, making its folder; the old file stays until the new one is whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with replacing(path) as out:
        out.write(text)
    return path
