import pytest
from eventbridge_fake import FakeEventsClient
from file_tracker_fakes import (
    FakeTrackerStore,
    landed_keys,
    landed_publisher,
    object_created,
    object_keys,
    s3_events,
    tracker_with,
)

from datalake_shared.s3_events import S3ObjectEvent
from file_tracker.service import (
    FileTracker,
    KeyLayout,
    TrackedFile,
    TrackOutcome,
    TrackResult,
    file_id,
)
from file_tracker.settings import DEFAULT_STAGING_KEY_PATTERN


def tracked_files(tracker: FileTracker, keys: list[str]) -> list[TrackedFile]:
    """Tracks one new object per key and returns the files to announce."""
    files = []
    for key in keys:
        result = tracker.track(object_created(key))
        assert result.file is not None
        files.append(result.file)
    return files


def test_new_file_is_tracked_with_its_metadata(
    tracker: FileTracker, store: FakeTrackerStore
) -> None:
    # Given the DMS full-load file of sales.orders from the sample batch
    event = s3_events("sqs_batch.json")[0]
    # When it is tracked
    result = tracker.track(event)
    # Then one item holds the file's metadata, keyed by source table and deterministic id
    expected_id = file_id(
        "datalake-staging-example",
        "sales/orders/LOAD00000001.parquet",
        "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
        None,
        None,
    )
    assert result.outcome is TrackOutcome.TRACKED
    assert [stored.file for stored in store.files.values()] == [
        TrackedFile(
            source_table="sales.orders",
            file_id=expected_id,
            bucket="datalake-staging-example",
            key="sales/orders/LOAD00000001.parquet",
            size=5242880,
            etag="b1946ac92492d2347c6235b4d2611184",
            version_id="3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
            sequencer="0062F4A7B3C1D2E3F4",
            event_time="2026-11-22T10:15:00Z",
            event_id="7f3c6a1e-2b4d-4e8f-9a10-5c6d7e8f9a01",
            schema_name="sales",
            table_name="orders",
            file_name="LOAD00000001.parquet",
            load_type="full",
            status="raw_file_landed",
        )
    ]


def test_new_file_needs_announcing_and_tracking_publishes_nothing(
    tracker: FileTracker, store: FakeTrackerStore, events: FakeEventsClient
) -> None:
    # Given a CDC file event
    event = s3_events("sqs_batch.json")[1]
    # When it is tracked
    result = tracker.track(event)
    # Then it is stored unannounced and flagged for the batch's announcement, not yet published
    assert (result.outcome, result.needs_announcing) == (TrackOutcome.TRACKED, True)
    assert [stored.announced for stored in store.files.values()] == [False]
    assert events.calls == []


def test_announced_file_is_published_once_and_flagged(
    tracker: FileTracker, store: FakeTrackerStore, events: FakeEventsClient
) -> None:
    # Given a tracked file
    [file] = tracked_files(tracker, ["sales/orders/20261122-101500123.parquet"])
    # When it is announced
    report = tracker.announce([file])
    # Then one "File Landed" names it and its item is flagged announced
    assert landed_keys(events) == [file.key]
    assert (report.failed, report.published) == ({}, (file,))
    assert store.announced_keys() == [file.key]


def test_batch_of_25_files_is_announced_in_three_calls_and_flagged_in_one(
    tracker: FileTracker, store: FakeTrackerStore, events: FakeEventsClient
) -> None:
    # Given 25 new files of one SQS batch
    files = tracked_files(tracker, object_keys(25))
    # When they are announced
    report = tracker.announce(files)
    # Then PutEvents is called ceil(25/10) times, 10 + 10 + 5, and the flags are set in one go
    assert [len(call) for call in events.calls] == [10, 10, 5]
    assert store.mark_calls == [[file.file_id for file in files]]
    assert report.failed == {}
    assert store.announced_keys() == sorted(object_keys(25))


def test_nothing_to_announce_makes_no_calls(
    tracker: FileTracker, store: FakeTrackerStore, events: FakeEventsClient
) -> None:
    # Given a batch whose files were all announced before
    # When nothing is announced / Then neither EventBridge nor the store is called
    assert tracker.announce([]).published == ()
    assert (events.calls, store.mark_calls) == ([], [])


