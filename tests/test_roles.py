"""Least privilege on PostgreSQL (``negotiation db roles``, negotiation/store/roles.py): the owner owns the
tables and migrates, the writer adds to the log and keeps what is derived from it but can neither change the
log nor touch its triggers, the reader only reads; the SQL printed is the SQL applied, and applying it twice
changes nothing.

Each test makes its own roles and database (the owner owns the database, as the README sets it up) and drops
them at the end; the writer and the reader connect as themselves (the server trusts local connections).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import psycopg.errors
import pytest
from click.testing import CliRunner, Result
from psycopg.rows import TupleRow
from sqlalchemy.engine import make_url

from negotiation import Ledger
from negotiation.cli import main
from negotiation.projections import NegotiationStates, rebuild, run, states
from negotiation.store import roles
from negotiation.store.migrate import head_revision
from negotiation.store.schema import metadata

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "us-japan-2025.yaml"

#: Who owns what, every privilege on it, the schema's privileges and the roles' attributes.
PRIVILEGES = """
    SELECT 'relation', concat_ws(' ', c.relname, c.relkind::text, pg_get_userbyid(c.relowner), c.relacl::text)
      FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'S', 'v', 'm')
    UNION ALL
    SELECT 'function', concat_ws(' ', p.oid::regprocedure::text, pg_get_userbyid(p.proowner), p.proacl::text)
      FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
    UNION ALL
    SELECT 'schema', concat_ws(' ', nspname, pg_get_userbyid(nspowner), nspacl::text) FROM pg_namespace
     WHERE nspname = 'public'
    UNION ALL
    SELECT 'role', concat_ws(' ', rolname, rolsuper::text, rolcanlogin::text, rolcreaterole::text,
                             rolcreatedb::text, rolbypassrls::text)
      FROM pg_roles WHERE rolname = ANY(%s)
    UNION ALL
    SELECT 'member', concat_ws(' ', pg_get_userbyid(roleid), pg_get_userbyid(member))
      FROM pg_auth_members WHERE pg_get_userbyid(member) = ANY(%s)
    ORDER BY 1, 2
"""
#: The log's triggers: each with its definition and whether it fires.
TRIGGERS = ("SELECT tgname, tgenabled::text, pg_get_triggerdef(oid) FROM pg_trigger "
            "WHERE tgrelid = 'negotiation_events'::regclass AND NOT tgisinternal ORDER BY tgname")
EXPECTED_TRIGGERS = {"negotiation_events_no_rewrite", "negotiation_events_no_truncate", "negotiation_events_notify"}


@dataclass
class Cluster:
    """A database owned by its own owner role, with the names of the writer and the reader to be."""

    admin: str  # libpq's URL of the admin, on the server's maintenance database
    database: str
    owner: str
    writer: str
    reader: str

    def libpq(self, role: str) -> str:
        return psycopg.conninfo.make_conninfo(self.admin, user=role, dbname=self.database)

    def url(self, role: str) -> str:
        """The URL the ledger and the command take, connecting as ``role``."""
        return make_url(self.admin).set(drivername="postgresql+psycopg", username=role, database=self.database) \
            .render_as_string(hide_password=False)

    def connect(self, role: str, *, autocommit: bool = True) -> psycopg.Connection[TupleRow]:
        return psycopg.connect(self.libpq(role), autocommit=autocommit)

    def cli(self, role: str, *args: str) -> Result:
        return CliRunner().invoke(main, ["--url", self.url(role), *args])

    def roles(self, role: str, *args: str) -> Result:
        """``db roles`` with this cluster's writer and reader, run as ``role``."""
        return self.cli(role, "db", "roles", "--writer", self.writer, "--reader", self.reader, *args)

    def privileges(self) -> list[TupleRow]:
        names = [self.owner, self.writer, self.reader]
        with self.connect("postgres") as conn:
            return conn.execute(PRIVILEGES, (names, names)).fetchall()


