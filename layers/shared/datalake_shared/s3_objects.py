"""Reading an uploaded object whole, never past a size limit: what the config loader and the
Excel cleaner read before they parse anything."""

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Final

import boto3
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MISSING_CODES: Final = ("404", "NoSuchKey", "NotFound")


class ObjectMissingError(Exception):
    """The object was deleted before it could be read."""


class ObjectTooLargeError(Exception):
    """The object is bigger than the reader reads."""

    def __init__(self, size: int) -> None:
        super().__init__(f"{size} bytes")
        self.size = size


@dataclass(frozen=True, slots=True)
class S3Object:
    body: bytes
    version_id: str | None = None
    etag: str | None = None
    """Without the quotes S3 puts around it."""


def is_missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code", "")) in MISSING_CODES


def read_bounded(client: "S3Client", bucket: str, key: str, max_bytes: int) -> S3Object:
    """The object's current content; ObjectMissingError, or ObjectTooLargeError past
    ``max_bytes`` (checked on the length S3 sends, then on what is read: the object may have
    been replaced by a larger one since, so one byte past the limit is read)."""
    try:
        response = client.get_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if is_missing(error):
            raise ObjectMissingError(key) from error
        raise
    body = response["Body"]
    try:
        length = response.get("ContentLength", 0)
        if length > max_bytes:
            raise ObjectTooLargeError(length)
        content = body.read(max_bytes + 1)
        if len(content) > max_bytes:
            raise ObjectTooLargeError(len(content))
    finally:
        body.close()
    etag = response.get("ETag")
    return S3Object(
        body=content, version_id=response.get("VersionId"), etag=etag.strip('"') if etag else None
    )


class S3ObjectReader:
    """An S3 adapter's base: the client made on first use (tests inject one), bounded reads."""

    def __init__(self, client: "S3Client | None" = None) -> None:
        self._client = client

    @cached_property
    def client(self) -> "S3Client":
        # Never at import: importing needs no AWS and cold starts stay short.
        return self._client or boto3.client("s3")

    def read(self, bucket: str, key: str, max_bytes: int) -> S3Object:
        return read_bounded(self.client, bucket, key, max_bytes)
