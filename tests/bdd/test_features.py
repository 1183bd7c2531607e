"""Every scenario of ``features/``, run against the ledger on one backend, some also on PostgreSQL.

The machine does not depend on where the events are stored, so the scenarios run on one backend
(``BACKEND``); the scenarios of ``ON_POSTGRES_TOO`` run on PostgreSQL as well, a smoke run of the
steps on the server (the storage tests run on every backend).
"""

from inspect import isfunction
from pathlib import Path

import pytest
from pytest_bdd import scenarios
from pytest_bdd.scenario import scenario_wrapper_template_registry

from .coverage import feature_paths

#: The one backend of the feature suite.
BACKEND = "memory"

#: The feature files whose scenarios also run on PostgreSQL: writers racing and retrying, a whole
#: seed story in one batch, and what was true as against what was known when.
ON_POSTGRES_TOO = frozenset({"07_concurrent_writers.feature", "09_seed_story.feature",
                             "13_what_was_true_and_what_was_known.feature"})

# Asking for the world up front makes pytest parametrise each scenario over its backends.
pytestmark = [pytest.mark.usefixtures("world"), pytest.mark.backends(BACKEND)]

scenarios(*feature_paths())

for _test in [value for value in globals().values() if isfunction(value)]:
    if (_template := scenario_wrapper_template_registry.get(_test)) is not None:
        if Path(_template.feature.filename).name in ON_POSTGRES_TOO:
            pytest.mark.backends(BACKEND, "postgres")(_test)
