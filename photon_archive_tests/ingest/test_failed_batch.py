"""A batch that fails after writing thumbnails leaves none that no catalog row names: those it
made where there was none are removed, on PostgreSQL and moto's server."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from photon_archive.aws.clients import client
from photon_archive_tests.archive import Archive

# The catalog refuses every new row of `images`, as a revoked privilege would: planted after the
# thumbnails are written (the batch's reads touch no `images` row of a jpg-and-txt exposure).
REFUSE_IMAGES = """
CREATE FUNCTION refuse_images() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'permission denied for table images' USING ERRCODE = '42501';
END $$;
CREATE TRIGGER refuse_images BEFORE INSERT OR UPDATE ON images
    FOR EACH ROW EXECUTE FUNCTION refuse_images();
"""


def _thumbnail_of(keys: list[str]) -> str:
    (jpg,) = [key for key in keys if key.endswith("EX10.jpg")]
    return jpg.replace("EX10.jpg", "EX11.jpg")


def test_a_failed_batch_removes_the_thumbnails_it_made_and_keeps_the_ones_that_were_there(
    archive: Archive,
) -> None:
    earlier = archive.upload_sample(count=1, files=("txt", "jpg"))
    assert archive.ingest(earlier).success
    kept = _thumbnail_of(earlier)
    # The earlier exposure's jpg uploaded again (a newer version: its thumbnail is remade over the
    # one there), and a new exposure whose thumbnail does not exist yet.
    again = [key for key in earlier if key.endswith("EX10.jpg")]
    jpg = client("s3").get_object(Bucket=archive.settings.bucket, Key=again[0])["Body"].read()
    archive.put(again[0], jpg, "image/jpeg")
    new = archive.upload_sample(count=1, first_counter=2, files=("txt", "jpg"))
    engine = create_engine(archive.settings.database_url)
    with engine.begin() as connection:
        connection.execute(text(REFUSE_IMAGES))
    engine.dispose()

    result = archive.ingest([*again, *new], raise_on_error=False)

    assert not result.success
    (failure,) = result.get_step_failure_events()
    error = failure.step_failure_data.error
    assert error is not None and "permission denied for table images" in error.message
    thumbnails = [key for key in archive.keys("data/") if key.endswith("EX11.jpg")]
    assert thumbnails == [kept]
    ingested = archive.query("SELECT key FROM object_ledger WHERE state = 'ingested' ORDER BY key")
    assert [row["key"] for row in ingested] == sorted(earlier)  # the failed run committed nothing
