"""Telling someone that something broke: a failed run, dead-lettered event messages, objects waiting
for a run, each published once to the alert topic (``PHOTON_ARCHIVE_ALERT_TOPIC``) or, without one,
logged on the sensor's tick. What an alert says and when one is due is ``photon_archive/alerts.py``.

A failed run is alerted once, by the run-failure sensor, whose cursor Dagster keeps; a retry the
instance launches (``run_retries`` in dagster.yaml) is a new run, and fails, if it does, with an alert
of its own, so each alert says whether a retry follows. If publishing fails, the sensor's tick shows
the error and that run's alert is not sent again. The two other sensors keep in their cursor what
they last alerted, which a failed publish leaves as it was, so the next tick tries again.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from dagster import (
    DefaultSensorStatus,
    ResourceParam,
    RunFailureSensorContext,
    SensorEvaluationContext,
    SkipReason,
    run_failure_sensor,
    sensor,
)

from photon_archive.alerts import (
    Alert,
    FailedRun,
    Waiting,
    dead_letter_alert,
    error_cause,
    run_failure_alert,
    waiting_alert,
)
from photon_archive.aws.alerts import AlertTopic
from photon_archive.aws.queues import EventQueue, queue_url
from photon_archive.catalog.resource import Catalog
from photon_archive.defs.checks import QUEUE_GRACE, objects_waiting_in_queue
from photon_archive.defs.resources import Alerting
from photon_archive.headlines import first_line
from photon_archive.settings import ENVIRONMENT

# The tags the instance's run retries put on runs (Dagster's own names).
RETRY_NUMBER_TAG = "dagster/retry_number"
WILL_RETRY_TAG = "dagster/will_retry"
MAX_RETRIES_TAG = "dagster/max_retries"


Log = logging.Logger | logging.LoggerAdapter[logging.Logger]


def send(log: Log, topic: AlertTopic, alert: Alert) -> None:
    if topic.publish(alert):
        log.info(f"alert published to {topic.topic}: {alert.subject}")
    else:
        unset = ENVIRONMENT["alert_topic"]
        log.warning(f"alert not published, {unset} is not set: {alert.subject}\n{alert.body}")


@run_failure_sensor(
    monitor_all_code_locations=False,  # every job of this code location
    default_status=DefaultSensorStatus.RUNNING,
    description="One alert per failed run: its job, cause, tags, whether a retry follows, its link.",
)
def run_failure_alerts(
    context: RunFailureSensorContext, alert_topic: AlertTopic, alerting: ResourceParam[Alerting]
) -> None:
    run = context.dagster_run
    steps = [
        (event.step_key or "", error_cause(error.message, error.cls_name))
        for event in context.get_step_failure_events()
        if (error := event.step_failure_data.error) is not None
    ]
    failure = context.failure_event
    run_error = getattr(failure.event_specific_data, "error", None)
    own = (
        error_cause(run_error.message, run_error.cls_name) if run_error else first_line(failure.message or "")
    )
    failed = FailedRun(
        job_name=run.job_name,
        run_id=run.run_id,
        causes=steps or [("", own)],
        tags=run.tags,
        retry_number=int(run.tags.get(RETRY_NUMBER_TAG, "0")),
        will_retry=run.tags.get(WILL_RETRY_TAG) == "true",
        max_retries=int(run.tags.get(MAX_RETRIES_TAG, context.instance.run_retries_max_retries)),
    )
    send(context.log, alert_topic, run_failure_alert(failed, alerting.webserver_url))


@sensor(
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    description="Alerts when the event queue's dead-letter queue holds more messages than when last alerted.",
)
def dead_letter_alerts(
    context: SensorEvaluationContext, event_queue: EventQueue, alert_topic: AlertTopic
) -> SkipReason | None:
    count = event_queue.dead_letter_count()
    name = event_queue.dead_letter_queue_name
    alert = dead_letter_alert(count, int(context.cursor or 0), name, queue_url(name))
    if alert is not None:
        send(context.log, alert_topic, alert)
    context.update_cursor(str(count))
    return None if alert else SkipReason(f"{count} messages on {name}, none new since the last alert")


@sensor(
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
    description="Alerts once per run key when objects have waited 30 minutes for their run.",
)
def waiting_object_alerts(
    context: SensorEvaluationContext, catalog: Catalog, alert_topic: AlertTopic
) -> SkipReason | None:
    count, objects = objects_waiting_in_queue(catalog, datetime.now(UTC).replace(tzinfo=None))
    alerted: list[str] = json.loads(context.cursor) if context.cursor else []
    alert, remembered = waiting_alert(Waiting(count, objects), alerted, QUEUE_GRACE)
    if alert is not None:
        send(context.log, alert_topic, alert)
    context.update_cursor(json.dumps(remembered))
    return None if alert else SkipReason(f"{count} objects waiting, none under a run key not yet alerted")
