"""Fixtures shared by every test: databases on each backend and ledgers opened on them.

Tiers (markers, see pyproject.toml): ``slow`` marks the tests that take seconds (a wheel install,
Chromium, the benchmarks, nested test runs, concurrency, faults, idle CPU, a large copy);
``postgres`` is given here to every test that needs the server. ``pytest -m "not slow"`` is the
fast run; ``pytest -n auto`` runs every tier, spread over the machine's cores (pytest-xdist).
"""

from __future__ import annotations

import gc
import hashlib
import inspect
import os
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import TupleRow
from sqlalchemy import create_engine, text

from negotiation import Ledger

from bdd.coverage import PLUGIN_NAME, SpecCoverage

try:
    import fcntl
except ImportError:  # not POSIX: the directories of killed sessions stay behind
    fcntl = None  # type: ignore[assignment]

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN = os.environ.get("NEGOTIATION_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() == "true"


def _postgres_unreachable() -> str | None:
    try:
        psycopg.connect(POSTGRES_ADMIN, connect_timeout=3).close()
    except psycopg.Error as e:
        return f"PostgreSQL not reachable at {POSTGRES_ADMIN}: {str(e).strip().splitlines()[0]}"
    return None


@pytest.fixture(scope="session")
def postgres_admin() -> str:
    """The admin URL of the local PostgreSQL; skipped when absent, an error under CI."""
    problem = _postgres_unreachable()
    if problem and IN_CI:
        pytest.fail(f"{problem} (CI=true requires it)")
    if problem:
        pytest.skip(problem)
    return POSTGRES_ADMIN


#: A test that asks for one of these gets its database already at the latest migration: a copy of
#: the session's migrated template. Any other test asking for a URL gets an empty database, so the
#: tests of migrating one (from nothing, from an old revision, several processes at once) still do;
#: so does a test marked ``empty_database``.
AT_HEAD_FOR = frozenset({"ledger", "at_head"})


def _at_head(request: pytest.FixtureRequest) -> bool:
    if request.node.get_closest_marker("empty_database") is not None:
        return False
    return not AT_HEAD_FOR.isdisjoint(request.fixturenames)


@pytest.fixture
def at_head() -> None:
    """Asked for (by a fixture of its own, say), it gives the test's database at the latest migration."""


def _admin(url: str, *statements: str) -> None:
    with psycopg.connect(url, autocommit=True) as admin:
        for statement in statements:
            admin.execute(statement)


def _postgres_database(name: str) -> str:
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


def _create_database(admin: str, name: str, template: str | None = None) -> None:
    """Create a database (a copy of ``template`` when given) whose commits do not wait for the disk.

    Only a crash of the server itself, which no test makes, could tell the difference.
    """
    _admin(admin, f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""),
           f'ALTER DATABASE "{name}" SET synchronous_commit = off')


