"""Export and load: event files carry every entry, corrections included, and come back as the same negotiations.

Loading an export into an empty database gives the same negotiations, states
and stories (and the same answers as known at any time, since reported_at
travels too); loading it where it came from records nothing. An event already
loaded that its file now says differently is refused, never duplicated.
"""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from negotiation import InvalidEvent, Ledger, NegotiationError, SourceRecord, outlet_of
from negotiation.cli import main
from negotiation.domain.payloads import EVENT_KINDS
from negotiation.files.export import EventFileDumper, documents, write
from negotiation.files.loading import LoadError, load_streams, read_streams
from negotiation.files.reading import EventFileLoader, read_seed_file
from negotiation.views import report

Rows = Callable[[], list[tuple[object, ...]]]
ROOT = Path(__file__).resolve().parent.parent
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def read_rows(url: str) -> list[tuple[object, ...]]:
    """Every stored row of the log, read behind the ledger's back."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(row) for row in conn.execute(text("SELECT * FROM negotiation_events ORDER BY position"))]
    finally:
        engine.dispose()


def exported(ledger: Ledger, path: Path, ids: tuple[str, ...] = ()) -> Path:
    with path.open("w", encoding="utf-8") as out:
        write(documents(ledger, ids), out, "json" if path.suffix == ".json" else "yaml")
    return path


def log_of(ledger: Ledger, negotiation_id: str) -> list[tuple[object, ...]]:
    """A negotiation's log without what belongs to the database it is in (positions, recording times, hashes)."""
    return [(e.event_id, e.version, e.type, e.data, e.occurred_at, e.reported_at, e.sources, e.retracted_by,
             e.corrected_by) for e in ledger.history(negotiation_id)]


def answer(ask: Callable[[], object]) -> object:
    try:
        return ask()
    except NegotiationError as e:
        return f"{type(e).__name__}: {e}"


def assert_same(source: Ledger, copy: Ledger, ids: list[str] | None = None) -> None:
    """The same negotiations, states, stories and logs, and the same answers as known when each entry was."""
    ids = ids if ids is not None else source.negotiations()
    assert [i for i in copy.negotiations() if i in ids] == ids
    for negotiation_id in ids:
        assert copy.get(negotiation_id) == source.get(negotiation_id)
        assert ([replace(e, recorded_at=EPOCH) for e in copy.story(negotiation_id)]
                == [replace(e, recorded_at=EPOCH) for e in source.story(negotiation_id)])
        assert log_of(copy, negotiation_id) == log_of(source, negotiation_id)
        for entry in source.history(negotiation_id)[:6]:
            asked = {"negotiation_id": negotiation_id, "known_at": entry.reported_at}
            assert answer(lambda: copy.get(**asked)) == answer(lambda: source.get(**asked))  # noqa: B023


@pytest.fixture
def seeded(sqlite_url: str, seeds: list[Path]) -> Iterator[Ledger]:
    """The seeds, with a retraction and a correction recorded on top, in a SQLite database."""
    with Ledger.open(sqlite_url) as ledger:
        load_streams(ledger, read_streams(seeds))
        ledger.correct("us-japan-2025", 3, reason="reported a day late", occurred_at="2025-08-01",
                       reported_at="2025-08-02", sources=["Kyodo"])
        ledger.retract("us-uk-2025", ledger.history("us-uk-2025")[-1].version, reason="not confirmed",
                       sources=["GOV.UK"])
        yield ledger


# -- round trips --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_the_seeds_exported_and_loaded_into_an_empty_database_are_the_same_negotiations(
    seeded: Ledger, tmp_path: Path, suffix: str
) -> None:
    path = exported(seeded, tmp_path / f"all{suffix}")

    with Ledger.open(f"sqlite:///{tmp_path / 'empty.db'}") as empty:
        report = load_streams(empty, read_streams([path]))

        assert (report.negotiations, report.recorded) == (
            len(seeded.negotiations()), sum(len(seeded.history(n)) for n in seeded.negotiations()))
        assert_same(seeded, empty)
        assert empty.verify().intact


