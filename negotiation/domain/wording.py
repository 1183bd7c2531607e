"""Refusals in words: what pydantic found wrong with a payload, said as a reader would say it.

Every message names the field and what was wrong (``terms.auto tariff: must be
text, a number or true/false, got a list``), never pydantic's own wording.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import islice
from typing import get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails


def not_unicode(value: str, index: int) -> str:
    """What is wrong with text holding a lone surrogate at ``index``."""
    return (f"text must be valid Unicode, got a lone surrogate (U+{ord(value[index]):04X}) "
            f"at character {index + 1}")


def json_kind(value: object) -> str:
    """What a JSON value is, in words: text, a number, true/false, null, a list or an object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__


#: Problems named in one refusal; more are counted.
_SHOWN_PROBLEMS = 3


def refusal_words(error: ValidationError, model: type[BaseModel]) -> str:
    """The first few problems pydantic found, each as ``field: what was wrong``, and how many more, on one line."""
    # A dict keeps the first-found order and finds a problem already said in constant time: a payload
    # with hundreds of thousands of bad values is refused in time linear in them, not quadratic.
    said = dict.fromkeys(_problem(detail, model) for detail in error.errors())
    more = len(said) - _SHOWN_PROBLEMS
    return "; ".join(islice(said, _SHOWN_PROBLEMS)) + (f"; and {more:,} more" if more > 0 else "")


def _shown(value: object, limit: int = 40) -> str:
    """A value quoted for a message, cut short when long (a key or text may be millions of characters)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit - 6]}…{text[-5:]}"


def _problem(detail: ErrorDetails, model: type[BaseModel]) -> str:
    """One pydantic error as ``field: what was wrong``, in words."""
    loc = list(detail["loc"])
    key = None
    if detail["type"] == "missing" and len(loc) == 2 and isinstance(loc[-1], int):  # a pair short of items
        needed = _items_needed(model, str(loc[0]))
        return f"{_where(loc[:-1])}: must hold {needed or 'more'} items, got {len(detail['input'])}"
    if loc and loc[-1] == "[key]":  # the name of a mapping's entry is wrong, not its value
        key = loc[-2]
        loc = loc[:-2]
    what = _what(detail, model)
    if key is not None and _shown(key) not in what:
        what = f"the name {_shown(key)}: {what}"
    if not loc:
        return what
    return f"{_where(loc)}: {what}"


def _where(loc: list[int | str]) -> str:
    """A field's path, ``terms.auto tariff``; a name that is not plain printable text is quoted and cut short."""
    return ".".join(str(part) if isinstance(part, int) or (part.isprintable() and len(part) <= 40) else _shown(part)
                    for part in loc)


def _items_needed(model: type[BaseModel], name: str) -> int | None:
    """How many items a fixed-length field (a pair of parties) holds; None if it is not one."""
    field = model.model_fields.get(name)
    kinds = [field.annotation] if field is not None else []
    while kinds:
        kind = kinds.pop()
        if get_origin(kind) is tuple and Ellipsis not in get_args(kind):
            return len(get_args(kind))
        kinds.extend(get_args(kind))
    return None


def _what(detail: ErrorDetails, model: type[BaseModel]) -> str:
    kind, value, context = detail["type"], detail["input"], detail.get("ctx") or {}
    if kind == "value_error" or kind == "assertion_error":
        return str(context.get("error", detail["msg"]))
    if kind == "missing":
        return "Field required"
    if kind == "extra_forbidden":
        return f"not a field of {model.__name__} (its fields: {', '.join(model.model_fields)})"
    if kind == "string_type":
        return f"must be text, got {json_kind(value)}"
    if kind == "string_too_short":
        return "text must not be empty"
    if kind == "string_too_long":
        return f"text must be at most {context['max_length']} characters, got {len(value)}"
    if kind == "string_pattern_mismatch":
        if context.get("pattern") == r"\S":
            return "text must hold at least one non-space character"
        return f"must be a two-letter party code such as US, JP or EU, got {_shown(value)}"
    if kind == "string_unicode" and isinstance(value, str):
        return not_unicode(value, next(i for i, c in enumerate(value) if "\ud800" <= c <= "\udfff"))
    if kind in ("list_type", "tuple_type"):
        return f"must be a list, got {json_kind(value)}"
    if kind == "dict_type":
        return f"must be an object, got {json_kind(value)}"
    if kind == "too_short":
        least = context["min_length"]
        return f"must hold at least {least} item{'s' if least != 1 else ''}, got {context['actual_length']}"
    if kind == "too_long":
        return f"must hold at most {context['max_length']} items, got {context['actual_length']}"
    if kind.startswith("date"):
        return f"must be an ISO date (YYYY-MM-DD), got {_shown(value)}"
    if kind.startswith("int"):
        return f"must be a whole number, got {_shown(value)}"
    if kind.startswith("bool"):
        return f"must be true or false, got {_shown(value)}"
    return str(detail["msg"])
