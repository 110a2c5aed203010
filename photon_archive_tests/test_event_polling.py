"""The rules that bound an event-queue tick, on plain values."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from photon_archive.event_polling import (
    AFTER_RECEIVE_S,
    SENSOR_TIMEOUT_S,
    SQS_MAX_WAIT_S,
    Polling,
    drain_more,
)
from photon_archive.settings import Settings

DEFAULTS = Settings().polling()


def test_the_defaults_hold_and_leave_most_of_dagsters_limit_unused() -> None:
    assert DEFAULTS.problems() == []
    assert DEFAULTS.longest_tick_s <= SENSOR_TIMEOUT_S / 2
    assert DEFAULTS.visibility_s >= DEFAULTS.longest_tick_s


@given(
    wait=st.integers(-5, 30),
    drain=st.floats(-5, 80, allow_nan=False),
    batch=st.integers(-2, 5000),
    visibility=st.integers(0, 50_000),
)
def test_settings_are_accepted_exactly_when_every_tick_ends_in_time_and_outlives_no_message(
    wait: int, drain: float, batch: int, visibility: int
) -> None:
    polling = Polling(wait_s=wait, drain_s=drain, batch=batch, visibility_s=visibility)
    longest = wait + drain + AFTER_RECEIVE_S
    fine = (
        1 <= wait <= SQS_MAX_WAIT_S
        and drain >= 0
        and batch >= 1
        and longest <= SENSOR_TIMEOUT_S
        and longest <= visibility <= 12 * 3600
    )
    assert (polling.problems() == []) == fine


def test_a_wait_and_drain_too_long_for_dagster_are_refused_naming_the_variables() -> None:
    with pytest.raises(ValueError, match="PHOTON_ARCHIVE_EVENT_WAIT_SECONDS.*Dagster's 60 s limit"):
        Settings.from_env(
            {"PHOTON_ARCHIVE_EVENT_WAIT_SECONDS": "20", "PHOTON_ARCHIVE_EVENT_DRAIN_SECONDS": "30"}
        )


def test_a_visibility_timeout_shorter_than_a_tick_is_refused() -> None:
    with pytest.raises(ValueError, match=r"visibility timeout \(20 s\) must outlast the longest tick"):
        Settings.from_env({"PHOTON_ARCHIVE_EVENT_VISIBILITY_TIMEOUT_SECONDS": "20"})


def test_a_wait_of_zero_is_short_polling_and_refused() -> None:
    with pytest.raises(ValueError, match="the wait must be 1 to 20 s"):
        Settings(event_wait_seconds=0)


@given(
    batch=st.integers(1, 3000),
    received=st.integers(0, 3000),
    last_reply=st.integers(0, 10),
    drain=st.floats(0, 30),
    draining=st.floats(0, 40),
)
def test_the_drain_goes_on_only_while_the_batch_has_room_the_queue_answers_and_time_remains(
    batch: int, received: int, last_reply: int, drain: float, draining: float
) -> None:
    polling = Polling(wait_s=4, drain_s=drain, batch=batch, visibility_s=60)
    more = drain_more(polling, received, last_reply, draining)
    assert more == (received < batch and last_reply > 0 and draining < drain)
