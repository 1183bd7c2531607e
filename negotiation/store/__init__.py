"""Storage: the port (``recorder``), a recorder per backend (``sqlite``, ``postgres``, ``memory``) and the
one place that chooses between them (``opening``), the SQL schema, the migration runner and the copy."""
