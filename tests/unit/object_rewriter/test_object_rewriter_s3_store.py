"""S3ObjectStore against moto: a versioned and an unversioned bucket."""

import io
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from object_rewriter_fakes import BUCKET, LANDED, UPLOAD, FakeLedger
from object_task_samples import PURGE

from datalake_shared.object_tasks import (
    ORIGIN_METADATA,
    REPLACES_METADATA,
    RULES_METADATA,
    ObjectTask,
)
from object_rewriter.s3_store import S3ObjectStore
from object_rewriter.service import ObjectHead, ObjectRewriter, Replacement, RunOutcome

KEY = "dataset/uploads/2026/12/07/mock_uploaded_data.json"
PLAIN_BUCKET = "datalake-events-plain-123456789012"
# Tag values take letters, digits, spaces and + - = . _ : / @: each needs URL-encoding.
TEAM = "data/ml + etl=team@corp"


@pytest.fixture
def s3() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("s3")
        client.create_bucket(Bucket=BUCKET)
        client.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        client.create_bucket(Bucket=PLAIN_BUCKET)
        yield client


@pytest.fixture
def store(s3: Any) -> S3ObjectStore:
    return S3ObjectStore(client=s3)


def upload(s3: Any, body: bytes = UPLOAD, bucket: str = BUCKET) -> dict[str, Any]:
    response: dict[str, Any] = s3.put_object(
        Bucket=bucket,
        Key=KEY,
        Body=body,
        ContentType="application/x-ndjson",
        CacheControl="no-cache",
        Metadata={"Source": "web-upload"},
        Tagging=urlencode({"classification": "pii", "team": TEAM}),
    )
    return response


def read(store: S3ObjectStore, head: ObjectHead, bucket: str = BUCKET) -> bytes:
    with store.open(bucket, KEY, head) as body:
        return body.read()


def versions(s3: Any) -> list[str]:
    listed = s3.list_object_versions(Bucket=BUCKET, Prefix=KEY)
    return [v["VersionId"] for v in listed.get("Versions", [])]


def replacement(metadata: dict[str, str] | None = None) -> Replacement:
    return Replacement(
        metadata=metadata or {ORIGIN_METADATA: "v1"},
        headers={"ContentType": "application/json"},
        tags={"classification": "pii", "team": TEAM},
    )


def test_head_describes_the_current_version(s3: Any, store: S3ObjectStore) -> None:
    # Given an upload with metadata and headers / When headed
    uploaded = upload(s3)
    head = store.head(BUCKET, KEY)
    # Then the version, ETag, size, metadata (lower-cased) and kept headers are there
    assert head == ObjectHead(
        version_id=uploaded["VersionId"],
        etag=uploaded["ETag"],
        size=len(UPLOAD),
        metadata={"source": "web-upload"},
        headers={"ContentType": "application/x-ndjson", "CacheControl": "no-cache"},
    )


def test_head_of_a_missing_or_deleted_object_is_none(s3: Any, store: S3ObjectStore) -> None:
    # Given one key never written and one whose current version is a delete marker
    upload(s3)
    s3.delete_object(Bucket=BUCKET, Key=KEY)
    # When headed / Then neither exists
    assert (store.head(BUCKET, KEY), store.head(BUCKET, "dataset/never.json")) == (None, None)


def test_open_reads_exactly_the_headed_version(s3: Any, store: S3ObjectStore) -> None:
    # Given the head of v1, then a newer upload
    upload(s3)
    head = store.head(BUCKET, KEY)
    assert head is not None
    upload(s3, b'{"newer":true}\n')
    # When v1 is opened / Then its content is read, line by line
    with store.open(BUCKET, KEY, head) as body:
        assert list(body) == UPLOAD.splitlines(keepends=True)


def test_open_in_an_unversioned_bucket_is_conditional_on_the_etag(
    s3: Any, store: S3ObjectStore
) -> None:
    # Given the head of an unversioned object, then a newer write
    upload(s3, bucket=PLAIN_BUCKET)
    head = store.head(PLAIN_BUCKET, KEY)
    assert head is not None
    assert head.version_id is None
    assert read(store, head, PLAIN_BUCKET) == UPLOAD
    upload(s3, b"{}\n", bucket=PLAIN_BUCKET)
    # When opened again / Then S3 refuses: the ETag no longer matches
    with pytest.raises(ClientError, match=r"PreconditionFailed"):
        read(store, head, PLAIN_BUCKET)


def test_tags_are_those_of_the_headed_version(s3: Any, store: S3ObjectStore) -> None:
    upload(s3)
    head = store.head(BUCKET, KEY)
    assert head is not None
    assert store.tags(BUCKET, KEY, head) == {"classification": "pii", "team": TEAM}


def test_put_if_match_replaces_the_object_with_metadata_headers_and_tags(
    s3: Any, store: S3ObjectStore
) -> None:
    # Given the current object's head
    upload(s3)
    head = store.head(BUCKET, KEY)
    assert head is not None
    # When replaced conditionally on its ETag
    new_version = store.put(BUCKET, KEY, io.BytesIO(b"{}\n"), head.etag, replacement())
    # Then the new version holds the body, metadata, headers and tags given
    got = s3.get_object(Bucket=BUCKET, Key=KEY)
    tags = s3.get_object_tagging(Bucket=BUCKET, Key=KEY)["TagSet"]
    assert (got["VersionId"], got["Body"].read()) == (new_version, b"{}\n")
    assert (got["Metadata"], got["ContentType"]) == ({ORIGIN_METADATA: "v1"}, "application/json")
    assert {t["Key"]: t["Value"] for t in tags} == {"classification": "pii", "team": TEAM}


