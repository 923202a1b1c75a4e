import json

import pytest
from file_tracker_fakes import (
    CapturedLogs,
    FakeLambdaContext,
    FakePublisher,
    FakeTrackerStore,
    MetricsReader,
    app,
    load_event,
    object_created,
    sqs_event,
)
from file_tracker_settings import DEFAULT_STAGING_KEY_PATTERN, get_settings
from file_tracker_store import DynamoFileTrackerStore
from file_tracking import FileTracker, KeyLayout

SAMPLE_KEYS = [
    "sales/orders/LOAD00000001.parquet",
    "sales/orders/2026/11/22/20261122-101500123.parquet",
    "crm/customers/20261122-101502456.csv",
]


def test_sample_batch_tracks_every_file_without_failures(
    tracker: FileTracker,
    store: FakeTrackerStore,
    publisher: FakePublisher,
    lambda_context: FakeLambdaContext,
) -> None:
    # Given the sample batch of a full-load and two CDC files
    event = load_event("sqs_batch.json")
    # When the handler runs
    response = app.lambda_handler(event, lambda_context, tracker=tracker)
    # Then every file is stored and announced, and no record failed
    assert response == {"batchItemFailures": []}
    assert sorted(stored.file.key for stored in store.files.values()) == sorted(SAMPLE_KEYS)
    assert sorted(file.key for file in publisher.published) == sorted(SAMPLE_KEYS)


def test_sample_batch_emits_files_tracked_metric(
    tracker: FileTracker, lambda_context: FakeLambdaContext, emitted_metrics: MetricsReader
) -> None:
    # Given the sample batch / When handled
    app.lambda_handler(load_event("sqs_batch.json"), lambda_context, tracker=tracker)
    # Then FilesTracked counts its three files
    assert emitted_metrics.totals() == {"FilesTracked": 3}


def test_redelivery_keeps_one_item_and_one_announcement_per_file(
    tracker: FileTracker,
    store: FakeTrackerStore,
    publisher: FakePublisher,
    lambda_context: FakeLambdaContext,
) -> None:
    # Given the sample batch already handled
    app.lambda_handler(load_event("sqs_batch.json"), lambda_context, tracker=tracker)
    # When SQS delivers two of its messages again
    response = app.lambda_handler(load_event("redelivery.json"), lambda_context, tracker=tracker)
    # Then nothing fails and each file still has exactly one item and one "File Landed"
    assert response == {"batchItemFailures": []}
    assert len(store.files) == 3
    assert sorted(file.key for file in publisher.published) == sorted(SAMPLE_KEYS)


def test_redelivery_counts_duplicates(
    tracker: FileTracker, lambda_context: FakeLambdaContext, emitted_metrics: MetricsReader
) -> None:
    # Given the sample batch already handled
    app.lambda_handler(load_event("sqs_batch.json"), lambda_context, tracker=tracker)
    emitted_metrics.totals()  # drop the first invocation's metrics
    # When two of its messages are redelivered
    app.lambda_handler(load_event("redelivery.json"), lambda_context, tracker=tracker)
    # Then they are counted as skipped duplicates, not as tracked files
    assert emitted_metrics.totals() == {"DuplicatesSkipped": 2}


def test_malformed_record_fails_alone_while_the_rest_is_stored(
    tracker: FileTracker, store: FakeTrackerStore, lambda_context: FakeLambdaContext
) -> None:
    # Given a batch with one good CDC record and one body that is not an S3 EventBridge event
    event = load_event("malformed_record.json")
    poison_id = event["Records"][1]["messageId"]
    # When handled
    response = app.lambda_handler(event, lambda_context, tracker=tracker)
    # Then only the poison message is reported for redelivery, and the good file is stored
    assert response == {"batchItemFailures": [{"itemIdentifier": poison_id}]}
    assert [stored.file.key for stored in store.files.values()] == [
        "sales/order_items/20261122-101700001.parquet"
    ]


