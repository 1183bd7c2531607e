"""Sources as data: what each source reported, and what the story would be without some of them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result
from seams import fail_after_rows
from test_migrations import make_database_at

from negotiation import InvalidEvent, Ledger, StorageError
from negotiation.cli import main
from negotiation.errors import IllegalSourceStory
from negotiation.files.loading import load_streams, read_streams
from negotiation.store.schema import entry_sources

# About how the storage behaves: on every backend.
pytestmark = pytest.mark.every_backend

Rows = Callable[[], list[tuple[object, ...]]]
US_JAPAN, US_KOREA = "us-japan-2025", "us-korea-2025"


@pytest.fixture
def seeded(ledger: Ledger, seeds: list[Path]) -> Ledger:
    """The ledger with every seed negotiation loaded."""
    load_streams(ledger, read_streams(seeds))
    return ledger


def versions(story: list[object]) -> list[int]:
    return [getattr(event, "version") for event in story]


def index_rows(url: str) -> list[tuple[str, int, str]]:
    """``entry_sources`` read behind the ledger's back."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            query = sa.select(entry_sources).order_by(entry_sources.c.position, entry_sources.c.source)
            return [(row.source, row.position, row.negotiation_id) for row in conn.execute(query)]
    finally:
        engine.dispose()


def deal(ledger: Ledger) -> None:
    """US–Japan as three reports: the deal (two sources), an amendment (one), a dispute (one)."""
    ledger.record(US_JAPAN, "AgreedInPrinciple", {"parties": ["US", "JP"]}, occurred_at="2025-07-22",
                  sources=["Reuters", "The Japan Times"])
    ledger.record(US_JAPAN, "TermsAmended", {"terms": {"autos": "15%"}}, occurred_at="2025-07-31",
                  sources=["Kyodo"])
    ledger.record(US_JAPAN, "TermsDisputed", {"point": "profit sharing"}, occurred_at="2025-08-28",
                  sources=["NDTV"])


# -- the seeds -----------------------------------------------------------------------------------


def test_no_us_japan_event_rests_only_on_ndtv_so_the_story_without_it_is_the_same(seeded: Ledger) -> None:
    named = seeded.reported_by("NDTV", negotiation_id=US_JAPAN)
    without = seeded.story(US_JAPAN, exclude_sources=["NDTV"])

    assert [(e.version, e.type) for e in named] == [(7, "TermsDisputed"), (8, "VisitCancelled")]
    assert all(set(e.sources) - {"NDTV"} for e in named)  # each names another source too
    assert without == seeded.story(US_JAPAN)
    assert seeded.get(US_JAPAN, exclude_sources=["NDTV"]).state == "finalised"


def test_without_nhk_the_us_japan_story_loses_the_one_amendment_only_nhk_reported(seeded: Ledger) -> None:
    whole = seeded.story(US_JAPAN)
    without = seeded.story(US_JAPAN, exclude_sources=["NHK"])
    believed = seeded.get(US_JAPAN, exclude_sources=["NHK"])

    assert versions(whole) == list(range(1, 16))
    assert versions(without) == [v for v in range(1, 16) if v != 10]  # v10: TermsAmended, sources [NHK]
    assert "investment package form" in seeded.get(US_JAPAN).terms
    assert "investment package form" not in believed.terms
    assert believed.state == "finalised"


def test_without_chosun_biz_the_us_korea_story_is_refused_at_the_finalisation_it_breaks(
    seeded: Ledger, stored_rows: Rows
) -> None:
    before = stored_rows()

    with pytest.raises(IllegalSourceStory) as refused:
        seeded.get(US_KOREA, exclude_sources=["Chosun Biz"])

    # Only Chosun Biz reported the resolution of version 11; without it a point is still open on 14 November.
    assert (refused.value.version, refused.value.event_type, refused.value.occurred_at, refused.value.state) == (
        12, "AgreementFinalised", "2025-11-14", "disputed_terms")
    assert str(refused.value) == (
        "negotiation 'us-korea-2025' told without Chosun Biz is not a legal story: it breaks at version 12, "
        "AgreementFinalised of 2025-11-14, which would come in state disputed_terms, where it is refused "
        "(disputed points are still open)")
    assert stored_rows() == before


def test_the_story_on_the_word_of_one_source_alone_is_refused_where_it_cannot_open(seeded: Ledger) -> None:
    with pytest.raises(IllegalSourceStory) as refused:
        seeded.story(US_JAPAN, sources=["NHK"])

    assert (refused.value.version, refused.value.event_type, refused.value.state) == (
        9, "WorkingLevelTalksOpened", "not_opened")


