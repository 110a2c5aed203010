"""Which late event copies of an overwritten object are news: the ordering rule on plain values."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from photon_archive.catalog.models import ObjectState
from photon_archive.ingest.delivery import RequestFate, needs_ingest
from photon_archive.ingest.objects import ObjectEvent, ObjectRef
from photon_archive.records import KnownObject

KEY = "data/sro-kb001ms-20261124-00000001-EX00.txt"
SECOND = datetime(2026, 11, 25, 3, 4, 5)
NOW = SECOND + timedelta(minutes=1)
REQUEUE_AFTER = timedelta(minutes=10)
OLD, NEW = "old-etag", "new-etag"

millis = st.integers(min_value=0, max_value=999)


def _ingested(etag: str, last_modified: datetime) -> KnownObject:
    """What the ledger holds once a run ingested ``etag``: S3's time, to the second."""
    return KnownObject(etag, ObjectState.INGESTED.value, NOW, "event-run", last_modified)


def _event(etag: str, at: datetime) -> ObjectRef:
    return ObjectRef(KEY, ObjectEvent.CREATED, 10, etag, event_time=at)


def _is_news(ref: ObjectRef, known: KnownObject, bucket_holds: str | None) -> tuple[bool, list[str]]:
    asked: list[str] = []

    def current_etag(key: str) -> str | None:
        asked.append(key)
        return bucket_holds

    news = needs_ingest(
        ref, known, NOW, REQUEUE_AFTER, lambda _: RequestFate.IN_HAND, current_etag=current_etag
    )
    return news, asked


@given(old_ms=millis)
def test_a_late_copy_of_the_old_version_within_the_new_ones_second_is_old_news(old_ms: int) -> None:
    # The corrected header went up in the same second as the first: only the bucket can tell which
    # of the two versions is the newer, and it holds the one the ledger has.
    known = _ingested(NEW, SECOND)
    news, asked = _is_news(_event(OLD, SECOND + timedelta(milliseconds=old_ms)), known, NEW)
    assert (news, asked) == (False, [KEY])


@given(ms=millis)
def test_the_new_version_within_the_old_ones_second_is_news(ms: int) -> None:
    known = _ingested(OLD, SECOND)
    assert _is_news(_event(NEW, SECOND + timedelta(milliseconds=ms)), known, NEW) == (True, [KEY])


@given(ms=millis, seconds=st.integers(min_value=1, max_value=86_400))
def test_versions_seconds_apart_are_ordered_by_time_without_asking_the_bucket(ms: int, seconds: int) -> None:
    later = SECOND + timedelta(seconds=seconds, milliseconds=ms)
    assert _is_news(_event(NEW, later), _ingested(OLD, SECOND), OLD) == (True, [])
    earlier = SECOND - timedelta(seconds=seconds) + timedelta(milliseconds=ms)
    assert _is_news(_event(OLD, earlier), _ingested(NEW, SECOND), NEW) == (False, [])


def test_an_object_removed_since_is_left_to_its_removal_event() -> None:
    assert _is_news(_event(OLD, SECOND), _ingested(NEW, SECOND), None) == (False, [KEY])


def test_without_a_bucket_to_ask_a_version_of_the_same_second_counts_as_news() -> None:
    # An extra run costs little; a skipped version would be lost.
    known = _ingested(NEW, SECOND)
    assert needs_ingest(_event(OLD, SECOND), known, NOW, REQUEUE_AFTER, lambda _: RequestFate.IN_HAND)