#: What a database must still look like to be emptied and reused: every object the tests could
#: change, from the tables and their columns to the triggers, functions and the schema revision.
SCHEMA_FINGERPRINT = """
    SELECT 'relation', concat_ws(' ', n.nspname, c.relname, c.relkind::text, c.relacl::text)
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
    UNION ALL
    SELECT 'column', concat_ws(' ', a.attrelid::regclass::text, a.attname, format_type(a.atttypid, a.atttypmod),
                               a.attnotnull::text, a.attidentity::text, a.attgenerated::text,
                               pg_get_expr(d.adbin, d.adrelid))
      FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
     WHERE c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'pg_toast'::regnamespace,
                                  'information_schema'::regnamespace)
       AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT 'constraint', concat_ws(' ', conrelid::regclass::text, conname, pg_get_constraintdef(oid))
      FROM pg_constraint
     WHERE connamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
    UNION ALL
    SELECT 'index', pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
     WHERE c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'pg_toast'::regnamespace,
                                  'information_schema'::regnamespace)
    UNION ALL
    SELECT 'trigger', concat_ws(' ', tgenabled::text, pg_get_triggerdef(oid))
      FROM pg_trigger WHERE NOT tgisinternal
    UNION ALL
    SELECT 'function', concat_ws(' ', p.oid::regprocedure::text, md5(p.prosrc))
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
    UNION ALL
    SELECT 'schema', concat_ws(' ', nspname, nspacl::text) FROM pg_namespace
    UNION ALL
    SELECT 'extension', concat_ws(' ', extname, extversion) FROM pg_extension
    UNION ALL
    SELECT 'type', concat_ws(' ', n.nspname, t.typname, t.typtype::text)
      FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
    UNION ALL
    SELECT 'event trigger', concat_ws(' ', evtname, evtevent, evtenabled::text) FROM pg_event_trigger
    UNION ALL
    SELECT 'default privileges', concat_ws(' ', defaclrole::regrole::text, defaclnamespace::regnamespace::text,
                                           defaclobjtype::text, defaclacl::text) FROM pg_default_acl
    UNION ALL
    SELECT 'large object', oid::text FROM pg_largeobject_metadata
    UNION ALL
    SELECT 'publication', pubname FROM pg_publication
    UNION ALL
    SELECT 'setting', array_to_string(setconfig, ',') FROM pg_db_role_setting s
      JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = current_database()
    UNION ALL
    SELECT 'database', concat_ws(' ', pg_get_userbyid(datdba), datconnlimit::text, datallowconn::text,
                                 datistemplate::text)
      FROM pg_database WHERE datname = current_database()
"""

#: The schema revision, for a database at the latest migration.
REVISION_FINGERPRINT = SCHEMA_FINGERPRINT + """
    UNION ALL
    SELECT 'revision', version_num FROM alembic_version
"""


#: Delete every row (past the append-only triggers, which a replica's session does not fire) and
#: restart every sequence, in one transaction and one round trip.
EMPTY = """
    DO $$
    DECLARE
        target record;
    BEGIN
        SET LOCAL lock_timeout = '10s';
        SET LOCAL session_replication_role = replica;
        FOR target IN SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables
                       WHERE schemaname NOT IN ('pg_catalog', 'information_schema')
                         AND tablename <> 'alembic_version' LOOP
            EXECUTE 'DELETE FROM ' || target.name;
        END LOOP;
        FOR target IN SELECT format('%I.%I', schemaname, sequencename) AS name FROM pg_sequences LOOP
            EXECUTE 'ALTER SEQUENCE ' || target.name || ' RESTART';
        END LOOP;
    END
    $$
"""


#: Back to what CREATE DATABASE makes: every schema and extension a test made dropped (with what is in
#: them), and the public schema made anew as PostgreSQL makes it, in one transaction and one round trip.
EMPTY_AGAIN = """
    DO $$
    DECLARE
        target record;
    BEGIN
        SET LOCAL lock_timeout = '10s';
        FOR target IN SELECT nspname FROM pg_namespace
                       WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
                         AND nspname NOT LIKE 'pg\\_temp\\_%' AND nspname NOT LIKE 'pg\\_toast\\_temp\\_%' LOOP
            EXECUTE format('DROP SCHEMA %I CASCADE', target.nspname);
        END LOOP;
        FOR target IN SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' LOOP
            EXECUTE format('DROP EXTENSION %I CASCADE', target.extname);
        END LOOP;
        CREATE SCHEMA public AUTHORIZATION pg_database_owner;
        GRANT USAGE ON SCHEMA public TO PUBLIC;
        COMMENT ON SCHEMA public IS 'standard public schema';
    END
    $$
"""


def _fingerprint(conn: psycopg.Connection[TupleRow], query: str) -> list[TupleRow]:
    return sorted(conn.execute(query).fetchall(), key=repr)


