"""What the README says of the machine, the types and the commands matches the code."""

from __future__ import annotations

import re
from pathlib import Path

import negotiation
from negotiation import errors
from negotiation.domain import machine

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_diagram_draws_exactly_the_machines_state_changes() -> None:
    block = README.split("```mermaid", 1)[1].split("```", 1)[0]
    drawn = {
        (source.replace("[*]", machine.NOT_OPENED), dest, event)
        for source, dest, event in re.findall(r"^\s*(\S+) --> (\S+): (\w+)", block, re.MULTILINE)
    }

    changes = {
        (source, dest, event)
        for (source, event), routes in machine.ROUTES.items()
        for dest, _guards in routes
        if dest is not None and dest != source
    }

    assert drawn == changes


def test_the_readme_table_has_a_row_for_every_state() -> None:
    rows = re.findall(r"^\| (\w+) \|", README.split("| state \\ event |", 1)[1], re.MULTILINE)

    assert tuple(rows[: len(machine.STATES)]) == machine.STATES



def test_every_error_the_readme_lists_is_exported_and_every_exported_error_is_listed() -> None:
    table = README.split("Errors all derive from `NegotiationError`:", 1)[1].split("\n\n", 2)[1]
    listed = set(re.findall(r"^\| `(\w+)` \|", table, re.MULTILINE))
    exported = {name for name in negotiation.__all__
                if isinstance(getattr(negotiation, name), type)
                and issubclass(getattr(negotiation, name), errors.NegotiationError)}

    assert listed, table
    assert all(issubclass(getattr(errors, name), errors.NegotiationError) for name in listed)
    assert exported - {"NegotiationError"} == listed
