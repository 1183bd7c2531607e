"""Benchmarks of the ledger against plain sqlite3 and eventsourcing; not part of the installed package."""