def test_redelivered_event_is_a_duplicate_that_needs_no_announcement(
    tracker: FileTracker, store: FakeTrackerStore
) -> None:
    # Given a file already tracked and announced
    event = s3_events("sqs_batch.json")[1]
    first = tracker.track(event)
    assert first.file is not None
    tracker.announce([first.file])
    # When the same event arrives again
    result = tracker.track(event)
    # Then it is a duplicate that needs no announcement, and there is still one item
    assert (result.outcome, result.needs_announcing) == (TrackOutcome.DUPLICATE, False)
    assert len(store.files) == 1


def test_duplicate_of_a_never_announced_file_needs_announcing(
    tracker: FileTracker, store: FakeTrackerStore
) -> None:
    # Given a file stored by a delivery that never got to announce it
    event = s3_events("sqs_batch.json")[1]
    tracker.track(event)
    # When its event is delivered again
    result = tracker.track(event)
    # Then it is a duplicate, announced by this delivery
    assert (result.outcome, result.needs_announcing) == (TrackOutcome.DUPLICATE, True)


def test_same_file_twice_in_one_batch_is_announced_and_flagged_once(
    tracker: FileTracker, store: FakeTrackerStore, events: FakeEventsClient
) -> None:
    # Given one object delivered twice in the same batch (both deliveries need announcing)
    event = s3_events("sqs_batch.json")[1]
    first, second = tracker.track(event), tracker.track(event)
    assert first.file is not None
    assert second.file is not None
    # When the batch's files are announced
    report = tracker.announce([first.file, second.file])
    # Then one event is published and the item is flagged by a single action
    # (a DynamoDB transaction may not touch one item twice)
    assert landed_keys(events) == [event.detail.object.key]
    assert store.mark_calls == [[first.file.file_id]]
    assert report.failed == {}


def test_rejected_entries_are_reported_and_left_unflagged(
    store: FakeTrackerStore,
) -> None:
    # Given EventBridge rejecting the entries of two of five files
    keys = object_keys(5)
    events = FakeEventsClient(rejections={keys[1]: 1, keys[3]: 1})
    tracker = tracker_with(store, events)
    files = tracked_files(tracker, keys)
    # When they are announced
    report = tracker.announce(files)
    # Then exactly those two are reported failed, with EventBridge's error code,
    # and only the three published files are flagged announced
    assert sorted(report.failed) == sorted([files[1].file_id, files[3].file_id])
    assert all(error.startswith("InternalFailure") for error in report.failed.values())
    assert store.announced_keys() == sorted([keys[0], keys[2], keys[4]])


def test_failed_put_events_call_fails_only_the_files_of_its_chunk(
    store: FakeTrackerStore,
) -> None:
    # Given 25 files and EventBridge failing the second of the three PutEvents calls
    events = FakeEventsClient(outages={1})
    tracker = tracker_with(store, events)
    files = tracked_files(tracker, object_keys(25))
    # When they are announced
    report = tracker.announce(files)
    # Then the ten files of that call failed, the other fifteen are published and flagged
    assert set(report.failed) == {file.file_id for file in files[10:20]}
    assert len(events.calls) == 3
    assert store.announced_keys() == sorted(file.key for file in files[:10] + files[20:])


def test_flagging_failure_is_reported_without_failing_the_announcement(
    events: FakeEventsClient,
) -> None:
    # Given the store failing to flag files announced
    store = FakeTrackerStore(mark_outages=1)
    tracker = tracker_with(store, events)
    files = tracked_files(tracker, object_keys(3))
    # When they are announced
    report = tracker.announce(files)
    # Then they are published and not failed, and the report says three stay unflagged
    assert report.failed == {}
    assert landed_keys(events) == sorted(object_keys(3))
    assert report.unmarked == 3
    assert store.announced_keys() == []