def _admin(admin: str, *statements: str) -> None:
    with psycopg.connect(admin, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


@pytest.fixture
def cluster(postgres_admin: str) -> Iterator[Cluster]:
    """An owner role (it logs in, no other attribute), a database it owns, and names for a writer and a reader.

    The roles are dropped at the end, after the database (which holds every privilege given to them).
    """
    tag = uuid.uuid4().hex[:10]
    made = Cluster(postgres_admin, f"negotiation_roles_{tag}", f"owner_{tag}", f"writer_{tag}", f"reader_{tag}")
    _admin(postgres_admin, f'CREATE ROLE "{made.owner}" LOGIN')
    try:
        _admin(postgres_admin, f'CREATE DATABASE "{made.database}" OWNER "{made.owner}"')
        try:
            yield made
        finally:
            _admin(postgres_admin, f'DROP DATABASE IF EXISTS "{made.database}" WITH (FORCE)')
    finally:
        _admin(postgres_admin, *(f'DROP ROLE IF EXISTS "{name}"' for name in (made.writer, made.reader, made.owner)))


def _ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def granted(cluster: Cluster) -> Cluster:
    """Migrated by the owner, then the roles set up by an admin (the owner may not create roles)."""
    _ok(cluster.cli(cluster.owner, "db", "upgrade"))
    set_up = _ok(cluster.roles("postgres", "--owner", cluster.owner))
    assert set_up.stdout.startswith("roles set up:"), set_up.output
    return cluster


# -- the writer -----------------------------------------------------------------------------------------


def test_the_writer_records_reads_verifies_and_runs_projections(granted: Cluster) -> None:
    with Ledger.open(granted.url(granted.writer)) as ledger:
        ledger.record("us-uk-2025", "AgreedInPrinciple", {"parties": ["US", "GB"]}, occurred_at="2025-05-08")
        ledger.record("us-uk-2025", "TermsDisputed", {"point": "beef"}, occurred_at="2025-05-20", sources=["FT"])
        negotiation = ledger.get("us-uk-2025")
        applied = run(ledger, NegotiationStates())
        rebuilt = rebuild(ledger, NegotiationStates())
        rows = states(ledger)
        report = ledger.verify()

    assert negotiation.version == 2 and negotiation.open_disputes
    assert applied.entries == 2 and rebuilt.entries == 2
    assert [(row.negotiation_id, row.version) for row in rows] == [("us-uk-2025", 2)]
    assert report.intact and report.events == 2


def test_the_writer_loads_files_again_and_again_and_runs_the_commands(granted: Cluster) -> None:
    first = _ok(granted.cli(granted.writer, "load", str(SEED)))
    again = _ok(granted.cli(granted.writer, "load", str(SEED)))  # the title is written again: an upsert
    projected = _ok(granted.cli(granted.writer, "project", "run", "negotiation_states"))
    verified = _ok(granted.cli(granted.writer, "verify"))

    assert "events recorded, 0 already stored" in first.stdout
    assert "0 events recorded" in again.stdout
    assert "negotiation_states: applied" in projected.stdout
    assert verified.stdout.startswith("intact:")


#: A trigger function any role may name: a trigger of the writer's own would run it on the log.
LIFT = "suppress_redundant_updates_trigger()"
#: What an application's credentials must not allow, each refused by the server for want of privilege.
ATTACKS = [
    "UPDATE negotiation_events SET type = type",
    "DELETE FROM negotiation_events",
    "TRUNCATE negotiation_events",
    "ALTER TABLE negotiation_events DISABLE TRIGGER negotiation_events_no_rewrite",
    "ALTER TABLE negotiation_events DISABLE TRIGGER ALL",
    "DROP TRIGGER negotiation_events_no_rewrite ON negotiation_events",
    "DROP TRIGGER negotiation_events_no_truncate ON negotiation_events",
    "DROP TABLE negotiation_events",
    "DROP TABLE negotiation_events CASCADE",
    f"CREATE TRIGGER lift BEFORE INSERT ON negotiation_events FOR EACH ROW EXECUTE FUNCTION {LIFT}",
    "ALTER TABLE negotiation_events OWNER TO CURRENT_USER",
    "ALTER TABLE negotiation_events RENAME TO old_events",
    "CREATE OR REPLACE FUNCTION negotiation_events_append_only() RETURNS trigger LANGUAGE plpgsql "
    "AS 'BEGIN RETURN OLD; END'",
    "DROP FUNCTION negotiation_events_append_only() CASCADE",
    "SET session_replication_role = replica",
    "UPDATE entry_sources SET source = source",
    "DELETE FROM entry_sources",
    "TRUNCATE entry_sources",
    "DROP TABLE entry_sources",
    "ALTER TABLE entry_sources DISABLE TRIGGER ALL",
    f"CREATE TRIGGER lift BEFORE INSERT ON entry_sources FOR EACH ROW EXECUTE FUNCTION {LIFT}",
    "TRUNCATE negotiation_heads",
    "DROP TABLE negotiation_states",
    "UPDATE alembic_version SET version_num = '0001'",
    "SELECT setval('negotiation_events_position_seq', 1)",
    "ALTER SEQUENCE negotiation_events_position_seq RESTART",
    "CREATE TABLE negotiation_events_copy (LIKE negotiation_events)",
]


@pytest.fixture
def recorded(granted: Cluster) -> Cluster:
    """Two events recorded by the writer."""
    with Ledger.open(granted.url(granted.writer)) as ledger:
        ledger.record("us-uk-2025", "AgreedInPrinciple", {"parties": ["US", "GB"]}, occurred_at="2025-05-08")
        ledger.record("us-uk-2025", "TermsDisputed", {"point": "beef"}, occurred_at="2025-05-20", sources=["FT"])
    return granted


def test_the_writer_can_neither_change_the_log_nor_lift_its_triggers(recorded: Cluster) -> None:
    with recorded.connect("postgres") as admin:
        triggers = admin.execute(TRIGGERS).fetchall()
        stored = admin.execute("SELECT * FROM negotiation_events ORDER BY position").fetchall()
    refused = {}
    with recorded.connect(recorded.writer) as writer:
        for statement in ATTACKS:
            with pytest.raises(psycopg.errors.InsufficientPrivilege) as caught:
                writer.execute(statement)
            refused[statement] = str(caught.value).splitlines()[0]

    with recorded.connect("postgres") as admin:
        assert admin.execute(TRIGGERS).fetchall() == triggers
        assert admin.execute("SELECT * FROM negotiation_events ORDER BY position").fetchall() == stored
    assert {name for name, enabled, _ in triggers if enabled == "O"} == EXPECTED_TRIGGERS  # fire as origin
    assert refused["ALTER TABLE negotiation_events DISABLE TRIGGER ALL"] == "must be owner of table negotiation_events"
    assert refused["UPDATE negotiation_events SET type = type"] == "permission denied for table negotiation_events"
    with Ledger.open(recorded.url(recorded.writer)) as ledger:
        assert ledger.verify().intact


# -- the reader -----------------------------------------------------------------------------------------


def test_the_reader_shows_lists_and_verifies_and_cannot_write(recorded: Cluster) -> None:
    shown = _ok(recorded.cli(recorded.reader, "show", "us-uk-2025"))
    listed = _ok(recorded.cli(recorded.reader, "list"))
    verified = _ok(recorded.cli(recorded.reader, "verify"))
    record = recorded.cli(recorded.reader, "record", "us-uk-2025", "DisputeResolved", "--data", '{"point": "beef"}')
    with Ledger.open(recorded.url(recorded.reader), upgrade=False) as ledger:
        negotiation = ledger.get("us-uk-2025")

    assert "us-uk-2025" in shown.stdout and "us-uk-2025" in listed.stdout
    assert verified.stdout.startswith("intact: 2 events in 1 negotiations")
    assert negotiation.version == 2
    assert record.exit_code == 1 and "permission denied" in record.stderr
    assert len(record.stderr.strip().splitlines()) == 1
    with recorded.connect(recorded.reader) as reader:
        for statement in ("INSERT INTO negotiation_events SELECT * FROM negotiation_events LIMIT 0",
                          "INSERT INTO entry_sources VALUES ('x', 1, 'us-uk-2025')",
                          "UPDATE negotiation_heads SET version = version",
                          "INSERT INTO negotiation_titles VALUES ('us-uk-2025', 'x')",
                          "DELETE FROM projection_checkpoints",
                          "SELECT nextval('negotiation_events_position_seq')"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                reader.execute(statement)
    with Ledger.open(recorded.url(recorded.writer)) as ledger:
        assert ledger.get("us-uk-2025").version == 2


# -- the command ----------------------------------------------------------------------------------------


def test_running_db_roles_again_changes_nothing_as_admin_or_as_owner(granted: Cluster) -> None:
    once = granted.privileges()

    by_owner = _ok(granted.roles(granted.owner))  # the roles exist now: the owner needs no CREATEROLE
    after_owner = granted.privileges()
    by_admin = _ok(granted.roles("postgres", "--owner", granted.owner))

    assert by_owner.stdout.startswith("roles already set up, nothing changed: ")
    assert by_admin.stdout.startswith("roles already set up, nothing changed: ")
    assert after_owner == once and granted.privileges() == once
    assert not by_owner.stderr and not by_admin.stderr


def test_the_printed_sql_is_what_the_command_applies(cluster: Cluster) -> None:
    _ok(cluster.cli(cluster.owner, "db", "upgrade"))
    printed = _ok(cluster.roles(cluster.owner, "--print")).stdout
    before = cluster.privileges()

    with cluster.connect("postgres") as admin:  # a DBA runs it as a script, as psql -f would
        admin.execute(printed)
    applied = cluster.privileges()
    then = _ok(cluster.roles("postgres", "--owner", cluster.owner))

    assert printed == roles.script(roles.Roles(cluster.owner, cluster.writer, cluster.reader))
    assert applied != before
    assert then.stdout.startswith("roles already set up, nothing changed: ")
    assert cluster.privileges() == applied
    ours = roles.statements(roles.Roles(cluster.owner, cluster.writer, cluster.reader))
    at = 0
    for statement in ours:  # every statement the command runs, in its order
        at = printed.index(f"{statement};\n", at) + 1
    assert printed.startswith("-- negotiation:") and "BEGIN;\n" in printed and printed.endswith("COMMIT;\n")


def test_printing_needs_no_server() -> None:
    printed = CliRunner().invoke(main, ["--url", "postgresql://app@nowhere.invalid/talks", "db", "roles", "--print"])

    assert printed.exit_code == 0, printed.output
    assert 'ALTER TABLE negotiation_events OWNER TO "app";' in printed.stdout
    assert 'GRANT SELECT, INSERT ON TABLE negotiation_events, entry_sources TO "negotiation_writer";' \
        in printed.stdout
    assert "UPDATE ON TABLE negotiation_events" not in printed.stdout


def test_the_owner_takes_over_tables_an_admin_migrated(cluster: Cluster) -> None:
    _ok(cluster.cli("postgres", "db", "upgrade"))
    _ok(cluster.roles("postgres", "--owner", cluster.owner))
    with cluster.connect("postgres") as admin:
        owners = admin.execute("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'").fetchall()
        functions = admin.execute("SELECT DISTINCT pg_get_userbyid(proowner) FROM pg_proc "
                                  "WHERE pronamespace = 'public'::regnamespace").fetchall()

    assert owners == [(cluster.owner,)] and functions == [(cluster.owner,)]
    with Ledger.open(cluster.url(cluster.writer)) as ledger:
        ledger.record("us-uk-2025", "AgreedInPrinciple", {"parties": ["US", "GB"]}, occurred_at="2025-05-08")
    upgraded = _ok(cluster.cli(cluster.owner, "db", "upgrade"))
    assert "already at revision" in " ".join(upgraded.stdout.split())  # as printed, wrapped to the width


def test_the_owner_without_createrole_is_told_to_ask_an_admin(cluster: Cluster) -> None:
    _ok(cluster.cli(cluster.owner, "db", "upgrade"))
    before = cluster.privileges()

    refused = cluster.roles(cluster.owner)

    assert refused.exit_code == 1
    assert refused.stderr.strip().splitlines() == [
        f"Error: database error: permission denied to create role ({roles.AS_ADMIN})"]
    assert cluster.privileges() == before


@pytest.mark.parametrize("case", ["superuser owner", "writer in owner", "writer superuser", "not migrated"])
def test_a_set_up_the_grants_would_not_hold_is_refused_before_anything_changes(cluster: Cluster, case: str) -> None:
    if case != "not migrated":
        _ok(cluster.cli(cluster.owner, "db", "upgrade"))
    if case == "writer in owner":
        _admin(cluster.admin, f'CREATE ROLE "{cluster.writer}" LOGIN IN ROLE "{cluster.owner}"')
    if case == "writer superuser":
        _admin(cluster.admin, f'CREATE ROLE "{cluster.writer}" LOGIN SUPERUSER')
    before = cluster.privileges()

    refused = cluster.roles("postgres", *(() if case == "superuser owner" else ("--owner", cluster.owner)))

    expected = {
        "superuser owner": "postgres is a superuser: name the role that is to own the tables with --owner",
        "writer in owner": f"{cluster.writer} is a member of {cluster.owner}, so it may do what the owner does",
        "writer superuser": f"{cluster.writer} is a superuser, which no grant limits",
        "not migrated": f"has no negotiation schema, not {head_revision()}: run `negotiation db upgrade` as the owner first",
    }[case]
    assert refused.exit_code == 1
    assert expected in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    assert cluster.privileges() == before


@pytest.mark.parametrize(("url", "message"), [
    ("sqlite:///{tmp}/talks.db", roles.NOT_POSTGRES),
    ("memory://", roles.IN_MEMORY),
])
def test_sqlite_and_memory_are_refused_in_one_line(tmp_path: Path, url: str, message: str) -> None:
    for extra in ((), ("--print",)):
        result = CliRunner().invoke(main, ["--url", url.format(tmp=tmp_path), "db", "roles", *extra])

        assert result.exit_code == 1
        assert result.stderr == f"Error: {message}\n"
    assert roles.NOT_POSTGRES == "roles are a PostgreSQL matter; on SQLite, file permissions decide who can write"
    assert not (tmp_path / "talks.db").exists()


def test_a_url_without_a_user_needs_the_owner_named() -> None:
    result = CliRunner().invoke(main, ["--url", "postgresql://db-host/talks", "db", "roles", "--print"])

    assert result.exit_code == 2
    assert "name the owner with --owner NAME" in result.stderr


def test_role_names_must_be_plain_and_three() -> None:
    for names in (("o'wner", "w", "r"), ("owner", "pg_monitor", "r"), ("o", "o", "r"), ("o", "w", "x" * 64)):
        result = CliRunner().invoke(main, ["--url", "postgresql://admin@db-host/talks", "db", "roles", "--print",
                                           "--owner", names[0], "--writer", names[1], "--reader", names[2]])
        assert result.exit_code == 1 and len(result.stderr.strip().splitlines()) == 1, names


def test_every_table_and_function_of_the_schema_has_its_grants(cluster: Cluster) -> None:
    """A new table, sequence or trigger function (a new migration) must be placed in roles.py's lists."""
    _ok(cluster.cli(cluster.owner, "db", "upgrade"))
    with cluster.connect("postgres") as admin:
        relations = admin.execute("SELECT relname, relkind::text FROM pg_class "
                                  "WHERE relnamespace = 'public'::regnamespace AND relkind IN ('r', 'S', 'v', 'm', 'p')"
                                  ).fetchall()
        functions = admin.execute("SELECT oid::regprocedure::text FROM pg_proc "
                                  "WHERE pronamespace = 'public'::regnamespace").fetchall()

    assert {name for name, kind in relations if kind != "S"} == set(roles.TABLES)
    assert {name for name, kind in relations if kind == "S"} == {roles.SEQUENCE}
    assert {name for (name,) in functions} == set(roles.FUNCTIONS)
    assert set(metadata.tables) | {roles.REVISION_TABLE} == set(roles.TABLES)
    assert not set(roles.LOG_TABLES) & set(roles.DERIVED_TABLES)
