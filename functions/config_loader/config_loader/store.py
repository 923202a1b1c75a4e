"""S3 adapter for config files and their rejection reports."""

from functools import cached_property
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import ClientError

from datalake_shared.s3_objects import S3Object, is_missing, read_bounded

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class S3ConfigObjects:
    """Reads config objects (never more than a limit) and writes reports beside them."""

    def __init__(self, client: "S3Client | None" = None) -> None:
        self._client = client

    @cached_property
    def client(self) -> "S3Client":
        # Created on first use, never at import: importing needs no AWS and cold starts stay short.
        return self._client or boto3.client("s3")

    def read(self, bucket: str, key: str, max_bytes: int) -> S3Object:
        return read_bounded(self.client, bucket, key, max_bytes)

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
            if is_missing(error):
                return False
            raise
        self.client.delete_object(Bucket=bucket, Key=key)
        return True
