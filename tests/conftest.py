"""Fixtures shared by every test: databases on each backend and ledgers opened on them."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import TupleRow
from sqlalchemy import create_engine, text

from negotiation import Ledger

try:
    import fcntl
except ImportError:  # not POSIX: the directories of killed sessions stay behind
    fcntl = None  # type: ignore[assignment]

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
#: tests of migrating one (from nothing, from an old revision, several processes at once) still do.
AT_HEAD_FOR = frozenset({"ledger"})


def _at_head(request: pytest.FixtureRequest) -> bool:
    return not AT_HEAD_FOR.isdisjoint(request.fixturenames)


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
    SELECT 'setting', array_to_string(setconfig, ',') FROM pg_db_role_setting s
      JOIN pg_database d ON d.oid = s.setdatabase WHERE d.datname = current_database()
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
        return sorted(conn.execute(SCHEMA_FINGERPRINT).fetchall(), key=repr)

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


@pytest.fixture
def postgres_url(postgres_admin: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A PostgreSQL database of the test's own: at head for a ``ledger`` test, else empty (and dropped)."""
    if _at_head(request):
        databases: PostgresAtHead = request.getfixturevalue("postgres_at_head")
        name = databases.take()
        yield _postgres_database(name)
        databases.give_back(name)
        return
    name = f"negotiation_test_{uuid.uuid4().hex[:12]}"
    _create_database(postgres_admin, name)
    try:
        yield _postgres_database(name)
    finally:
        _admin(postgres_admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
    directory = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    try:
        with open(directory / ".lock", "w") as lock:
            if fcntl is not None:
                fcntl.flock(lock, fcntl.LOCK_EX)
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


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """One database per test, on each backend the ledger supports."""
    return str(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
def ledger(database_url: str) -> Iterator[Ledger]:
    with Ledger.open(database_url) as opened:
        yield opened


@pytest.fixture
def stored_rows(database_url: str) -> Iterator[Callable[[], list[tuple[object, ...]]]]:
    """Every stored row, read behind the ledger's back: compare before and after a refusal."""
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


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if FIGURES:
        terminalreporter.section("measured figures")
        for name, value in sorted(FIGURES.items()):
            terminalreporter.write_line(f"{name}: {value}")


# -- runs started early ------------------------------------------------------------------------
#
# A test marked ``@pytest.mark.early(command=command)`` checks a slow run of another process (a
# nested pytest session, say). ``command(directory)`` prepares what the run needs in ``directory``
# (its own, empty) and returns the run's arguments and environment. These runs start as soon as
# the tests are collected, at a lower priority, so they go on beside the rest of the suite on the
# machine's other core; the test takes its finished run from the ``early_run`` fixture.

Command = Callable[[Path], tuple[list[str], dict[str, str]]]
EARLY_RUNS = pytest.StashKey["EarlyRuns"]()


class EarlyRun(subprocess.CompletedProcess[str]):
    """A finished early run, with the directory its command prepared."""

    def __init__(self, args: list[str], returncode: int, stdout: str, stderr: str, directory: Path) -> None:
        super().__init__(args, returncode, stdout, stderr)
        self.directory = directory


class EarlyRuns:
    """The early runs of a session, in a temporary directory removed (and any run still going
    killed) when the session ends."""

    def __init__(self) -> None:
        self.directory: Path | None = None
        self.cleanup = ExitStack()
        self.running: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}
        self.finished: dict[str, EarlyRun] = {}

    def start(self, key: str, command: Command) -> None:
        if self.directory is None:
            self.directory = self.cleanup.enter_context(
                _own_directory(Path(tempfile.gettempdir()), "negotiation-early-runs-"))
        where = self.directory / str(len(self.running) + len(self.finished))
        where.mkdir()
        args, env = command(where)
        # Into files, not pipes: a run must not stall on a full pipe while nothing reads it yet.
        with open(where / "stdout", "wb") as out, open(where / "stderr", "wb") as err:
            run = subprocess.Popen(args, stdout=out, stderr=err, env=env, cwd=Path(__file__).parent.parent)
        if hasattr(os, "setpriority"):
            os.setpriority(os.PRIO_PROCESS, run.pid, 10)  # the tests in this process come first
        self.running[key] = (run, where)

    def result(self, key: str, timeout: float = 600) -> EarlyRun:
        if key not in self.finished:
            run, where = self.running.pop(key)
            run.wait(timeout=timeout)
            out, err = ((where / name).read_text(encoding="utf-8", errors="replace")
                        for name in ("stdout", "stderr"))
            self.finished[key] = EarlyRun(list(run.args), run.returncode, out, err, where)
        return self.finished[key]

    def stop(self) -> None:
        """Interrupt any run still going (as Ctrl-C would, so that it cleans up), then kill it."""
        for run, _ in self.running.values():
            run.send_signal(signal.SIGINT)
        deadline = time.monotonic() + 5
        for run, _ in self.running.values():
            try:
                run.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:  # SIGINT is ignored where the session started in the background
                run.kill()
                run.wait()
        self.cleanup.close()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "early(command): started as soon as the tests are collected")
    config.stash[EARLY_RUNS] = EarlyRuns()


def _command(item: pytest.Item) -> Command | None:
    marker = item.get_closest_marker("early")
    return None if marker is None else marker.kwargs["command"]


def pytest_collection_finish(session: pytest.Session) -> None:
    if session.config.option.collectonly:
        return
    for item in session.items:
        if (command := _command(item)) is not None:
            session.config.stash[EARLY_RUNS].start(item.nodeid, command)


def pytest_unconfigure(config: pytest.Config) -> None:
    config.stash[EARLY_RUNS].stop()


@pytest.fixture
def early_run(request: pytest.FixtureRequest) -> EarlyRun:
    """The finished run of this test's ``early`` marker."""
    runs, key = request.config.stash[EARLY_RUNS], request.node.nodeid
    command = _command(request.node)
    assert command is not None, "early_run needs the test to be marked early(command)"
    if key not in runs.running and key not in runs.finished:
        runs.start(key, command)
    return runs.result(key)
