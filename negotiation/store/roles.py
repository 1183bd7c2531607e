"""Least privilege on PostgreSQL: an owner, a writer and a reader of the log.

A role that owns a table may do anything to it: ``ALTER TABLE ... DISABLE
TRIGGER``, ``DROP TRIGGER``, ``TRUNCATE``, ``DROP TABLE``. The append-only
triggers hold against everyone else. So the tables belong to one role, the
**owner**, which runs the migrations (``negotiation db upgrade``) and whose
credentials stay out of the application's configuration; the application
connects as the **writer**, which may only add to the log
(``negotiation_events``, ``entry_sources``: ``SELECT`` and ``INSERT``) and
write the tables derived from it (heads, titles, projections and their
checkpoints); a **reader** may only ``SELECT``.

``statements`` is the SQL, written from the three names alone (no
connection), so what ``--print`` shows a DBA is exactly what ``set_up`` runs,
in one transaction. It is idempotent: it makes the roles that are missing,
gives every object to the owner (a no-op for what it owns already), and sets
each privilege of the writer and the reader from nothing (``REVOKE ALL``
then ``GRANT``), so running it again changes nothing.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ..errors import StorageError
from .migrate import HEAD_REVISION

if TYPE_CHECKING:
    import psycopg
    from psycopg.rows import TupleRow

#: The schema the migrations create the tables in (the first of the default ``search_path`` that exists).
SCHEMA = "public"
DEFAULT_WRITER = "negotiation_writer"
DEFAULT_READER = "negotiation_reader"

#: The log: the writer adds to it and reads it, nothing more (no UPDATE, DELETE, TRUNCATE, TRIGGER).
LOG_TABLES = ("negotiation_events", "entry_sources")
#: What the writer may do to each table beside the log, all derived from it or kept beside it.
DERIVED_TABLES: dict[str, tuple[str, ...]] = {
    # each negotiation's folded state and the titles of event files: written on every append or load
    "negotiation_heads": ("SELECT", "INSERT", "UPDATE"),
    "negotiation_titles": ("SELECT", "INSERT", "UPDATE"),
    # projections: a rebuild empties a projection's rows and forgets its checkpoint
    "projection_checkpoints": ("SELECT", "INSERT", "UPDATE", "DELETE"),
    "negotiation_states": ("SELECT", "INSERT", "UPDATE", "DELETE"),
}
#: Alembic's record of the schema's revision: read on every open, written by the owner's migrations only.
REVISION_TABLE = "alembic_version"
#: Every table of the schema, each given a line of privileges below (a test keeps this list complete).
TABLES = (REVISION_TABLE, *LOG_TABLES, *DERIVED_TABLES)
#: The sequence behind ``negotiation_events.position``: an append reads its state and draws from it
#: (``nextval``); only the owner moves it (``setval``, as ``negotiation copy`` does into PostgreSQL).
SEQUENCE = "negotiation_events_position_seq"
#: The triggers' functions: an owner of one could replace its body, so the owner owns them.
FUNCTIONS = ("negotiation_events_append_only()", "negotiation_events_notify()")

#: A role name the SQL can carry as written: no quote, no dollar, none of PostgreSQL's own (``pg_``).
ROLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,62}")

NOT_POSTGRES = "roles are a PostgreSQL matter; on SQLite, file permissions decide who can write"
AS_ADMIN = ("nothing was changed; making a role needs CREATEROLE and giving a table to the owner needs its "
            "owner or a superuser: run it as an admin, or create the roles first")
IN_MEMORY = "roles are a PostgreSQL matter; a log in memory belongs to the process that holds it"


@dataclass(frozen=True)
class Roles:
    """The three roles' names; refused unless they are three different, plain names."""

    owner: str
    writer: str = DEFAULT_WRITER
    reader: str = DEFAULT_READER

    def __post_init__(self) -> None:
        for kind, name in (("owner", self.owner), ("writer", self.writer), ("reader", self.reader)):
            if not ROLE_NAME.fullmatch(name) or name.lower().startswith("pg_"):
                raise StorageError(f"{name!r} is not a role name this command uses for the {kind}: "
                                   "letters, digits, _ and -, at most 63, not starting pg_")
        if len({self.owner, self.writer, self.reader}) < 3:
            raise StorageError(f"the owner, the writer and the reader must be three roles, got {self.owner}, "
                               f"{self.writer} and {self.reader}")


def _ident(name: str) -> str:
    return f'"{name}"'


def _create(name: str) -> str:
    return (f"DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{name}') "
            f"THEN CREATE ROLE {_ident(name)} LOGIN; END IF; END$$")


