import json
from typing import Any

import pytest
from eventbridge_fake import FakeEventsClient
from file_tracker_fakes import (
    FakeTrackerStore,
    app,
    landed_keys,
    load_event,
    object_created,
    object_keys,
    sqs_batch_of,
    sqs_event,
    tracker_with,
)
from lambda_support import CapturedLogs, FakeLambdaContext, MetricsReader

from datalake_shared.event_shapes import EventShapeError
from file_tracker.service import FileTracker, KeyLayout, PutResult, TrackedFile
from file_tracker.settings import DEFAULT_STAGING_KEY_PATTERN, get_settings
from file_tracker.store import DynamoFileTrackerStore


class StoreUnavailableError(RuntimeError):
    """Stands in for DynamoDB being unreachable."""


class UnavailableStore(FakeTrackerStore):
    def put_if_absent(self, file: TrackedFile) -> PutResult:
        raise StoreUnavailableError("DynamoDB unavailable")


SAMPLE_KEYS = [
    "sales/orders/LOAD00000001.parquet",
    "sales/orders/2026/11/22/20261122-101500123.parquet",
    "crm/customers/20261122-101502456.csv",
]


def test_sample_batch_tracks_every_file_without_failures(
    tracker: FileTracker,
    store: FakeTrackerStore,
    events: FakeEventsClient,
    lambda_context: FakeLambdaContext,
) -> None:
    # Given the sample batch of a full-load and two CDC files
    event = load_event("sqs_batch.json")
    # When the handler runs
    response = app.lambda_handler(event, lambda_context, tracker=tracker)
    # Then every file is stored, announced and flagged so, and no record failed
    assert response == {"batchItemFailures": []}
    assert sorted(stored.file.key for stored in store.files.values()) == sorted(SAMPLE_KEYS)
    assert landed_keys(events) == sorted(SAMPLE_KEYS)
    assert store.announced_keys() == sorted(SAMPLE_KEYS)


def test_batch_of_new_files_is_announced_ten_per_call_and_flagged_in_one_call(
    tracker: FileTracker,
    store: FakeTrackerStore,
    events: FakeEventsClient,
    lambda_context: FakeLambdaContext,
) -> None:
    # Given a full SQS batch of 25 new files
    event = sqs_batch_of(object_keys(25))
    # When the handler runs
    response = app.lambda_handler(event, lambda_context, tracker=tracker)
    # Then all succeed with ceil(25/10) = 3 PutEvents calls and a single flagging call
    assert response == {"batchItemFailures": []}
    assert [len(call) for call in events.calls] == [10, 10, 5]
    assert [len(call) for call in store.mark_calls] == [25]
    assert store.announced_keys() == sorted(object_keys(25))


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
    events: FakeEventsClient,
    lambda_context: FakeLambdaContext,
) -> None:
    # Given the sample batch already handled
    app.lambda_handler(load_event("sqs_batch.json"), lambda_context, tracker=tracker)
    # When SQS delivers two of its messages again
    response = app.lambda_handler(load_event("redelivery.json"), lambda_context, tracker=tracker)
    # Then nothing fails and each file still has exactly one item and one "File Landed"
    assert response == {"batchItemFailures": []}
    assert len(store.files) == 3
    assert landed_keys(events) == sorted(SAMPLE_KEYS)


def test_redelivery_of_announced_files_makes_no_announcement_calls(
    tracker: FileTracker,
    store: FakeTrackerStore,
    events: FakeEventsClient,
    lambda_context: FakeLambdaContext,
) -> None:
    # Given the sample batch already handled and announced
    app.lambda_handler(load_event("sqs_batch.json"), lambda_context, tracker=tracker)
    calls_before = (len(events.calls), len(store.mark_calls))
    # When two of its messages are redelivered
    app.lambda_handler(load_event("redelivery.json"), lambda_context, tracker=tracker)
    # Then neither PutEvents nor the flagging transaction is called again
    assert (len(events.calls), len(store.mark_calls)) == calls_before == (1, 1)


