"""The config_loader Lambda with fakes: valid files are applied whole, invalid ones rejected
whole with a report beside them, and AWS errors raised for Lambda's retries."""

from typing import Any

import pytest
from config_loader_fakes import (
    BUCKET,
    FakeApplier,
    FakeObjects,
    StoreUnavailableError,
    app,
    load_event,
    sample_config_text,
    uploaded,
)
from eventbridge_fake import RecordingPublisher
from lambda_support import CapturedLogs, FakeLambdaContext, MetricsReader

from config_loader.service import (
    CONFIG_APPLIED,
    CONFIG_REJECTED,
    MAX_CONFIG_BYTES,
    MAX_PROBLEMS_IN_EVENT,
    REJECTION_SUFFIX,
    ConfigLoader,
    LoadOutcome,
    is_config_key,
    rejection_report_key,
)
from config_loader.settings import get_settings
from datalake_shared.cadence_schedules import CadenceScheduleReconciler
from datalake_shared.event_shapes import EventShapeError
from datalake_shared.redshift_subscriptions import RedshiftSubscriptions

VALID_KEY = "config/pipeline.yaml"
BROKEN_KEY = "config/broken.yaml"


@pytest.fixture
def sample_objects(objects: FakeObjects) -> FakeObjects:
    """The bucket holds the two example files under the sample events' keys."""
    objects.add(VALID_KEY, sample_config_text("pipeline.yaml"))
    objects.add(BROKEN_KEY, sample_config_text("broken.yaml"))
    return objects


def handle(event: dict[str, Any], loader: ConfigLoader) -> dict[str, Any]:
    result: dict[str, Any] = app.lambda_handler(event, FakeLambdaContext(), loader=loader)
    return result


def test_valid_upload_is_applied(
    sample_objects: FakeObjects, applier: FakeApplier, loader: ConfigLoader
) -> None:
    # Given the example config uploaded / When the sample event is handled
    response = handle(load_event("config_uploaded.json"), loader)
    # Then the whole config is applied
    assert response["outcome"] == "applied"
    [config] = applier.applied
    assert len(config.tables) == 4
    assert response["applied"]["tables"] == 4


def test_upload_targeting_a_database_the_glue_job_may_not_write_is_rejected(
    objects: FakeObjects, applier: FakeApplier, events: RecordingPublisher
) -> None:
    # Given a stack whose Glue job may write only "sales" (MergeTargetDatabases), and the
    # example config, whose third table targets "inventory"
    objects.add(VALID_KEY, sample_config_text("pipeline.yaml"))
    loader = ConfigLoader(objects, applier, events, frozenset({"sales"}))
    # When its upload is handled
    response = handle(load_event("config_uploaded.json"), loader)
    # Then nothing is applied and the report names the table and the parameter to change
    assert response["outcome"] == "rejected"
    assert applier.applied == []
    [problem] = response["problems"]
    assert problem.startswith("tables[2].target_database: 'inventory' is not one of")
    assert "MergeTargetDatabases (sales)" in problem


def test_valid_upload_publishes_config_applied(
    sample_objects: FakeObjects, events: RecordingPublisher, loader: ConfigLoader
) -> None:
    handle(load_event("config_uploaded.json"), loader)
    [(detail_type, detail, _)] = events.published
    assert detail_type == CONFIG_APPLIED
    assert (detail["key"], detail["batches"], detail["tables"]) == (VALID_KEY, 3, 4)


def test_valid_upload_counts_config_applied(
    sample_objects: FakeObjects, loader: ConfigLoader, emitted_metrics: MetricsReader
) -> None:
    handle(load_event("config_uploaded.json"), loader)
    assert emitted_metrics.totals() == {"ConfigApplied": 1}


def test_valid_upload_logs_counts(
    sample_objects: FakeObjects, loader: ConfigLoader, logs: CapturedLogs
) -> None:
    handle(load_event("config_uploaded.json"), loader)
    [applied] = [r for r in logs.records() if r["message"] == "Config applied"]
    assert (applied["batches"], applied["tables"], applied["active_tables"]) == (3, 4, 3)
    assert applied["object_key"] == VALID_KEY


