"""Event files: YAML read by the 1.2 core schema, JSON read as JSON, and loads that stop midway say so."""

from __future__ import annotations

import gc
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import yaml
from click.testing import CliRunner

from negotiation import ConcurrencyConflict, IllegalTransition, InvalidEvent, Ledger, writer
from negotiation import ledger as ledger_module
from negotiation.cli import main
from negotiation.domain.checks import new_events
from negotiation.domain.entries import NewEvent
from negotiation.files import loading, reading
from negotiation.files.loading import LoadError, LoadReport, LoadStopped, load_streams, read_streams
from negotiation.files.reading import EventFileLoader, core_schema_loader, read_seed_file, seed_event_id

# About how the storage behaves: on every backend.
pytestmark = pytest.mark.every_backend

Rows = Callable[[], list[tuple[object, ...]]]
#: The module of the command line (the package's ``main`` attribute is the command itself).


def opening_file(path: Path, scalar: str) -> Path:
    """A one-event file whose opening carries ``scalar`` as written, unquoted, in its terms."""
    path.write_text("negotiation: us-norway-2025\nevents:\n  - type: AgreedInPrinciple\n"
                    f"    data: {{parties: [US, NO], terms: {{value: {scalar}}}}}\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("scalar", "value"),
    [
        ("NO", "NO"),
        ("no", "no"),
        ("yes", "yes"),
        ("on", "on"),
        ("Off", "Off"),
        ("y", "y"),
        ("12:30", "12:30"),
        ("1:20:30", "1:20:30"),
        ("012", 12),
        ("0o12", 10),
        ("0x1F", 31),
        ("0b101", "0b101"),
        ("1_000", "1_000"),
        ("-7", -7),
        ("1e3", 1000.0),
        ("2.5", 2.5),
        ("true", True),
        ("FALSE", False),
        ("~", None),
        ("null", None),
        ("2025-07-22", "2025-07-22"),
        ("2025-07-22T10:00:00Z", "2025-07-22T10:00:00Z"),
    ],
)
def test_yaml_plain_scalars_are_read_by_the_yaml_1_2_core_schema(tmp_path: Path, scalar: str, value: object) -> None:
    path = opening_file(tmp_path / "talks.yaml", scalar)

    [stream] = read_seed_file(path)

    read = stream.events[0]["data"]["terms"]["value"]
    assert read == value and type(read) is type(value)