def test_an_export_loaded_where_it_came_from_records_nothing(seeded: Ledger, tmp_path: Path) -> None:
    path = exported(seeded, tmp_path / "all.yaml")
    before = read_rows(seeded.url)

    report = load_streams(seeded, read_streams([path]))

    assert report.recorded == 0
    assert report.already_stored == sum(len(seeded.history(n)) for n in seeded.negotiations())
    assert read_rows(seeded.url) == before


def test_an_export_and_the_report_are_files_others_may_read_as_a_plain_write_leaves_them(
        seeded: Ledger, tmp_path: Path) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("", encoding="utf-8")  # 0666 less this process's umask
    path = tmp_path / "all.yaml"
    assert CliRunner().invoke(main, ["--url", seeded.url, "export", "--out", str(path)]).exit_code == 0
    site = report.write(seeded, tmp_path / "site")

    for written in (path, site.index, site.feed, site.pages["us-japan-2025"], tmp_path / "site" / "spec" / "index.html"):
        assert written.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777, written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["all.yaml", "plain.txt", "site"]  # no part file left


def test_an_export_loaded_twice_records_it_once(seeded: Ledger, tmp_path: Path) -> None:
    path = exported(seeded, tmp_path / "all.yaml")

    with Ledger.open(f"sqlite:///{tmp_path / 'empty.db'}") as empty:
        first = load_streams(empty, read_streams([path]))
        second = load_streams(empty, read_streams([path]))

        assert (second.recorded, second.already_stored) == (0, first.recorded)


def test_the_seeds_round_trip_through_postgresql(seeded: Ledger, tmp_path: Path, postgres_url: str) -> None:
    path = exported(seeded, tmp_path / "all.yaml")

    with Ledger.open(postgres_url) as empty:
        load_streams(empty, read_streams([path]))

        assert_same(seeded, empty)
        assert empty.verify().intact


def test_an_export_writes_every_entry_with_its_id_times_sources_and_corrections(seeded: Ledger,
                                                                              tmp_path: Path) -> None:
    path = exported(seeded, tmp_path / "us-japan.yaml", ("us-japan-2025",))

    [stream] = read_seed_file(path)
    log = seeded.history("us-japan-2025")

    assert [item["event_id"] for item in stream.events] == [e.event_id for e in log]
    correction = stream.events[-1]
    assert {key: correction[key] for key in ("type", "reason", "occurred_at", "reported_at", "sources")} == {
        "type": "EventCorrected", "reason": "reported a day late", "occurred_at": "2025-08-01",
        "reported_at": "2025-08-02", "sources": ["Kyodo"]}
    assert correction["target"] == log[2].event_id  # written as its place in the document, 3
    assert "target: 3\n" in path.read_text(encoding="utf-8")


# -- random histories --------------------------------------------------------------------------------------

TRICKY = ["1e3", "0o12", "0x1F", "null", "~", "true", "yes", "no", "on", "<<", "12:30", "2025-07-22", "-", "'quoted'",
          '"double"', "a: b", "# not a comment", "- item", " leading", "trailing ", "line\nbreak", "tab\there",
          "\u2028", "é ü 日本", "emoji 🤝", "[US, JP]", "{a: 1}", "&anchor", "*alias", "!tag", "%", "@", "`"]
texts = st.one_of(st.sampled_from(TRICKY),
                  # Control characters are refused as text (tabs and line breaks, in TRICKY, are text).
                  st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=1,
                          max_size=12)).filter(lambda s: bool(s.strip()))

values = st.one_of(texts, st.booleans(), st.integers(-2**53, 2**53),
                   st.floats(-2**53, 2**53, allow_nan=False, allow_infinity=False))
terms = st.dictionaries(texts, values, min_size=1, max_size=3)
days = st.integers(0, 60).map(lambda n: datetime(2025, 7, 1, tzinfo=UTC) + timedelta(days=n))


def _day(moment: datetime) -> str:
    return moment.date().isoformat()