def test_redelivery_after_a_rejected_announcement_announces_exactly_once(
    store: FakeTrackerStore,
) -> None:
    # Given a first delivery whose "File Landed" EventBridge rejected once
    event = s3_events("sqs_batch.json")[1]
    events = FakeEventsClient(rejections={event.detail.object.key: 1})
    tracker = tracker_with(store, events)
    first = tracker.track(event)
    assert first.file is not None
    assert set(tracker.announce([first.file]).failed) == {first.file.file_id}
    # When the message is delivered twice more, each delivery announcing what needs it
    outcomes = []
    for _ in range(2):
        result = tracker.track(event)
        outcomes.append(result.needs_announcing)
        if result.needs_announcing and result.file is not None:
            tracker.announce([result.file])
    # Then the first redelivery announces it and flags it; the second publishes nothing
    assert outcomes == [True, False]
    assert landed_keys(events) == [event.detail.object.key]
    assert store.announced_keys() == [event.detail.object.key]


def test_new_version_of_the_same_key_is_a_new_file(
    tracker: FileTracker, store: FakeTrackerStore
) -> None:
    # Given a key tracked once
    tracker.track(object_created("sales/orders/20261122-101500123.parquet", version_id="v1"))
    # When DMS writes the key again (a new version)
    result = tracker.track(
        object_created("sales/orders/20261122-101500123.parquet", version_id="v2")
    )
    # Then the new version is tracked as its own file
    assert result.outcome is TrackOutcome.TRACKED
    assert len(store.files) == 2


@pytest.mark.parametrize(
    ("key", "size"),
    [("sales/orders/", 0), ("sales/orders/20261122-101500123.parquet", 0)],
    ids=["folder-marker", "zero-byte"],
)
def test_folder_markers_and_empty_objects_are_ignored_without_writes(
    tracker: FileTracker,
    store: FakeTrackerStore,
    events: FakeEventsClient,
    key: str,
    size: int,
) -> None:
    # Given a folder marker or an empty object
    event = object_created(key, size=size)
    # When tracked
    result = tracker.track(event)
    # Then it is ignored: nothing stored, quarantined or announced
    assert result.outcome is TrackOutcome.IGNORED
    assert (store.files, store.unmatched, events.calls) == ({}, {}, [])


def test_unmatched_key_is_quarantined_not_tracked(
    tracker: FileTracker, store: FakeTrackerStore, events: FakeEventsClient
) -> None:
    # Given a key the staging pattern cannot map
    event = s3_events("unmatched_key.json")[0]
    # When tracked
    result = tracker.track(event)
    # Then a quarantine record names the key and why, and no file is tracked or announced
    assert result.outcome is TrackOutcome.UNMATCHED
    assert [(u["key"], u["event_time"]) for u in store.unmatched.values()] == [
        ("readme.txt", "2026-11-22T10:16:00Z")
    ]
    assert "STAGING_KEY_PATTERN" in next(iter(store.unmatched.values()))["reason"]
    assert (store.files, events.calls) == ({}, [])


def test_key_outside_the_prefix_is_quarantined(
    store: FakeTrackerStore, events: FakeEventsClient
) -> None:
    # Given a tracker for keys under "dms/"
    tracker = FileTracker(
        KeyLayout("dms/", DEFAULT_STAGING_KEY_PATTERN), store, landed_publisher(events)
    )
    # When a key elsewhere arrives
    result = tracker.track(object_created("sales/orders/20261122-101500123.parquet"))
    # Then it is quarantined, not tracked
    assert result.outcome is TrackOutcome.UNMATCHED
    assert len(store.unmatched) == 1


def test_a_source_table_too_long_for_a_partition_key_is_quarantined(
    store: FakeTrackerStore, events: FakeEventsClient
) -> None:
    # Given a pattern whose overlapping groups make schema and table the whole 1,024-byte key
    tracker = FileTracker(
        KeyLayout("", r"^(?=(?P<schema>.+))(?P<table>.+)$"), store, landed_publisher(events)
    )
    # When such a key arrives
    result = tracker.track(object_created("k" * 1024))
    # Then the file is quarantined with the reason (DynamoDB would refuse a 2,049-byte key)
    assert result.outcome is TrackOutcome.UNMATCHED
    assert store.files == {}
    [unmatched] = store.unmatched.values()
    assert "more than 2048 bytes" in unmatched["reason"]


