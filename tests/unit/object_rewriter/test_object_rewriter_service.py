import gzip
from datetime import timedelta

import pytest
from botocore.exceptions import ClientError
from object_rewriter_fakes import (
    NOW,
    UPLOAD,
    FakeLedger,
    FakeObjectStore,
    PreconditionFailedError,
    StoreUnavailableError,
    rewriter_over,
    task_of,
)
from object_task_samples import MASK, PURGE

from datalake_shared.object_tasks import (
    ORIGIN_METADATA,
    REPLACES_METADATA,
    RULES_METADATA,
    ObjectTask,
)
from object_rewriter.rewrite import RewriteError
from object_rewriter.service import (
    MAX_USER_METADATA_BYTES,
    ObjectRewriter,
    RunOutcome,
    TaskItemMissingError,
    failure_text,
    user_metadata_bytes,
)

KEY = "dataset/uploads/2026/12/07/mock_uploaded_data.json"
PURGED = b'{"id":1,"email":"ada@example.com"}\n{"id":2,"email":"bob@example.com"}\n'


@pytest.fixture
def task(store: FakeObjectStore, ledger: FakeLedger) -> ObjectTask:
    """The upload of KEY (version v1) with its PURGE task scheduled."""
    store.upload(
        KEY,
        UPLOAD,
        metadata={"source": "web-upload"},
        headers={"ContentType": "application/x-ndjson", "CacheControl": "no-cache"},
        tags={"classification": "pii", "team": "data & ml"},
    )
    scheduled = task_of(store, KEY, PURGE)
    ledger.schedule(scheduled)
    return scheduled


def puts(store: FakeObjectStore) -> int:
    return sum(1 for name, _ in store.calls if name == "put")


# --- applying ---------------------------------------------------------------------------------


def test_a_due_task_rewrites_the_object_and_deletes_the_version_it_read(
    rewriter: ObjectRewriter, store: FakeObjectStore, task: ObjectTask
) -> None:
    # Given the uploaded version v1 / When its task runs
    result = rewriter.run(task)
    # Then the current object lacks the field and v1 is gone for good
    current = store.current(KEY)
    assert current is not None
    assert (result.outcome, current.body) == (RunOutcome.APPLIED, PURGED)
    assert store.version_ids(KEY) == ["v2"]
    assert (result.bytes_rewritten, result.deleted_version) == (len(PURGED), "v1")


def test_the_rewrite_carries_the_marks_and_keeps_headers_tags_and_metadata(
    rewriter: ObjectRewriter, store: FakeObjectStore, task: ObjectTask
) -> None:
    # Given an upload with user metadata, headers and tags / When its task runs
    rewriter.run(task)
    # Then all of them are kept, plus the marks naming the origin, the rule and the replaced one
    current = store.current(KEY)
    assert current is not None
    assert current.metadata == {
        "source": "web-upload",
        ORIGIN_METADATA: "v1",
        RULES_METADATA: PURGE.name,
        REPLACES_METADATA: "v1",
    }
    assert current.headers == {"ContentType": "application/x-ndjson", "CacheControl": "no-cache"}
    assert current.tags == {"classification": "pii", "team": "data & ml"}


def test_a_done_item_records_the_outcome_and_expires_after_the_retention(
    rewriter: ObjectRewriter, ledger: FakeLedger, task: ObjectTask
) -> None:
    # Given a failed earlier attempt on the item
    ledger.items[task.task_id].update(attempts=1, last_error="PreconditionFailed")
    # When the task runs
    rewriter.run(task)
    # Then the item is done, applied, finished now, expiring in 30 days, without the error
    item = ledger.items[task.task_id]
    assert {k: v for k, v in item.items() if k != "task"} == {
        "status": "done",
        "outcome": "applied",
        "finished_at": NOW,
        "expires_at": NOW + timedelta(days=30),
        "attempts": 1,
    }


