"""Where the files shipped beside the code are: inside the wheel, or at the top of a checkout.

The repository keeps ``migrations/``, ``seeds/`` and ``features/`` at its top;
the wheel carries them inside the package as ``_migrations``, ``_seeds`` and
``_features`` so a plain ``pip install`` can upgrade, demo and write the spec book.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def bundled(name: str) -> Path:
    """The shipped folder ``name`` (``migrations``, ``seeds`` or ``features``)."""
    for candidate in (PACKAGE / f"_{name}", PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the {name} folder is missing from this installation of negotiation")
