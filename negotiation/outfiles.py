"""Files written whole: a temporary file beside the target, renamed over it once complete.

A page or a book interrupted while it is written (a full disk, a kill) leaves
the file as it was before, never half of the new one.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_whole(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path``, making its folder; the old file stays until the new one is whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