def test_keep_replaced_version_leaves_the_read_version_in_place(
    store: FakeObjectStore, ledger: FakeLedger
) -> None:
    # Given a rule that keeps the replaced version
    store.upload(KEY, UPLOAD)
    keeping = PURGE.model_copy(update={"keep_replaced_version": True})
    task = task_of(store, KEY, keeping)
    # When it runs
    result = rewriter_over(store, ledger).run(task)
    # Then both versions exist and nothing was deleted
    assert store.version_ids(KEY) == ["v1", "v2"]
    assert result.deleted_version is None


def test_a_second_rule_rewrites_on_top_of_the_first_and_keeps_the_origin(
    rewriter: ObjectRewriter, store: FakeObjectStore, ledger: FakeLedger, task: ObjectTask
) -> None:
    # Given the upload's PURGE task done and its MASK task due
    masking = task_of(store, KEY, MASK)
    rewriter.run(task)
    # When the MASK task runs
    result = rewriter.run(masking)
    # Then both rules are applied, the marks name both, and only the newest version is left
    current = store.current(KEY)
    assert current is not None
    assert result.outcome is RunOutcome.APPLIED
    assert current.body == b'{"id":1,"email":"***"}\n{"id":2,"email":"***"}\n'
    assert current.metadata[RULES_METADATA] == "purge-file-contents,mask-emails"
    assert (current.metadata[ORIGIN_METADATA], current.metadata[REPLACES_METADATA]) == ("v1", "v2")
    assert store.version_ids(KEY) == ["v3"]


def test_an_unversioned_bucket_is_rewritten_by_etag_without_deleting_anything(
    ledger: FakeLedger,
) -> None:
    # Given an unversioned bucket: the task's origin is the upload's ETag
    store = FakeObjectStore(versioned=False)
    uploaded = store.upload(KEY + ".gz", gzip.compress(UPLOAD))
    task = task_of(store, KEY + ".gz", PURGE)
    # When it runs
    result = rewriter_over(store, ledger).run(task)
    # Then the object is rewritten, marked with the ETag as origin, and no version is named
    current = store.current(KEY + ".gz")
    assert current is not None
    assert gzip.decompress(current.body) == PURGED
    assert current.metadata == {
        ORIGIN_METADATA: uploaded.etag.strip('"'),
        RULES_METADATA: PURGE.name,
    }
    assert (result.outcome, result.deleted_version) == (RunOutcome.APPLIED, None)
    assert ("delete_version", KEY + ".gz") not in store.calls


# --- nothing to apply -------------------------------------------------------------------------


def test_a_deleted_object_finishes_as_object_missing_and_its_version_is_deleted(
    rewriter: ObjectRewriter, store: FakeObjectStore, ledger: FakeLedger, task: ObjectTask
) -> None:
    # Given the object was deleted (a delete marker over v1) before the task was due
    store.delete(KEY)
    # When the task runs
    result = rewriter.run(task)
    # Then it finishes as object_missing, nothing is written, and v1 (still holding the
    # field) is deleted: only the delete marker is left
    assert (result.outcome, result.deleted_version) == (RunOutcome.OBJECT_MISSING, "v1")
    assert ledger.items[task.task_id]["outcome"] == "object_missing"
    assert puts(store) == 0
    assert store.version_ids(KEY) == ["dm2"]


def test_a_replaced_object_finishes_as_superseded_and_its_upload_is_deleted(
    rewriter: ObjectRewriter, store: FakeObjectStore, ledger: FakeLedger, task: ObjectTask
) -> None:
    # Given a newer upload of the key (it has its own tasks)
    store.upload(KEY, b'{"file_contents":"new"}\n')
    # When the old upload's task runs
    result = rewriter.run(task)
    # Then it is superseded; the new upload is untouched and the old version v1 is deleted
    assert (result.outcome, result.deleted_version) == (RunOutcome.SUPERSEDED, "v1")
    assert ledger.items[task.task_id]["outcome"] == "superseded"
    assert store.version_ids(KEY) == ["v2"]
    assert puts(store) == 0