def test_the_seed_sources_are_counted_with_their_entries_and_negotiations(seeded: Ledger) -> None:
    summaries = {s.source: s for s in seeded.sources()}

    assert (summaries["Reuters"].entries, summaries["Reuters"].negotiations) == (62, 7)
    assert (summaries["NDTV"].entries, summaries["NDTV"].negotiations) == (2, 1)
    assert (summaries["NHK"].entries, summaries["NHK"].negotiations) == (2, 1)
    assert [s.source for s in seeded.sources()] == sorted(summaries)
    assert sum(s.entries for s in summaries.values()) == sum(
        len(set(e.sources)) for nid in seeded.negotiations() for e in seeded.history(nid))


# -- what is counted and kept --------------------------------------------------------------------


def test_sources_count_the_retractions_and_corrections_of_their_entries(ledger: Ledger) -> None:
    deal(ledger)
    ledger.correct(US_JAPAN, 2, data={"terms": {"autos": "12.5%"}}, reason="misread", sources=["Reuters"])
    ledger.retract(US_JAPAN, 3, reason="not a dispute", sources=["Reuters"])

    summaries = {s.source: (s.entries, s.negotiations, s.retracted, s.corrected) for s in ledger.sources()}

    assert summaries == {"Reuters": (3, 1, 0, 0), "The Japan Times": (1, 1, 0, 0), "Kyodo": (1, 1, 0, 1),
                         "NDTV": (1, 1, 1, 0)}


def test_without_the_source_of_a_retraction_the_retracted_event_is_believed_again(ledger: Ledger) -> None:
    deal(ledger)
    ledger.retract(US_JAPAN, 3, reason="not a dispute", sources=["Kyodo"])

    now = ledger.get(US_JAPAN)
    without = ledger.get(US_JAPAN, exclude_sources=["Kyodo"])

    assert now.open_disputes == ()
    assert without.open_disputes == ("profit sharing",)
    assert "autos" not in without.terms  # the amendment, also Kyodo's alone, is gone too


def test_without_the_source_of_a_correction_the_event_is_told_as_first_reported(ledger: Ledger) -> None:
    deal(ledger)
    ledger.correct(US_JAPAN, 2, data={"terms": {"autos": "12.5%"}}, reason="misread", sources=["NHK"])

    corrected = ledger.get(US_JAPAN).terms
    first = ledger.get(US_JAPAN, exclude_sources=["NHK"]).terms

    assert (corrected, first) == ({"autos": "12.5%"}, {"autos": "15%"})


def test_an_entry_naming_a_source_besides_the_excluded_ones_stays_and_one_naming_none_stays(
    ledger: Ledger
) -> None:
    deal(ledger)
    ledger.record(US_JAPAN, "TermsAmended", {"terms": {"rice": "more imports"}}, occurred_at="2025-09-01")

    kept = ledger.history(US_JAPAN, exclude_sources=["Reuters", "NDTV"])

    assert [e.version for e in kept] == [1, 2, 4]  # v1 also names The Japan Times; v4 names no source


def test_history_keeps_the_entries_that_name_one_of_the_sources_asked_for(ledger: Ledger) -> None:
    deal(ledger)

    named = ledger.history(US_JAPAN, sources=["Kyodo", "NDTV"])

    assert [e.version for e in named] == [2, 3]


def test_each_append_indexes_its_sources_in_the_same_transaction_naming_a_repeated_one_once(
    ledger: Ledger, database_url: str
) -> None:
    first = ledger.record(US_JAPAN, "AgreedInPrinciple", {"parties": ["US", "JP"]},
                          sources=["Reuters", "Kyodo", "Reuters"])
    batch = ledger.record_many(US_JAPAN, [{"type": "TermsAmended", "data": {"terms": {"a": 1}}, "sources": ["AP"]},
                                          {"type": "TermsAmended", "data": {"terms": {"b": 2}}}])

    rows = index_rows(database_url)

    assert rows == [("Kyodo", first.position, US_JAPAN), ("Reuters", first.position, US_JAPAN),
                    ("AP", batch[0].position, US_JAPAN)]
    assert [e.event_id for e in ledger.reported_by("Reuters")] == [first.event_id]


def test_an_append_that_fails_after_its_rows_are_inserted_leaves_no_source_indexed(
    ledger: Ledger, database_url: str, stored_rows: Rows, monkeypatch: pytest.MonkeyPatch
) -> None:
    deal(ledger)
    before, rows_before = index_rows(database_url), stored_rows()

    def disk_full(_transaction: object) -> None:
        raise StorageError("database error: the disk is full")

    fail_after_rows(ledger.recorder, disk_full)  # after the rows and sources
    with pytest.raises(StorageError):
        ledger.record(US_JAPAN, "TermsAmended", {"terms": {"rice": "more"}}, sources=["Reuters", "AP"])

    assert index_rows(database_url) == before
    assert stored_rows() == rows_before