def test_norway_is_a_party_not_false(ledger: Ledger, tmp_path: Path) -> None:
    path = opening_file(tmp_path / "talks.yaml", "'12:30'")

    load_streams(ledger, read_streams([path]))

    assert ledger.get("us-norway-2025").parties == ("US", "NO")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("negotiation: x\nevents: [{type: AgreedInPrinciple, data: {signed: !!bool yes}}]",
         "line 2 not valid YAML: 'yes' is not a YAML 1.2 bool"),
        ("negotiation: x\nevents:\n  - {type: TermsAmended, data: {at: !!int 12:30}}",
         "line 3 not valid YAML: '12:30' is not a YAML 1.2 int"),
        ("negotiation: x\nevents: [{type: TermsAmended, data: {n: " + "9" * 5000 + "}}]",
         "line 2 not valid YAML: integer too long"),
        ("negotiation: x\nevents: [{type: TermsAmended, data: {n: 1}}]\n\x07",
         "not valid YAML: .*characters are not allowed"),
    ],
)
def test_yaml_the_core_schema_refuses_is_refused_naming_the_file_and_line(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(InvalidEvent, match=message) as refused:
        read_seed_file(path)

    assert str(refused.value).startswith(str(path))
    assert "\n" not in str(refused.value)


@pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML was built without libyaml")
def test_event_files_are_parsed_by_libyaml_when_pyyaml_has_it() -> None:
    assert issubclass(EventFileLoader, yaml.CSafeLoader)


def test_the_pure_python_fallback_reads_every_scalar_as_the_c_parser_does() -> None:
    text = ("a: [NO, yes, on, '12:30', 12:30, 012, 0o12, 0x1F, 0b101, 1_000, -.inf, .NaN, +1.5e3, 1., ~, '',\n"
            "    TRUE, False, 2025-07-22, !!str 7, !!float 3, \"x\"]\n"
            "base: &base {k: 1}\n"
            "merged: {<<: *base, j: 2}\n")
    pure_python = core_schema_loader(yaml.SafeLoader)

    fast = yaml.load(text, Loader=EventFileLoader)
    slow = yaml.load(text, Loader=pure_python)

    assert repr(fast) == repr(slow)  # repr: nan != nan
    assert slow["merged"] == {"k": 1, "j": 2}
    assert slow["a"][:5] == ["NO", "yes", "on", "12:30", "12:30"]


#: Files the fast reader builds from the parser's events, and files it leaves to PyYAML (tags, merge keys,
#: anchors PyYAML refuses, unhashable keys, integers too long): both must read as ``yaml.load_all`` reads them.
READ_ALIKE = [
    ("a: [NO, yes, on, '12:30', 12:30, 012, 0o12, 0x1F, 0b101, 1_000, -.inf, .NaN, +1.5e3, 1., ~, '',\n"
    "    TRUE, False, 2025-07-22, \"x\", -7, 1e3, null, Null, 0o, 0x]\n"),
    "a: &x [1, {b: c}]\nb: *x\nc: &s hello\nd: *s\n",
    "a: &r [*r]\n",
    "---\n---\na: 1\n--- ~\n---\n- 1\n- {e: f}\n",
    "a: 1\na: 2\n",
    "{.nan: 1, .nan: 2, 1.5: x, 1.5: y}\n",
    "a: |\n  multi\n  line\nb: >-\n  folded\n  text\n'c': \"d\"\n",
    "",
    "base: &base {k: 1, j: 0}\nmerged: {<<: *base, j: 2}\nmany: {<<: [*base, {z: 1}]}\n",
    "a: !!str 7\nb: !!float 3\nc: ! 12\n",
    "? [a]\n: 1\n",
    "a: *nope\n",
    "a: &x 1\nb: &x 2\n",
    "x: 9" + "9" * 5000 + "\n",
    "a: [1, 2\n",
]


@pytest.mark.parametrize("text", READ_ALIKE)
def test_yaml_files_read_as_pyyaml_reads_them_through_the_fast_reader_or_pyyaml_itself(
    tmp_path: Path, text: str
) -> None:
    try:
        expected: object = [doc for doc in yaml.load_all(text, Loader=EventFileLoader) if doc is not None]
    except yaml.YAMLError as e:
        expected = f"{e.problem_mark.line + 1 if e.problem_mark else ''} {e.problem}"  # type: ignore[attr-defined]
    path = tmp_path / "talks.yaml"
    path.write_text(text, encoding="utf-8")

    try:
        read: object = reading._yaml_documents(path)
    except InvalidEvent as e:
        read = str(e)
        assert isinstance(expected, str) and read.startswith(f"{path}: line {expected.split()[0]} not valid YAML")
        return

    assert repr(read) == repr(expected)  # repr: nan != nan, and a recursive list is equal only to itself


def test_the_seed_files_are_read_by_the_fast_reader_as_pyyaml_reads_them() -> None:
    for path in loading.seed_files():
        text = path.read_text(encoding="utf-8")

        fast = reading._read_plain(text)  # raises _Unusual if it left the file to PyYAML

        assert fast == [doc for doc in yaml.load_all(text, Loader=EventFileLoader) if doc is not None], path


def test_the_fast_reader_leaves_an_alias_to_the_loader_which_refuses_it_outside_a_merge_key() -> None:
    with pytest.raises(reading._Unusual):
        reading._read_plain("a: &x [1]\nb: *x\n")
    with pytest.raises(yaml.YAMLError, match="an alias .* is allowed only as the value of a merge key"):
        list(yaml.load_all("a: &x [1]\nb: *x\n", Loader=EventFileLoader))


def test_reading_a_file_leaves_the_cycle_collector_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = opening_file(tmp_path / "good.yaml", "1")
    seen: list[tuple[bool, int]] = []
    make_stream = reading._stream

    def spy(*args: Any) -> Any:
        seen.append((gc.isenabled(), gc.get_freeze_count()))
        return make_stream(*args)

    monkeypatch.setattr(reading, "_stream", spy)
    before = (gc.isenabled(), gc.get_freeze_count())

    read_seed_file(path)

    assert seen and set(seen) == {before}
    assert (gc.isenabled(), gc.get_freeze_count()) == before


GOOD = {"negotiation": "korea-japan-2025",
        "events": [{"type": "AgreedInPrinciple", "occurred_at": "2025-08-23", "data": {"parties": ["KR", "JP"]}},
                   {"type": "TermsDisputed", "data": {"point": "rice"}}]}
OTHER = {**GOOD, "negotiation": "korea-japan-2026"}


def test_a_json_file_holds_one_negotiation_or_a_list_of_them(tmp_path: Path) -> None:
    one, many = tmp_path / "one.json", tmp_path / "many.JSON"
    one.write_bytes(orjson.dumps(GOOD))
    many.write_bytes(orjson.dumps([GOOD, OTHER]))

    read_one, read_many = read_seed_file(one), read_seed_file(many)

    assert [s.negotiation_id for s in read_one] == ["korea-japan-2025"]
    assert [s.negotiation_id for s in read_many] == ["korea-japan-2025", "korea-japan-2026"]
    assert read_many[1].events[1] == {"event_id": seed_event_id("korea-japan-2026", 2),
                                      "type": "TermsDisputed", "data": {"point": "rice"}}


def test_the_same_negotiation_as_yaml_or_json_gets_the_same_event_ids(ledger: Ledger, tmp_path: Path) -> None:
    as_json, as_yaml = tmp_path / "talks.json", tmp_path / "talks.yaml"
    as_json.write_bytes(orjson.dumps(GOOD))
    as_yaml.write_text(yaml.safe_dump(GOOD), encoding="utf-8")
    first = load_streams(ledger, read_streams([as_yaml]))

    second = load_streams(ledger, read_streams([as_json]))

    assert (first.recorded, second.recorded, second.already_stored) == (2, 0, 2)


def test_the_load_command_loads_a_json_file_holding_a_list_of_negotiations(
    ledger: Ledger, database_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "talks.json"
    path.write_bytes(orjson.dumps([GOOD, OTHER]))

    first = CliRunner().invoke(main, ["--url", database_url, "load", str(path)])
    again = CliRunner().invoke(main, ["--url", database_url, "load", str(path)])

    assert first.exit_code == 0, first.output
    assert "loaded 2 negotiations: 4 events recorded, 0 already stored" in first.stdout
    assert "loaded 2 negotiations: 0 events recorded, 4 already stored" in again.stdout
    assert ledger.negotiations() == ["korea-japan-2025", "korea-japan-2026"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'[{"negotiation": "korea-japan-2025", "events": [{"type": "TermsDisputed", "colour": 1}]}]',
         "event 1 has unknown keys colour"),
        (b'{"negotiation": "korea-japan-2026", "events": [{"type": "AgreedInPrinciple", "data": {}}]}',
         "korea-japan-2026: .*parties"),
        ((b'{"negotiation": "korea-japan-2026", "events": [{"type": "AgreedInPrinciple", "data": {"parties": '
         b'["KR", "JP"]}, "event_id": "not-a-uuid"}]}'), "korea-japan-2026: .*not a UUID"),
        (b'{"negotiation": "korea-japan-2026", "events": [{"type": "TermsDisputed", "data": {"point": "rice"}}]}',
         "korea-japan-2026: .*TermsDisputed"),
    ],
    ids=["malformed", "bad payload", "bad event id", "illegal opening"],
)
def test_a_bad_file_is_refused_by_the_load_command_on_one_line_and_the_database_is_unchanged(
    ledger: Ledger, database_url: str, stored_rows: Rows, tmp_path: Path, raw: bytes, message: str
) -> None:
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_bytes(orjson.dumps(GOOD))
    CliRunner().invoke(main, ["--url", database_url, "load", str(good)])
    before = stored_rows()
    bad.write_bytes(raw)
    other = tmp_path / "other.json"
    other.write_bytes(orjson.dumps({**GOOD, "negotiation": "korea-japan-2027"}))

    result = CliRunner().invoke(main, ["--url", database_url, "load", str(other), str(bad)])

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith(f"Error: {bad}: ")
    assert re.search(message, result.stderr)
    assert stored_rows() == before
    assert "korea-japan-2027" not in ledger.negotiations()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"negotiation": "x",\n "events": [}', "line 2 not valid JSON"),
        (b"[]", "no negotiation in the file"),
        (b'"korea-japan-2025"', "each document must be a mapping"),
        (b'[{"negotiation": "korea-japan-2025", "events": []}]', "'events' must be a non-empty list"),
    ],
)
def test_a_malformed_json_file_is_refused_naming_the_file(tmp_path: Path, raw: bytes, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(raw)

    with pytest.raises(InvalidEvent, match=message) as refused:
        read_seed_file(path)

    assert str(refused.value).startswith(str(path))


# -- loads that stop midway -------------------------------------------------------------------------

TWO_TALKS = """negotiation: korea-japan-2025
events:
  - type: AgreedInPrinciple
    data: {parties: [KR, JP]}
  - {type: TermsAmended, data: {terms: {round: 1}}}
  - {type: TermsAmended, data: {terms: {round: 2}}}
  - {type: TermsAmended, data: {terms: {round: 3}}}
  - LAST
---
negotiation: korea-japan-2026
events:
  - type: AgreedInPrinciple
    data: {parties: [KR, JP]}
  - {type: TermsAmended, data: {terms: {round: 1}}}
  - {type: TermsAmended, data: {terms: {round: 2}}}
"""


@pytest.fixture
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> int:
    """Loads write two events per transaction, so a short file spans several."""
    monkeypatch.setattr(loading, "CHUNK", 2)
    return 2


def two_talks(path: Path, last: str = "{type: VisitCancelled, data: {envoy: Ryosei Akazawa}}") -> Path:
    """korea-japan-2025 (five events, the fifth ``last``: three chunks of two) then korea-japan-2026 (three)."""
    path.write_text(TWO_TALKS.replace("LAST", last), encoding="utf-8")
    return path


def after_first_chunk(url: str, event_type: str, data: dict[str, Any]) -> Callable[[int], None]:
    """A progress callback that, once the first chunk is committed, has another writer record into korea-japan-2025."""
    chunks = iter(range(1_000_000))

    def progress(_events: int) -> None:
        if next(chunks) == 0:
            with Ledger.open(url) as other:
                other.record("korea-japan-2025", event_type, data)

    return progress


def test_a_writer_changing_a_negotiation_between_chunks_stops_the_load_keeping_whole_chunks(
    ledger: Ledger, database_url: str, small_chunks: int, tmp_path: Path
) -> None:
    path = two_talks(tmp_path / "talks.yaml")
    streams = read_streams([path])

    with pytest.raises(LoadStopped) as stopped:
        load_streams(ledger, streams, after_first_chunk(database_url, "TermsDisputed", {"point": "rice"}))

    message = str(stopped.value)
    assert [e.type for e in ledger.history("korea-japan-2025")] == ["AgreedInPrinciple", "TermsAmended",
                                                                      "TermsDisputed"]
    assert "korea-japan-2026" not in ledger.negotiations()
    assert isinstance(stopped.value.__cause__, ConcurrencyConflict)
    assert message.startswith(f"{path}: korea-japan-2025: load stopped at events 3-4: negotiation "
                              "'korea-japan-2025' is at version 3, expected version 2;")
    assert ("; written: korea-japan-2025 events 1-2 (2 events recorded, 0 already stored); not written: "
            "korea-japan-2025 events 3-5 and 1 negotiation (korea-japan-2026) with 3 events; "
            "re-run the load to complete it") in message
    assert "\n" not in message
    assert (stopped.value.complete, stopped.value.stopped_at, stopped.value.stored_events,
            stopped.value.not_loaded) == ([], "korea-japan-2025", 2, ["korea-japan-2026"])


THREE_TALKS = TWO_TALKS.replace("LAST", "{type: VisitCancelled, data: {envoy: Ryosei Akazawa}}") + """---
negotiation: korea-japan-2027
events:
  - type: AgreedInPrinciple
    data: {parties: [KR, JP]}
"""


def test_short_negotiations_are_written_together_a_chunk_at_a_time(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(loading, "CHUNK", 4)  # korea-japan-2025's five events alone; the other two (3 + 1) together
    path = tmp_path / "talks.yaml"
    path.write_text(THREE_TALKS, encoding="utf-8")
    together: list[list[str]] = []
    record_judged = ledger.record_judged

    def spy(batches: list[tuple[str, list[NewEvent], int | None]], judged: Any, **options: Any) -> Any:
        together.append([negotiation_id for negotiation_id, _, _ in batches])
        return record_judged(batches, judged, **options)

    monkeypatch.setattr(ledger, "record_judged", spy)
    progress: list[int] = []

    report = load_streams(ledger, read_streams([path]), progress.append)

    assert report == LoadReport(negotiations=3, recorded=5 + 3 + 1, already_stored=0)
    assert together == [["korea-japan-2025"], ["korea-japan-2025"], ["korea-japan-2026", "korea-japan-2027"]]
    assert progress == [4, 1, 3, 1]
    assert [ledger.version(n) for n in ("korea-japan-2025", "korea-japan-2026", "korea-japan-2027")] == [5, 3, 1]


def test_a_chunk_of_negotiations_refused_at_write_time_writes_none_of_them(
    ledger: Ledger, database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(loading, "CHUNK", 5)
    path = tmp_path / "talks.yaml"
    path.write_text(THREE_TALKS, encoding="utf-8")

    def progress(_events: int) -> None:  # once korea-japan-2025 is written, another writer opens korea-japan-2027
        if ledger.version("korea-japan-2025") and not ledger.version("korea-japan-2027"):
            with Ledger.open(database_url) as other:
                other.record("korea-japan-2027", "AgreedInPrinciple", {"parties": ["KR", "JP"]})

    with pytest.raises(LoadStopped) as stopped:
        load_streams(ledger, read_streams([path]), progress)

    message = str(stopped.value)
    assert message.startswith(f"{path}: korea-japan-2026: load stopped at events 1-3: negotiation "
                              "'korea-japan-2027' is at version 1, expected version 0;")
    assert ("written: 1 negotiation (korea-japan-2025) in full (5 events recorded, 0 already stored); "
            "not written: korea-japan-2026 events 1-3 and 1 negotiation (korea-japan-2027) with 1 event") in message
    assert "korea-japan-2026" not in ledger.negotiations()
    assert [e.type for e in ledger.history("korea-japan-2027")] == ["AgreedInPrinciple"]


def test_a_rerun_after_a_stopped_load_completes_it_without_duplicates(
    ledger: Ledger, database_url: str, small_chunks: int, tmp_path: Path
) -> None:
    streams = read_streams([two_talks(tmp_path / "talks.yaml")])
    with pytest.raises(LoadStopped):
        load_streams(ledger, streams, after_first_chunk(database_url, "TermsDisputed", {"point": "rice"}))

    rerun = load_streams(ledger, read_streams([two_talks(tmp_path / "talks.yaml")]))

    assert rerun == LoadReport(negotiations=2, recorded=3 + 3, already_stored=2)
    history = ledger.history("korea-japan-2025")
    assert [e.version for e in history] == [1, 2, 3, 4, 5, 6]
    assert [e.event_id for e in history if e.type != "TermsDisputed"] == [
        seed_event_id("korea-japan-2025", n) for n in range(1, 6)]
    assert ledger.verify().intact
    assert len(ledger.read_all()) == 6 + 3


def test_a_rerun_sends_only_the_missing_events_and_its_progress_still_counts_every_event(
    ledger: Ledger, database_url: str, small_chunks: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = two_talks(tmp_path / "talks.yaml")
    with pytest.raises(LoadStopped):
        load_streams(ledger, read_streams([path]), after_first_chunk(database_url, "TermsDisputed", {"point": "x"}))
    sent: list[tuple[str, int]] = []
    record_judged = ledger.record_judged

    def spy(batches: list[tuple[str, list[NewEvent], int | None]], judged: Any, **options: Any) -> Any:
        sent.extend((negotiation_id, len(events)) for negotiation_id, events, _ in batches)
        return record_judged(batches, judged, **options)

    monkeypatch.setattr(ledger, "record_judged", spy)
    progress: list[int] = []

    rerun = load_streams(ledger, read_streams([path]), progress.append)
    sent_by_rerun, progress_of_rerun = sent[:], progress[:]
    again = load_streams(ledger, read_streams([path]), progress.append)

    assert rerun == LoadReport(negotiations=2, recorded=3 + 3, already_stored=2)
    assert sent_by_rerun == [("korea-japan-2025", 2), ("korea-japan-2025", 1), ("korea-japan-2026", 2),
                             ("korea-japan-2026", 1)]
    assert progress_of_rerun == [2, 2, 1, 2, 1]
    assert again == LoadReport(negotiations=2, recorded=0, already_stored=5 + 3)
    assert sent == sent_by_rerun  # nothing sent again
    assert sum(progress) - sum(progress_of_rerun) == 5 + 3


def test_a_race_that_makes_the_file_illegal_is_refused_on_rerun_until_the_file_is_fixed(
    ledger: Ledger, database_url: str, stored_rows: Rows, small_chunks: int, tmp_path: Path
) -> None:
    # Finalising the deal is legal as the file tells it, not once another writer has opened a dispute.
    path = two_talks(tmp_path / "talks.yaml", last="{type: AgreementFinalised, data: {instruments: [joint statement]}}")
    with pytest.raises(LoadStopped, match="written: korea-japan-2025 events 1-2 "):
        load_streams(ledger, read_streams([path]),
                     after_first_chunk(database_url, "TermsDisputed", {"point": "rice"}))
    stopped = stored_rows()

    with pytest.raises(LoadError, match="AgreementFinalised is not allowed .*; nothing was written"):
        load_streams(ledger, read_streams([path]))
    refused = stored_rows()
    fixed = load_streams(ledger, read_streams([two_talks(path, last="{type: WorkingLevelTalksOpened}")]))

    assert refused == stopped
    assert (fixed.recorded, fixed.already_stored) == (3 + 3, 2)
    assert [e.type for e in ledger.history("korea-japan-2025")] == [
        "AgreedInPrinciple", "TermsAmended", "TermsDisputed", "TermsAmended", "TermsAmended",
        "WorkingLevelTalksOpened"]
    assert len({row[0] for row in stored_rows()}) == len(stored_rows()) == 6 + 3


def test_a_load_refused_while_checking_writes_nothing_even_over_several_chunks(
    ledger: Ledger, stored_rows: Rows, small_chunks: int, tmp_path: Path
) -> None:
    path = two_talks(tmp_path / "talks.yaml", last="{type: DisputeResolved, data: {point: rice}}")

    with pytest.raises(LoadError, match="korea-japan-2025: .*DisputeResolved is not allowed.*; nothing was written"):
        load_streams(ledger, read_streams([path]))

    assert stored_rows() == []


@pytest.fixture
def racing_cli(monkeypatch: pytest.MonkeyPatch, small_chunks: int, database_url: str) -> Iterator[None]:
    """The ``load`` command with another writer recording into korea-japan-2025 after its first chunk."""
    original = loading.load_streams

    def racing(ledger: Ledger, streams: list[Any], progress: Callable[[int], None]) -> LoadReport:
        race = after_first_chunk(database_url, "TermsDisputed", {"point": "rice"})

        def both(events: int) -> None:
            race(events)
            progress(events)

        return original(ledger, streams, both)

    # The command imports the loader when it runs, so the loader module is where to patch it.
    monkeypatch.setattr(loading, "load_streams", racing)
    yield


def test_the_load_command_reports_a_stopped_load_on_one_line_of_stderr_and_fails(
    racing_cli: None, database_url: str, tmp_path: Path
) -> None:
    path = two_talks(tmp_path / "talks.yaml")

    result = CliRunner().invoke(main, ["--url", database_url, "load", str(path)])

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"Error: {path}: korea-japan-2025: load stopped at events 3-4")
    assert "written: korea-japan-2025 events 1-2" in result.stderr
    assert "not written: korea-japan-2025 events 3-5 and 1 negotiation (korea-japan-2026)" in result.stderr


def test_a_load_leaves_the_cycle_collector_alone(
        ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "talks.yaml"
    path.write_text(THREE_TALKS, encoding="utf-8")
    streams = read_streams([path])
    seen: list[tuple[bool, int]] = []
    before = (gc.isenabled(), gc.get_freeze_count())
    record_judged = ledger.record_judged

    def spy(batches: list[tuple[str, list[NewEvent], int | None]], judged: Any, **options: Any) -> Any:
        seen.append((gc.isenabled(), gc.get_freeze_count()))
        return record_judged(batches, judged, **options)

    monkeypatch.setattr(ledger, "record_judged", spy)

    load_streams(ledger, streams)

    assert seen and set(seen) == {before}
    assert (gc.isenabled(), gc.get_freeze_count()) == before


@pytest.mark.parametrize(("last", "named"), [
    ("{type: AgreementFinalised, occurred_at: 2025-07-04, data: {instruments: [order 2]}}",
     "event 4 of the document (AgreementFinalised of 2025-07-04): AgreementFinalised is not allowed"),
    ("{type: DisputeResolved, occurred_at: 2025-07-01, data: {point: rice}}",
     "event 4 of the document (DisputeResolved of 2025-07-01): the new events"),
])
def test_a_load_refused_at_check_time_names_the_item_of_the_document_and_its_date(
    ledger: Ledger, stored_rows: Rows, tmp_path: Path, last: str, named: str
) -> None:
    path = tmp_path / "refused.yaml"
    path.write_text("negotiation: us-japan-2025\nevents:\n"
                    "  - {type: AgreedInPrinciple, occurred_at: 2025-07-02, data: {parties: [US, JP]}}\n"
                    "  - {type: TermsAmended, occurred_at: 2025-07-02, data: {terms: {a: 1}}}\n"
                    "  - {type: AgreementFinalised, occurred_at: 2025-07-03, data: {instruments: [order]}}\n"
                    f"  - {last}\n", encoding="utf-8")

    with pytest.raises(LoadError) as refused:
        load_streams(ledger, read_streams([path]))

    assert named in str(refused.value)
    assert str(refused.value).endswith("; nothing was written")
    assert "\n" not in str(refused.value)
    assert stored_rows() == []


DATED_TALKS = """negotiation: korea-japan-2025
events:
  - {type: AgreedInPrinciple, data: {parties: [KR, JP]}, occurred_at: 2025-01-05, reported_at: 2025-01-05}
  - {type: TermsAmended, data: {terms: {round: 1}}, occurred_at: 2025-01-06, reported_at: 2025-01-06}
  - {type: TermsAmended, data: {terms: {round: 2}}, occurred_at: 2025-01-07, reported_at: 2025-01-07}
---
negotiation: korea-japan-2026
events:
  - {type: AgreedInPrinciple, data: {parties: [KR, JP]}, occurred_at: 2026-01-05, reported_at: 2026-01-05}
  - {type: TermsAmended, data: {terms: {round: 1}}, occurred_at: 2026-01-06, reported_at: 2026-01-06}
"""


def test_a_load_checks_each_event_once_and_has_the_machine_judge_it_once(
        ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "talks.yaml"
    path.write_text(DATED_TALKS, encoding="utf-8")
    shaped: list[str] = []
    judged: list[str] = []

    def spy_shape(checks: Callable[..., list[NewEvent]]) -> Callable[..., list[NewEvent]]:
        def shape(negotiation_id: str, items: list[dict[str, Any]], **options: Any) -> list[NewEvent]:
            shaped.extend(item["event_id"] for item in items)
            return checks(negotiation_id, items, **options)
        return shape

    decide = writer.decide

    def spy_decide(current: Any, events: list[tuple[NewEvent, Any]]) -> Any:
        judged.extend(event.event_id for event, _ in events)
        return decide(current, events)

    monkeypatch.setattr(loading, "new_events", spy_shape(loading.new_events))
    monkeypatch.setattr(ledger_module, "new_events", spy_shape(ledger_module.new_events))
    monkeypatch.setattr(writer, "decide", spy_decide)

    report = load_streams(ledger, read_streams([path]))

    stored = [event.event_id for n in ("korea-japan-2025", "korea-japan-2026") for event in ledger.history(n)]
    assert report == LoadReport(negotiations=2, recorded=5, already_stored=0)
    assert len(stored) == 5
    assert shaped == stored
    assert judged == stored


def test_a_verdict_is_not_taken_once_another_writer_has_moved_the_negotiation(ledger: Ledger) -> None:
    ledger.record("korea-japan-2025", "AgreedInPrinciple", {"parties": ["KR", "JP"]},
                  occurred_at="2025-01-05", reported_at="2025-01-05")
    batches: list[tuple[str, list[NewEvent], int | None]] = [("korea-japan-2025", new_events("korea-japan-2025", [
        {"type": "AgreementFinalised", "data": {"instruments": ["joint statement"]}, "occurred_at": "2025-03-01",
         "reported_at": "2025-03-01"}]), None)]
    verdicts = ledger.judge_together(batches)
    ledger.record("korea-japan-2025", "TermsDisputed", {"point": "rice"}, occurred_at="2025-02-01",
                  reported_at="2025-02-01")
    before = ledger.history("korea-japan-2025")

    with pytest.raises(IllegalTransition) as refused:
        ledger.record_judged(batches, verdicts)

    assert (refused.value.state, refused.value.event_type) == ("disputed_terms", "AgreementFinalised")
    assert ledger.history("korea-japan-2025") == before


def test_a_verdict_on_other_events_is_not_taken_for_these(ledger: Ledger) -> None:
    ledger.record("korea-japan-2025", "AgreedInPrinciple", {"parties": ["KR", "JP"]},
                  occurred_at="2025-01-05", reported_at="2025-01-05")

    def batch(event: dict[str, Any]) -> list[tuple[str, list[NewEvent], int | None]]:
        return [("korea-japan-2025", new_events("korea-japan-2025", [
            {**event, "occurred_at": "2025-03-01", "reported_at": "2025-03-01"}]), None)]
    finalised = batch({"type": "AgreementFinalised", "data": {"instruments": ["joint statement"]}})
    disputed = batch({"type": "TermsDisputed", "data": {"point": "rice"}})
    verdict_on_finalising = ledger.judge_together(finalised)

    # At the same version, one event each: the verdict on finalising says nothing of a dispute.
    ledger.record_judged(disputed, verdict_on_finalising)

    kept = ledger.get("korea-japan-2025")
    assert (kept.state, kept.open_disputes) == ("disputed_terms", ("rice",))
    assert ledger.verify().intact  # the state kept beside the log is the one its history gives


def test_verdicts_not_one_for_each_batch_are_refused_and_nothing_is_written(ledger: Ledger) -> None:
    batches: list[tuple[str, list[NewEvent], int | None]] = [
        (n, new_events(n, [{"type": "AgreedInPrinciple", "data": {"parties": ["KR", "JP"]},
                            "occurred_at": "2025-01-05", "reported_at": "2025-01-05"}]), 0)
        for n in ("korea-japan-2025", "korea-japan-2026")]
    verdicts = ledger.judge_together(batches)

    with pytest.raises(InvalidEvent, match=r"^1 verdicts for 2 batches; give one for each, or none$"):
        ledger.record_judged(batches, verdicts[:1])

    assert ledger.read_all() == []
    assert [recorded.written for recorded in ledger.record_judged(batches, verdicts)] == [1, 1]


def test_streams_loaded_once_load_again_as_already_stored(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "talks.yaml"
    path.write_text(DATED_TALKS, encoding="utf-8")
    streams = read_streams([path])

    first = load_streams(ledger, streams)
    again = load_streams(ledger, streams)

    assert (first.recorded, first.already_stored) == (5, 0)
    assert (again.recorded, again.already_stored) == (0, 5)
    assert len(ledger.read_all()) == 5
