import pytest
from file_tracker_fakes import (
    FakePublisher,
    FakeTrackerStore,
    PublishFailedError,
    object_created,
    s3_events,
)
from file_tracker_settings import DEFAULT_STAGING_KEY_PATTERN
from file_tracking import FileTracker, KeyLayout, TrackedFile, TrackOutcome, file_id


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


def test_new_file_is_announced_once_and_marked_announced(
    tracker: FileTracker, store: FakeTrackerStore, publisher: FakePublisher
) -> None:
    # Given a CDC file event
    event = s3_events("sqs_batch.json")[1]
    # When it is tracked
    result = tracker.track(event)
    # Then "File Landed" is published for it and the item records that
    assert [file.key for file in publisher.published] == [event.detail.object.key]
    assert result.published
    assert all(stored.announced for stored in store.files.values())


def test_redelivered_event_is_a_duplicate_and_not_announced_again(
    tracker: FileTracker, store: FakeTrackerStore, publisher: FakePublisher
) -> None:
    # Given a file already tracked and announced
    event = s3_events("sqs_batch.json")[1]
    tracker.track(event)
    # When the same event arrives again
    result = tracker.track(event)
    # Then it is a duplicate: still one item, still one announcement
    assert result.outcome is TrackOutcome.DUPLICATE
    assert not result.published
    assert len(store.files) == 1
    assert len(publisher.published) == 1


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
    publisher: FakePublisher,
    key: str,
    size: int,
) -> None:
    # Given a folder marker or an empty object
    event = object_created(key, size=size)
    # When tracked
    result = tracker.track(event)
    # Then it is ignored: nothing stored, quarantined or announced
    assert result.outcome is TrackOutcome.IGNORED
    assert (store.files, store.unmatched, publisher.published) == ({}, {}, [])


def test_unmatched_key_is_quarantined_not_tracked(
    tracker: FileTracker, store: FakeTrackerStore, publisher: FakePublisher
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
    assert (store.files, publisher.published) == ({}, [])


def test_key_outside_the_prefix_is_quarantined(
    store: FakeTrackerStore, publisher: FakePublisher
) -> None:
    # Given a tracker for keys under "dms/"
    tracker = FileTracker(KeyLayout("dms/", DEFAULT_STAGING_KEY_PATTERN), store, publisher)
    # When a key elsewhere arrives
    result = tracker.track(object_created("sales/orders/20261122-101500123.parquet"))
    # Then it is quarantined, not tracked
    assert result.outcome is TrackOutcome.UNMATCHED
    assert len(store.unmatched) == 1


def test_publish_failure_after_write_fails_the_delivery(
    store: FakeTrackerStore,
) -> None:
    # Given EventBridge failing once, after the item was written
    tracker = FileTracker(
        KeyLayout("", DEFAULT_STAGING_KEY_PATTERN), store, FakePublisher(failures=1)
    )
    event = s3_events("sqs_batch.json")[1]
    # When the file is tracked / Then the error surfaces (so SQS redelivers the message)
    with pytest.raises(PublishFailedError):
        tracker.track(event)
    # And the item is stored but not marked announced
    assert [stored.announced for stored in store.files.values()] == [False]


def test_redelivery_after_a_publish_failure_announces_exactly_once(
    store: FakeTrackerStore,
) -> None:
    # Given a first delivery that wrote the item and then failed to publish
    publisher = FakePublisher(failures=1)
    tracker = FileTracker(KeyLayout("", DEFAULT_STAGING_KEY_PATTERN), store, publisher)
    event = s3_events("sqs_batch.json")[1]
    with pytest.raises(PublishFailedError):
        tracker.track(event)
    # When the message is delivered twice more
    healed = tracker.track(event)
    again = tracker.track(event)
    # Then the first redelivery announces it and marks it; the second publishes nothing
    assert (healed.outcome, healed.published) == (TrackOutcome.DUPLICATE, True)
    assert (again.outcome, again.published) == (TrackOutcome.DUPLICATE, False)
    assert len(publisher.published) == 1
    assert [stored.announced for stored in store.files.values()] == [True]