sources = st.lists(st.sampled_from(["Reuters", "Kyodo", "NHK", "yes", "1e3"]), max_size=2, unique=True)
PAYLOADS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "AgreedInPrinciple": st.fixed_dictionaries({"parties": st.just(["US", "JP"])},
                                               optional={"terms": terms, "summary": texts}),
    "TermsDisputed": st.fixed_dictionaries({"point": st.sampled_from(["autos", "rice", "1e3"])},
                                           optional={"positions": st.dictionaries(st.sampled_from(["US", "JP"]),
                                                                                  texts, max_size=2)}),
    "DisputeResolved": st.fixed_dictionaries({"point": st.sampled_from(["autos", "rice", "1e3"])},
                                             optional={"resolution": texts}),
    "VisitCancelled": st.fixed_dictionaries({"envoy": texts}, optional={"reason": texts}),
    "WorkingLevelTalksOpened": st.fixed_dictionaries({}, optional={"agenda": st.lists(texts, max_size=2),
                                                                   "venue": texts}),
    "TalksSuspended": st.fixed_dictionaries({"by": st.sampled_from(["US", "JP"])},
                                            optional={"reason": texts, "terminated": st.booleans()}),
    "AgreementFinalised": st.fixed_dictionaries({"instruments": st.lists(texts, min_size=1, max_size=2)},
                                                optional={"terms": terms}),
    "TermsAmended": st.fixed_dictionaries({"terms": terms}, optional={"according_to": st.sampled_from(["US", "JP"])}),
    "MeetingHeld": st.fixed_dictionaries({"level": st.sampled_from(["working", "ministerial", "leaders"])},
                                         optional={"format": st.sampled_from(["in person", "call", "video"]),
                                                   "venue": texts}),
    "MeasureThreatened": st.fixed_dictionaries({"measure": st.sampled_from(["tariff", "1e3"]),
                                                "by": st.sampled_from(["US", "JP"])},
                                               optional={"value": texts, "effective": days.map(_day)}),
    "MeasureImposed": st.fixed_dictionaries({"measure": st.sampled_from(["tariff", "1e3"]),
                                             "by": st.sampled_from(["US", "JP"])}, optional={"value": texts}),
    "MeasurePaused": st.fixed_dictionaries({"measure": st.sampled_from(["tariff", "1e3"]), "until": days.map(_day)}),
    "MeasureLifted": st.fixed_dictionaries({"measure": st.sampled_from(["tariff", "1e3"])},
                                           optional={"by": st.sampled_from(["US", "a court"])}),
    "DeadlineSet": st.fixed_dictionaries({"what": st.sampled_from(["a deal", "yes"]), "due": days.map(_day)}),
    "ThirdPartyActed": st.fixed_dictionaries({"actor": texts, "action": texts},
                                             optional={"kind": st.sampled_from(["court", "legislature"])}),
}
assert tuple(PAYLOADS) == EVENT_KINDS


@st.composite
def attempts(draw: st.DrawFn) -> list[tuple[str, Any]]:
    """What a history is made of: events (some dated before others), retractions and corrections."""
    made: list[tuple[str, Any]] = [("record", ("AgreedInPrinciple", draw(PAYLOADS["AgreedInPrinciple"]),
                                               draw(days), draw(sources)))]
    for _ in range(draw(st.integers(1, 10))):
        kind = draw(st.sampled_from(["record", "record", "record", "retract", "correct", "deny"]))
        if kind == "record":
            event_type = draw(st.sampled_from(EVENT_KINDS))
            made.append(("record", (event_type, draw(PAYLOADS[event_type]), draw(days), draw(sources))))
        else:
            made.append((kind, (draw(st.integers(1, 8)), draw(texts), draw(st.none() | days), draw(sources))))
    return made


EXAMPLE = itertools.count()
HISTORIES = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def two_databases(sqlite_url: str, tmp_path: Path) -> Iterator[tuple[Ledger, Ledger]]:
    with Ledger.open(sqlite_url) as source, Ledger.open(f"sqlite:///{tmp_path / 'target.db'}") as target:
        yield source, target