def test_same_object_twice_in_one_batch_is_announced_once_and_both_messages_succeed(
    tracker: FileTracker, events: FakeEventsClient, lambda_context: FakeLambdaContext
) -> None:
    # Given a batch carrying the same "Object Created" event twice (EventBridge at-least-once)
    key = "sales/orders/20261122-101500123.parquet"
    event = sqs_batch_of([key, key])
    # When handled
    response = app.lambda_handler(event, lambda_context, tracker=tracker)
    # Then both messages succeed and the file is announced once
    assert response == {"batchItemFailures": []}
    assert landed_keys(events) == [key]


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
    events: FakeEventsClient,
    lambda_context: FakeLambdaContext,
    emitted_metrics: MetricsReader,
) -> None:
    # Given the folder marker DMS tools create ("sales/orders/", 0 bytes)
    event = load_event("folder_marker.json")
    # When handled
    response = app.lambda_handler(event, lambda_context, tracker=tracker)
    # Then nothing is written or announced, nothing fails, and it is counted as ignored
    assert response == {"batchItemFailures": []}
    assert (store.files, store.unmatched, events.calls) == ({}, {}, [])
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


def test_rejected_announcements_fail_only_their_records(
    store: FakeTrackerStore, lambda_context: FakeLambdaContext
) -> None:
    # Given a batch of 25 new files and EventBridge rejecting the entries of files 3 and 17
    keys = object_keys(25)
    tracker = tracker_with(store, FakeEventsClient(rejections={keys[3]: 1, keys[17]: 1}))
    # When the batch is handled
    response = app.lambda_handler(sqs_batch_of(keys), lambda_context, tracker=tracker)
    # Then exactly those two messages are reported for redelivery, and the others' files are
    # announced and flagged
    assert response == {"batchItemFailures": [{"itemIdentifier": "m3"}, {"itemIdentifier": "m17"}]}
    assert store.announced_keys() == sorted(set(keys) - {keys[3], keys[17]})


def test_redelivery_of_rejected_announcements_announces_each_file_exactly_once(
    store: FakeTrackerStore, lambda_context: FakeLambdaContext
) -> None:
    # Given a batch whose first file's "File Landed" EventBridge rejected once
    batch = load_event("sqs_batch.json")
    rejected_key = SAMPLE_KEYS[0]
    events = FakeEventsClient(rejections={rejected_key: 1})
    tracker = tracker_with(store, events)
    first = app.lambda_handler(batch, lambda_context, tracker=tracker)
    # When SQS redelivers the reported message
    redelivery = {"Records": [batch["Records"][0]]}
    second = app.lambda_handler(redelivery, lambda_context, tracker=tracker)
    # Then the redelivery succeeds, and every file is announced exactly once and flagged so
    assert first == {"batchItemFailures": [{"itemIdentifier": batch["Records"][0]["messageId"]}]}
    assert second == {"batchItemFailures": []}
    assert landed_keys(events) == sorted(SAMPLE_KEYS)
    assert store.announced_keys() == sorted(SAMPLE_KEYS)


def test_failed_put_events_call_fails_only_the_records_of_its_chunk(
    store: FakeTrackerStore, lambda_context: FakeLambdaContext
) -> None:
    # Given 25 new files and EventBridge failing the second PutEvents call as a whole
    keys = object_keys(25)
    events = FakeEventsClient(outages={1})
    tracker = tracker_with(store, events)
    # When the batch is handled
    response = app.lambda_handler(sqs_batch_of(keys), lambda_context, tracker=tracker)
    # Then the ten messages of that call (m10..m19) fail; the third call still went out
    assert response == {"batchItemFailures": [{"itemIdentifier": f"m{n}"} for n in range(10, 20)]}
    assert len(events.calls) == 3
    assert store.announced_keys() == sorted(keys[:10] + keys[20:])


def test_failed_announcement_is_logged_as_an_error_naming_the_object(
    store: FakeTrackerStore, lambda_context: FakeLambdaContext, logs: CapturedLogs
) -> None:
    # Given EventBridge rejecting one file's "File Landed"
    key = "sales/orders/LOAD00000001.parquet"
    tracker = tracker_with(store, FakeEventsClient(rejections={key: 1}))
    event = sqs_batch_of(["sales/orders/20261122-101500123.parquet", key])
    # When handled
    app.lambda_handler(event, lambda_context, tracker=tracker)
    # Then one error names its message, bucket and object, with EventBridge's error code
    errors = [r for r in logs.records() if r["level"] == "ERROR"]
    assert [(e["message_id"], e["bucket"], e["object_key"]) for e in errors] == [
        ("m1", "datalake-staging-example", key)
    ]
    assert errors[0]["error"].startswith("InternalFailure")


