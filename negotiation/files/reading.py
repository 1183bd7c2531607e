"""Event files people write and edit: YAML (or JSON) documents, one negotiation each.

    negotiation: us-japan-2025
    title: US–Japan tariffs            # optional
    events:
      - type: AgreedInPrinciple
        occurred_at: 2025-07-22
        sources: [Reuters]
        data: {parties: [US, JP]}

YAML is read by the YAML 1.2 core schema, so what looks like text stays text:
``[US, NO]`` is two country codes (YAML 1.1 made Norway ``False``), ``12:30`` is
a string (not 750), ``yes``/``on`` are strings; only ``true``/``false`` are
booleans, ``012`` is twelve, ``0o12`` ten and ``0x1F`` thirty-one, and dates
stay text for the ledger to parse. Merge keys (``<<: *anchor``) still work.
A YAML file may hold several documents separated by ``---``.

A file ending ``.json`` is JSON: one negotiation document, or a list of them.

A document that back-fills history known as it happened says ``backfill:
true``: each of its events that gives no ``reported_at`` was reported when it
occurred (otherwise it counts as reported when it is loaded).

Each event's id is derived from the negotiation id and the event's place in
its document (unless it gives ``event_id``), so loading a file twice records
nothing new.

An item may also retract or correct an earlier event (``type: EventRetracted``
or ``EventCorrected``), naming it by ``target``: its place in the document
(1 for the first item) or its event id. It gives a ``reason`` and, for a
correction, the event's whole new ``data``, its new ``occurred_at`` and/or
``event_reported_at`` (when the event in fact became known):

      - type: EventCorrected
        target: 3
        reason: the order was signed a day later
        occurred_at: 2025-06-17
"""

from __future__ import annotations

import json
import os
import re
import stat
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import yaml
from yaml.constructor import ConstructorError
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ..domain.checks import check_event_id, check_negotiation_id, check_title
from ..domain.payloads import CORRECTION_TYPES, DENIED, RETRACTED
from ..domain.echo import shown
from ..domain.entries import NewEvent
from ..errors import InvalidEvent

#: Namespace of the derived event ids; changing it would make every seed look new.
SEED_NAMESPACE = uuid.UUID("5f0c5a3e-2b7e-4c1a-9d55-3b8f2f1a6e10")
_EVENT_KEYS = {"type", "data", "occurred_at", "reported_at", "sources", "event_id"}
#: A retraction or correction: ``occurred_at`` and ``data`` are the corrected event's new date and data.
_CORRECTION_KEYS = _EVENT_KEYS | {"target", "reason", "by", "statement", "event_reported_at"}

NULL, BOOL, INT, FLOAT, STR, SEQ, MAP = (f"tag:yaml.org,2002:{name}"
                                        for name in ("null", "bool", "int", "float", "str", "seq", "map"))
MERGE = "tag:yaml.org,2002:merge"

#: The YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#103-core-schema): the tag
#: of a plain scalar matching each pattern, listed by the characters it may start
#: with. Anything else, dates included, is a string. Integers come before floats,
#: which would match them too.
CORE_SCHEMA: list[tuple[str, str, list[str]]] = [
    (NULL, r"(?:~|null|Null|NULL|)\Z", ["~", "n", "N", ""]),
    (BOOL, r"(?:true|True|TRUE|false|False|FALSE)\Z", list("tTfF")),
    (INT, r"(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)\Z", list("-+0123456789")),
    (FLOAT, (r"(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
             r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))\Z"), list("-+.0123456789")),
    (MERGE, r"<<\Z", ["<"]),  # not part of the core schema, but anchors are shared this way
]
_PATTERNS = {tag: re.compile(pattern) for tag, pattern, _first in CORE_SCHEMA}
#: The core schema's patterns by the first character of a plain scalar, in the order above.
_BY_FIRST: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
for _tag, _pattern, _first_characters in CORE_SCHEMA:
    for _character in _first_characters:
        _BY_FIRST.setdefault(_character, []).append((_tag, _PATTERNS[_tag]))


def _scalar(loader: Any, node: ScalarNode, tag: str) -> str:
    value = str(loader.construct_scalar(node))
    if not _PATTERNS[tag].match(value):
        raise ConstructorError(None, None, f"{value!r} is not a YAML 1.2 {tag.rsplit(':', 1)[1]}",
                               node.start_mark)
    return value