@pytest.mark.parametrize("gone", ["deleted", "replaced"])
def test_keep_replaced_version_keeps_a_superseded_or_deleted_upload(
    store: FakeObjectStore, ledger: FakeLedger, gone: str
) -> None:
    # Given a rule keeping replaced versions, and its upload replaced or deleted since
    store.upload(KEY, UPLOAD)
    task = task_of(store, KEY, PURGE.model_copy(update={"keep_replaced_version": True}))
    if gone == "deleted":
        store.delete(KEY)
    else:
        store.upload(KEY, b"{}\n")
    # When its task runs / Then v1 is kept
    result = rewriter_over(store, ledger).run(task)
    assert result.deleted_version is None
    assert store.version_ids(KEY)[0] == "v1"
    assert ("delete_version", KEY) not in store.calls


def test_a_superseded_upload_known_by_its_etag_is_never_deleted(ledger: FakeLedger) -> None:
    # Given an unversioned bucket's upload (the task's origin is its ETag), overwritten since
    store = FakeObjectStore(versioned=False)
    store.upload(KEY, UPLOAD)
    task = task_of(store, KEY, PURGE)
    store.upload(KEY, b"{}\n")
    # When its task runs / Then it is superseded and no version is deleted
    result = rewriter_over(store, ledger).run(task)
    assert (result.outcome, result.deleted_version) == (RunOutcome.SUPERSEDED, None)
    assert not task.origin_is_version
    assert ("delete_version", KEY) not in store.calls


def test_a_current_version_is_never_deleted_as_superseded(
    rewriter: ObjectRewriter, store: FakeObjectStore, task: ObjectTask
) -> None:
    # Given v1 is still current but carries another lineage's origin mark (a copy's metadata)
    store.objects[KEY][0].metadata[ORIGIN_METADATA] = "another-upload"
    # When its task runs / Then it is superseded, and v1 is left alone
    result = rewriter.run(task)
    assert (result.outcome, result.deleted_version) == (RunOutcome.SUPERSEDED, None)
    assert store.version_ids(KEY) == ["v1"]


def test_an_already_applied_rule_only_deletes_the_version_its_mark_names(
    store: FakeObjectStore, ledger: FakeLedger
) -> None:
    # Given an object already rewritten by PURGE whose replaced version v1 is still there
    store.upload(KEY, UPLOAD)
    store.upload(
        KEY,
        PURGED,
        metadata={ORIGIN_METADATA: "v1", RULES_METADATA: PURGE.name, REPLACES_METADATA: "v1"},
    )
    task = task_of(store, KEY, PURGE, version=0)
    # When the task runs again
    result = rewriter_over(store, ledger).run(task)
    # Then nothing is rewritten; v1 is deleted and the task is done
    assert (result.outcome, result.deleted_version) == (RunOutcome.ALREADY_APPLIED, "v1")
    assert store.version_ids(KEY) == ["v2"]
    assert puts(store) == 0
    assert ledger.items[task.task_id]["outcome"] == "already_applied"


def test_an_already_applied_rule_leaves_a_later_rules_replaced_version(
    store: FakeObjectStore, ledger: FakeLedger
) -> None:
    # Given PURGE then MASK (which keeps what it replaced) applied: v2 is MASK's to keep
    store.upload(KEY, UPLOAD)
    store.upload(KEY, PURGED)
    store.upload(
        KEY,
        b"{}\n",
        metadata={
            ORIGIN_METADATA: "v1",
            REPLACES_METADATA: "v2",
            RULES_METADATA: f"{PURGE.name},{MASK.name}",
        },
    )
    task = task_of(store, KEY, PURGE, version=0)
    # When PURGE's task is redelivered
    result = rewriter_over(store, ledger).run(task)
    # Then v2 stays
    assert (result.outcome, result.deleted_version) == (RunOutcome.ALREADY_APPLIED, None)
    assert store.version_ids(KEY) == ["v1", "v2", "v3"]


