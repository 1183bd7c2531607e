"""The README as a test: every shell command and Python snippet of README.md, run as written, in order.

The README is read as a person on their first day reads it: from the top, in
one fresh directory laid out like a clone (``seeds/`` and ``.venv`` there, no
database), each command typed into one shell whose ``negotiation`` is the
virtual environment's, in a terminal 200 columns wide. The conventions, which
the README states under "Try it":

- Every ```` ```sh ```` and ```` ```python ```` block runs, in the order of the
  page. Blocks in other languages (the Mermaid diagram, a YAML fragment, the
  layout) are not programs; the test names each language it meets, so a new
  one is noticed.
- ``<!-- not run: REASON -->`` just before a block says it is not run and why
  (it makes the virtual environment, needs a server at a made-up host, follows
  the log forever...). The test lists those blocks (``NOT_RUN``): their lines
  are printed after every run, and one more or one fewer fails the test until
  the list says so. The PostgreSQL ones run on the test server instead, their
  made-up URL replaced by a database of the test's own.
- In a shell block, the ``# `` lines right under a command (no blank line
  between) show what it prints, stdout and stderr as a terminal shows them.
  ``…`` stands for any text within a line, a line ``…`` alone for any lines.
  A last line ``# (exit status N)`` says the command exits with N; otherwise it
  must exit 0. A ``# `` line after a blank line is a remark, as is a trailing
  ``  # ...`` on a command. A command with no lines under it must exit 0 and
  print nothing on stderr (a warning, say), whatever it prints on stdout.
- A Python block runs in a namespace of its own (so each can be pasted alone),
  in the same directory and environment; its ``assert`` statements are its
  checks, and it must not warn.

Warnings are shown as a new process shows them, whatever filters the test
session has. The blocks are found with Sybil's Markdown lexers. Each
``negotiation ...`` command of a line runs in this process through click's
``CliRunner``, which prints what the installed command prints (a test checks
that it does); the line's other commands (``jq``, ``echo``) run in bash, joined
as the shell joins them (``|`` with ``pipefail``, ``&&``, ``>`` FILE, a glob);
a line that needs more of the shell (a variable, ``;``, ``||``, a subshell)
runs whole in ``bash -o pipefail``. ``export NAME=VALUE`` and ``unset NAME``
change the environment of the lines after them, as the shell would. A command
calling a program that is not installed (jq) is not run; the test then reports
it and is skipped, or fails under ``CI=true``.
"""

from __future__ import annotations

import contextlib
import glob
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import traceback
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import pytest
from click.testing import CliRunner
from sybil import Document
from sybil.parsers.markdown.lexers import DirectiveInHTMLCommentLexer, RawFencedCodeBlockLexer

from negotiation.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
VENV = Path(sys.prefix)

#: The languages of the README's blocks that are run; the others are text.
RUN = ("sh", "python")
#: The other languages the README has blocks in (a block with no language is ``""``).
TEXT = ("mermaid", "yaml", "")
#: The shell's own commands the README's lines use: found on no PATH, and needing none.
BUILTINS = frozenset({".", "source", "echo", "printf", "cd", "true", "false", "test"})

_EXIT = re.compile(r"\(exit status (\d+)\)")

#: A shell line as this process runs it: ``&&``-chained pipelines of commands, each command its words
#: (``>`` and a file name last, on the last command of a pipeline).
Plan = list[list[list[str]]]


# -- the page: its blocks -------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """A fenced block of the page: its language, its text and the line its text starts on (1 for the first)."""

    line: int
    language: str
    source: str
    #: Why it is not run (its ``<!-- not run: ... -->``), or None.
    not_run: str | None = None