class PostgresDatabases:
    """PostgreSQL databases of a test's own, made anew or handed on from an earlier test of the process.

    ``DROP DATABASE`` makes the server write a checkpoint, every dirty page of every database to disk,
    and the test waits for it: a database a test is done with is instead brought back to what a new
    one is (``reset``) and handed to the next test, when it then looks exactly like a new one (the
    fingerprint of every object the tests could change); else it is dropped. The rest are dropped
    at the end of the session.
    """

    fingerprint_query = SCHEMA_FINGERPRINT
    reset = EMPTY_AGAIN

    def __init__(self, admin: str) -> None:
        self.admin = admin
        self.idle: list[str] = []
        self.fingerprint: list[TupleRow] | None = None

    def _connect(self, name: str) -> psycopg.Connection[TupleRow]:
        return psycopg.connect(self.admin, dbname=name, autocommit=True)

    def _new(self) -> str:
        name = f"negotiation_test_{uuid.uuid4().hex[:12]}"
        _create_database(self.admin, name)
        if self.fingerprint is None:
            with self._connect(name) as conn:
                self.fingerprint = _fingerprint(conn, self.fingerprint_query)
        return name

    def take(self) -> str:
        return self.idle.pop() if self.idle else self._new()

    def give_back(self, name: str) -> None:
        """Bring the database back for the next test, or drop it if it then differs from a new one."""
        try:
            with self._connect(name) as conn:
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = current_database() AND pid <> pg_backend_pid()")
                if conn.execute("SELECT count(*) FROM pg_prepared_xacts WHERE database = current_database()"
                                ).fetchone() != (0,):
                    raise LookupError("the test left a prepared transaction")
                self._reset(conn)
        except (psycopg.Error, LookupError):
            _admin(self.admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            self.idle.append(name)

    def _reset(self, conn: psycopg.Connection[TupleRow]) -> None:
        conn.execute(self.reset)
        if _fingerprint(conn, self.fingerprint_query) != self.fingerprint:
            raise LookupError("the database is not as a new one is")

    def close(self) -> None:
        for name in self.idle:
            _admin(self.admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class PostgresAtHead:
    """PostgreSQL databases at the latest migration for the tests that use a ledger.

    One database is migrated per session (the template). A test gets a database of its own,
    copied from the template (``CREATE DATABASE ... TEMPLATE``); afterwards, when its schema is
    still exactly the template's, its rows are deleted and its sequences restarted, and the next
    test gets it: as empty as a fresh copy, for tens of milliseconds instead of the half second or
    more of server time that creating and dropping a database costs. A database whose schema a
    test changed is dropped instead.
    """

    def __init__(self, admin: str) -> None:
        self.admin = admin
        self.template = f"negotiation_template_{uuid.uuid4().hex[:12]}"
        self.idle: list[str] = []
        _create_database(admin, self.template)
        Ledger.open(_postgres_database(self.template)).close()  # closed: copying needs no connection
        with self._connect(self.template) as conn:
            self.fingerprint = self._fingerprint(conn)

    def _connect(self, name: str) -> psycopg.Connection[TupleRow]:
        return psycopg.connect(self.admin, dbname=name, autocommit=True)

    @staticmethod
    def _fingerprint(conn: psycopg.Connection[TupleRow]) -> list[TupleRow]:
        return _fingerprint(conn, REVISION_FINGERPRINT)

    def take(self) -> str:
        if self.idle:
            return self.idle.pop()
        name = f"negotiation_test_{uuid.uuid4().hex[:12]}"
        _create_database(self.admin, name, self.template)
        return name

    def give_back(self, name: str) -> None:
        """Empty the database for the next test, or drop it if the test changed more than rows."""
        try:
            with self._connect(name) as conn:
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                             "WHERE datname = current_database() AND pid <> pg_backend_pid()")
                if self._fingerprint(conn) != self.fingerprint:
                    raise LookupError("the test changed the schema")
                conn.execute(EMPTY)
        except (psycopg.Error, LookupError):
            _admin(self.admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            self.idle.append(name)

    def close(self) -> None:
        for name in [*self.idle, self.template]:
            _admin(self.admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_at_head(postgres_admin: str) -> Iterator[PostgresAtHead]:
    databases = PostgresAtHead(postgres_admin)
    try:
        yield databases
    finally:
        databases.close()


@pytest.fixture(scope="session")
def postgres_empty(postgres_admin: str) -> Iterator[PostgresDatabases]:
    databases = PostgresDatabases(postgres_admin)
    try:
        yield databases
    finally:
        databases.close()


@pytest.fixture
def postgres_url(postgres_admin: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A PostgreSQL database of the test's own: at head for a ``ledger`` test, else empty."""
    databases: PostgresAtHead | PostgresDatabases = request.getfixturevalue(
        "postgres_at_head" if _at_head(request) else "postgres_empty")
    name = databases.take()
    yield _postgres_database(name)
    databases.give_back(name)


#: Where the SQLite files of the tests go when the machine has it: memory (tmpfs), where a commit
#: or a checkpoint costs no flush to disk. The files are the same; only the disk is spared.
IN_MEMORY = Path("/dev/shm")


@contextmanager
def _own_directory(parent: Path, prefix: str) -> Iterator[Path]:
    """A new directory in ``parent``, locked while in use and removed after.

    A session killed before it could remove its directory leaves it unlocked: the next session
    to make one there removes it.
    """
    if fcntl is not None:
        for left in parent.glob(f"{prefix}*"):
            try:
                with open(left / ".lock") as lock:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    shutil.rmtree(left, ignore_errors=True)
            except OSError:  # in use by a session still running, or being made
                pass
    # Made under a name the sweep above does not match, locked, then renamed: another session
    # (an xdist worker starting at the same moment) never sees it unlocked.
    making = Path(tempfile.mkdtemp(prefix=f".{prefix}", dir=parent))
    directory = making
    try:
        with open(making / ".lock", "w") as lock:
            if fcntl is not None:
                fcntl.flock(lock, fcntl.LOCK_EX)
            directory = parent / f"{prefix}{making.name[len(prefix) + 1:]}"
            making.rename(directory)
            yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def sqlite_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The session's directory of SQLite files: in memory if the machine has it, else on disk."""
    if not (IN_MEMORY.is_dir() and os.access(IN_MEMORY, os.W_OK)):
        yield tmp_path_factory.mktemp("sqlite")
        return
    with _own_directory(IN_MEMORY, "negotiation-tests-") as directory:
        yield directory


@pytest.fixture(scope="session")
def sqlite_template(sqlite_directory: Path) -> Path:
    """A SQLite file migrated once per session, checkpointed so that the file alone holds it all."""
    (sqlite_directory / "template").mkdir()
    path = sqlite_directory / "template" / "negotiations.db"
    Ledger.open(f"sqlite:///{path}").close()
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture
def sqlite_url(sqlite_directory: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A SQLite file of the test's own (a copy of the template for a ``ledger`` test, else empty)."""
    directory = sqlite_directory / uuid.uuid4().hex
    directory.mkdir()
    path = directory / "negotiations.db"
    if _at_head(request):
        template: Path = request.getfixturevalue("sqlite_template")
        for suffix in ("", "-wal", "-shm"):
            if (source := Path(f"{template}{suffix}")).exists():
                shutil.copyfile(source, f"{path}{suffix}")
    yield f"sqlite:///{path}"
    shutil.rmtree(directory, ignore_errors=True)


#: Every backend the ledger stores on. A test of how the storage behaves (marked ``every_backend``)
#: runs on each of them.
BACKENDS = ("sqlite", "postgres")

#: The backend of every other test asking for ``database_url`` (or ``ledger``): what it checks (the
#: machine, the API's rules) does not depend on where the events are stored, so one is enough.
ONE_BACKEND = ("sqlite",)

#: The backend of a test that asks only for a ``ledger``: the in-memory recorder, the fastest, which
#: keeps every promise the SQL recorders keep (the recorder contract suite proves it on all three).
#: A test that reaches the database itself (its URL, a second process, SQL) gets ``ONE_BACKEND``.
LEDGER_ONLY = ("memory",)

#: Fixtures that need the log in a database another connection or process can open.
NEEDS_A_DATABASE = frozenset({"database_url", "sqlite_url", "postgres_url", "stored_rows_sql", "runner",
                              "test_tables"})


def _backends(definition: pytest.Function, fixturenames: Sequence[str], argnames: Sequence[str]) -> Sequence[str]:
    if (chosen := definition.get_closest_marker("backends")) is not None:
        return chosen.args
    if definition.get_closest_marker("every_backend"):
        return BACKENDS
    only_a_ledger = "ledger" in fixturenames and NEEDS_A_DATABASE.isdisjoint(argnames)
    return LEDGER_ONLY if only_a_ledger and not definition.get_closest_marker("in_a_database") else ONE_BACKEND


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database_url" in metafunc.fixturenames:
        argnames = list(inspect.signature(metafunc.function).parameters)
        metafunc.parametrize("database_url", _backends(metafunc.definition, metafunc.fixturenames, argnames),
                             indirect=True)


@pytest.fixture
def database_url(request: pytest.FixtureRequest) -> str:
    """One database per test, on the backends the test runs on (``BACKENDS``, ``ONE_BACKEND``)."""
    backend = getattr(request, "param", ONE_BACKEND[0])
    return "memory://" if backend == "memory" else str(request.getfixturevalue(f"{backend}_url"))


def vars_of(entry: object) -> list[object]:
    """An entry's fields, in order."""
    return [getattr(entry, name) for name in entry.__slots__]  # type: ignore[attr-defined]


def _needs_postgres(item: pytest.Item) -> bool:
    callspec = getattr(item, "callspec", None)
    uses = getattr(item, "fixturenames", ())
    on_postgres = callspec is not None and callspec.params.get("database_url") == "postgres"
    return "postgres_admin" in uses or on_postgres


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _needs_postgres(item):
            item.add_marker("postgres")
    if _is_worker(config):
        # Spread over workers (a file at a time, --dist loadfile), the files holding slow tests go
        # first: the quick ones then fill the gaps, and no worker is left with a long file at the end.
        # Within a file the order stays as written (some tests share what a module fixture wrote).
        slow_files = {item.path for item in items if item.get_closest_marker("slow") is not None}
        items.sort(key=lambda item: item.path not in slow_files)


def pytest_collection_finish(session: pytest.Session) -> None:
    """What collection made (every test item, the test modules, what they imported) lives as long as the
    session: it is moved out of the garbage collector's sight (``gc.freeze``), so that a collection, the
    benchmarks' own before each measurement or Python's now and then, does not walk it again each time.
    Whatever the tests make is collected as before."""
    gc.collect()
    gc.freeze()


@pytest.fixture
def ledger(database_url: str) -> Iterator[Ledger]:
    with Ledger.open(database_url) as opened:
        yield opened


@pytest.fixture
def stored_rows(database_url: str, request: pytest.FixtureRequest) -> Iterator[Callable[[], list[tuple[object, ...]]]]:
    """Every stored row, read behind the ledger's back: compare before and after a refusal.

    In memory, the entries and heads the recorder holds, read from a view of its own.
    """
    if database_url == "memory://":
        recorder = request.getfixturevalue("ledger").recorder

        def held() -> list[tuple[object, ...]]:
            with recorder.reading() as view:
                entries = [tuple(vars_of(entry)) for entry in view.in_log_order()]
                heads = [(negotiation_id, view.head(negotiation_id)) for negotiation_id in view.negotiation_ids()]
                return [*entries, *heads, *view.indexed_sources()]

        yield held
        return
    engine = create_engine(database_url)  # one per test: making an engine costs more than a read

    def read() -> list[tuple[object, ...]]:
        with engine.connect() as conn:
            query = text("SELECT * FROM negotiation_events ORDER BY position")
            return [tuple(row) for row in conn.execute(query)]

    yield read
    engine.dispose()


@pytest.fixture
def seeds() -> list[Path]:
    """The seed files of the repository."""
    found = sorted((Path(__file__).parent.parent / "seeds").glob("*.yaml"))
    assert found, "seeds/ holds no seed files"
    return found


#: Figures measured by the concurrency and fault tests, printed after the run.
FIGURES: dict[str, str] = {}


@pytest.fixture
def report_figure() -> Callable[[str, str], None]:
    def report(name: str, value: str) -> None:
        FIGURES[name] = value

    return report


# -- nested runs -------------------------------------------------------------------------------
#
# A test that checks a run of another process (a nested pytest session, say) gives ``nested_run`` a
# command: ``command(directory)`` prepares what the run needs in ``directory`` (its own, empty) and
# returns the run's arguments and environment; the run starts in the checkout.

Command = Callable[[Path], tuple[list[str], dict[str, str]]]


class NestedRun(subprocess.CompletedProcess[str]):
    """A finished run, with the directory its command prepared."""

    def __init__(self, args: list[str], returncode: int, stdout: str, stderr: str, directory: Path) -> None:
        super().__init__(args, returncode, stdout, stderr)
        self.directory = directory


def _nested_run(command: Command, directory: Path) -> NestedRun:
    args, env = command(directory)
    # Not a worker of this session's xdist, nor inside one of its tests.
    env = {name: value for name, value in env.items()
           if not name.startswith("PYTEST_XDIST_") and name != "PYTEST_CURRENT_TEST"}
    done = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    return NestedRun(args, done.returncode, done.stdout, done.stderr, directory)


@pytest.fixture(scope="session")
def nested_run() -> Callable[[Command, Path], NestedRun]:
    """Run a command prepared in a directory of its own (see above) and wait for it to finish."""
    return _nested_run


# -- the session: its plugins, the figures of xdist's workers, and a checkout left as it was ------

def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def _checkout_state() -> str | None:
    """``git status`` of the checkout, ignored files included (``build/``, ``.hypothesis/``...), but
    not the virtual environment or Python's bytecode caches; None outside a git checkout."""
    try:
        return subprocess.run(["git", "status", "--porcelain", "--ignored", "--untracked-files=all",
                               "--", ".", ":!.venv", ":!**/__pycache__"],
                              cwd=ROOT, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None


CHECKOUT = pytest.StashKey[str | None]()

#: What the run changed in the checkout (it must change nothing): printed after the run.
CHANGED_CHECKOUT: list[str] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--spec-coverage", metavar="FILE",
                     help="where the feature suite writes its coverage report (default: "
                          "$NEGOTIATION_SPEC_COVERAGE, else negotiation-spec-coverage.json in the system's "
                          "temporary directory)")


SESSION_DIRECTORY = pytest.StashKey[Path]()


def session_directory(config: pytest.Config) -> Path:
    """A temporary directory of this process's session, outside the checkout, removed when it ends."""
    if SESSION_DIRECTORY not in config.stash:
        config.stash[SESSION_DIRECTORY] = Path(tempfile.mkdtemp(prefix="negotiation-session-"))
    return config.stash[SESSION_DIRECTORY]


def pytest_unconfigure(config: pytest.Config) -> None:
    if SESSION_DIRECTORY in config.stash:
        shutil.rmtree(config.stash[SESSION_DIRECTORY], ignore_errors=True)


#: The name under which xdist's controller hands its workers the run's shared directory.
SHARED = "negotiation_shared_directory"


def shared_directory(config: pytest.Config) -> Path:
    """A temporary directory of the whole run, the same for each of xdist's workers: in the session
    directory of the controller (or of the only process), and removed with it once every worker is done."""
    if _is_worker(config):
        return Path(config.workerinput[SHARED])  # type: ignore[attr-defined]
    shared = session_directory(config) / "shared"
    shared.mkdir(exist_ok=True)
    return shared


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist starts a worker: it is given the run's shared directory."""
    node.workerinput[SHARED] = str(shared_directory(node.config))


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold ``path``'s lock (another process of the run waits for it); no lock where there is no flock."""
    with open(path, "w") as lock:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _share_the_chart_bundle(directory: Path) -> None:
    """vl-convert's bundle of Vega, Vega-Lite and vega-embed, made once a run instead of once a page.

    Making it takes vl-convert over a second of CPU each time, for the same text each time (given the
    same arguments): the first process of the run to ask makes it and keeps it in ``directory``; the
    others, and later calls, read it there. Every page the tests write still carries vl-convert's bundle.
    """
    try:
        import vl_convert
    except ImportError:
        return
    make = vl_convert.javascript_bundle
    if getattr(make, "shared_in", None) is not None:
        return

    def javascript_bundle(snippet: str | None = None, vl_version: str | None = None) -> str:
        key = hashlib.sha256(repr((vl_convert.__version__, snippet, vl_version)).encode()).hexdigest()[:16]
        kept = directory / f"vega-bundle-{key}.js"
        with _locked(directory / f"vega-bundle-{key}.lock"):
            if kept.is_file():
                return kept.read_text(encoding="utf-8")
            made: str = make(snippet, vl_version=vl_version)
            making = kept.with_suffix(".making")
            making.write_text(made, encoding="utf-8")
            making.replace(kept)
            return made

    javascript_bundle.shared_in = directory  # type: ignore[attr-defined]
    vl_convert.javascript_bundle = javascript_bundle


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    # A shell without job control starts a command put in the background (`.ci/run &`, a job of a CI
    # runner) with Ctrl-C ignored, and every process it starts inherits that: a command under test
    # would never see the Ctrl-C a test sends it. Caught here instead, it is the default again in each
    # program the tests start, as in a terminal.
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if not config.pluginmanager.has_plugin(PLUGIN_NAME):
        config.pluginmanager.register(SpecCoverage(config), PLUGIN_NAME)
    if config.pluginmanager.has_plugin("hypothesispytest"):
        from hypothesis import settings
        from hypothesis.configuration import set_hypothesis_home_dir

        # Hypothesis keeps its files (its example database, the constants it finds in the code, the
        # tables of which characters a codec encodes) in .hypothesis/ of the working directory, the
        # checkout: they go to the run's temporary directory instead, shared by xdist's workers (the
        # table of UTF-8 takes a second to make), and no example database is kept at all.
        set_hypothesis_home_dir(shared_directory(config) / "hypothesis")
        settings.register_profile("negotiation", database=None)
        settings.load_profile("negotiation")
    _share_the_chart_bundle(shared_directory(config))
    if not _is_worker(config):
        config.stash[CHECKOUT] = _checkout_state()


def pytest_sessionfinish(session: pytest.Session) -> None:
    config = session.config
    if _is_worker(config):
        config.workeroutput["figures"] = dict(FIGURES)  # type: ignore[attr-defined]
        return
    before = config.stash.get(CHECKOUT, None)
    if before is None or (after := _checkout_state()) == before:
        return
    changed = sorted(set(after.splitlines()) ^ set(before.splitlines()))
    CHANGED_CHECKOUT.extend(changed)
    if session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """An xdist worker is done: keep the figures it measured."""
    FIGURES.update(getattr(node, "workeroutput", {}).get("figures", {}))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if CHANGED_CHECKOUT:
        terminalreporter.write_sep("=", "the tests changed the checkout (they must write nothing there)",
                                   red=True)
        for line in CHANGED_CHECKOUT:
            terminalreporter.write_line(f"  {line}", red=True)
    if FIGURES:
        terminalreporter.section("measured figures")
        for name, value in sorted(FIGURES.items()):
            terminalreporter.write_line(f"{name}: {value}")