def make_history(ledger: Ledger, negotiation_id: str, made: list[tuple[str, Any]]) -> None:
    """Record what the ledger takes of the attempts; what it refuses is left out."""
    for kind, said in made:
        try:
            if kind == "record":
                event_type, data, day, named = said
                ledger.record(negotiation_id, event_type, data, occurred_at=day, reported_at=day, sources=named)
            elif kind == "retract":
                ledger.retract(negotiation_id, said[0], reason=said[1], sources=said[3])
            elif kind == "deny":
                ledger.deny(negotiation_id, said[0], by="JP", statement=said[1], sources=said[3])
            else:
                target, reason, day, named = said
                entry = ledger.history(negotiation_id)[min(target, ledger.version(negotiation_id)) - 1]
                ledger.correct(negotiation_id, entry.version, reason=reason, occurred_at=day, sources=named,
                               data=None if day is not None else entry.data)
        except NegotiationError:
            continue


@HISTORIES
@given(made=attempts(), file_format=st.sampled_from(["yaml", "json"]))
def test_a_random_history_exported_and_loaded_is_the_same_negotiation(
    two_databases: tuple[Ledger, Ledger], tmp_path: Path, made: list[tuple[str, Any]], file_format: str
) -> None:
    source, target = two_databases
    negotiation_id = f"random-{next(EXAMPLE)}"
    make_history(source, negotiation_id, made)
    path = exported(source, tmp_path / f"{negotiation_id}.{file_format}", (negotiation_id,))

    load_streams(target, read_streams([path]))

    assert_same(source, target, [negotiation_id])


@given(text=texts)
def test_text_is_written_so_that_the_core_schema_reads_it_back_as_written(text: str) -> None:
    document = {"negotiation": "x", "events": [{"type": "TermsAmended", "data": {"terms": {text: text}}}]}

    dumped = yaml.dump(document, Dumper=EventFileDumper, sort_keys=False, allow_unicode=True, width=100)

    assert yaml.load(dumped, Loader=EventFileLoader) == document


# -- corrections in event files ------------------------------------------------------------------------------

OPENING = """\
negotiation: us-uk-2025
events:
  - type: AgreedInPrinciple
    occurred_at: 2025-05-08
    reported_at: 2025-05-08
    sources: [GOV.UK]
    data: {parties: [US, GB], terms: {autos quota: 100000}}
  - type: AgreementFinalised
    occurred_at: 2025-06-16
    reported_at: 2025-06-16
    data: {instruments: [US executive order]}
"""


def file_with(tmp_path: Path, *items: str, name: str = "uk.yaml", opening: str = OPENING) -> Path:
    path = tmp_path / name
    path.write_text(opening + "".join(items), encoding="utf-8")
    return path


def test_a_file_retracts_an_event_named_by_its_place_in_the_document(ledger: Ledger, tmp_path: Path) -> None:
    path = file_with(tmp_path, "  - {type: EventRetracted, target: 2, reason: not signed that day, sources: [FT]}\n")

    report = load_streams(ledger, read_streams([path]))

    assert report.recorded == 3
    assert ledger.get("us-uk-2025").state == "agreed_in_principle"
    assert ledger.history("us-uk-2025")[1].retracted_by == 3
    assert ledger.history("us-uk-2025")[2].sources == ("FT",)


def test_a_file_corrects_an_event_named_by_its_id_with_new_data_and_date(ledger: Ledger, tmp_path: Path) -> None:
    load_streams(ledger, read_streams([file_with(tmp_path)]))
    event_id = ledger.history("us-uk-2025")[0].event_id
    path = file_with(tmp_path, f"""\
  - type: EventCorrected
    target: {event_id}
    reason: the quota was misreported
    occurred_at: 2025-05-09
    reported_at: 2025-05-10
    data: {{parties: [US, GB], terms: {{autos quota: 100000, steel: 'yes'}}}}
""")

    report = load_streams(ledger, read_streams([path]))
    again = load_streams(ledger, read_streams([path]))

    assert (report.recorded, report.already_stored, again.recorded) == (1, 2, 0)
    negotiation = ledger.get("us-uk-2025")
    assert negotiation.terms == {"autos quota": 100000, "steel": "yes"}
    assert negotiation.opened_at == datetime(2025, 5, 9, tzinfo=UTC)


def test_a_correction_that_would_break_the_story_is_refused_before_anything_is_written(
    ledger: Ledger, stored_rows: Rows, tmp_path: Path
) -> None:
    path = file_with(tmp_path, "  - {type: EventRetracted, target: 1, reason: no deal was made}\n")
    before = stored_rows()

    with pytest.raises(LoadError) as refused:
        load_streams(ledger, read_streams([path]))

    assert str(refused.value).startswith(f"{path}: us-uk-2025: event 3 of the document (EventRetracted of version 1)")
    assert "AgreementFinalised" in str(refused.value) and str(refused.value).endswith("nothing was written")
    assert stored_rows() == before


