"""S3 adapter for config files and their rejection reports."""

from functools import cached_property
from typing import TYPE_CHECKING, Final

import boto3
from botocore.exceptions import ClientError

from config_loader.service import ConfigObject, ConfigObjectMissingError, ConfigTooLargeError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_NOT_FOUND: Final = ("404", "NoSuchKey", "NotFound")


class S3ConfigObjects:
    """Reads config objects (never more than a limit) and writes reports beside them."""

    def __init__(self, client: "S3Client | None" = None) -> None:
        self._client = client

    @cached_property
    def client(self) -> "S3Client":
        # Created on first use, never at import: importing needs no AWS and cold starts stay short.
        return self._client or boto3.client("s3")

    def read(self, bucket: str, key: str, max_bytes: int) -> ConfigObject:
        try:
            response = self.client.get_object(Bucket=bucket, Key=key)
        except self.client.exceptions.NoSuchKey as error:
            raise ConfigObjectMissingError(key) from error
        body = response["Body"]
        try:
            size = response.get("ContentLength", 0)
            if size > max_bytes:
                raise ConfigTooLargeError(size)
            # Read one byte past the limit: the object may have grown since its length was sent.
            content = body.read(max_bytes + 1)
            if len(content) > max_bytes:
                raise ConfigTooLargeError(len(content))
        finally:
            body.close()
        return ConfigObject(
            body=content, version_id=response.get("VersionId"), etag=response.get("ETag")
        )

    def put_text(self, bucket: str, key: str, text: str) -> None:
        self.client.put_object(
            Bucket=bucket, Key=key, Body=text.encode(), ContentType="text/plain; charset=utf-8"
        )

    def delete_if_exists(self, bucket: str, key: str) -> bool:
        """Deletes the object if there is one (a blind delete would add a delete marker to a
        versioned bucket every time). Telling "absent" from "forbidden" needs s3:ListBucket."""
        try:
            self.client.head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _NOT_FOUND:
                return False
            raise
        self.client.delete_object(Bucket=bucket, Key=key)
        return True