def test_invalid_upload_writes_nothing_and_does_not_raise(
    sample_objects: FakeObjects, applier: FakeApplier, loader: ConfigLoader
) -> None:
    # Given the broken example uploaded / When its event is handled
    response = handle(load_event("config_invalid_uploaded.json"), loader)
    # Then nothing is applied, and the invocation succeeds (a retry cannot fix the file)
    assert response["outcome"] == "rejected"
    assert applier.applied == []
    assert len(response["problems"]) == 9


def test_invalid_upload_leaves_a_report_listing_every_problem(
    sample_objects: FakeObjects, loader: ConfigLoader
) -> None:
    # Given the broken example / When handled
    handle(load_event("config_invalid_uploaded.json"), loader)
    # Then config/broken.yaml.rejected.txt lists its nine problems, one per line
    report = sample_objects.text("config/broken.yaml.rejected.txt")
    assert report is not None
    lines = report.splitlines()
    assert lines[0] == f"Rejected: s3://{BUCKET}/{BROKEN_KEY} (version v-current)"
    assert "Nothing was applied. Fix the 9 problems below" in lines[2]
    problems = [line for line in lines[4:] if line]
    assert len(problems) == 9
    assert problems[0].startswith("batches[0].batch_size: ")
    assert any(line.startswith("tables[0].primary_key: ['id'] not among") for line in problems)


def test_invalid_upload_logs_one_error_with_every_problem(
    sample_objects: FakeObjects, loader: ConfigLoader, logs: CapturedLogs
) -> None:
    handle(load_event("config_invalid_uploaded.json"), loader)
    errors = [r for r in logs.records() if r["level"] == "ERROR"]
    assert [e["message"] for e in errors] == ["Config rejected; nothing was applied"]
    assert len(errors[0]["problems"]) == 9
    assert errors[0]["report_key"] == "config/broken.yaml.rejected.txt"


def test_invalid_upload_counts_config_rejected(
    sample_objects: FakeObjects, loader: ConfigLoader, emitted_metrics: MetricsReader
) -> None:
    handle(load_event("config_invalid_uploaded.json"), loader)
    assert emitted_metrics.totals() == {"ConfigRejected": 1}


def test_invalid_upload_publishes_config_rejected(
    sample_objects: FakeObjects, events: RecordingPublisher, loader: ConfigLoader
) -> None:
    handle(load_event("config_invalid_uploaded.json"), loader)
    [(detail_type, detail, _)] = events.published
    assert detail_type == CONFIG_REJECTED
    assert (detail["problem_count"], len(detail["problems"])) == (9, 9)


def test_rejected_event_carries_at_most_50_problems(
    objects: FakeObjects, events: RecordingPublisher, loader: ConfigLoader
) -> None:
    # Given a file with 60 problems (60 unknown keys)
    objects.add("config/typos.yaml", "\n".join(f"key_{n}: 1" for n in range(60)) + "\nbatches: []")
    # When handled
    handle(uploaded("config/typos.yaml"), loader)
    # Then the event carries the first 50 and the count; the report has them all
    [(_, detail, _)] = events.published
    assert detail["problem_count"] == 61
    assert len(detail["problems"]) == MAX_PROBLEMS_IN_EVENT
    report = objects.text("config/typos.yaml.rejected.txt")
    assert report is not None
    assert report.count("unknown key") == 60


def test_valid_upload_removes_the_report_of_an_earlier_rejected_version(
    objects: FakeObjects, loader: ConfigLoader
) -> None:
    # Given a broken upload of config/pipeline.yaml, rejected
    objects.add(VALID_KEY, sample_config_text("broken.yaml"))
    handle(load_event("config_uploaded.json"), loader)
    assert objects.text(rejection_report_key(VALID_KEY)) is not None
    # When a fixed version is uploaded under the same key
    objects.add(VALID_KEY, sample_config_text("pipeline.yaml"))
    handle(load_event("config_uploaded.json"), loader)
    # Then the stale report is gone
    assert objects.text(rejection_report_key(VALID_KEY)) is None