def test_a_correction_reported_before_its_event_is_refused_before_anything_is_written(
    ledger: Ledger, stored_rows: Rows, tmp_path: Path
) -> None:
    path = file_with(tmp_path, "  - {type: EventRetracted, target: 2, reason: x, reported_at: 2025-06-01}\n")
    before = stored_rows()

    with pytest.raises(LoadError) as refused:
        load_streams(ledger, read_streams([path]))

    assert str(refused.value) == (
        f"{path}: us-uk-2025: event 3 of the document (EventRetracted): EventRetracted of version 2: reported_at "
        "2025-06-01T00:00:00+00:00 is before the event itself was reported (2025-06-16T00:00:00+00:00); "
        "nothing was written")
    assert stored_rows() == before


@pytest.mark.parametrize(("item", "words"), [
    ("{type: EventRetracted, reason: x}", "event 3 (EventRetracted) needs a target"),
    ("{type: EventRetracted, target: 1}", "event 3 (EventRetracted) needs a reason"),
    ("{type: EventRetracted, target: 3, reason: x}",
     "target 3 is not an earlier event of the document (events 1 to 2)"),
    ("{type: EventRetracted, target: true, reason: x}", "target must be the place of an earlier event"),
    ("{type: EventRetracted, target: not-an-id, reason: x}", "event_id 'not-an-id' is not a UUID"),
    ("{type: EventRetracted, target: 1, reason: x, data: {}}", "a retraction takes no data or occurred_at"),
    ("{type: EventCorrected, target: 1, reason: x, when: now}", "event 3 has unknown keys when"),
    ("{type: TermsAmended, target: 1, data: {terms: {a: 1}}}", "event 3 has unknown keys target"),
])
def test_a_malformed_correction_in_a_file_is_refused_naming_the_file_and_its_place(
    tmp_path: Path, item: str, words: str
) -> None:
    path = file_with(tmp_path, f"  - {item}\n")

    with pytest.raises(InvalidEvent) as refused:
        read_streams([path])

    assert str(refused.value).startswith(f"{path}: us-uk-2025: ")
    assert words in str(refused.value)


def test_a_correction_aimed_at_a_correction_is_refused(tmp_path: Path) -> None:
    path = file_with(tmp_path, "  - {type: EventRetracted, target: 2, reason: x}\n",
                     "  - {type: EventRetracted, target: 3, reason: y}\n")

    with pytest.raises(InvalidEvent, match="target 3 is an EventRetracted, not an event"):
        read_streams([path])


# -- editing what was loaded ---------------------------------------------------------------------------------


def test_editing_an_event_already_loaded_is_refused_naming_it_and_how_to_correct_it(
    ledger: Ledger, stored_rows: Rows, tmp_path: Path
) -> None:
    load_streams(ledger, read_streams([file_with(tmp_path)]))
    event_id = ledger.history("us-uk-2025")[0].event_id
    edited = file_with(tmp_path, "  - {type: TermsAmended, occurred_at: 2025-07-01, data: {terms: {beef: 'yes'}}}\n",
                       opening=OPENING.replace("autos quota: 100000", "autos quota: 200000"))
    before = stored_rows()

    with pytest.raises(LoadError) as refused:
        load_streams(ledger, read_streams([edited]))

    assert str(refused.value) == (
        f"{edited}: us-uk-2025: event 1 of the document (id {event_id}) differs from what is stored as version 1: "
        "data differs; to change a recorded event, add an EventCorrected entry for it instead of editing it; "
        "nothing was written")
    assert stored_rows() == before


