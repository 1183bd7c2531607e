"""Every scenario of ``features/``, run against the ledger on each backend (SQLite file, PostgreSQL)."""

import pytest
from pytest_bdd import scenarios

from .coverage import feature_paths

# Asking for the world up front makes pytest parametrise each scenario over the ledger's backends.
pytestmark = pytest.mark.usefixtures("world")

scenarios(*feature_paths())