def test_store_error_raises_for_lambda_to_retry(
    sample_objects: FakeObjects, applier: FakeApplier, loader: ConfigLoader
) -> None:
    # Given DynamoDB failing / When a valid upload is handled / Then the error is raised
    applier.outages = 1
    with pytest.raises(StoreUnavailableError):
        handle(load_event("config_uploaded.json"), loader)
    # When Lambda retries / Then it is applied
    assert handle(load_event("config_uploaded.json"), loader)["outcome"] == "applied"


def test_file_over_1_mib_is_rejected_without_being_read(
    objects: FakeObjects, applier: FakeApplier, loader: ConfigLoader
) -> None:
    # Given an event for a 2 MiB "config" / When handled
    response = handle(uploaded("config/huge.yaml", size=2 * MAX_CONFIG_BYTES), loader)
    # Then it is rejected by size, never read
    assert response["outcome"] == "rejected"
    assert "limited to 1048576 bytes" in response["problems"][0]
    assert objects.reads == []
    assert applier.applied == []


def test_file_that_grew_past_the_limit_since_the_event_is_rejected(
    objects: FakeObjects, loader: ConfigLoader
) -> None:
    # Given an event saying 1 KB, but the object now holds more than 1 MiB
    objects.add("config/grown.yaml", b"#" * (MAX_CONFIG_BYTES + 1))
    response = handle(uploaded("config/grown.yaml", size=1024), loader)
    assert response["outcome"] == "rejected"
    assert response["problems"] == [
        f"file is {MAX_CONFIG_BYTES + 1} bytes; config files are limited to "
        f"{MAX_CONFIG_BYTES} bytes (1 MiB)"
    ]


def test_file_that_is_not_utf8_is_rejected(objects: FakeObjects, loader: ConfigLoader) -> None:
    objects.add("config/latin1.yaml", "batches: [{cadence: caf\u00e9}]".encode("latin-1"))
    response = handle(uploaded("config/latin1.yaml"), loader)
    assert response["outcome"] == "rejected"
    assert response["problems"][0].startswith("not UTF-8 text")


def test_utf8_byte_order_mark_is_accepted(objects: FakeObjects, loader: ConfigLoader) -> None:
    objects.add(VALID_KEY, "\ufeff" + sample_config_text())
    assert handle(load_event("config_uploaded.json"), loader)["outcome"] == "applied"


@pytest.mark.parametrize(
    "key", ["config/pipeline.yaml.rejected.txt", "config/README.md", "config/", "config/x.csv"]
)
def test_objects_that_are_not_config_files_are_ignored(
    objects: FakeObjects, events: RecordingPublisher, loader: ConfigLoader, key: str
) -> None:
    # Given one of our own reports (or any non-config object) / When its event arrives
    response = handle(uploaded(key), loader)
    # Then it is neither read nor reported on: a report never triggers another report
    assert response["outcome"] == "ignored"
    assert objects.reads == []
    assert objects.objects == {}
    assert events.published == []


def test_object_deleted_before_it_was_read_is_ignored(
    objects: FakeObjects, applier: FakeApplier, loader: ConfigLoader
) -> None:
    response = handle(load_event("config_uploaded.json"), loader)
    assert (response["outcome"], response["reason"]) == (
        "ignored",
        "deleted before it could be read",
    )
    assert applier.applied == []


def test_event_that_is_not_an_s3_event_raises(loader: ConfigLoader, logs: CapturedLogs) -> None:
    # Given a scheduled event / When handled / Then rejected, naming both shapes, before any read
    with pytest.raises(EventShapeError, match=r"^expected an EventBridge S3 object") as raised:
        handle({"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}, loader)
    assert "got an EventBridge event (source aws.events" in str(raised.value)
    assert [r["level"] for r in logs.records()] == ["ERROR"]


@pytest.mark.parametrize(
    ("detail_type", "reason"),
    [
        ("Object Deleted", "Lifecycle Expiration"),
        ("Object Restore Completed", None),
    ],
)
def test_an_s3_event_of_another_type_is_skipped_saying_why(
    loader: ConfigLoader, applier: FakeApplier, detail_type: str, reason: str | None
) -> None:
    # Given the sample upload's event, turned into another S3 event type
    event = load_event("config_uploaded.json")
    event["detail-type"] = detail_type
    event["detail"]["reason"] = reason
    # When handled
    response = handle(event, loader)
    # Then nothing is read or applied, and the response says why
    assert response["outcome"] == "ignored"
    assert response["reason"].startswith(f"an {detail_type!r} event")
    assert applier.applied == []


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("config/pipeline.yaml", True),
        ("config/pipeline.YML", True),
        ("config/pipeline.json", True),
        ("config/pipeline.yaml.rejected.txt", False),
        ("config/pipeline.yaml/", False),
        ("config/notes.txt", False),
    ],
)
def test_config_keys(key: str, expected: bool) -> None:
    assert is_config_key(key) is expected