def test_an_event_inserted_before_loaded_ones_is_refused_not_recorded_twice(
    ledger: Ledger, stored_rows: Rows, tmp_path: Path
) -> None:
    load_streams(ledger, read_streams([exported_uk(ledger, tmp_path)]))
    path = tmp_path / "uk.yaml"
    lines = path.read_text(encoding="utf-8").split("- type: AgreementFinalised")
    path.write_text(lines[0] + "- type: TermsAmended\n  occurred_at: 2025-05-20\n  data: {terms: {beef: 'yes'}}\n"
                    + "- type: AgreementFinalised" + lines[1], encoding="utf-8")
    before = stored_rows()

    with pytest.raises(LoadError) as refused:
        load_streams(ledger, read_streams([path]))

    assert "event 2 of the document is not stored but event 3 after it is (version 2" in str(refused.value)
    assert "add new events at the end of the document; nothing was written" in str(refused.value)
    assert stored_rows() == before


def exported_uk(ledger: Ledger, tmp_path: Path) -> Path:
    """US–UK recorded, then exported (every event with its id)."""
    ledger.record("us-uk-2025", "AgreedInPrinciple", {"parties": ["US", "GB"]}, occurred_at="2025-05-08")
    ledger.record("us-uk-2025", "AgreementFinalised", {"instruments": ["US executive order"]},
                  occurred_at="2025-06-16")
    return exported(ledger, tmp_path / "uk.yaml", ("us-uk-2025",))


def test_a_change_written_as_a_correction_at_the_end_of_the_document_is_taken(ledger: Ledger, tmp_path: Path) -> None:
    load_streams(ledger, read_streams([file_with(tmp_path)]))
    path = file_with(tmp_path, "  - {type: EventCorrected, target: 1, reason: quota misreported,\n"
                               "     data: {parties: [US, GB], terms: {autos quota: 200000}}}\n")

    report = load_streams(ledger, read_streams([path]))

    assert report.recorded == 1
    assert ledger.get("us-uk-2025").terms == {"autos quota": 200000}


def test_editing_a_loaded_correction_is_refused(ledger: Ledger, stored_rows: Rows, tmp_path: Path) -> None:
    load_streams(ledger, read_streams([file_with(tmp_path, "  - {type: EventRetracted, target: 2, reason: wrong}\n")]))
    edited = file_with(tmp_path, "  - {type: EventRetracted, target: 2, reason: not signed}\n")
    before = stored_rows()

    with pytest.raises(LoadError, match="event 3 of the document .* differs from what is stored as version 3: "
                                        "reason differs; to change a recorded event, add an EventCorrected"):
        load_streams(ledger, read_streams([edited]))

    assert stored_rows() == before


# -- the command --------------------------------------------------------------------------------------------


def run(url: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["--url", url, *args])


def test_a_csv_cell_a_spreadsheet_would_run_as_a_formula_is_written_as_text(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'formulas.db'}"
    with Ledger.open(url) as ledger:
        ledger.record("us-uk-2025", "AgreedInPrinciple", {"parties": ["US", "GB"]}, occurred_at="2025-05-08",
                      backfill=True, sources=['=HYPERLINK("https://example.org","look")'])
        ledger.record("us-uk-2025", "TermsDisputed", {"point": "+1+2"}, occurred_at="2025-05-09", backfill=True,
                      sources=["@SUM(A1)", "BBC"])
    out = tmp_path / "uk.csv"

    assert run(url, "export", "--format", "csv", "--out", str(out)).exit_code == 0

    with out.open(encoding="utf-8", newline="") as table:
        read = list(csv.DictReader(table))
    assert [(r["sources"], r["open_points"]) for r in read] == [
        ('\'=HYPERLINK("https://example.org","look")', ""), ("'@SUM(A1); BBC", "'+1+2")]
    assert read[1]["summary"] == "point disputed: +1+2"  # a cell that begins as text is left as it is


def test_export_writes_yaml_to_stdout_and_json_to_a_file_that_load_reads(seeded: Ledger, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'copy.db'}"
    out = tmp_path / "uk.json"

    printed = run(seeded.url, "export", "us-uk-2025")
    written = run(seeded.url, "export", "us-uk-2025", "us-eu-2025", "--out", str(out))
    loaded = run(url, "load", str(out))

    assert printed.exit_code == 0, printed.output
    assert yaml.load(printed.stdout, Loader=EventFileLoader)["negotiation"] == "us-uk-2025"
    assert written.exit_code == 0, written.output
    entries = len(seeded.history("us-uk-2025")) + len(seeded.history("us-eu-2025"))
    assert written.stderr == f"exported 2 negotiations ({entries} entries) to {out}\n"

    assert [doc["negotiation"] for doc in json.loads(out.read_text(encoding="utf-8"))] == ["us-uk-2025", "us-eu-2025"]
    assert loaded.exit_code == 0, loaded.output
    with Ledger.open(url) as copy:
        assert_same(seeded, copy, ["us-uk-2025", "us-eu-2025"])


