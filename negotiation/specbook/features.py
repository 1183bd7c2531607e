"""The Gherkin features read into plain values, with the official Gherkin parser, for the spec book."""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gherkin.errors import CompositeParserException
from gherkin.parser import Parser

Table = tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Step:
    keyword: str
    text: str
    table: Table = ()


@dataclass(frozen=True)
class Examples:
    name: str
    table: Table


@dataclass(frozen=True)
class Scenario:
    keyword: str
    name: str
    description: str
    steps: tuple[Step, ...]
    examples: tuple[Examples, ...]
    line: int


@dataclass(frozen=True)
class Feature:
    path: Path
    name: str
    description: str
    background: tuple[Step, ...]
    scenarios: tuple[Scenario, ...]


class FeatureFileError(ValueError):
    """A feature file that is not valid Gherkin."""


def _rows(rows: Iterable[Any]) -> Table:
    return tuple(tuple(cell["value"] for cell in row["cells"]) for row in rows)


def _steps(steps: Sequence[Any]) -> tuple[Step, ...]:
    return tuple(
        Step(step["keyword"].strip(), step["text"],
             _rows(step["dataTable"]["rows"]) if "dataTable" in step else ())
        for step in steps
    )


def _scenario(data: Any) -> Scenario:
    examples = tuple(
        Examples(ex["name"], _rows([ex["tableHeader"], *ex.get("tableBody", [])]))
        for ex in data.get("examples", []) if ex.get("tableHeader")
    )
    return Scenario(data["keyword"].strip(), data["name"], textwrap.dedent(data["description"]).strip(),
                    _steps(data["steps"]), examples, data["location"]["line"])


def read_feature(path: Path) -> Feature:
    """Parse one feature file; scenarios inside a ``Rule`` are read in their place."""
    try:
        document: Any = Parser().parse(path.read_text(encoding="utf-8"))
    except CompositeParserException as e:
        raise FeatureFileError(f"{path}: {e}") from None
    feature = document["feature"]
    background: tuple[Step, ...] = ()
    scenarios: list[Scenario] = []
    children = list(feature["children"])
    while children:
        child = children.pop(0)
        if "background" in child and not scenarios:
            background = _steps(child["background"]["steps"])
        elif "scenario" in child:
            scenarios.append(_scenario(child["scenario"]))
        elif "rule" in child:
            children[:0] = [c for c in child["rule"]["children"] if "scenario" in c]
    return Feature(path, feature["name"], textwrap.dedent(feature["description"]).strip(), background,
                   tuple(scenarios))


def read_features(directory: Path) -> list[Feature]:
    """Every ``*.feature`` under ``directory``, in file-name order (files are numbered to read in order)."""
    paths = sorted(directory.glob("**/*.feature"))
    if not paths:
        raise FileNotFoundError(2, "no feature files in", str(directory))
    return [read_feature(path) for path in paths]
