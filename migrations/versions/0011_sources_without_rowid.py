"""On SQLite, the index of sources becomes one B-tree: ``entry_sources`` is made ``WITHOUT ROWID``.

Its rows are only ever found by their key (source, position), so the rowid
table SQLite keeps beside the key's index held nothing a reader asks for, and
each append wrote a page of both. Keyed by its primary key alone, an append
writes the key's pages only: about one page (a WAL frame) less per append.
The rows are copied as they are. PostgreSQL has no rowid: nothing changes there.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    _rebuild_on_sqlite(with_rowid=False)


def downgrade() -> None:
    _rebuild_on_sqlite(with_rowid=True)


def _rebuild_on_sqlite(*, with_rowid: bool) -> None:
    """Copy ``entry_sources`` into a table of the same columns and key, with or without a rowid."""
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table("entry_sources", recreate="always",
                              table_kwargs={"sqlite_with_rowid": with_rowid}):
        pass