def test_unmatched_key_quarantine_record_holds_the_object_and_its_version_id(
    tracker: FileTracker, store: FakeTrackerStore
) -> None:
    # Given the sample event of "readme.txt", a key the staging pattern cannot map
    event = s3_events("unmatched_key.json")[0]
    # When tracked
    tracker.track(event)
    # Then one quarantine record names its bucket, key and event time, under the id of that
    # object version (bucket, key and version id: a later overwrite is quarantined anew)
    [(quarantine_id, record)] = store.unmatched.items()
    assert quarantine_id == "6cf954e99334e0d1a54d3b1d049bf485"
    assert quarantine_id == file_id(
        "datalake-staging-example", "readme.txt", "Zy9Xw8Vu7Ts6Rq5Po4Nm3Lk2Ji1Hg0Fe", None, None
    )
    assert {name: record[name] for name in ("bucket", "key", "event_time")} == {
        "bucket": "datalake-staging-example",
        "key": "readme.txt",
        "event_time": "2026-11-22T10:16:00Z",
    }


def test_unmatched_key_result_names_the_object_and_carries_no_file(
    tracker: FileTracker,
) -> None:
    # Given an unmatched key in another bucket
    event = object_created("readme.txt", bucket="other-staging-bucket")
    # When tracked
    result = tracker.track(event)
    # Then the result names the object and has nothing to announce
    assert result == TrackResult(TrackOutcome.UNMATCHED, "other-staging-bucket", "readme.txt")


def test_quarantine_reason_names_the_pattern_and_the_prefix(
    store: FakeTrackerStore, events: FakeEventsClient
) -> None:
    # Given a tracker for keys under "dms/cdc/" with the default pattern
    tracker = FileTracker(
        KeyLayout("dms/cdc/", DEFAULT_STAGING_KEY_PATTERN), store, landed_publisher(events)
    )
    # When a key outside the prefix arrives
    tracker.track(object_created("sales/orders/20261122-101500123.parquet"))
    # Then the operator reading the quarantine record sees which pattern and prefix refused it
    [record] = store.unmatched.values()
    assert repr(DEFAULT_STAGING_KEY_PATTERN) in record["reason"]
    assert "'dms/cdc/'" in record["reason"]


def test_unversioned_unmatched_overwrites_are_quarantined_apart(
    tracker: FileTracker, store: FakeTrackerStore
) -> None:
    # Given two writes of one unmatched key in an unversioned bucket (only the sequencer differs)
    first = object_created("readme.txt", version_id=None, sequencer="0062F4A7B3C1D2E400")
    second = object_created("readme.txt", version_id=None, sequencer="0062F4A7B3C1D2E401")
    # When both are tracked
    tracker.track(first)
    tracker.track(second)
    # Then each write has its own quarantine record, under the id of its sequencer
    assert sorted(store.unmatched) == sorted(
        file_id("datalake-staging-example", "readme.txt", None, sequencer, None)
        for sequencer in ("0062F4A7B3C1D2E400", "0062F4A7B3C1D2E401")
    )


def _deleted(key: str) -> S3ObjectEvent:
    """An "Object Deleted" event of ``key``, shaped like the samples."""
    body = object_created(key).model_dump(mode="json", by_alias=True)
    body["detail-type"] = "Object Deleted"
    return S3ObjectEvent.model_validate(body)


@pytest.mark.parametrize(
    ("event", "outcome"),
    [
        (_deleted("sales/orders/20261122-101500123.parquet"), TrackOutcome.NOT_CREATED),
        (object_created("sales/orders/", size=0), TrackOutcome.IGNORED),
    ],
    ids=["not-created", "ignored"],
)
def test_untracked_event_result_names_its_object(
    tracker: FileTracker, event: S3ObjectEvent, outcome: TrackOutcome
) -> None:
    # Given an event of an object that is not tracked (deleted, or a folder marker)
    # When tracked
    result = tracker.track(event)
    # Then the result names the bucket and key it is about, with no file to announce
    assert (result.outcome, result.bucket, result.key) == (
        outcome,
        "datalake-staging-example",
        event.detail.object.key,
    )
    assert (result.file, result.needs_announcing) == (None, False)