def construct_bool(loader: Any, node: ScalarNode) -> bool:
    """``true`` or ``false`` (in any of the core schema's three spellings); ``yes``/``on`` are refused."""
    return _bool(_scalar(loader, node, BOOL))


def construct_int(loader: Any, node: ScalarNode) -> int:
    """Decimal (leading zeros do not make it octal), ``0o`` octal or ``0x`` hexadecimal; no sexagesimal."""
    value = _scalar(loader, node, INT)
    try:
        return _int(value)
    except ValueError as e:  # more digits than Python converts
        raise ConstructorError(None, None, f"integer too long: {e}", node.start_mark) from None


def construct_float(loader: Any, node: ScalarNode) -> float:
    """A decimal or exponent float, or ``.inf``, ``-.inf``, ``.nan``; no sexagesimal, no underscores."""
    return _float(_scalar(loader, node, FLOAT))


def _null(_value: str) -> None:
    return None


def _bool(value: str) -> bool:
    return value.lower() == "true"


def _int(value: str) -> int:
    if value.startswith(("0o", "0x")):
        return int(value[2:], 8 if value[1] == "o" else 16)
    return int(value)


def _float(value: str) -> float:
    value = value.lower()
    if value.endswith(".inf"):
        return float(value.replace(".inf", "inf"))
    if value == ".nan":
        return float("nan")
    return float(value)


def core_schema_loader(base: type[Any]) -> type[Any]:
    """A subclass of the PyYAML safe loader ``base`` that resolves plain scalars by the YAML 1.2 core schema.

    The subclass starts from an empty resolver table, so none of YAML 1.1's
    implicit types (yes/no/on/off booleans, sexagesimal numbers, timestamps,
    ``0b`` and ``0``-prefixed octal integers) survive; explicit tags such as
    ``!!int`` are read by the same core-schema rules.
    """
    loader: type[Any] = type(f"CoreSchema{base.__name__}", (base,),
                             {"yaml_implicit_resolvers": {}, "resolve": _resolve})
    for tag, pattern, first in CORE_SCHEMA:
        loader.add_implicit_resolver(tag, _PATTERNS[tag], first)
    loader.add_constructor(BOOL, construct_bool)
    loader.add_constructor(INT, construct_int)
    loader.add_constructor(FLOAT, construct_float)
    loader.construct_document = _construct_document
    loader.construct_mapping = _construct_mapping
    return loader


def _construct_document(loader: Any, node: Node) -> Any:
    """A document's value, once it is known to use no alias but merge keys' (a few lines of aliases can
    stand for more text than any memory holds: refused, as YAML loaders made for untrusted input do)."""
    _refuse_aliases(node)
    return yaml.SafeLoader.construct_document(loader, node)


def _refuse_aliases(root: Node) -> None:
    """Refuse a node reached twice other than through merge keys; each node is walked once."""
    placed: set[int] = set()  # reached where it stands, not through a merge key
    walked: set[int] = set()
    todo: list[tuple[Node, bool]] = [(root, False)]
    while todo:
        node, merged = todo.pop()
        if not merged:
            if id(node) in placed:
                raise ConstructorError(None, None, "an alias (*name) is allowed only as the value of a merge key "
                                       "(<<: *name)", node.start_mark)
            placed.add(id(node))
        if id(node) in walked:
            continue
        walked.add(id(node))
        if isinstance(node, SequenceNode):
            todo.extend((item, merged) for item in node.value)
        elif isinstance(node, MappingNode):
            for key, value in node.value:
                is_merge = key.tag == MERGE
                todo.append((key, False))
                if is_merge and isinstance(value, SequenceNode):
                    walked.add(id(value))
                    todo.extend((item, True) for item in value.value)
                else:
                    todo.append((value, is_merge))


def _construct_mapping(loader: Any, node: MappingNode, deep: bool = False) -> Any:
    """A mapping, refusing a key given twice (YAML requires keys to be unique), named with its line."""
    seen: set[object] = set()
    for key, _value in node.value:
        if isinstance(key, ScalarNode) and key.tag != MERGE:
            if key.value in seen:
                raise ConstructorError(None, None, f"the key {shown(key.value)} is given twice in one mapping",
                                       key.start_mark)
            seen.add(key.value)
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