# --- redelivery after a crash -----------------------------------------------------------------


@pytest.mark.parametrize("crash_after", ["put", "delete_version"])
def test_a_retry_after_a_crash_converges_without_rewriting_twice(
    rewriter: ObjectRewriter,
    store: FakeObjectStore,
    ledger: FakeLedger,
    task: ObjectTask,
    crash_after: str,
) -> None:
    # Given a run that died right after S3 committed the put (or the delete)
    store.crash_after.add(crash_after)
    with pytest.raises(StoreUnavailableError):
        rewriter.run(task)
    # When the message is redelivered
    result = rewriter.run(task)
    # Then the object was written once, the replaced version is gone, the task is done
    current = store.current(KEY)
    assert current is not None
    assert (result.outcome, current.body, puts(store)) == (RunOutcome.ALREADY_APPLIED, PURGED, 1)
    assert store.version_ids(KEY) == ["v2"]
    assert ledger.items[task.task_id]["status"] == "done"


def test_a_retry_after_a_crash_before_finishing_only_finishes(
    rewriter: ObjectRewriter, store: FakeObjectStore, ledger: FakeLedger, task: ObjectTask
) -> None:
    # Given a run whose object work succeeded but whose finish write failed
    ledger.fail["finish"] = StoreUnavailableError("DynamoDB unavailable")
    with pytest.raises(StoreUnavailableError):
        rewriter.run(task)
    # When retried
    result = rewriter.run(task)
    # Then it finishes without a second put, and the item is done
    assert (result.outcome, puts(store)) == (RunOutcome.ALREADY_APPLIED, 1)
    assert ledger.items[task.task_id]["status"] == "done"


def test_a_message_for_a_done_task_runs_nothing(
    rewriter: ObjectRewriter, store: FakeObjectStore, ledger: FakeLedger, task: ObjectTask
) -> None:
    # Given the task already done
    rewriter.run_scheduled(task.task_id)
    calls = list(store.calls)
    # When its message comes again (a redelivery or a late schedule)
    result = rewriter.run_scheduled(task.task_id)
    # Then it is skipped without touching S3 or the item
    assert result.outcome is RunOutcome.ALREADY_DONE
    assert (store.calls, ledger.finish_calls) == (calls, 1)


def test_a_message_without_an_item_fails_and_runs_nothing(
    rewriter: ObjectRewriter, store: FakeObjectStore, ledger: FakeLedger
) -> None:
    with pytest.raises(TaskItemMissingError, match=r"no ObjectTaskTable item for task ot-0+$"):
        rewriter.run_scheduled("ot-" + "0" * 48)
    assert (store.calls, ledger.items) == ([], {})


def test_a_message_for_a_failed_task_runs_it_again(
    rewriter: ObjectRewriter, store: FakeObjectStore, ledger: FakeLedger, task: ObjectTask
) -> None:
    # Given the fallback gave the task up (an operator then redrives its message from the DLQ)
    ledger.items[task.task_id]["status"] = "failed"
    # When the message arrives / Then the task runs and is done
    result = rewriter.run_scheduled(task.task_id)
    assert (result.outcome, puts(store)) == (RunOutcome.APPLIED, 1)
    assert ledger.items[task.task_id]["status"] == "done"


def test_an_item_removed_while_its_task_runs_is_written_again_done(
    rewriter: ObjectRewriter, ledger: FakeLedger, task: ObjectTask
) -> None:
    # Given the TTL removed the item after it was read
    del ledger.items[task.task_id]
    # When the task finishes
    rewriter.run(task)
    # Then a done item is written (upserted) for it
    assert ledger.items[task.task_id]["status"] == "done"
    assert ledger.items[task.task_id]["outcome"] == "applied"


# --- failures ---------------------------------------------------------------------------------


