"""compare_with_legacy on real parts: photon_archive's catalog as the dual deployment's ingests made
it, against a legacy catalog of LEGACY.md's DDL with a difference of every kind planted in it."""

from __future__ import annotations

from typing import Any

from dagster import DagsterEvent, ExecuteInProcessResult

from photon_archive.catalog.comparison import Comparison
from photon_archive.definitions import build_definitions
from photon_archive_tests.archive import Archive
from photon_archive_tests.legacy_catalog import create_legacy_catalog, insert_legacy_rows, legacy_rows
from photon_archive_tests.planted_differences import (
    PLANTED_ROWS,
    as_left_by_the_old_handler,
    plant_differences,
)

STEP = "compare_catalogs_with_legacy"


def compare(archive: Archive, raise_on_error: bool = True, **config: Any) -> ExecuteInProcessResult:
    job = build_definitions(archive.settings).resolve_job_def("compare_with_legacy")
    return job.execute_in_process(
        run_config={"ops": {STEP: {"config": config}}},
        instance=archive.instance,
        raise_on_error=raise_on_error,
    )


def report_metadata(result: ExecuteInProcessResult) -> dict[str, Any]:
    (output,) = [event for event in result.all_node_events if event.is_successful_output]
    return {name: value.value for name, value in output.step_output_data.metadata.items()}


def failure_message(result: ExecuteInProcessResult) -> str:
    assert not result.success
    (failure,) = [event for event in result.all_events if event.is_step_failure]
    assert isinstance(failure, DagsterEvent)
    error = failure.step_failure_data.error  # type: ignore[union-attr]
    assert error is not None
    return error.message


def test_every_planted_difference_is_found_in_its_category_and_the_legacy_is_left_as_it_was(
    dual: Archive, legacy_database_url: str
) -> None:
    create_legacy_catalog(legacy_database_url, tables=("images", "allsky_images"))
    keys = dual.upload_sample(count=PLANTED_ROWS + 1) + dual.upload_sample(prefix="allsky", count=2)
    assert dual.ingest(keys).success
    ours = dual.query("SELECT * FROM images")
    planted = plant_differences(ours)
    insert_legacy_rows(legacy_database_url, planted.rows)
    allsky = sorted(dual.query("SELECT * FROM allsky_images"), key=lambda row: row["base_filename"])
    degrees = {**as_left_by_the_old_handler(allsky[0]), "right_ascension": allsky[0]["right_ascension"] * 15}
    insert_legacy_rows(legacy_database_url, [degrees], table="allsky_images")
    before = [legacy_rows(legacy_database_url, table) for table in ("images", "allsky_images")]

    result = compare(dual, examples=5)

    comparison: Comparison = result.output_for_node(STEP)
    found = {table.table: table.counts() for table in comparison.tables}
    assert found == {
        "images": dict(planted.expected),
        "allsky_images": {"only_ours": 1, "right_ascension_unit": 1},
    }
    images = comparison.tables[0]
    assert (images.ours_rows, images.legacy_rows, images.matched) == (
        PLANTED_ROWS + 1,
        PLANTED_ROWS + 3,
        PLANTED_ROWS,
    )
    for category, base_filename in planted.where.items():
        assert images.tallies[category].examples[0].base_filename == base_filename, category
    (unit,) = images.tallies["right_ascension_unit"].examples
    assert unit.legacy == 15 * unit.ours  # type: ignore[operator]
    (typed,) = images.tallies["header_typed_values"].examples
    assert typed.note.startswith("typed in the legacy row: AIRMASS, ALTITUDE")
    assert (typed.ours["BITPIX"], typed.legacy["BITPIX"]) == ("16", 16)  # type: ignore[index]
    assert [legacy_rows(legacy_database_url, table) for table in ("images", "allsky_images")] == before

    metadata = report_metadata(result)
    assert metadata["differences"] == sum(planted.expected.values()) + 2
    assert (metadata["ours_rows"], metadata["matched"]) == (PLANTED_ROWS + 3, PLANTED_ROWS + 1)
    listed = {(r.data["table"], r.data["category"], r.data["count"]) for r in metadata["categories"].records}
    assert listed == {("images", c, n) for c, n in planted.expected.items()} | {
        ("allsky_images", "only_ours", 1),
        ("allsky_images", "right_ascension_unit", 1),
    }
    plain = metadata["examples"]["tables"]["images"]["categories"]
    assert {name: category["count"] for name, category in plain.items()} == dict(planted.expected)
    assert plain["only_legacy"]["examples"][0]["base_filename"] == planted.where["only_legacy"]
    rows = {"table": "images", "ours": 12, "legacy": 14, "on_both": 11}
    assert metadata["tables"].records[0].data == {**rows, "differences": sum(planted.expected.values())}
    assert "- base filenames with more than one legacy row (compared by the first): 1" in metadata["summary"]

    # A selection compares the exposures whose names it selects, on both sides alike.
    night = compare(dual, site="sro", first_night="2026-11-24", last_night="2026-11-24")
    nightly = {table.table: table.counts() for table in night.output_for_node(STEP).tables}
    assert nightly["images"] == {k: v for k, v in planted.expected.items() if k != "legacy_unnamed"}
    elsewhere: Comparison = compare(dual, site="saf").output_for_node(STEP)
    assert (elsewhere.differences, elsewhere.total("ours_rows"), elsewhere.total("legacy_rows")) == (0, 0, 0)
    assert "**images**: no differences." in report_metadata(compare(dual, site="saf"))["summary"]


def test_a_legacy_catalog_without_allsky_images_is_compared_on_images_and_says_so(
    dual: Archive, legacy_database_url: str
) -> None:
    create_legacy_catalog(legacy_database_url)
    keys = dual.upload_sample(count=2)
    assert dual.ingest(keys).success
    insert_legacy_rows(
        legacy_database_url, [as_left_by_the_old_handler(r) for r in dual.query("SELECT * FROM images")]
    )

    result = compare(dual)

    comparison: Comparison = result.output_for_node(STEP)
    assert [(table.table, table.matched, table.differences) for table in comparison.tables] == [
        ("images", 2, 0)
    ]
    assert comparison.not_compared == ["allsky_images, which the legacy catalog does not have"]
    summary = report_metadata(result)["summary"]
    assert "**images**: no differences." in summary
    assert "Not compared: allsky_images, which the legacy catalog does not have." in summary


def test_a_legacy_catalog_that_cannot_be_compared_fails_at_once_saying_why(
    archive: Archive, dual: Archive, legacy_database_url: str
) -> None:
    unset = failure_message(compare(archive, raise_on_error=False))
    assert "PHOTON_ARCHIVE_LEGACY_DATABASE_URL is not set" in unset
    garbled = archive.configured(legacy_database_url="rds.example/photonranch")
    assert "PHOTON_ARCHIVE_LEGACY_DATABASE_URL is not a database URL" in failure_message(
        compare(garbled, raise_on_error=False)
    )
    sqlite = archive.configured(legacy_database_url="sqlite:///legacy.sqlite")
    assert "names a sqlite database; the old system's catalog is PostgreSQL" in failure_message(
        compare(sqlite, raise_on_error=False)
    )
    assert "the legacy catalog at" in failure_message(compare(dual, raise_on_error=False))
    assert "has no images table" in failure_message(compare(dual, raise_on_error=False))
    assert "first_night 'last week' is not a date such as 2026-11-24" in failure_message(
        compare(dual, raise_on_error=False, first_night="last week")
    )