def _resolve(_loader: Any, kind: type[Node], value: str, implicit: tuple[bool, bool]) -> str:
    """The tag of a node without one: what PyYAML's ``BaseResolver.resolve`` answers for the core schema's
    table above (and no path resolvers), without its generic work for each of a file's many scalars."""
    if kind is ScalarNode:
        if implicit[0]:
            for tag, pattern in _BY_FIRST.get(value[:1], ()):
                if pattern.match(value):
                    return tag
        return STR
    return SEQ if kind is SequenceNode else MAP


#: The loader for event files: libyaml's C parser when PyYAML was built with it, else the pure-Python one.
EventFileLoader = core_schema_loader(yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader)


class _Unusual(Exception):
    """Something the fast reader leaves to PyYAML's own construction (see ``_read_plain``)."""


_NO_KEY = object()
#: The value of a plain scalar of each core schema tag, from its text (which matched the tag's pattern).
_PLAIN: dict[str, Any] = {NULL: _null, BOOL: _bool, INT: _int, FLOAT: _float}


def _read_plain(text: str) -> list[Any]:
    """Every document of ``text``, read from the parser's events, as ``yaml.load_all`` would read them.

    PyYAML builds a node graph of each document, then Python values from it
    by a general machinery made for custom and recursive objects: most of the
    time of reading a large event file. Event files hold plain scalars, lists
    and mappings, so they are built here straight from the (C) parser's
    events, scalars resolved by the same core schema. Anything else (an
    explicit tag, a merge key, a duplicate or undefined anchor, an unhashable
    key, an integer too long, an error of the parser) raises ``_Unusual``, and
    the caller reads the file again the usual way, whose values and errors
    are then PyYAML's.
    """
    loader = EventFileLoader(text)
    by_first, plain, no_key = _BY_FIRST, _PLAIN, _NO_KEY
    scalar, alias, mapping_start, sequence_start = ScalarEvent, AliasEvent, MappingStartEvent, SequenceStartEvent
    mapping_end, sequence_end, document_end, stream_end = (MappingEndEvent, SequenceEndEvent, DocumentEndEvent,
                                                           StreamEndEvent)
    #: Each plain scalar's value by its text: a file repeats most of them (keys, types, sources).
    plain_values: dict[str, Any] = {}
    documents: list[Any] = []
    anchors: dict[str, Any] = {}
    #: The enclosing collections, each with the key it waits to fill (``no_key`` when none).
    stack: list[tuple[Any, Any]] = []
    container: Any = None
    key: Any = no_key
    root: Any = None
    try:
        get = loader.get_event
        while True:
            event = get()
            kind = event.__class__
            if kind is scalar:
                if event.tag is not None:
                    raise _Unusual
                value = event.value
                if event.implicit[0]:
                    known = plain_values.get(value, plain_values)
                    if known is plain_values:
                        known = value
                        for tag, pattern in by_first.get(value[:1], ()):
                            if pattern.match(value):
                                if tag == MERGE:
                                    raise _Unusual
                                known = plain[tag](value)
                                break
                        if known.__class__ is not float:  # each .nan its own, as PyYAML makes them (keys)
                            plain_values[value] = known
                    value = known
                if event.anchor is not None:
                    if event.anchor in anchors:
                        raise _Unusual
                    anchors[event.anchor] = value
            elif kind is mapping_end or kind is sequence_end:
                value = container
                container, key = stack.pop()
            elif kind is mapping_start or kind is sequence_start:
                if event.tag is not None:
                    raise _Unusual
                collection: Any = {} if kind is mapping_start else []
                if event.anchor is not None:
                    if event.anchor in anchors:
                        raise _Unusual
                    anchors[event.anchor] = collection
                stack.append((container, key))
                container, key = collection, no_key
                continue
            elif kind is alias:
                raise _Unusual  # aliases are judged by the loader (only merge keys may use them)
            elif kind is document_end:
                if root is not None:
                    documents.append(root)
                root, anchors = None, {}
                continue
            elif kind is stream_end:
                return documents
            else:  # the stream's and each document's start
                continue
            if container is None:
                root = value
            elif container.__class__ is list:
                container.append(value)
            elif key is no_key:
                if value.__class__ is not str or value in container:
                    raise _Unusual  # a duplicate key is named by the loader; other keys are unusual
                key = value
            else:
                container[key] = value
                key = no_key
    except (yaml.YAMLError, ValueError, TypeError, RecursionError):
        raise _Unusual from None
    finally:
        loader.dispose()