def blocks(path: Path, text: str | None = None) -> list[Block]:
    """Every fenced block of the Markdown file, in page order, with its not-run note if it has one."""
    document = Document(path.read_text(encoding="utf-8") if text is None else text, str(path))
    fences = RawFencedCodeBlockLexer(
        info_pattern=re.compile(r"(?P<language>[^\n]*)$\n", re.MULTILINE),
        mapping={"language": "language", "source": "source"})
    notes = DirectiveInHTMLCommentLexer(directive="not run", arguments=".+?")
    found = sorted([*((region, "block") for region in fences(document)),
                    *((region, "note") for region in notes(document))], key=lambda item: item[0].start)
    result: list[Block] = []
    note: tuple[int, str] | None = None
    for region, kind in found:
        if kind == "note":
            if note is not None:
                raise ValueError(f"{path}: the not-run note {note[1]!r} stands before no block")
            said = " ".join([region.lexemes["arguments"], *str(region.lexemes["source"]).split()]).strip()
            note = (region.end, said)
            continue
        reason: str | None = None
        if note is not None:
            if re.sub(r"^-+>", "", document.text[note[0]:region.start]).strip():  # the region ends before -->
                raise ValueError(f"{path}: the not-run note {note[1]!r} is not just before a block")
            reason, note = note[1], None
        first = document.text.count("\n", 0, region.start) + 2  # the line after the fence
        result.append(Block(first, region.lexemes["language"].strip(), str(region.lexemes["source"]), reason))
    if note is not None:
        raise ValueError(f"{path}: the not-run note {note[1]!r} stands before no block")
    return result


# -- a shell block: its commands and what they print ----------------------------------------------


@dataclass
class Command:
    line: int
    text: str
    #: The lines the README shows under it (without their ``# ``), or None when it shows none.
    shown: list[str] | None = None

    @property
    def status(self) -> int:
        """The exit status the README says the command ends with: the last line shown, else 0."""
        if self.shown and (said := _EXIT.fullmatch(self.shown[-1])):
            return int(said.group(1))
        return 0

    @property
    def output(self) -> list[str] | None:
        """What the README shows the command printing, the exit status left out; None when it shows nothing."""
        if self.shown is None:
            return None
        return self.shown[:-1] if self.shown and _EXIT.fullmatch(self.shown[-1]) else self.shown


def commands(block: Block) -> list[Command]:
    """The commands of a shell block, each with the ``# `` lines right under it."""
    found: list[Command] = []
    last = "blank"  # what the line before was: blank, remark, command, shown (or continued)
    for number, line in enumerate(block.source.splitlines(), start=block.line):
        if last == "continued":
            found[-1].text += "\n" + line
            last = "continued" if line.endswith("\\") else "command"
        elif not line.strip():
            last = "blank"
        elif line.startswith("#"):
            if last in ("command", "shown"):
                shown = found[-1].shown = found[-1].shown or []
                shown.append(line[2:] if line.startswith("# ") else line[1:])
                last = "shown"
            else:
                last = "remark"
        else:
            found.append(Command(number, line))
            last = "continued" if line.endswith("\\") else "command"
    return found


def matches(shown: list[str], printed: list[str]) -> bool:
    """Whether the printed lines are what the README shows: ``…`` is any text in a line, alone any lines."""
    if not shown:
        return not printed
    first, rest = shown[0], shown[1:]
    if first == "…":
        return any(matches(rest, printed[start:]) for start in range(len(printed) + 1))
    pattern = ".*".join(re.escape(part) for part in first.split("…"))
    return bool(printed) and re.fullmatch(pattern, printed[0]) is not None and matches(rest, printed[1:])


# -- running the page -----------------------------------------------------------------------------


