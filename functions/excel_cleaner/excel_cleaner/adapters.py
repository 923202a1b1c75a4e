"""boto3 adapters: S3 (raw workbooks, clean CSVs, quarantine, manifests) and the SNS result topic.

Clients are created on first use, never at import. Errors of AWS itself propagate: the handler
lets Lambda retry them.
"""

import json
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, Final

import boto3

from datalake_shared.s3_objects import (
    ObjectMissingError,
    ObjectTooLargeError,
    S3ObjectReader,
    read_bounded,
)
from excel_cleaner.ports import (
    StoreError,
)

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import CopySourceTypeDef, ObjectIdentifierTypeDef
    from mypy_boto3_sns import SNSClient

MAX_JSON_BYTES: Final = 1024 * 1024
# DeleteObjects takes at most 1000 keys.
MAX_DELETE_KEYS: Final = 1000


class S3WorkbookStore(S3ObjectReader):
    """Reads workbooks (never past a limit); writes CSVs, manifests and quarantine copies."""

    def read_json(self, bucket: str, key: str) -> Mapping[str, Any] | None:
        try:
            content = read_bounded(self.client, bucket, key, MAX_JSON_BYTES).body
        except (ObjectMissingError, ObjectTooLargeError):
            return None
        try:
            document = json.loads(content)
        except ValueError:
            return None  # not ours to trust; the next clean rewrites it
        return document if isinstance(document, dict) else None

    def put(self, bucket: str, key: str, body: bytes, content_type: str) -> None:
        self.client.put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)

    def copy(
        self,
        source_bucket: str,
        source_key: str,
        *,
        source_version: str | None,
        bucket: str,
        key: str,
        metadata: Mapping[str, str],
    ) -> None:
        source: CopySourceTypeDef = {"Bucket": source_bucket, "Key": source_key}
        if source_version:
            source["VersionId"] = source_version
        self.client.copy_object(
            Bucket=bucket,
            Key=key,
            CopySource=source,
            MetadataDirective="REPLACE",
            Metadata=dict(metadata),
            ContentType="application/octet-stream",
        )

    def delete(self, bucket: str, keys: Sequence[str]) -> None:
        for start in range(0, len(keys), MAX_DELETE_KEYS):
            chunk: list[ObjectIdentifierTypeDef] = [
                {"Key": key} for key in keys[start : start + MAX_DELETE_KEYS]
            ]
            response = self.client.delete_objects(
                Bucket=bucket, Delete={"Objects": chunk, "Quiet": True}
            )
            errors = response.get("Errors", [])
            if errors:
                codes = sorted({str(error.get("Code", "unknown")) for error in errors})
                raise StoreError(f"could not delete {len(errors)} stale CSVs: {codes}")


class SnsResultTopic:
    """Publishes results as JSON with an ``outcome`` attribute subscribers can filter on."""

    def __init__(self, topic_arn: str, client: "SNSClient | None" = None) -> None:
        self.topic_arn = topic_arn
        self._client = client

    @cached_property
    def client(self) -> "SNSClient":
        return self._client or boto3.client("sns")

    def publish(self, outcome: str, subject: str, message: Mapping[str, Any]) -> None:
        self.client.publish(
            TopicArn=self.topic_arn,
            Subject=subject,
            Message=json.dumps(message, ensure_ascii=False, separators=(",", ":")),
            MessageAttributes={"outcome": {"DataType": "String", "StringValue": outcome}},
        )
