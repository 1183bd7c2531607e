"""How wide a chart's words are, and where they go so that none runs over another or off the picture.

Vega places every mark where its data says; it does not move a label out of
another's way. So the timeline works out its labels' boxes here, before it
is drawn: each label beside its marks where it fits, on the other side if
not, in lines when it fits on neither, and nowhere past either edge.

Widths are those of DejaVu Sans, the font the charts ask for first (Verdana,
which shares its proportions, second): at least as wide as the usual
sans-serif faces, so a label measured here fits in any of them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

#: The fonts the charts ask for, widest first: the widths here are DejaVu Sans's.
FONT = "DejaVu Sans, Verdana, sans-serif"
_ASCII = "".join(chr(c) for c in range(32, 127))
_MORE = "–—·→≠▼▲…’‘“”é×"
#: Advance widths in ems of DejaVu Sans, then DejaVu Sans Bold, for the characters above.
_REGULAR = (
    0.318, 0.401, 0.46, 0.838, 0.636, 0.95, 0.78, 0.275, 0.39, 0.39, 0.5, 0.838, 0.318, 0.361, 0.318, 0.337,
    0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.636, 0.337, 0.337, 0.838, 0.838, 0.838,
    0.531, 1.0, 0.684, 0.686, 0.698, 0.77, 0.632, 0.575, 0.775, 0.752, 0.295, 0.295, 0.656, 0.557, 0.863, 0.748,
    0.787, 0.603, 0.787, 0.695, 0.635, 0.611, 0.732, 0.684, 0.989, 0.685, 0.611, 0.685, 0.39, 0.337, 0.39, 0.838,
    0.5, 0.5, 0.613, 0.635, 0.55, 0.635, 0.615, 0.352, 0.635, 0.634, 0.278, 0.278, 0.579, 0.278, 0.974, 0.634,
    0.612, 0.635, 0.635, 0.411, 0.521, 0.392, 0.634, 0.592, 0.818, 0.592, 0.592, 0.525, 0.636, 0.337, 0.636,
    0.838, 0.5, 1.0, 0.318, 0.838, 0.838, 0.769, 0.769, 1.0, 0.318, 0.318, 0.518, 0.518, 0.615, 0.838)
_BOLD = (
    0.348, 0.456, 0.521, 0.838, 0.696, 1.002, 0.872, 0.306, 0.457, 0.457, 0.523, 0.838, 0.38, 0.415, 0.38, 0.365,
    0.696, 0.696, 0.696, 0.696, 0.696, 0.696, 0.696, 0.696, 0.696, 0.696, 0.4, 0.4, 0.838, 0.838, 0.838, 0.58,
    1.0, 0.774, 0.762, 0.734, 0.83, 0.683, 0.683, 0.821, 0.837, 0.372, 0.372, 0.775, 0.637, 0.995, 0.837, 0.85,
    0.733, 0.85, 0.77, 0.72, 0.682, 0.812, 0.774, 1.103, 0.771, 0.724, 0.725, 0.457, 0.365, 0.457, 0.838, 0.5,
    0.5, 0.675, 0.716, 0.593, 0.716, 0.678, 0.435, 0.716, 0.712, 0.343, 0.343, 0.665, 0.343, 1.042, 0.712, 0.687,
    0.716, 0.716, 0.493, 0.595, 0.478, 0.712, 0.652, 0.924, 0.645, 0.652, 0.582, 0.712, 0.365, 0.712, 0.838, 0.5,
    1.0, 0.38, 0.838, 0.838, 0.769, 0.769, 1.0, 0.38, 0.38, 0.657, 0.657, 0.678, 0.838)
_WIDTHS = {False: dict(zip(_ASCII + _MORE, _REGULAR)), True: dict(zip(_ASCII + _MORE, _BOLD))}
#: A line of text is this many times its font size high.
LINE = 1.25


def ems(char: str, bold: bool = False) -> float:
    """How wide a character is, in ems: a wide (East Asian) one is a whole em, an unknown one a generous 0.7."""
    known = _WIDTHS[bold].get(char)
    if known is not None:
        return known
    return 1.0 if unicodedata.east_asian_width(char) in ("W", "F") else 0.7


def width(text: str, size: float, bold: bool = False) -> float:
    """How many pixels wide ``text`` is at ``size`` pixels, its widest line when it has several."""
    return max((sum(ems(c, bold) for c in line) * size for line in text.split("\n")), default=0.0)


def wrap(text: str, room: float, size: float, bold: bool = False) -> str:
    """``text`` in lines no wider than ``room`` pixels.

    A label's parts (``22 Jul 2025 · Reuters · reported …``) stay whole when each fits a line; else it
    is broken between words. A word wider than ``room`` is a line of its own: nothing is cut.
    """
    if width(text, size, bold) <= room:
        return text
    parts = text.split(" · ")
    if len(parts) > 1 and all(width(part, size, bold) <= room for part in parts):
        return _fill(parts, " · ", room, size, bold)
    return _fill(text.split(" "), " ", room, size, bold)


def _fill(pieces: list[str], glue: str, room: float, size: float, bold: bool) -> str:
    """``pieces`` joined by ``glue`` into as few lines of ``room`` pixels as they go in, in order."""
    lines: list[str] = []
    for piece in pieces:
        if lines and width(lines[-1] + glue + piece, size, bold) <= room:
            lines[-1] += glue + piece
        else:
            lines.append(piece)
    return "\n".join(lines)


def lines(text: str) -> int:
    return text.count("\n") + 1


@dataclass
class Lane:
    """The stretches of one row of a chart taken by text, from 0 to ``end`` pixels: what is free, what is not."""

    end: float
    taken: list[tuple[float, float]] = field(default_factory=list)
    #: Space kept clear around each piece of text.
    gap: float = 4.0

    def free(self, left: float, right: float) -> bool:
        """Whether ``left`` to ``right`` is inside the row and meets no text already there."""
        return left >= 0 and right <= self.end and all(right + self.gap <= a or left >= b + self.gap
                                                       for a, b in self.taken)

    def take(self, left: float, right: float) -> None:
        self.taken.append((left, right))