@dataclass
class Report:
    """What a run of the page did, and what it found wrong."""

    commands: int = 0
    snippets: int = 0
    #: The blocks not run: the line each starts on, and why.
    not_run: list[tuple[int, str]] = field(default_factory=list)
    #: How many blocks of each other language (text, not programs) the page has.
    text: dict[str, int] = field(default_factory=dict)
    #: The commands not run because a program they call is not installed: their line, and the program.
    wanting: list[tuple[int, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def summary(self, *, why: bool = True) -> str:
        """What ran and what did not: each block not run by its line, and its reason unless ``why`` is false."""
        not_run = ("; " if why else ", ").join(f"line {line}: {reason}" if why else str(line)
                                               for line, reason in self.not_run)
        said = (f"ran {self.commands} commands and {self.snippets} Python snippets; "
                f"{len(self.not_run)} blocks not run (at {'lines ' if not why else ''}{not_run})")
        if self.wanting:
            said += f"; {len(self.wanting)} commands not run for want of " + ", ".join(
                sorted({program for _, program in self.wanting}))
        return said


class Reader:
    """A person going through the page in one directory and one shell: the environment ``export`` changes."""

    def __init__(self, path: Path, directory: Path, env: Mapping[str, str]) -> None:
        self.path, self.directory, self.env = path, directory, dict(env)

    def run(self, *, text: str | None = None, fail_fast: bool = False) -> Report:
        report = Report()
        for block in blocks(self.path, text):
            if fail_fast and report.failures:
                break
            if block.language not in RUN:
                report.text[block.language] = report.text.get(block.language, 0) + 1
            elif block.not_run is not None:
                report.not_run.append((block.line, block.not_run))
            elif block.language == "python":
                report.snippets += 1
                self.snippet(block, report)
            else:
                for command in commands(block):
                    if fail_fast and report.failures:
                        break
                    self.command(command, report)
        return report

    @contextlib.contextmanager
    def _here(self) -> Iterator[list[str]]:
        """In the reader's directory and environment, warnings shown as a new process shows them.

        The test session's warning filters are not the reader's: every warning
        is shown, written to stderr as it comes (a command's, captured with its
        output) and listed in what this yields.
        """
        shown: list[str] = []

        def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                 file: object = None, line: str | None = None) -> None:
            text = warnings.formatwarning(message, category, filename, lineno, line)
            shown.append(text)
            sys.stderr.write(text)

        with (contextlib.chdir(self.directory), mock.patch.dict(os.environ, self.env, clear=True),
              warnings.catch_warnings()):
            warnings.simplefilter("always")
            warnings.showwarning = show
            yield shown

    def snippet(self, block: Block, report: Report) -> None:
        code = compile("\n" * (block.line - 1) + block.source, str(self.path), "exec", dont_inherit=True)
        printed = io.StringIO()
        try:
            with (contextlib.redirect_stdout(printed), contextlib.redirect_stderr(io.StringIO()),
                  self._here() as warned):
                exec(code, {"__name__": "__readme__"})  # noqa: S102  (the README's own code, its asserts the check)
        except Exception as e:  # noqa: BLE001  (any failure of the snippet is reported with where it broke)
            where = [f"{frame.filename}:{frame.lineno}" for frame in traceback.extract_tb(e.__traceback__)
                     if frame.filename == str(self.path)]
            report.failures.append(f"{where[-1] if where else f'{self.path}:{block.line}'}: the Python snippet "
                                   f"raised {type(e).__name__}: {e}")
            return
        if warned:  # a reader would see them, and the page does not show them
            report.failures.append(f"{self.path}:{block.line}: the Python snippet warned:\n"
                                   + "".join(f"    {text}" for text in warned))

    def command(self, command: Command, report: Report) -> None:
        text = command.text.replace("\\\n", " ")
        if self._exported(text):
            return
        plan = self.plan(text)
        missing = self._missing(plan)
        if missing is not None:
            report.wanting.append((command.line, missing))
            return
        report.commands += 1
        status, printed, errors = self.bash(text) if plan is None else self.chain(plan)
        lines = [line.rstrip() for line in printed.splitlines()]
        while lines and not lines[-1]:
            lines.pop()
        where = f"{self.path}:{command.line}: {command.text.splitlines()[0]}"
        if status != command.status:
            report.failures.append(f"{where}\n  exited {status}, not {command.status}; it printed:\n"
                                   + "\n".join(f"    {line}" for line in lines[-20:]))
        elif command.output is None and errors.strip():  # a warning, say: the page shows nothing of it
            report.failures.append(f"{where}\n  printed on stderr, where the README shows nothing:\n"
                                   + "\n".join(f"    {line}" for line in errors.splitlines()))
        elif command.output is not None and not matches(command.output, lines):
            report.failures.append(f"{where}\n  printed:\n" + "\n".join(f"    {line}" for line in lines)
                                   + "\n  where the README shows:\n"
                                   + "\n".join(f"    {line}" for line in command.output))

    def _exported(self, text: str) -> bool:
        """``export NAME=VALUE`` and ``unset NAME`` change the environment of the lines after them."""
        words = shlex.split(text, comments=True)
        if not words or words[0] not in ("export", "unset"):
            return False
        for word in words[1:]:
            name, _, value = word.partition("=")
            if words[0] == "export":
                self.env[name] = value
            else:
                self.env.pop(name, None)
        return True

    def plan(self, text: str) -> Plan | None:
        """The line as ``&&``-chained pipelines of commands (each a list of words, ``>`` FILE last at most).

        None when it needs more of the shell than that (a variable, a subshell,
        ``;`` or ``||``...): the whole line then runs in bash.
        """
        unquoted = re.sub(r"'[^']*'|\"(?:[^\"\\]|\\.)*\"", "''", text)
        if re.search(r"[$`(){};!~]|\|\||(?<![&])&(?!&)|<|>>|\d>", unquoted.split(" #", 1)[0]):
            return None
        lexer = shlex.shlex(text, posix=True, punctuation_chars="|&>")
        lexer.whitespace_split = True
        words = list(lexer)
        globbing = bool(re.search(r"[*?\[]", unquoted.split(" #", 1)[0]))
        chain: Plan = [[[]]]
        for word in words:
            if word == "&&":
                chain.append([[]])
            elif word == "|":
                chain[-1].append([])
            elif word in ("&", "||", "|&", ">&", "&>"):
                return None
            elif globbing and re.search(r"[*?\[]", word) and (found := glob.glob(word, root_dir=self.directory)):
                chain[-1][-1].extend(sorted(found))  # as bash expands it; a pattern that matches nothing stays
            else:
                chain[-1][-1].append(word)
        for pipeline in chain:
            for stage in pipeline:
                redirected = ">" in stage and (stage.index(">") != len(stage) - 2 or stage is not pipeline[-1])
                if not stage or redirected:
                    return None
        return chain

    def _missing(self, plan: Plan | None) -> str | None:
        """A program the line calls that is not installed (jq, say), or None."""
        for pipeline in plan or []:
            for stage in pipeline:
                if stage[0] not in BUILTINS and shutil.which(stage[0], path=self.env.get("PATH")) is None:
                    return stage[0]
        return None

    def chain(self, chain: Plan) -> tuple[int, str, str]:
        """Run a planned line: its exit status, what it printed as a terminal shows it, and its stderr."""
        printed = errors = ""
        for pipeline in chain:
            status, shown, said = self._pipeline(pipeline)
            printed, errors = printed + shown, errors + said
            if status:
                return status, printed, errors
        return 0, printed, errors

    def _pipeline(self, pipeline: list[list[str]]) -> tuple[int, str, str]:
        """Run a pipeline as bash does with ``pipefail``: ``negotiation`` in this process, the rest in bash."""
        data: str | None = None
        errors, status = "", 0
        for number, stage in enumerate(pipeline):
            target = None
            if ">" in stage:
                stage, target = stage[:-2], self.directory / stage[-1]
            last = number == len(pipeline) - 1
            if stage[0] == "negotiation":
                code, out, err, both = self._in_process(stage[1:], data)
            else:
                code, out, err = self._stage(stage, data)
                both = err + out
            status = code or status
            if target is not None:
                target.write_text(out, encoding="utf-8")
                out, both = "", err
            if last:
                return status, errors + both, errors + err
            errors += err
            data = out
        raise AssertionError("an empty pipeline")

    def _in_process(self, arguments: list[str], stdin: str | None) -> tuple[int, str, str, str]:
        """``negotiation ARGUMENTS`` through CliRunner: status, stdout, stderr, and both as a terminal shows them."""
        with self._here():
            result = CliRunner().invoke(main, arguments, input=stdin, prog_name="negotiation",
                                        catch_exceptions=True)  # its warnings go to its stderr
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            told = "".join(traceback.format_exception(result.exception))
            return -1, result.stdout, result.stderr + told, result.output + told
        return result.exit_code, result.stdout, result.stderr, result.output

    def _stage(self, words: list[str], stdin: str | None) -> tuple[int, str, str]:
        """A command of a pipeline that is not ``negotiation``, in bash: status, stdout, stderr."""
        done = subprocess.run(["bash", "-c", shlex.join(words)], cwd=self.directory, env=self.env, input=stdin,
                              stdin=None if stdin is not None else subprocess.DEVNULL, capture_output=True,
                              text=True, timeout=300)
        return done.returncode, done.stdout, done.stderr

    def bash(self, text: str) -> tuple[int, str, str]:
        """The whole line in ``bash -o pipefail``: its exit status, its stdout then its stderr, and its stderr."""
        done = subprocess.run(["bash", "-o", "pipefail", "-c", text], cwd=self.directory, env=self.env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
        return done.returncode, done.stdout + done.stderr, done.stderr


def clone_like(directory: Path) -> dict[str, str]:
    """Lay ``directory`` out as a clone with its virtual environment, and give the shell's environment there.

    The seeds are the checkout's (linked, never written), ``.venv`` the running
    Python's; there is no database and no ``NEGOTIATION_*`` setting.
    """
    (directory / "seeds").symlink_to(ROOT / "seeds", target_is_directory=True)
    (directory / ".venv").symlink_to(VENV, target_is_directory=True)
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("NEGOTIATION_", "PYTEST_", "VIRTUAL_ENV"))}
    env["PATH"] = f"{VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["COLUMNS"] = "200"  # a wide terminal: a line the README shows on one line is not wrapped
    return env