def test_failed_announcements_are_counted_as_failed_records(
    store: FakeTrackerStore, lambda_context: FakeLambdaContext, emitted_metrics: MetricsReader
) -> None:
    # Given a batch with a poison message, and EventBridge rejecting one of its good files
    keys = object_keys(2)
    tracker = tracker_with(store, FakeEventsClient(rejections={keys[0]: 1}))
    good = [object_created(key).model_dump(mode="json", by_alias=True) for key in keys]
    event = sqs_event(*good, "{not json")
    # When handled
    response = app.lambda_handler(event, lambda_context, tracker=tracker)
    # Then the poison message and the unannounced file's message fail, each reported once
    # and counted; both files were tracked
    assert response == {"batchItemFailures": [{"itemIdentifier": "m2"}, {"itemIdentifier": "m0"}]}
    assert emitted_metrics.totals() == {"FilesTracked": 2, "RecordsFailed": 2}


def test_flagging_failure_fails_no_record(
    events: FakeEventsClient, lambda_context: FakeLambdaContext
) -> None:
    # Given the store failing to flag announced files (throttled transaction)
    store = FakeTrackerStore(mark_outages=1)
    tracker = tracker_with(store, events)
    # When the sample batch is handled
    response = app.lambda_handler(load_event("sqs_batch.json"), lambda_context, tracker=tracker)
    # Then no record is redelivered: the files are tracked and announced
    assert response == {"batchItemFailures": []}
    assert landed_keys(events) == sorted(SAMPLE_KEYS)
    assert store.announced_keys() == []


def test_flagging_failure_is_logged_as_a_warning_and_counted(
    events: FakeEventsClient,
    lambda_context: FakeLambdaContext,
    logs: CapturedLogs,
    emitted_metrics: MetricsReader,
) -> None:
    # Given the store failing to flag announced files
    tracker = tracker_with(FakeTrackerStore(mark_outages=1), events)
    # When the sample batch is handled
    app.lambda_handler(load_event("sqs_batch.json"), lambda_context, tracker=tracker)
    # Then one warning names the unflagged files and why, and the metric counts them
    warnings = [r for r in logs.records() if r["level"] == "WARNING"]
    assert [(w["files"], len(w["file_ids"])) for w in warnings] == [(3, 3)]
    assert "ProvisionedThroughputExceeded" in warnings[0]["error"]
    assert emitted_metrics.totals() == {"FilesTracked": 3, "AnnouncementsUnmarked": 3}


def test_redelivery_after_a_flagging_failure_announces_again(
    events: FakeEventsClient, lambda_context: FakeLambdaContext
) -> None:
    # Given a batch announced but left unflagged
    store = FakeTrackerStore(mark_outages=1)
    tracker = tracker_with(store, events)
    batch = load_event("sqs_batch.json")
    app.lambda_handler(batch, lambda_context, tracker=tracker)
    # When one of its messages is delivered again
    app.lambda_handler({"Records": batch["Records"][:1]}, lambda_context, tracker=tracker)
    # Then that file is announced a second time (allowed: at-least-once) and now flagged
    assert landed_keys(events) == sorted([*SAMPLE_KEYS, SAMPLE_KEYS[0]])
    assert store.announced_keys() == [SAMPLE_KEYS[0]]


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


def test_failed_tracking_is_logged_as_an_error_naming_the_object(
    events: FakeEventsClient, lambda_context: FakeLambdaContext, logs: CapturedLogs
) -> None:
    # Given a store whose write fails (DynamoDB unavailable)
    tracker = tracker_with(UnavailableStore(), events)
    event = sqs_batch_of(["sales/orders/LOAD00000001.parquet"])
    # When handled
    response = app.lambda_handler(event, lambda_context, tracker=tracker)
    # Then the record fails, nothing is announced, and one error names the message and the
    # object, with the exception attached
    assert response == {"batchItemFailures": [{"itemIdentifier": "m0"}]}
    assert events.calls == []
    errors = [r for r in logs.records() if r["level"] == "ERROR"]
    assert [(e["message_id"], e["object_key"]) for e in errors] == [
        ("m0", "sales/orders/LOAD00000001.parquet")
    ]
    assert "StoreUnavailableError" in errors[0]["exception_name"]