def test_export_of_an_unknown_negotiation_is_refused_and_writes_no_file(seeded: Ledger, tmp_path: Path) -> None:
    out = tmp_path / "out.yaml"

    result = run(seeded.url, "export", "us-uk-2025", "us-mars-2030", "--out", str(out))

    assert result.exit_code == 1
    assert len(result.stderr.splitlines()) == 1 and "us-mars-2030" in result.stderr

    assert not out.exists() and list(tmp_path.glob(".out.yaml.*")) == []


def test_export_refuses_a_format_its_file_name_would_not_load_as(seeded: Ledger, tmp_path: Path) -> None:
    result = run(seeded.url, "export", "--format", "json", "--out", str(tmp_path / "all.yaml"))

    assert result.exit_code == 2
    assert "name the json export all.json" in result.output


# -- the stories as a table ---------------------------------------------------------------------------------


def test_export_csv_has_a_row_per_story_event_with_the_state_the_ledger_gives_after_it(
        seeded: Ledger, tmp_path: Path) -> None:
    out = tmp_path / "stories.csv"

    result = run(seeded.url, "export", "--format", "csv", "--out", str(out))

    assert result.exit_code == 0, result.output
    with out.open(encoding="utf-8", newline="") as table:
        read = list(csv.DictReader(table))
    stories = {n: seeded.story(n) for n in seeded.negotiations()}
    assert result.stderr == (f"exported {sum(map(len, stories.values()))} story rows of {len(stories)} negotiations "
                             f"to {out}\n")
    assert [(r["negotiation"], r["event_id"]) for r in read] == [
        (n, e.event_id) for n, story in stories.items() for e in story]
    for row in read:
        negotiation_id, story = row["negotiation"], stories[row["negotiation"]]
        place = [e.event_id for e in story].index(row["event_id"])
        # The state after an event of the story is the ledger's answer as of that event, as known then.
        event = story[place]
        if place + 1 < len(story) and story[place + 1].occurred_at == event.occurred_at:
            continue  # a later event of the same moment is folded in too, as of that moment
        held = seeded.get(negotiation_id, as_of=event.occurred_at)
        assert (row["state"], row["open_points"].split("; ") if row["open_points"] else []) == (
            held.state, list(held.open_disputes)), row
        assert (row["type"], row["version"], row["sources"]) == (event.type, str(event.version),
                                                                 "; ".join(outlet_of(s) for s in event.sources))
        assert row["source_links"] == "; ".join(s.url for s in event.sources if isinstance(s, SourceRecord))
    assert any(r["source_links"].startswith("https://") for r in read)  # the seeds' articles
    assert {r["has_deal"] for r in read} == {"yes", "no"}
    corrected = next(r for r in read if r["negotiation"] == "us-japan-2025" and r["version"] == "3")
    assert corrected["occurred_at"] == "2025-08-01"  # as the story now tells it
    retracted = seeded.history("us-uk-2025")[-2]
    assert retracted.event_id not in {r["event_id"] for r in read}


def test_export_csv_of_an_unknown_negotiation_writes_nothing_to_stdout_or_a_file(seeded: Ledger,
                                                                                  tmp_path: Path) -> None:
    out = tmp_path / "out.csv"

    to_file = run(seeded.url, "export", "us-uk-2025", "us-mars-2030", "--out", str(out))
    printed = run(seeded.url, "export", "us-mars-2030", "--format", "csv")

    for result in (to_file, printed):
        assert result.exit_code == 1
        assert len(result.stderr.splitlines()) == 1 and "us-mars-2030" in result.stderr
    assert printed.stdout == ""
    assert not out.exists() and list(tmp_path.iterdir()) == []
