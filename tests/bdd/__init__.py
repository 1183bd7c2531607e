"""Step definitions for the Gherkin features in ``features/`` and the transition coverage they measure."""