@pytest.fixture
def reader(tmp_path: Path) -> Callable[..., Reader]:
    """A reader of the page (the README, unless given another) in a new directory laid out as a clone."""
    def make(path: Path = README) -> Reader:
        here = Path(tempfile.mkdtemp(prefix="clone-", dir=tmp_path))
        return Reader(path, here, clone_like(here))
    return make


# -- the tests ------------------------------------------------------------------------------------

#: The blocks the README does not run, by the reason it gives: a new one, or one gone, is a change of this list.
NOT_RUN = (
    "it makes the virtual environment and installs the project; the README's test runs in one made already",
    "it runs every test, the README's among them",
    "it runs the whole feature suite, as `bash .ci/test` does",
    "each follows the log until Ctrl-C",
    "it needs a PostgreSQL server at db-host; tests/test_readme.py runs it on the test server instead",
    "it needs a PostgreSQL server at db-host; tests/test_readme.py runs it on the test server instead",
    "it makes roles and a database as an admin of a PostgreSQL server at db-host; tests/test_roles.py runs these "
    "steps on the test server",
    "it takes minutes, and needs the checkout and a PostgreSQL server",
)
IN_CI = os.environ.get("CI", "").lower() == "true"


def test_the_readme_runs_as_written(reader: Callable[..., Reader],
                                    report_figure: Callable[[str, str], None]) -> None:
    report = reader().run()

    report_figure("README.md, run as written", report.summary(why=False))
    assert not report.failures, "\n\n".join(report.failures)
    assert report.commands > 40 and report.snippets > 5, report.summary()
    assert set(report.text) <= set(TEXT), f"blocks in a language the test does not know: {set(report.text) - set(TEXT)}"
    assert [why for _, why in report.not_run] == list(NOT_RUN), report.summary()
    if report.wanting:  # everything else ran and passed; these could not run here
        message = f"{len(report.wanting)} commands of the README need programs not installed: {report.summary()}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


