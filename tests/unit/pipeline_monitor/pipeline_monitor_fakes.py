"""pipeline_monitor test support: sample events, the monitor wired to moto and the Slack sink."""

import copy
import json
from collections.abc import Sequence
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from datalake_shared.event_publisher import EventPublisher
from datalake_shared.slack import IdempotentSlackPoster, RetryPolicy
from pipeline_monitor.announcer import EventBridgeRecordAnnouncer
from pipeline_monitor.records import Severity
from pipeline_monitor.service import PipelineMonitor
from pipeline_monitor.store import S3MonitorStore

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient

from alert_fakes import AlertAws, Sleeps, idempotent_poster
from eventbridge_fake import FakeEventsClient
from lambda_support import load_handler_module, load_sample_event

BUCKET = "datalake-events-monitor-example"
PREFIX = "monitoring-events/"
KEY_PREFIX = "pipeline-monitor-slack"

app = load_handler_module("pipeline_monitor")
load_event = partial(load_sample_event, "pipeline_monitor")


def sns_message(name: str) -> str:
    message: str = load_event(name)["Records"][0]["Sns"]["Message"]
    return message


def sns_event_of(message: dict[str, Any] | str, message_id: str = "m-1") -> dict[str, Any]:
    """The glue_job_failed sample's SNS envelope around another message."""
    event = copy.deepcopy(load_event("glue_job_failed.json"))
    sns = event["Records"][0]["Sns"]
    sns["Message"] = message if isinstance(message, str) else json.dumps(message)
    sns["MessageId"] = message_id
    return event


def eventbridge_message(name: str) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(sns_message(name))
    return message


def slack_poster(
    aws: AlertAws, sleeps: Sleeps, policy: RetryPolicy | None = None
) -> IdempotentSlackPoster:
    return idempotent_poster(
        aws, sleeps, KEY_PREFIX, policy or RetryPolicy(max_attempts=3, max_total_s=60)
    )


def monitor_with(
    aws: AlertAws,
    poster: Any,
    events: FakeEventsClient,
    alert_on: Sequence[Severity] = (Severity.ERROR,),
    store: Any = None,
) -> PipelineMonitor:
    return PipelineMonitor(
        store=store or S3MonitorStore(BUCKET, PREFIX, client=aws.s3),
        poster=poster,
        announcer=EventBridgeRecordAnnouncer(
            EventPublisher(
                "pipeline-monitor", "datalake-bus", client=cast("EventBridgeClient", events)
            ),
            BUCKET,
        ),
        alert_on=frozenset(alert_on),
    )