def test_failures_list_each_message_once() -> None:
    # Given the processor's failures and message ids to redeliver that repeat some of them
    reported = [{"itemIdentifier": "m2"}]
    # When they are merged
    failures = app.with_failures(reported, ["m0", "m2", "m0", "m5"])
    # Then each message appears once, the processor's first
    assert failures == [
        {"itemIdentifier": "m2"},
        {"itemIdentifier": "m0"},
        {"itemIdentifier": "m5"},
    ]


def _landed_body(detail_type: str, reason: str | None = None) -> dict[str, object]:
    """The sample landed file's EventBridge body, turned into another S3 event type."""
    body: dict[str, Any] = json.loads(load_event("sqs_batch.json")["Records"][0]["body"])
    body["detail-type"] = detail_type
    body["detail"]["reason"] = reason
    return body


@pytest.mark.parametrize(
    ("detail_type", "reason"),
    [
        ("Object Deleted", "DeleteObject"),
        ("Object Deleted", "Lifecycle Expiration"),
        ("Object Restore Completed", None),
        ("Object Tags Added", None),
    ],
)
def test_an_s3_event_of_another_type_is_skipped_not_tracked(
    tracker: FileTracker,
    store: FakeTrackerStore,
    lambda_context: FakeLambdaContext,
    detail_type: str,
    reason: str | None,
) -> None:
    # Given an S3 event of another type than "Object Created" on a staging key
    event = sqs_event(_landed_body(detail_type, reason))
    # When handled
    response = app.lambda_handler(event, lambda_context, tracker=tracker)
    # Then no file is tracked (so none is announced) and nothing fails
    assert response == {"batchItemFailures": []}
    assert (store.files, store.unmatched) == ({}, {})


def test_a_skipped_s3_event_is_logged_with_its_reason_and_counted(
    tracker: FileTracker,
    lambda_context: FakeLambdaContext,
    logs: CapturedLogs,
    emitted_metrics: MetricsReader,
) -> None:
    # Given a lifecycle expiration of a staged file / When handled
    event = sqs_event(_landed_body("Object Deleted", "Lifecycle Expiration"))
    app.lambda_handler(event, lambda_context, tracker=tracker)
    # Then the skip says why, and is counted
    [skipped] = [r for r in logs.records() if r["message"] == "Not a landed file; skipped"]
    assert (
        skipped["reason"]
        == "an 'Object Deleted' event (Lifecycle Expiration), not 'Object Created'"
    )
    assert emitted_metrics.totals() == {"ObjectEventsSkipped": 1}


def test_an_s3_event_of_another_source_fails_alone(
    tracker: FileTracker, store: FakeTrackerStore, lambda_context: FakeLambdaContext
) -> None:
    # Given a batch whose second body claims another source than aws.s3
    good = json.loads(load_event("sqs_batch.json")["Records"][0]["body"])
    other = {**good, "source": "custom.uploader"}
    # When handled / Then only that record fails, and the good one is tracked
    response = app.lambda_handler(sqs_event(good, other), lambda_context, tracker=tracker)
    assert response == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert len(store.files) == 1


@pytest.mark.parametrize(
    "event",
    [
        pytest.param(
            json.loads(load_event("sqs_batch.json")["Records"][0]["body"]), id="bare-eventbridge"
        ),
        pytest.param({"Records": [{"eventSource": "aws:s3", "s3": {}}]}, id="s3-notification"),
        pytest.param({"Records": []}, id="empty"),
    ],
)
def test_an_event_that_is_no_sqs_batch_is_rejected_before_any_write(
    tracker: FileTracker,
    store: FakeTrackerStore,
    lambda_context: FakeLambdaContext,
    emitted_metrics: MetricsReader,
    event: dict[str, object],
) -> None:
    # Given an event a misrouted rule or a console test could send / When handled
    with pytest.raises(EventShapeError, match=r"^expected an SQS batch"):
        app.lambda_handler(event, lambda_context, tracker=tracker)
    # Then nothing was written, and the rejection is counted
    assert (store.files, store.unmatched) == ({}, {})
    assert emitted_metrics.totals() == {"UnexpectedEvents": 1}