def test_malformed_record_is_logged_as_an_error_with_its_message_id(
    tracker: FileTracker, lambda_context: FakeLambdaContext, logs: CapturedLogs
) -> None:
    # Given a batch with a poison message
    event = load_event("malformed_record.json")
    poison_id = event["Records"][1]["messageId"]
    # When handled
    app.lambda_handler(event, lambda_context, tracker=tracker)
    # Then one error names the message and says why it was rejected
    errors = [r for r in logs.records() if r["level"] == "ERROR"]
    assert [(e["message_id"], "Malformed record" in e["message"]) for e in errors] == [
        (poison_id, True)
    ]
    assert "body.detail: Field required" in errors[0]["error"]


@pytest.mark.parametrize("body", ["{not json", json.dumps({"detail-type": "Object Created"})])
def test_record_whose_body_is_not_an_event_is_a_batch_item_failure(
    tracker: FileTracker, lambda_context: FakeLambdaContext, body: str
) -> None:
    # Given a good record followed by a truncated or incomplete body
    good = object_created("sales/orders/20261122-101500123.parquet").model_dump(
        mode="json", by_alias=True
    )
    event = sqs_event(good, body)
    # When handled / Then only the bad record fails
    response = app.lambda_handler(event, lambda_context, tracker=tracker)
    assert response == {"batchItemFailures": [{"itemIdentifier": "m1"}]}


def test_failures_are_counted(
    tracker: FileTracker, lambda_context: FakeLambdaContext, emitted_metrics: MetricsReader
) -> None:
    # Given a batch with a poison message / When handled
    app.lambda_handler(load_event("malformed_record.json"), lambda_context, tracker=tracker)
    # Then the failure is counted next to the tracked file
    assert emitted_metrics.totals() == {"FilesTracked": 1, "RecordsFailed": 1}


def test_folder_marker_is_ignored_and_counted(
    tracker: FileTracker,
    store: FakeTrackerStore,
    publisher: FakePublisher,
    lambda_context: FakeLambdaContext,
    emitted_metrics: MetricsReader,
) -> None:
    # Given the folder marker DMS tools create ("sales/orders/", 0 bytes)
    event = load_event("folder_marker.json")
    # When handled
    response = app.lambda_handler(event, lambda_context, tracker=tracker)
    # Then nothing is written or announced, nothing fails, and it is counted as ignored
    assert response == {"batchItemFailures": []}
    assert (store.files, store.unmatched, publisher.published) == ({}, {}, [])
    assert emitted_metrics.totals() == {"ObjectsIgnored": 1}


def test_unmatched_key_is_quarantined_counted_and_not_failed(
    tracker: FileTracker,
    store: FakeTrackerStore,
    lambda_context: FakeLambdaContext,
    emitted_metrics: MetricsReader,
) -> None:
    # Given an object whose key the staging pattern cannot map
    event = load_event("unmatched_key.json")
    # When handled
    response = app.lambda_handler(event, lambda_context, tracker=tracker)
    # Then it is not retried, but quarantined and counted
    assert response == {"batchItemFailures": []}
    assert [u["key"] for u in store.unmatched.values()] == ["readme.txt"]
    assert emitted_metrics.totals() == {"UnmatchedKeys": 1}


def test_publish_crash_fails_the_record_and_redelivery_announces_once(
    store: FakeTrackerStore, lambda_context: FakeLambdaContext
) -> None:
    # Given EventBridge failing on the first publish only
    publisher = FakePublisher(failures=1)
    tracker = FileTracker(KeyLayout("", DEFAULT_STAGING_KEY_PATTERN), store, publisher)
    batch = load_event("sqs_batch.json")
    first_message_id = batch["Records"][0]["messageId"]
    # When the batch is handled, then its failed message is delivered again
    first = app.lambda_handler(batch, lambda_context, tracker=tracker)
    redelivery = {"Records": [batch["Records"][0]]}
    second = app.lambda_handler(redelivery, lambda_context, tracker=tracker)
    # Then the first delivery reported that message, the redelivery succeeded,
    # and every file is announced exactly once and marked so
    assert first == {"batchItemFailures": [{"itemIdentifier": first_message_id}]}
    assert second == {"batchItemFailures": []}
    assert sorted(file.key for file in publisher.published) == sorted(SAMPLE_KEYS)
    assert all(stored.announced for stored in store.files.values())