def test_loader_outcomes_are_plain_strings() -> None:
    assert [outcome.value for outcome in LoadOutcome] == ["applied", "rejected", "ignored"]


# What the template sets for the cadence schedules (datalake_shared.cadence_schedules).
CADENCE_SCHEDULE_ENV = {
    "CADENCE_SCHEDULE_GROUP": "stack-cadences",
    "BATCH_DISPATCH_STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:d",
    "CADENCE_SCHEDULE_ROLE_ARN": "arn:aws:iam::123456789012:role/cadence-schedules",
    "CADENCE_SCHEDULE_DLQ_ARN": "arn:aws:sqs:us-east-1:123456789012:cadence-dlq",
}
# And for the Redshift log subscriptions (datalake_shared.redshift_subscriptions).
REDSHIFT_SUBSCRIPTION_ENV = {
    "REDSHIFT_AUDIT_FUNCTION_ARN": "arn:aws:lambda:us-east-1:123456789012:function:audit",
    "REDSHIFT_SUBSCRIPTION_FILTER": "stack-redshift-audit",
}


def test_default_loader_is_built_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the environment the template sets
    monkeypatch.setenv("BATCH_CONFIG_TABLE", "batch-config")
    monkeypatch.setenv("TABLE_CONFIG_TABLE", "table-config")
    monkeypatch.setenv("MERGE_TARGET_DATABASES", "sales,inventory")
    for name, value in CADENCE_SCHEDULE_ENV.items():
        monkeypatch.setenv(name, value)
    for name, value in REDSHIFT_SUBSCRIPTION_ENV.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    app.default_loader.cache_clear()
    try:
        # When the default loader is built / Then it writes to those tables, without AWS calls
        loader = app.default_loader()
        assert (loader.store.batch_table, loader.store.table_table) == (
            "batch-config",
            "table-config",
        )
        # And it accepts only the databases the Glue job may write
        assert loader.writable_databases == {"sales", "inventory"}
        assert "client" not in vars(loader.store)
        # And it keeps a schedule per cadence in the stack's group (its client not built yet)
        schedules = next(r for r in loader.reconcilers if r.name == "cadence_schedules")
        assert isinstance(schedules, CadenceScheduleReconciler)
        assert schedules.settings.cadence_schedule_group == "stack-cadences"
        assert "client" not in vars(schedules.schedules)
        # And one log subscription of the stack's name per Redshift log group
        subscriptions = next(r for r in loader.reconcilers if r.name == "redshift_log_groups")
        assert isinstance(subscriptions, RedshiftSubscriptions)
        assert subscriptions.wanted.name == "stack-redshift-audit"
        assert "client" not in vars(subscriptions.logs)
    finally:
        get_settings.cache_clear()
        app.default_loader.cache_clear()


def test_missing_table_setting_fails_fast_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BATCH_CONFIG_TABLE", raising=False)
    monkeypatch.setenv("TABLE_CONFIG_TABLE", "table-config")
    get_settings.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="BATCH_CONFIG_TABLE"):
            get_settings()
    finally:
        get_settings.cache_clear()


def test_the_rejection_report_of_an_upload_with_a_key_at_the_limit_fits_s3() -> None:
    # Given an upload key of 1,022 bytes (S3 allows 1,024)
    key = "config/" + "é" * 505 + ".yaml"
    assert len(key.encode()) == 1022
    # When its rejection report key is derived / Then it fits S3 and is stable
    report = rejection_report_key(key)
    assert len(report.encode()) <= 1024
    assert report.endswith(REJECTION_SUFFIX)
    assert report == rejection_report_key(key)