#: An item of a stream: as read from the file, or an event in the form a load checked it to.
StreamItem = dict[str, Any] | NewEvent


@dataclass(frozen=True)
class SeedStream:
    """One negotiation's events as read from a file.

    A load replaces each event it has checked by its checked form (a
    ``NewEvent``), so the document read is not held twice in memory.
    """

    negotiation_id: str
    title: str | None
    events: list[StreamItem]
    source: str


def seed_event_id(negotiation_id: str, ordinal: int) -> str:
    return str(uuid.uuid5(SEED_NAMESPACE, f"{negotiation_id}#{ordinal}"))


def read_seed_file(path: str | Path) -> list[SeedStream]:
    """Parse an event file into streams; raise InvalidEvent naming the file and the faulty place."""
    path = Path(path)
    documents = _json_documents(path) if path.suffix.lower() == ".json" else _yaml_documents(path)
    if not documents:
        raise InvalidEvent(f"{path}: no negotiation in the file")
    return [_stream(path, doc) for doc in documents]


#: The largest event file read (bytes): a bigger one is refused before it is read, so that a wrong path
#: (a device, a disk image) cannot exhaust memory. Far above any negotiation's history.
MAX_FILE = 256 * 1024 * 1024


def _contents(path: Path) -> bytes:
    """The bytes of an event file: a regular file of at most MAX_FILE bytes, else InvalidEvent."""
    try:
        with path.open("rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                raise InvalidEvent(f"{path}: not a regular file")
            data = file.read(MAX_FILE + 1)
    except OSError as e:
        raise InvalidEvent(f"{path}: cannot read: {e.strerror or e}") from None
    if len(data) > MAX_FILE:
        raise InvalidEvent(f"{path}: larger than {MAX_FILE // (1024 * 1024)} MiB, the most an event file may hold")
    return data


def _yaml_documents(path: Path) -> list[object]:
    try:
        text = _contents(path).decode("utf-8")
        try:
            return _read_plain(text)
        except _Unusual:
            return [doc for doc in yaml.load_all(text, Loader=EventFileLoader) if doc is not None]
    except UnicodeDecodeError as e:
        raise InvalidEvent(f"{path}: not UTF-8 text (byte {e.start + 1})") from None
    except RecursionError:
        raise InvalidEvent(f"{path}: not valid YAML: nested too deeply") from None
    except yaml.YAMLError as e:
        where = getattr(e, "problem_mark", None)
        line = f" line {where.line + 1}" if where is not None else ""
        problem = " ".join(str(getattr(e, "problem", None) or e).split())  # one line, even for reader errors
        raise InvalidEvent(f"{path}:{line} not valid YAML: {problem}") from None


def _json_documents(path: Path) -> list[object]:
    text = _contents(path).removeprefix(b"\xef\xbb\xbf")
    try:
        parsed = orjson.loads(text)
    except orjson.JSONDecodeError as e:
        raise InvalidEvent(f"{path}: line {e.lineno} not valid JSON: {e.msg}") from None
    _refuse_duplicate_keys(path, text)
    return parsed if isinstance(parsed, list) else [parsed]


def _refuse_duplicate_keys(path: Path, text: bytes) -> None:
    """Refuse a JSON object that gives a key twice (the fast parser keeps the last silently), naming it."""
    def pairs(items: list[tuple[str, Any]]) -> None:
        if len(dict(items)) < len(items):  # built in C: a fifth less than collecting the keys in Python
            keys = [key for key, _ in items]
            twice = next(key for key in keys if keys.count(key) > 1)
            raise InvalidEvent(f"{path}: not valid JSON: the key {shown(twice)} is given twice in one object")

    json.loads(text, object_pairs_hook=pairs)


def _stream(path: Path, doc: object) -> SeedStream:
    if not isinstance(doc, dict):
        raise InvalidEvent(f"{path}: each document must be a mapping with 'negotiation' and 'events'")
    unknown = set(doc) - {"negotiation", "title", "backfill", "events"}
    if unknown:
        raise InvalidEvent(f"{path}: unknown keys {', '.join(sorted(map(str, unknown)))}")
    try:
        negotiation_id = check_negotiation_id(doc.get("negotiation"))
    except InvalidEvent as e:
        raise InvalidEvent(f"{path}: {e}") from None
    events = doc.get("events")
    if not isinstance(events, list) or not events:
        raise InvalidEvent(f"{path}: {negotiation_id}: 'events' must be a non-empty list")
    title = doc.get("title")
    if title is not None:
        try:
            title = check_title(title)
        except InvalidEvent as e:
            raise InvalidEvent(f"{path}: {negotiation_id}: {e}") from None
    backfill = doc.get("backfill", False)
    if not isinstance(backfill, bool):
        raise InvalidEvent(f"{path}: {negotiation_id}: 'backfill' must be true or false, got {backfill!r}")
    items: list[dict[str, Any]] = []
    for ordinal, item in enumerate(events, start=1):
        if not isinstance(item, dict):
            raise InvalidEvent(f"{path}: {negotiation_id}: event {ordinal} must be a mapping")
        if backfill and "reported_at" not in item and "occurred_at" in item and item.get("type") not in CORRECTION_TYPES:
            item = {**item, "reported_at": item["occurred_at"]}  # history known as it happened
        correction = item.get("type") in CORRECTION_TYPES
        allowed = _CORRECTION_KEYS if correction else _EVENT_KEYS
        if not allowed.issuperset(item):
            unknown = set(item) - allowed
            raise InvalidEvent(
                f"{path}: {negotiation_id}: event {ordinal} has unknown keys {', '.join(sorted(map(str, unknown)))}"
            )
        if "event_id" not in item:  # derived only when not given: a UUID costs more than the rest of the item
            item = {"event_id": seed_event_id(negotiation_id, ordinal), **item}
        if correction:
            item = _correction(f"{path}: {negotiation_id}: event {ordinal} ({item['type']})", ordinal, item, items)
        items.append(item)
    return SeedStream(negotiation_id, title, [*items], str(path))


def is_correction(item: StreamItem) -> bool:
    """Whether an item of a stream retracts or corrects an earlier event rather than being one."""
    return not isinstance(item, NewEvent) and item.get("type") in CORRECTION_TYPES


def _correction(where: str, ordinal: int, item: dict[str, Any], earlier: list[dict[str, Any]]) -> dict[str, Any]:
    """A retraction or correction item with its ``target`` resolved to the event id it names."""
    for key in ("target", "by") if item["type"] == DENIED else ("target", "reason"):
        if key not in item:
            raise InvalidEvent(f"{where} needs a {key}")
    if item["type"] == DENIED and ("data" in item or "occurred_at" in item or "reason" in item):
        raise InvalidEvent(f"{where}: a denial takes a by and a statement, no data, occurred_at or reason")
    if item["type"] == RETRACTED and ("data" in item or "occurred_at" in item):
        raise InvalidEvent(f"{where}: a retraction takes no data or occurred_at; to change them, use EventCorrected")
    target = item["target"]
    if isinstance(target, bool) or not isinstance(target, (int, str)):
        raise InvalidEvent(f"{where}: target must be the place of an earlier event in the document or an event id, "
                           f"got {target!r}")
    if isinstance(target, int):
        if not 1 <= target < ordinal:
            raise InvalidEvent(f"{where}: target {target} is not an earlier event of the document "
                               f"(events 1 to {ordinal - 1})")
        aimed = earlier[target - 1]
        if is_correction(aimed):
            raise InvalidEvent(f"{where}: target {target} is an {aimed['type']}, not an event; "
                               "only events can be retracted, corrected or denied")
        target = aimed["event_id"]
    try:
        return {**item, "target": check_event_id(target), "event_id": check_event_id(item["event_id"])}
    except InvalidEvent as e:
        raise InvalidEvent(f"{where}: {e}") from None
