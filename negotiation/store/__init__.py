"""SQL storage: the schema, the engine, the append-only log and the migration runner."""