def test_tracked_and_duplicate_results_name_their_object(tracker: FileTracker) -> None:
    # Given an object event from another bucket
    key = "sales/orders/20261122-101500123.parquet"
    event = object_created(key, bucket="other-staging-bucket")
    # When it is tracked, then delivered again
    results = [tracker.track(event), tracker.track(event)]
    # Then both results name that bucket and key
    assert [(r.outcome, r.bucket, r.key) for r in results] == [
        (TrackOutcome.TRACKED, "other-staging-bucket", key),
        (TrackOutcome.DUPLICATE, "other-staging-bucket", key),
    ]


def test_nothing_is_flagged_when_every_announcement_was_rejected(
    store: FakeTrackerStore,
) -> None:
    # Given EventBridge rejecting the only file of a batch
    [key] = object_keys(1)
    events = FakeEventsClient(rejections={key: 1})
    tracker = tracker_with(store, events)
    files = tracked_files(tracker, [key])
    # When it is announced
    report = tracker.announce(files)
    # Then the store is not asked to flag anything, and the file stays unannounced
    assert set(report.failed) == {files[0].file_id}
    assert (report.published, store.mark_calls) == ((), [])


def test_a_source_table_of_exactly_2048_bytes_is_tracked(
    store: FakeTrackerStore, events: FakeEventsClient
) -> None:
    # Given a pattern taking the whole key as schema and all but its first character as table,
    # so a 1,024-byte key names a source table of 1,024 + 1 + 1,023 = 2,048 bytes
    tracker = FileTracker(
        KeyLayout("", r"^(?=(?P<schema>.+)).(?P<table>.+)$"), store, landed_publisher(events)
    )
    # When such a key arrives
    result = tracker.track(object_created("k" * 1024))
    # Then it is tracked: DynamoDB takes a partition key of up to 2,048 bytes
    assert result.outcome is TrackOutcome.TRACKED
    assert [len(table.encode()) for table, _ in store.files] == [2048]
    assert store.unmatched == {}


# Events without a usable version id, each with the fields the id falls back on.
UNVERSIONED = [
    pytest.param(None, "0062F4A7B3C1D2E3F5", "etag-1", id="sequencer"),
    pytest.param("null", "0062F4A7B3C1D2E3F5", None, id="suspended-versioning"),
    pytest.param(None, None, "etag-1", id="etag-only"),
]


@pytest.mark.parametrize(("version_id", "sequencer", "etag"), UNVERSIONED)
def test_unversioned_file_is_tracked_under_the_id_of_its_fallback_fields(
    tracker: FileTracker, version_id: str | None, sequencer: str | None, etag: str | None
) -> None:
    # Given an object event without a usable version id
    key = "sales/orders/20261122-101500123.parquet"
    event = object_created(key, version_id=version_id, sequencer=sequencer, etag=etag)
    # When tracked
    result = tracker.track(event)
    # Then its id is computed from the sequencer, else the etag
    assert result.file is not None
    assert result.file.file_id == file_id(
        "datalake-staging-example", key, version_id, sequencer, etag
    )


@pytest.mark.parametrize(("version_id", "sequencer", "etag"), UNVERSIONED)
def test_unversioned_unmatched_key_is_quarantined_under_the_id_of_its_fallback_fields(
    tracker: FileTracker,
    store: FakeTrackerStore,
    version_id: str | None,
    sequencer: str | None,
    etag: str | None,
) -> None:
    # Given an unmatched key's event without a usable version id
    event = object_created("readme.txt", version_id=version_id, sequencer=sequencer, etag=etag)
    # When tracked
    tracker.track(event)
    # Then its quarantine record's id is computed from the sequencer, else the etag
    assert list(store.unmatched) == [
        file_id("datalake-staging-example", "readme.txt", version_id, sequencer, etag)
    ]