def test_a_concurrent_write_fails_the_attempt_and_the_retry_sees_the_new_upload(
    rewriter: ObjectRewriter, store: FakeObjectStore, ledger: FakeLedger, task: ObjectTask
) -> None:
    # Given a new upload landing between the read and the conditional put
    store.before_put.append(lambda: store.upload(KEY, b'{"file_contents":"newer"}\n'))
    # When the task runs / Then the put is refused and the attempt recorded
    with pytest.raises(PreconditionFailedError):
        rewriter.run(task)
    assert ledger.items[task.task_id]["attempts"] == 1
    # And its retry finds the newer upload: superseded, which stays as uploaded (v1 is deleted)
    assert rewriter.run(task).outcome is RunOutcome.SUPERSEDED
    assert store.version_ids(KEY) == ["v2"]
    current = store.current(KEY)
    assert current is not None
    assert current.body == b'{"file_contents":"newer"}\n'


def test_a_malformed_object_fails_with_a_recorded_error_naming_the_line(
    rewriter: ObjectRewriter, store: FakeObjectStore, ledger: FakeLedger
) -> None:
    # Given an upload whose second line is not a JSON object
    store.upload(KEY, b'{"file_contents":"x"}\n["secret"]\n')
    task = task_of(store, KEY, PURGE)
    ledger.schedule(task)
    # When it runs / Then it fails, and the item counts the attempt with the error, no content
    with pytest.raises(RewriteError):
        rewriter.run(task)
    item = ledger.items[task.task_id]
    assert (item["status"], item["attempts"]) == ("scheduled", 1)
    assert item["last_error"] == "line 2 is not a JSON object"
    assert puts(store) == 0


def test_user_metadata_over_s3s_limit_with_the_marks_fails_before_the_read(
    rewriter: ObjectRewriter, store: FakeObjectStore, ledger: FakeLedger
) -> None:
    # Given an upload whose own metadata fits S3's 2 KB, but not with the rewrite marks
    store.upload(KEY, UPLOAD, metadata={"notes": "é" * 1000})  # 5 + 2000 bytes
    task = task_of(store, KEY, PURGE)
    ledger.schedule(task)
    # When it runs / Then it fails saying why, before reading or writing the object
    with pytest.raises(RewriteError, match=r"user metadata with the rewrite marks \(\d+ bytes\)"):
        rewriter.run(task)
    assert (("get", KEY) in store.calls, puts(store)) == (False, 0)


def test_user_metadata_is_measured_as_s3_does() -> None:
    assert user_metadata_bytes({"a": "bc", "é": "€"}) == 3 + 2 + 3
    assert MAX_USER_METADATA_BYTES == 2048


def test_an_object_over_the_limit_fails_before_it_is_read(
    store: FakeObjectStore, ledger: FakeLedger, task: ObjectTask
) -> None:
    rewriter = rewriter_over(store, ledger, max_object_bytes=len(UPLOAD) - 1)
    with pytest.raises(RewriteError, match=r"larger than MAX_OBJECT_BYTES"):
        rewriter.run(task)
    assert ("get", KEY) not in store.calls


def test_a_failed_failure_record_does_not_hide_the_tasks_error(
    rewriter: ObjectRewriter, store: FakeObjectStore, ledger: FakeLedger, task: ObjectTask
) -> None:
    # Given S3 failing the head and DynamoDB failing the failure record
    store.fail["head"] = PreconditionFailedError("S3 failed")
    ledger.fail["record_failure"] = StoreUnavailableError("DynamoDB failed")
    # When the task runs / Then S3's error is the one raised
    with pytest.raises(PreconditionFailedError, match=r"S3 failed"):
        rewriter.run(task)


def test_failure_text_names_aws_errors_and_only_the_type_of_others() -> None:
    error = ClientError(
        {"Error": {"Code": "PreconditionFailed", "Message": "At least one precondition failed"}},
        "PutObject",
    )
    assert failure_text(error).startswith("ClientError: An error occurred (PreconditionFailed)")
    assert failure_text(ValueError("the secret content")) == "ValueError"
