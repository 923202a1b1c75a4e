"""Fire a synthetic failure through a deployed stack's monitor topic; report whether it was
stored and posted to Slack.

    python -m tools.test_alert --stack datalake-events-dev [--region eu-west-1] [--timeout 120]

The failure is a "Glue Job State Change" event as Glue sends it (state FAILED), for the job
"<stack>-test-alert", which does not exist: its message says it is a test. Its id is fresh, so
every run is a new event (pipeline_monitor posts each id once). It is published to the stack's
MonitorTopicArn, the way the monitoring rules publish, and then, until --timeout:

- stored: the record pipeline_monitor writes, s3://<MonitoringBucketName>/monitoring-events/
  dt=<date>/<event id>.json (what Athena's monitoring_events table reads);
- posted: the alert's idempotency record in AlertIdempotencyTableName is COMPLETED, which it
  becomes only once Slack accepted the post (pipeline_monitor deletes it when a post fails).

Publishing needs sns:Publish on the topic and the alerts key through SNS: attach the stack's
MonitorPublishPolicyArn, or run as an administrator.

Exit codes: 0 stored and posted; 1 stored, not posted in time (the webhook secret is still
empty or Slack refuses the post: see the function's logs); 2 usage
(argparse); 3 AWS error (unknown stack, publish refused); 4 not stored in time (the function
failed: see PipelineMonitorDLQUrl and its logs).
"""

import argparse
import functools
import json
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError

# pipeline_monitor's own definitions say where a record is stored and how an alert is keyed.
_MONITOR_CODE = str(Path(__file__).resolve().parent.parent / "functions" / "pipeline_monitor")
if _MONITOR_CODE not in sys.path:
    sys.path.insert(0, _MONITOR_CODE)

from pipeline_monitor.alerts import IDEMPOTENCY_KEY_PREFIX  # noqa: E402
from pipeline_monitor.records import MonitorRecord, normalize  # noqa: E402
from pipeline_monitor.settings import DEFAULT_MONITOR_PREFIX  # noqa: E402
from pipeline_monitor.store import record_key  # noqa: E402

EXIT_NOT_POSTED: Final = 1
EXIT_AWS: Final = 3
EXIT_NOT_STORED: Final = 4
TOPIC_OUTPUT: Final = "MonitorTopicArn"
BUCKET_OUTPUT: Final = "MonitoringBucketName"
IDEMPOTENCY_OUTPUT: Final = "AlertIdempotencyTableName"
COMPLETED: Final = "COMPLETED"

ClientFactory = Callable[[str], Any]
Wait = Callable[[float], None]


class StackLookupError(RuntimeError):
    """The stack or one of the outputs the test needs could not be found."""


@dataclass(frozen=True)
class MonitorTargets:
    topic_arn: str
    bucket: str
    idempotency_table: str


@dataclass(frozen=True)
class ProbeResult:
    event_id: str
    key: str
    stored: bool
    alert_state: str | None
    """The idempotency record's status (COMPLETED = posted), None when there is none."""

    @property
    def posted(self) -> bool:
        return self.alert_state == COMPLETED

    @property
    def exit_code(self) -> int:
        if not self.stored:
            return EXIT_NOT_STORED
        return 0 if self.posted else EXIT_NOT_POSTED


def synthetic_failure(stack: str, topic_arn: str, event_id: str, now: datetime) -> dict[str, Any]:
    """A Glue Job State Change FAILED event, as Glue puts it on the bus, marked as a test."""
    region, account = topic_arn.split(":")[3:5]
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "Glue Job State Change",
        "source": "aws.glue",
        "account": account,
        "time": now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [],
        "detail": {
            "jobName": f"{stack}-test-alert",
            "severity": "ERROR",
            "state": "FAILED",
            "jobRunId": f"jr_test_{event_id.replace('-', '')}",
            "message": (
                f"Test alert sent by `make test-alert` (event {event_id}): nothing failed. "
                "Its arrival here shows failures reach this channel."
            ),
        },
    }


def expected_record(event: dict[str, Any]) -> MonitorRecord:
    """The record pipeline_monitor makes of the event (its own normalizer)."""
    return normalize(json.dumps(event), message_id=event["id"], received=datetime.now(UTC))