def first_shown_output(text: str) -> tuple[Command, str, int]:
    """The first command of the page that shows what it prints, its first shown line and that line's offset."""
    for block in blocks(README, text):
        if block.language == "sh" and block.not_run is None:
            for command in commands(block):
                if command.output:
                    line = f"# {command.output[0]}\n"
                    return command, line, text.index(line, text.index(command.text))
    raise AssertionError("the README shows no command's output")


def test_a_readme_whose_example_prints_something_else_fails(reader: Callable[..., Reader]) -> None:
    text = README.read_text(encoding="utf-8")
    command, line, at = first_shown_output(text)
    drifted = text[:at] + "# something the command does not print\n" + text[at + len(line):]

    report = reader().run(text=drifted, fail_fast=True)

    assert len(report.failures) == 1
    assert report.failures[0].startswith(f"{README}:{command.line}: {command.text}\n  printed:\n")
    assert "where the README shows:\n    something the command does not print" in report.failures[0]


def write(tmp_path: Path, text: str) -> Path:
    page = tmp_path / "PAGE.md"
    page.write_text(text, encoding="utf-8")
    return page


def test_a_command_that_fails_fails_the_page_unless_the_page_says_it_fails(
    reader: Callable[..., Reader], tmp_path: Path
) -> None:
    page = write(tmp_path, "```sh\nnegotiation show us-japan-2025\n```\n\n"
                           "```sh\nnegotiation show us-japan-2025\n# Error: no database at …\n# (exit status 1)\n```\n")

    report = reader(page).run()

    assert report.commands == 2
    assert report.failures == [f"{page}:2: negotiation show us-japan-2025\n  exited 1, not 0; it printed:\n"
                               "    Error: no database at negotiations.db: record or load events first, or check --url"]