def test_default_tracker_is_built_from_settings_without_touching_aws(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given the environment the template sets
    monkeypatch.setenv("FILE_TRACKER_TABLE", "datalake-file-tracker")
    monkeypatch.setenv("STAGING_PREFIX", "dms/")
    get_settings.cache_clear()
    app.default_tracker.cache_clear()
    try:
        # When the handler's tracker is built
        tracker = app.default_tracker()
        # Then it uses the configured table and layout, and no AWS client exists yet
        assert isinstance(tracker.store, DynamoFileTrackerStore)
        assert tracker.store.table_name == "datalake-file-tracker"
        assert tracker.layout == KeyLayout("dms/", DEFAULT_STAGING_KEY_PATTERN)
        assert "client" not in vars(tracker.store)
        assert app.default_tracker() is tracker
    finally:
        get_settings.cache_clear()
        app.default_tracker.cache_clear()


def test_batch_where_every_record_fails_reports_each_instead_of_raising(
    tracker: FileTracker, lambda_context: FakeLambdaContext
) -> None:
    # Given a batch of two poison messages
    event = sqs_event("{not json", "[]")
    # When handled
    response = app.lambda_handler(event, lambda_context, tracker=tracker)
    # Then both are reported for redelivery (SQS retries them, the DLQ bounds the retries)
    assert response == {"batchItemFailures": [{"itemIdentifier": "m0"}, {"itemIdentifier": "m1"}]}


def test_unmatched_key_warning_names_the_object_and_message(
    tracker: FileTracker, lambda_context: FakeLambdaContext, logs: CapturedLogs
) -> None:
    # Given an object whose key the pattern cannot map
    event = load_event("unmatched_key.json")
    # When handled
    app.lambda_handler(event, lambda_context, tracker=tracker)
    # Then the warning carries the object and message keys appended for the record
    warnings = [r for r in logs.records() if r["level"] == "WARNING"]
    assert [(w["object_key"], w["message_id"], w["bucket"]) for w in warnings] == [
        ("readme.txt", event["Records"][0]["messageId"], "datalake-staging-example")
    ]


def test_each_invocation_logs_one_batch_summary(
    tracker: FileTracker, lambda_context: FakeLambdaContext, logs: CapturedLogs
) -> None:
    # Given a batch with one good and one poison message / When handled
    app.lambda_handler(load_event("malformed_record.json"), lambda_context, tracker=tracker)
    # Then one INFO line sums it up, without the per-record keys
    infos = [r for r in logs.records() if r["level"] == "INFO"]
    assert [(i["message"], i["records"], i["failed"]) for i in infos] == [("Batch handled", 2, 1)]
    assert "object_key" not in infos[0]


def test_failed_file_is_logged_as_an_error_naming_the_object(
    store: FakeTrackerStore, lambda_context: FakeLambdaContext, logs: CapturedLogs
) -> None:
    # Given EventBridge failing on the first publish
    tracker = FileTracker(
        KeyLayout("", DEFAULT_STAGING_KEY_PATTERN), store, FakePublisher(failures=1)
    )
    event = sqs_event(
        object_created("sales/orders/LOAD00000001.parquet").model_dump(mode="json", by_alias=True)
    )
    # When handled
    app.lambda_handler(event, lambda_context, tracker=tracker)
    # Then one error names the message and the object, with the exception attached
    errors = [r for r in logs.records() if r["level"] == "ERROR"]
    assert [(e["message_id"], e["object_key"]) for e in errors] == [
        ("m0", "sales/orders/LOAD00000001.parquet")
    ]
    assert "PublishFailedError" in errors[0]["exception_name"]