def stack_targets(client: ClientFactory, stack: str) -> MonitorTargets:
    try:
        stacks = client("cloudformation").describe_stacks(StackName=stack)["Stacks"]
    except ClientError as error:
        raise StackLookupError(f"stack {stack!r}: {error}") from error
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    wanted = (TOPIC_OUTPUT, BUCKET_OUTPUT, IDEMPOTENCY_OUTPUT)
    missing = [name for name in wanted if name not in outputs]
    if missing:
        raise StackLookupError(f"stack {stack!r} has no output(s) {', '.join(missing)}")
    return MonitorTargets(
        outputs[TOPIC_OUTPUT], outputs[BUCKET_OUTPUT], outputs[IDEMPOTENCY_OUTPUT]
    )


def is_stored(client: ClientFactory, bucket: str, key: str) -> bool:
    try:
        client("s3").head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
            return False
        raise
    return True


def alert_state(client: ClientFactory, table: str, event_id: str) -> str | None:
    """Status of the alert's idempotency record, found the way the poster keys it
    (datalake_shared.slack.IdempotentSlackPoster: data {"alert_id": <event id>}, JMESPath
    "alert_id", pipeline_monitor's key prefix), by Powertools' own key function."""
    from aws_lambda_powertools.utilities.idempotency import (  # noqa: PLC0415
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
    )
    from aws_lambda_powertools.utilities.idempotency.exceptions import (  # noqa: PLC0415
        IdempotencyItemNotFoundError,
    )

    persistence = DynamoDBPersistenceLayer(table_name=table, boto3_client=client("dynamodb"))
    persistence.configure(
        IdempotencyConfig(event_key_jmespath="alert_id"), key_prefix=IDEMPOTENCY_KEY_PREFIX
    )
    try:
        record = persistence.get_record({"alert_id": event_id})
    except IdempotencyItemNotFoundError:
        return None
    return None if record is None else str(record.status)


def fire(
    client: ClientFactory,
    stack: str,
    targets: MonitorTargets,
    *,
    timeout_s: float,
    poll_s: float = 5.0,
    wait: Wait = time.sleep,
) -> ProbeResult:
    """Publishes one synthetic failure and polls until it is stored and posted, or timeout_s
    (counted in polls, so a fake ``wait`` needs no clock) has passed."""
    event_id = str(uuid.uuid4())
    event = synthetic_failure(stack, targets.topic_arn, event_id, datetime.now(UTC))
    record = expected_record(event)
    key = record_key(DEFAULT_MONITOR_PREFIX, record)
    client("sns").publish(TopicArn=targets.topic_arn, Message=json.dumps(event))
    stored, state = False, None
    for attempt in range(max(1, int(timeout_s // poll_s)) + 1):
        if attempt:
            wait(poll_s)
        stored = stored or is_stored(client, targets.bucket, key)
        state = alert_state(client, targets.idempotency_table, record.event_id)
        if stored and state == COMPLETED:
            break
    return ProbeResult(record.event_id, key, stored, state)


def describe(result: ProbeResult, bucket: str = "<MonitoringBucketName>") -> str:
    posted = {
        COMPLETED: "yes (Slack accepted the post)",
        None: "no (no alert record: webhook not filled in, Slack failing, or not alerted)",
    }.get(result.alert_state, f"not yet (alert record {result.alert_state})")
    return "\n".join(
        [
            f"test event {result.event_id}",
            f"  stored: {'yes' if result.stored else 'no'} (s3://{bucket}/{result.key})",
            f"  posted: {posted}",
        ]
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.test_alert",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--stack", required=True, help="the deployed stack's name")
    parser.add_argument("--region", help="AWS region (default: the AWS CLI's)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait (120)")
    return parser.parse_args(argv)


def _clients(session: Any) -> ClientFactory:
    @functools.cache  # one client per service
    def client(service: str) -> Any:
        return session.client(service)

    return client


def main(
    argv: Sequence[str] | None = None,
    *,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    client: ClientFactory | None = None,
    wait: Wait = time.sleep,
) -> int:
    """``client`` (service name -> boto3 client) and ``wait`` let tests run it locally."""
    args = parse_args(argv)
    client = client or _clients(boto3.session.Session(region_name=args.region))
    try:
        targets = stack_targets(client, args.stack)
        print(f"publishing a synthetic Glue job failure to {targets.topic_arn}", file=out)
        result = fire(client, args.stack, targets, timeout_s=args.timeout, wait=wait)
    except (ClientError, BotoCoreError, StackLookupError) as error:
        print(f"error: {error}", file=err)
        return EXIT_AWS
    print(describe(result, targets.bucket), file=out)
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
