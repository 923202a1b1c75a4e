"""S3 adapter of the object rewriter: the object as it is now, its content at exactly one
version (or ETag), a conditional replace keeping its headers, storage class and encryption, and
deleting a version (the replaced one, or a superseded upload's)."""

import io
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cached_property
from typing import IO, TYPE_CHECKING, Any, Final
from urllib.parse import urlencode

import boto3
from botocore.exceptions import ClientError

from datalake_shared.object_tasks import real_version_id
from datalake_shared.s3_objects import is_missing
from object_rewriter.service import ObjectHead, Replacement

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# HeadObject's fields that PutObject takes back under the same name: kept across a rewrite.
# StorageClass is absent for STANDARD; the encryption fields are there for SSE-S3 and SSE-KMS
# (an SSE-KMS put needs kms:GenerateDataKey on the key, as reading needs kms:Decrypt).
KEPT_HEADERS: Final = (
    "ContentType",
    "ContentEncoding",
    "ContentDisposition",
    "CacheControl",
    "ContentLanguage",
    "StorageClass",
    "ServerSideEncryption",
    "SSEKMSKeyId",
)
# Kept as booleans (PutObject refuses text there).
KEPT_FLAGS: Final = ("BucketKeyEnabled",)
_GONE_VERSION_CODES: Final = frozenset({"404", "NoSuchVersion", "NoSuchKey"})
_READ_CHUNK: Final = 1024**2


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class _RawBody(io.RawIOBase):
    """A botocore StreamingBody as a raw stream, so io.BufferedReader can serve lines from it."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk: bytes = self._body.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def head_from_response(response: Mapping[str, Any]) -> ObjectHead:
    return ObjectHead(
        version_id=real_version_id(response.get("VersionId")),
        etag=str(response["ETag"]),
        size=int(response.get("ContentLength", 0)),
        metadata={str(k).lower(): str(v) for k, v in response.get("Metadata", {}).items()},
        headers={
            **{name: str(response[name]) for name in KEPT_HEADERS if response.get(name)},
            **{name: bool(response[name]) for name in KEPT_FLAGS if name in response},
        },
    )


class S3ObjectStore:
    def __init__(self, client: "S3Client | None" = None) -> None:
        self._client = client

    @cached_property
    def client(self) -> "S3Client":
        # Created on first use, never at import: importing needs no AWS and cold starts stay short.
        return self._client or boto3.client("s3")

    def head(self, bucket: str, key: str) -> ObjectHead | None:
        try:
            response = self.client.head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            # A delete marker answers 404 too. (Without s3:ListBucket S3 says 403 instead.)
            if is_missing(error):
                return None
            raise
        return head_from_response(response)

    @contextmanager
    def open(self, bucket: str, key: str, head: ObjectHead) -> Iterator[IO[bytes]]:
        if head.version_id is not None:
            response = self.client.get_object(Bucket=bucket, Key=key, VersionId=head.version_id)
        else:
            response = self.client.get_object(Bucket=bucket, Key=key, IfMatch=head.etag)
        body = response["Body"]
        try:
            yield io.BufferedReader(_RawBody(body), buffer_size=_READ_CHUNK)
        finally:
            body.close()

    def tags(self, bucket: str, key: str, head: ObjectHead) -> dict[str, str]:
        if head.version_id is not None:
            response = self.client.get_object_tagging(
                Bucket=bucket, Key=key, VersionId=head.version_id
            )
        else:
            response = self.client.get_object_tagging(Bucket=bucket, Key=key)
        return {tag["Key"]: tag["Value"] for tag in response.get("TagSet", [])}

    def put(
        self, bucket: str, key: str, body: IO[bytes], if_match: str, replacement: Replacement
    ) -> str | None:
        """PutObject with If-Match: S3 answers 412 PreconditionFailed (raised) when the object
        changed since it was read. S3 swaps objects atomically: readers see old or new."""
        extra: dict[str, Any] = dict(replacement.headers)
        if replacement.tags:
            extra["Tagging"] = urlencode(dict(replacement.tags))
        response = self.client.put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            IfMatch=if_match,
            Metadata=dict(replacement.metadata),
            **extra,
        )
        return real_version_id(response.get("VersionId"))

    def delete_version(self, bucket: str, key: str, version_id: str) -> None:
        try:
            self.client.delete_object(Bucket=bucket, Key=key, VersionId=version_id)
        except ClientError as error:
            if _code(error) not in _GONE_VERSION_CODES:
                raise