def test_put_with_a_stale_etag_is_refused(s3: Any, store: S3ObjectStore) -> None:
    # Given a head taken before a concurrent upload
    upload(s3)
    head = store.head(BUCKET, KEY)
    assert head is not None
    upload(s3, b'{"concurrent":true}\n')
    # When the put is conditional on the old ETag / Then S3 answers 412 and keeps the upload
    with pytest.raises(ClientError, match=r"PreconditionFailed"):
        store.put(BUCKET, KEY, io.BytesIO(b"{}\n"), head.etag, replacement())
    assert s3.get_object(Bucket=BUCKET, Key=KEY)["Body"].read() == b'{"concurrent":true}\n'


def test_delete_version_removes_it_and_a_second_delete_is_fine(
    s3: Any, store: S3ObjectStore
) -> None:
    # Given two versions
    first = upload(s3)["VersionId"]
    second = upload(s3, b"{}\n")["VersionId"]
    # When the first is deleted twice / Then only the second is left
    store.delete_version(BUCKET, KEY, first)
    store.delete_version(BUCKET, KEY, first)
    assert versions(s3) == [second]


def test_a_task_on_a_versioned_bucket_leaves_only_the_rewritten_version(
    s3: Any, store: S3ObjectStore
) -> None:
    # Given an upload and its PURGE task, run by the real rewriter over S3
    origin = upload(s3)["VersionId"]
    task = ObjectTask.for_upload(BUCKET, KEY, origin, PURGE, LANDED)
    rewriter = ObjectRewriter(store, FakeLedger())
    # When it runs, and runs again (a redelivery)
    first, second = rewriter.run(task), rewriter.run(task)
    # Then one rewritten version is left, carrying the marks, its tags and headers
    current = s3.get_object(Bucket=BUCKET, Key=KEY)
    tags = s3.get_object_tagging(Bucket=BUCKET, Key=KEY)["TagSet"]
    assert (first.outcome, second.outcome) == (RunOutcome.APPLIED, RunOutcome.ALREADY_APPLIED)
    assert versions(s3) == [current["VersionId"]]
    assert b"file_contents" not in current["Body"].read()
    assert current["Metadata"] == {
        "source": "web-upload",
        ORIGIN_METADATA: origin,
        RULES_METADATA: PURGE.name,
        REPLACES_METADATA: origin,
    }
    assert (current["ContentType"], current["CacheControl"]) == ("application/x-ndjson", "no-cache")
    assert len(tags) == 2


def test_a_rewrite_keeps_the_storage_class_and_the_kms_encryption(
    s3: Any, store: S3ObjectStore
) -> None:
    # Given an upload in STANDARD_IA encrypted with a customer KMS key and a bucket key
    key_id = boto3.client("kms").create_key()["KeyMetadata"]["Arn"]
    origin = s3.put_object(
        Bucket=BUCKET,
        Key=KEY,
        Body=UPLOAD,
        StorageClass="STANDARD_IA",
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=key_id,
        BucketKeyEnabled=True,
    )["VersionId"]
    task = ObjectTask.for_upload(BUCKET, KEY, origin, PURGE, LANDED)
    # When its task runs
    ObjectRewriter(store, FakeLedger()).run(task)
    # Then the rewritten version has the same storage class and encryption
    head = s3.head_object(Bucket=BUCKET, Key=KEY)
    assert head["VersionId"] != origin
    assert (head["StorageClass"], head["ServerSideEncryption"], head["SSEKMSKeyId"]) == (
        "STANDARD_IA",
        "aws:kms",
        key_id,
    )
    assert head["BucketKeyEnabled"] is True


def test_head_keeps_encryption_and_storage_class_as_put_takes_them(
    s3: Any, store: S3ObjectStore
) -> None:
    # Given an SSE-S3 upload in ONEZONE_IA / When headed
    s3.put_object(
        Bucket=BUCKET,
        Key=KEY,
        Body=UPLOAD,
        StorageClass="ONEZONE_IA",
        ServerSideEncryption="AES256",
    )
    head = store.head(BUCKET, KEY)
    # Then both are among the headers the rewrite is put with
    assert head is not None
    assert head.headers == {
        "ContentType": "binary/octet-stream",
        "StorageClass": "ONEZONE_IA",
        "ServerSideEncryption": "AES256",
    }


def test_a_superseded_uploads_version_is_deleted_and_the_new_upload_kept(
    s3: Any, store: S3ObjectStore
) -> None:
    # Given an upload, then a newer one of the same key before the first's task ran
    origin = upload(s3)["VersionId"]
    newer = upload(s3, b'{"newer":true}\n')["VersionId"]
    task = ObjectTask.for_upload(BUCKET, KEY, origin, PURGE, LANDED)
    # When the first upload's task runs, twice (a redelivery)
    first = ObjectRewriter(store, FakeLedger()).run(task)
    second = ObjectRewriter(store, FakeLedger()).run(task)
    # Then it is superseded both times, and only the newer upload is left
    assert (first.outcome, second.outcome) == (RunOutcome.SUPERSEDED, RunOutcome.SUPERSEDED)
    assert versions(s3) == [newer]
