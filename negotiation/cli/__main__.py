"""``python -m negotiation.cli``: the same as the ``negotiation`` command."""

from .main import main

main()
