"""S3 adapter: HeadObject of the object an event names (its metadata carries the rewrite mark)."""

from functools import cached_property
from typing import TYPE_CHECKING, Final

import boto3
from botocore.exceptions import ClientError

from object_task_scheduler.service import ObjectHead

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# HeadObject has no body, so S3 answers a missing key or version with the bare status code.
_GONE: Final = frozenset({"404", "NoSuchKey", "NoSuchVersion", "NotFound"})


class S3ObjectHeads:
    def __init__(self, client: "S3Client | None" = None) -> None:
        self._client = client

    @cached_property
    def client(self) -> "S3Client":
        # Created on first use, never at import: importing needs no AWS and cold starts stay short.
        return self._client or boto3.client("s3")

    def head(self, bucket: str, key: str, version_id: str | None) -> ObjectHead | None:
        """None when the object (version) no longer exists. Without s3:ListBucket S3 answers a
        missing key with 403, which is raised: the record fails rather than being dropped."""
        try:
            if version_id:
                response = self.client.head_object(Bucket=bucket, Key=key, VersionId=version_id)
            else:
                response = self.client.head_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if str(error.response.get("Error", {}).get("Code", "")) in _GONE:
                return None
            raise
        return ObjectHead(
            metadata=dict(response.get("Metadata", {})),
            etag=response.get("ETag", ""),
            version_id=response.get("VersionId"),
        )
