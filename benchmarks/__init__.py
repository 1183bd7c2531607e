"""Benchmarks of the ledger against plain sqlite3 and eventsourcing; not part of the installed package."""

import warnings

from negotiation.errors import BackdatedReport

# The workloads record history dated in the past with no report dates, on purpose (as a caller
# who gives none does): the ledger's warning about it would print once per negotiation.
warnings.filterwarnings("ignore", category=BackdatedReport)
