"""S3 adapter (moto): one JSON line per event, partitioned by date, rewritten on redelivery."""

import json
from datetime import UTC, datetime

from alert_fakes import AlertAws
from pipeline_monitor_fakes import BUCKET, PREFIX, sns_message

from pipeline_monitor.records import normalize
from pipeline_monitor.store import S3MonitorStore

RECEIVED = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def test_record_is_one_json_line_in_its_date_partition(aws: AlertAws) -> None:
    # Given the store over a (moto) bucket and the crawler failure record
    store = S3MonitorStore(BUCKET, PREFIX, client=aws.s3)
    record = normalize(sns_message("glue_crawler_failed.json"), message_id="m", received=RECEIVED)
    # When stored
    key = store.put(record)
    # Then the object is under dt=<event date>/<event id>.json and holds one JSON line
    assert key == "monitoring-events/dt=2026-11-20/f7965b59-470f-2e06-bb89-a8cebaabefac.json"
    stored = aws.s3.get_object(Bucket=BUCKET, Key=key)
    body = stored["Body"].read().decode()
    assert body.count("\n") == 1
    assert json.loads(body) == record.as_json()
    assert stored["ContentType"] == "application/x-ndjson"


def test_redelivery_rewrites_the_same_object(aws: AlertAws) -> None:
    # Given a record stored once
    store = S3MonitorStore(BUCKET, PREFIX, client=aws.s3)
    record = normalize(sns_message("glue_job_failed.json"), message_id="m", received=RECEIVED)
    store.put(record)
    # When the same event is stored again
    store.put(record)
    # Then there is still one object
    assert len(aws.stored_keys()) == 1


def test_every_column_of_the_athena_table_is_in_the_record(aws: AlertAws) -> None:
    # Given the columns the Athena DDL (pipeline_monitor.store docstring) declares
    columns = {
        "event_id",
        "service",
        "resource",
        "run_id",
        "state",
        "severity",
        "error_message",
        "event_time",
        "console_url",
        "account",
        "region",
        "detail_type",
        "source",
    }
    # When a record is serialized / Then it has exactly those keys
    record = normalize(sns_message("cloudwatch_alarm.json"), message_id="m", received=RECEIVED)
    assert set(record.as_json()) == columns
