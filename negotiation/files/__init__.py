"""Event files: reading the documents people write and loading them into a ledger."""