def test_a_python_snippet_fails_the_page_where_its_assert_breaks(reader: Callable[..., Reader], tmp_path: Path) -> None:
    page = write(tmp_path, "Text.\n\n```python\nfrom negotiation import Ledger\n\n"
                           "with Ledger.open(\"memory://\") as ledger:\n    assert ledger.negotiations() == ['x']\n```\n")

    report = reader(page).run()

    assert report.snippets == 1
    assert report.failures == [f"{page}:7: the Python snippet raised AssertionError: "]


def test_a_warning_the_page_does_not_show_fails_it_as_a_reader_would_see_it(
    reader: Callable[..., Reader], tmp_path: Path
) -> None:
    page = write(tmp_path, "```sh\nnegotiation record us-uk-2025 AgreedInPrinciple --data '{\"parties\": [\"US\", \"GB\"]}' "
                           "--occurred-at 2025-05-08\n```\n\n```python\nimport warnings\n\nwarnings.warn('mind')\n```\n")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # as the test session may: the reader's warnings are shown all the same
        report = reader(page).run()

    assert len(report.failures) == 2, report.failures
    assert report.failures[0].startswith(f"{page}:2: negotiation record us-uk-2025")
    assert "printed on stderr, where the README shows nothing:" in report.failures[0]
    assert "warning: AgreedInPrinciple of 2025-05-08 recorded as reported now" in report.failures[0]
    assert report.failures[1].startswith(f"{page}:6: the Python snippet warned:\n    {page}:8: UserWarning: mind")


def test_a_block_marked_not_run_is_counted_and_not_run(reader: Callable[..., Reader], tmp_path: Path) -> None:
    page = write(tmp_path, "<!-- not run: it would fail -->\n```sh\nfalse\n```\n\n"
                           "```yaml\nfalse: true\n```\n\n```sh\ntrue\n```\n")

    report = reader(page).run()

    assert (report.commands, report.not_run, report.text, report.failures) == (1, [(3, "it would fail")], {"yaml": 1}, [])


