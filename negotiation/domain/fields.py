"""The kinds of value a payload's fields hold: text, names, parties and the terms of a deal.

Each checks what every backend must store faithfully (no NUL, valid Unicode,
numbers exact in every JSON reader) and refuses in words a reader follows.
"""

from __future__ import annotations

import functools
import math
import re
from typing import Annotated, Any

from pydantic import AfterValidator, PlainValidator, StringConstraints

from .wording import json_kind, not_unicode

#: Parties that are not countries: ISO 3166-1 reserves ``EU`` for the European Union.
NON_COUNTRY_PARTIES = frozenset({"EU"})


@functools.cache  # a few hundred codes at most, each looked up in the country table once
def known_party(code: str) -> str:
    # Imported on first use: reading a negotiation never validates a party, and the
    # country table costs a noticeable part of a command's start-up.
    import pycountry

    if code not in NON_COUNTRY_PARTIES and pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code or EU")  # two letters: short
    return code


#: Control characters a terminal acts on (escape sequences, bells, backspaces): text never holds them.
#: Tabs and line breaks are text.
_CONTROLS = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: The two code points XML may not hold at all: text holding one could be stored but never written to the
#: report's Atom feed.
_NOT_XML = re.compile("[\ufffe\uffff]")


#: Every character ``storable_text`` refuses, in one class: text holding none (nearly all) is passed by one
#: search, and only text holding one is looked at again to say what is wrong with it.
_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")


def storable_text(value: str) -> str:
    """Refuse text no database stores faithfully (NUL characters, unpaired surrogates), control
    characters, which would act on the terminal or the page that shows the text, and U+FFFE and U+FFFF,
    which no XML document (the feed) may hold."""
    if _REFUSED.search(value) is None:
        return value
    if "\x00" in value:
        raise ValueError(f"text must not contain NUL characters, got one at character {value.index(chr(0)) + 1}")
    control = _CONTROLS.search(value)
    if control is not None:
        raise ValueError(f"text must not contain control characters, got U+{ord(control.group()):04X} at "
                         f"character {control.start() + 1}")
    odd = _NOT_XML.search(value)
    if odd is not None:
        raise ValueError(f"text must not contain the noncharacter U+{ord(odd.group()):04X}, got one at "
                         f"character {odd.start() + 1}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError(not_unicode(value, e.start)) from None
    return value



#: The most characters a text field (``Text``) and a name (``Name``) may hold.
MAX_TEXT, MAX_NAME = 4000, 200


def _term_text(value: str) -> str:
    """A term's value given as text: what ``Text`` checks, said in the same words."""
    if len(value) > MAX_TEXT:
        raise ValueError(f"text must be at most {MAX_TEXT} characters, got {len(value)}")
    if not value.strip():
        raise ValueError("text must hold at least one non-space character")
    return storable_text(value)


# Text must say something: at least one non-space character, and a sane size.
Text = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT, pattern=r"\S"),
                 AfterValidator(storable_text)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME, pattern=r"\S"),
                 AfterValidator(storable_text)]
Party = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$"), AfterValidator(known_party)]


def _json_scalar(value: object) -> object:
    """Numbers in one canonical form that every backend stores and returns unchanged.

    PostgreSQL's jsonb keeps numbers as decimals: ``5.5e17`` comes back as the
    integer ``550000000000000000`` and ``-0.0`` as ``0.0``. So a whole number is
    always stored as an integer (``2.0`` as ``2``), and every number must lie
    within ±2**53, where integers and floats are exact in every JSON reader.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("numbers must be finite")
    if abs(value) > 2**53:
        raise ValueError("numbers must lie within ±2**53 so every JSON reader keeps them exact")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _term_value(value: object) -> object:
    """A term's value: text, a number or true/false; anything else is refused saying what it got.

    One check instead of a union of types, so a refusal says what the value
    should have been rather than what the union's last member wanted.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return _json_scalar(value)
    if isinstance(value, str):
        return _term_text(value)
    raise ValueError(f"must be text, a number or true/false, got {json_kind(value)}")


# Term values are JSON scalars: text, a whole number, a number or yes/no.
TermValue = Annotated[Any, PlainValidator(_term_value)]
Terms = dict[Name, TermValue]
