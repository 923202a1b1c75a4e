"""S3 adapter for the metric CSV objects (the metrics bucket in template.yaml)."""

from functools import cached_property
from typing import TYPE_CHECKING, Final

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from pipeline_metrics.service import CONTENT_TYPE, MetricsWriteError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# The buckets the template creates encrypt with S3-managed keys (and would anyway); asking for
# it on every put also satisfies a bucket policy that denies unencrypted uploads.
SERVER_SIDE_ENCRYPTION: Final = "AES256"


class S3MetricsStore:
    """Puts one CSV object per call; an existing object under the key is replaced."""

    def __init__(self, bucket: str, client: "S3Client | None" = None) -> None:
        self._bucket = bucket
        self._client = client

    @property
    def bucket(self) -> str:
        return self._bucket

    @cached_property
    def client(self) -> "S3Client":
        # Created on first use, never at import: importing needs no AWS and cold starts stay short.
        return self._client or boto3.client("s3")

    def put_csv(self, key: str, body: bytes) -> None:
        try:
            self.client.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=body,
                ContentType=CONTENT_TYPE,
                ServerSideEncryption=SERVER_SIDE_ENCRYPTION,
            )
        except (BotoCoreError, ClientError) as error:
            raise MetricsWriteError(f"{type(error).__name__}: {error}") from error