def sections(roles: Roles) -> list[tuple[str, list[str]]]:
    """The statements, in order, in groups each with the comment that says what it is for."""
    owner, writer, reader = _ident(roles.owner), _ident(roles.writer), _ident(roles.reader)
    both = f"{writer}, {reader}"
    every_table = ", ".join(TABLES)
    by_privileges: dict[tuple[str, ...], list[str]] = {}
    for table, privileges in DERIVED_TABLES.items():
        by_privileges.setdefault(privileges, []).append(table)
    return [
        ("The roles, made when missing (they log in: give each a password or another way to authenticate).",
         [_create(roles.owner), _create(roles.writer), _create(roles.reader)]),
        ("The owner owns every table (the position sequence goes with its table) and the triggers' functions: "
         "only an owner may alter, disable or drop a trigger, truncate or drop a table.",
         [f"ALTER TABLE {table} OWNER TO {owner}" for table in TABLES]
         + [f"ALTER FUNCTION {function} OWNER TO {owner}" for function in FUNCTIONS]),
        ("Only the owner creates objects in the schema (PostgreSQL 15's default for PUBLIC); "
         "the writer and the reader may look in it.",
         [f"REVOKE CREATE ON SCHEMA {SCHEMA} FROM PUBLIC",
          f"GRANT USAGE, CREATE ON SCHEMA {SCHEMA} TO {owner}",
          f"GRANT USAGE ON SCHEMA {SCHEMA} TO {both}"]),
        ("Every privilege of the writer and the reader set from nothing, so that a second run changes nothing.",
         [f"REVOKE ALL ON TABLE {every_table} FROM PUBLIC, {both}",
          f"REVOKE ALL ON SEQUENCE {SEQUENCE} FROM PUBLIC, {both}"]),
        ("The writer adds to the log and never changes it: SELECT and INSERT only.",
         [f"GRANT SELECT, INSERT ON TABLE {', '.join(LOG_TABLES)} TO {writer}",
          f"GRANT USAGE, SELECT ON SEQUENCE {SEQUENCE} TO {writer}",
          f"GRANT SELECT ON TABLE {REVISION_TABLE} TO {writer}"]),
        ("The writer keeps the tables derived from the log.",
         [f"GRANT {', '.join(privileges)} ON TABLE {', '.join(tables)} TO {writer}"
          for privileges, tables in by_privileges.items()]),
        ("The reader reads.",
         [f"GRANT SELECT ON TABLE {every_table} TO {reader}"]),
    ]


def statements(roles: Roles) -> list[str]:
    """What ``set_up`` runs, in one transaction, in this order."""
    return [statement for _, group in sections(roles) for statement in group]


def script(roles: Roles) -> str:
    """The statements as one script for psql, in a transaction, each group under its comment."""
    lines = [f"-- negotiation: owner {roles.owner}, writer {roles.writer}, reader {roles.reader}", "BEGIN;"]
    for comment, group in sections(roles):
        lines += ["", *(f"-- {line}" for line in textwrap.wrap(comment, 100))]
        lines += [f"{statement};" for statement in group]
    return "\n".join([*lines, "", "COMMIT;", ""])


def postgres_url(url: str) -> str:
    """``url`` if it names a PostgreSQL database; else the one-line refusal (SQLite, memory)."""
    if url == "memory://":
        raise StorageError(IN_MEMORY)
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StorageError(f"{url!r} is not a database URL") from None
    if parsed.get_backend_name() != "postgresql":
        raise StorageError(NOT_POSTGRES)
    return url


def url_user(url: str) -> str | None:
    """The role ``url`` connects as, when it names one."""
    return make_url(url).username


@dataclass
class Outcome:
    """What ``set_up`` did: whether anything changed; other roles that hold privileges on the tables."""

    changed: bool
    others: dict[str, list[str]] = field(default_factory=dict)
    #: The server's warnings (a GRANT or REVOKE the connecting role could not make, say).
    warnings: list[str] = field(default_factory=list)


