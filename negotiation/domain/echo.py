"""How a message repeats what a caller gave: short, whatever was given, so a refusal stays one line."""

from __future__ import annotations

#: The most characters of a caller's value a message repeats: a refusal stays one short line.
SHOWN = 60


def shown(value: object) -> str:
    """A value as a message repeats it: its ``repr``, cut to ``SHOWN`` characters, saying how long it was."""
    text = repr(value)
    if len(text) <= SHOWN:
        return text
    size = f"{len(value):,} characters" if isinstance(value, str) else f"{len(text):,} characters written out"
    return f"{text[:SHOWN]}… ({size})"