def test_a_not_run_note_must_stand_just_before_a_block(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="is not just before a block"):
        blocks(write(tmp_path, "<!-- not run: why -->\nA paragraph.\n\n```sh\ntrue\n```\n"))
    with pytest.raises(ValueError, match="stands before no block"):
        blocks(write(tmp_path, "```sh\ntrue\n```\n\n<!-- not run: why -->\n"))


def test_the_lines_under_a_command_are_its_output_and_a_line_after_a_blank_one_a_remark() -> None:
    block = Block(10, "sh", "# a remark\nnegotiation a  # a remark too\n# one\n#\n# (exit status 3)\n\n"
                            "# a remark\nnegotiation b \\\n    --c\n# two\nnegotiation d\n")

    found = [(c.line, c.text, c.output, c.status) for c in commands(block)]

    assert found == [(11, "negotiation a  # a remark too", ["one", ""], 3),
                     (17, "negotiation b \\\n    --c", ["two"], 0),
                     (20, "negotiation d", None, 0)]


@pytest.mark.parametrize(("shown", "printed", "same"), [
    (["a", "b"], ["a", "b"], True),
    (["a"], ["a", "b"], False),
    (["copied … entries (… entries/s)"], ["copied 183 entries (8,327 entries/s)"], True),
    (["copied … entries"], ["copied 183 rows"], False),
    (["first", "…", "last"], ["first", "x", "y", "last"], True),
    (["first", "…", "last"], ["first", "last"], True),
    (["first", "…", "last"], ["first", "x"], False),
    (["a.b"], ["axb"], False),
])
def test_an_ellipsis_stands_for_any_text_in_a_line_and_alone_for_any_lines(
    shown: list[str], printed: list[str], same: bool
) -> None:
    assert matches(shown, printed) is same


def test_a_command_run_in_this_process_prints_what_the_installed_command_prints(
    reader: Callable[..., Reader]
) -> None:
    here, there = reader(), reader()
    lines = ["negotiation show us-japan-2025", "negotiation db upgrade",
             "negotiation list --json | jq length"]

    in_process = [here.chain(plan) for plan in map(here.plan, lines) if plan is not None]
    in_bash = [there.bash(line) for line in lines]

    assert len(in_process) == 3
    assert in_process == in_bash
    assert in_process[0] == (1, *["Error: no database at negotiations.db: record or load events first, or check --url\n"] * 2)


def test_a_line_that_needs_more_of_the_shell_runs_in_bash(reader: Callable[..., Reader]) -> None:
    here = reader()

    assert here.plan("negotiation load seeds/*.yaml") == [[["negotiation", "load",
                                                              *sorted(f"seeds/{p.name}" for p in (ROOT / "seeds").glob("*.yaml"))]]]
    assert here.plan("jq -n '{a: 1}' | negotiation record x TermsAmended --data - > out.txt") == [
        [["jq", "-n", "{a: 1}"], ["negotiation", "record", "x", "TermsAmended", "--data", "-", ">", "out.txt"]]]
    assert here.plan("a && b  # and then") == [[["a"]], [["b"]]]
    for line in ("echo $HOME", "a; b", "a || b", "(a)", "a 2>&1", "a >> f", "a < f", "a & b"):
        assert here.plan(line) is None, line


@pytest.mark.postgres
def test_the_readmes_postgresql_blocks_run_on_the_test_server(reader: Callable[..., Reader], postgres_url: str) -> None:
    here = reader()
    loaded = Report()
    here.command(Command(0, "negotiation load seeds/*.yaml"), loaded)
    made_up = "postgresql+psycopg://user@db-host:5432/negotiations"
    on_server = [block for block in blocks(README) if block.not_run and made_up in block.source]
    report = Report()

    for block in on_server:
        for command in commands(Block(block.line, block.language, block.source.replace(made_up, postgres_url))):
            here.command(command, report)

    assert loaded.failures == [] and loaded.commands == 1
    assert len(on_server) == 2 and report.commands == 2
    assert report.failures == [], "\n\n".join(report.failures)
    assert here.env["NEGOTIATION_DB_URL"] == postgres_url