def test_an_upgrade_from_0006_indexes_the_sources_of_every_stored_entry(database_url: str) -> None:
    stored = make_database_at(database_url, "0006")

    with Ledger.open(database_url) as ledger:
        named = {source: [e.event_id for e in ledger.reported_by(source)]
                 for e in stored for source in e.sources}
        summaries = ledger.sources()

    assert named == {source: [e.event_id for e in stored if source in e.sources]
                     for e in stored for source in e.sources}
    assert len(summaries) == len(stored)  # each stored entry names a source of its own
    assert index_rows(database_url) == [(e.sources[0], e.position, e.negotiation_id)
                                        for e in sorted(stored, key=lambda e: e.position)]


@pytest.mark.parametrize(
    ("asked", "message"),
    [({"sources": []}, "sources must name at least one source"),
     ({"exclude_sources": "Reuters"}, "sources must be a list of names"),
     ({"exclude_sources": [""]}, "each source must be a non-empty name")],
    ids=["no sources", "a string, not a list", "an empty name"],
)
def test_a_malformed_choice_of_sources_is_refused_naming_what_is_wrong(
    ledger: Ledger, asked: dict[str, object], message: str
) -> None:
    deal(ledger)

    with pytest.raises(InvalidEvent, match=message):
        ledger.get(US_JAPAN, **asked)  # type: ignore[arg-type]


def test_a_choice_that_leaves_nothing_of_the_story_is_refused_saying_so(ledger: Ledger) -> None:
    deal(ledger)

    with pytest.raises(IllegalSourceStory, match=r"told by AFP: nothing of its story is left$"):
        ledger.story(US_JAPAN, sources=["AFP"])


def test_sources_combine_with_a_time_asked_about(ledger: Ledger) -> None:
    deal(ledger)

    then = ledger.get(US_JAPAN, as_of="2025-08-01", exclude_sources=["Kyodo"])
    story = ledger.story(US_JAPAN, as_of="2025-08-01", exclude_sources=["Kyodo"])

    assert (then.state, then.terms, versions(story)) == ("agreed_in_principle", {}, [1])


# -- the command line ----------------------------------------------------------------------------


def cli(url: str, *args: str) -> Result:
    return CliRunner(env={"COLUMNS": "200"}).invoke(main, ["--url", url, *args])


@pytest.fixture
def seeded_file(sqlite_url: str, seeds: list[Path]) -> str:
    with Ledger.open(sqlite_url) as ledger:
        load_streams(ledger, read_streams(seeds))
    return sqlite_url


def test_the_sources_command_lists_each_source_with_its_counts(seeded_file: str) -> None:
    result = cli(seeded_file, "sources")
    with Ledger.open(seeded_file) as ledger:
        named = len(ledger.sources())

    assert result.exit_code == 0, result.output
    cells = [[cell.strip() for cell in line.strip("│ ").split("│")] for line in result.output.splitlines()
             if line.startswith("│")]
    assert [row for row in cells if row[0] in ("NDTV", "Reuters")] == [
        ["NDTV", "2", "1", "0", "0"], ["Reuters", "62", "7", "0", "0"]]
    assert len(cells) == named


def test_show_without_a_source_shows_what_the_others_say(seeded_file: str) -> None:
    result = cli(seeded_file, "show", US_JAPAN, "--without-source", "NHK")

    assert result.exit_code == 0, result.output
    assert "us-japan-2025 without NHK" in result.output
    assert "investment package form" not in result.output
    assert "investment package form" in cli(seeded_file, "show", US_JAPAN).output


def test_history_and_story_with_a_source_list_only_its_entries(seeded_file: str) -> None:
    history = cli(seeded_file, "history", US_JAPAN, "--source", "NDTV")
    story = cli(seeded_file, "story", US_JAPAN, "--without-source", "NDTV")

    assert history.exit_code == 0 and story.exit_code == 0, history.output + story.output
    assert "us-japan-2025 by NDTV" in history.output
    assert "VisitCancelled" in history.output and "AgreedInPrinciple" not in history.output
    assert "AgreementFinalised" in story.output


def test_a_story_the_sources_cannot_tell_is_refused_in_one_line(seeded_file: str) -> None:
    result = cli(seeded_file, "show", US_KOREA, "--without-source", "Chosun Biz")

    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        "Error: negotiation 'us-korea-2025' told without Chosun Biz is not a legal story: it breaks at version 12, "
        "AgreementFinalised of 2025-11-14, which would come in state disputed_terms, where it is refused "
        "(disputed points are still open)"]


def test_at_version_and_a_choice_of_sources_are_not_asked_together(seeded_file: str) -> None:
    result = cli(seeded_file, "show", US_JAPAN, "--at-version", "3", "--source", "Reuters")

    assert result.exit_code == 2
    assert "use one or the other" in result.output