#: Everything the statements set, to tell whether a run changed anything.
STATE = """
    SELECT 'table ' || c.relname || ' ' || pg_get_userbyid(c.relowner) || ' ' || coalesce(c.relacl::text, '')
      FROM pg_class c WHERE c.oid = ANY(%(relations)s::regclass[])
    UNION ALL
    SELECT 'function ' || p.oid::regprocedure::text || ' ' || pg_get_userbyid(p.proowner)
      FROM pg_proc p WHERE p.oid = ANY(%(functions)s::regprocedure[])
    UNION ALL
    SELECT 'schema ' || n.nspname || ' ' || coalesce(n.nspacl::text, '') FROM pg_namespace n
     WHERE n.nspname = %(schema)s
    UNION ALL
    SELECT 'role ' || r.rolname || ' ' || r.rolcanlogin::text FROM pg_roles r WHERE r.rolname = ANY(%(roles)s)
    ORDER BY 1
"""
#: Roles other than the three, PUBLIC and the owner's, that hold privileges on a table or the sequence.
OTHERS = """
    SELECT pg_get_userbyid(a.grantee), c.relname, string_agg(a.privilege_type, ', ' ORDER BY a.privilege_type)
      FROM pg_class c, aclexplode(c.relacl) a
     WHERE c.oid = ANY(%(relations)s::regclass[]) AND a.grantee <> 0 AND a.grantee <> c.relowner
       AND pg_get_userbyid(a.grantee) <> ALL(%(roles)s)
     GROUP BY 1, 2 ORDER BY 1, 2
"""
#: For each existing writer or reader, what would let it past the grants.
TOO_STRONG = """
    SELECT r.rolname,
           r.rolsuper,
           pg_has_role(r.oid, o.oid, 'MEMBER'),
           CASE WHEN to_regrole('pg_write_all_data') IS NULL THEN false  -- before PostgreSQL 14
                ELSE pg_has_role(r.oid, 'pg_write_all_data', 'MEMBER') END
      FROM pg_roles r LEFT JOIN pg_roles o ON o.rolname = %(owner)s
     WHERE r.rolname = ANY(%(limited)s)
"""


def _revision(conn: psycopg.Connection[TupleRow]) -> str | None:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (REVISION_TABLE,)).fetchone()
    if row is None or not row[0]:
        return None
    found = conn.execute(f"SELECT version_num FROM {REVISION_TABLE}").fetchone()
    return None if found is None else str(found[0])


def _check(conn: psycopg.Connection[TupleRow], roles: Roles, shown: str) -> None:
    """Refuse before changing anything: a schema not at head, or roles the grants would not hold."""
    revision = _revision(conn)
    if revision != HEAD_REVISION:
        state = "has no negotiation schema" if revision is None else f"is at schema revision {revision}"
        raise StorageError(f"{shown} {state}, not {HEAD_REVISION}: run `negotiation db upgrade` as the owner first")
    owner = conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", (roles.owner,)).fetchone()
    if owner is not None and owner[0]:
        raise StorageError(f"{roles.owner} is a superuser: name the role that is to own the tables with --owner")
    limited = [roles.writer, roles.reader]
    for name, superuser, member_of_owner, writes_all in conn.execute(
            TOO_STRONG, {"owner": roles.owner, "limited": limited}).fetchall():
        if superuser:
            raise StorageError(f"{name} is a superuser, which no grant limits: choose another role")
        if member_of_owner:
            raise StorageError(f"{name} is a member of {roles.owner}, so it may do what the owner does: "
                               f"REVOKE {_ident(roles.owner)} FROM {_ident(name)}")
        if writes_all:
            raise StorageError(f"{name} is a member of pg_write_all_data, so it may change the log: "
                               f"REVOKE pg_write_all_data FROM {_ident(name)}")


def set_up(url: str, roles: Roles) -> Outcome:
    """Run ``statements(roles)`` on the PostgreSQL database at ``url``, in one transaction, as its user.

    Connect as the owner (which needs ``CREATEROLE`` only while a role is
    missing) or as an admin. Refused, before anything changes, when the schema
    is not at the latest revision or a role the grants limit could get past
    them (a superuser, a member of the owner or of ``pg_write_all_data``), or
    when the owner would be a superuser.
    """
    import psycopg
    import psycopg.errors

    from .postgres import _conninfo, describe

    parsed = make_url(postgres_url(url))
    shown = parsed.render_as_string(hide_password=True)
    names = [roles.owner, roles.writer, roles.reader]
    watched = {"relations": [*TABLES, SEQUENCE], "functions": list(FUNCTIONS), "schema": SCHEMA, "roles": names}
    warnings: list[str] = []
    try:
        with psycopg.connect(_conninfo(parsed)) as conn:
            conn.add_notice_handler(lambda notice: warnings.append(notice.message_primary or "")
                                    if notice.severity_nonlocalized == "WARNING" else None)
            with conn.transaction():
                _check(conn, roles, shown)
                before = conn.execute(STATE, watched).fetchall()
                for statement in statements(roles):
                    conn.execute(statement)
                after = conn.execute(STATE, watched).fetchall()
                others: dict[str, list[str]] = {}
                for grantee, table, privileges in conn.execute(OTHERS, watched).fetchall():
                    others.setdefault(grantee, []).append(f"{privileges} on {table}")
    except psycopg.errors.InsufficientPrivilege as e:
        raise StorageError(f"database error: {describe(e)} ({AS_ADMIN})") from e
    except psycopg.Error as e:
        raise StorageError(f"database error: {describe(e)}") from e
    return Outcome(changed=before != after, others=others, warnings=warnings)
