"""Date-partitioned JSON-lines objects in S3, the layout Athena reads with partition projection.

Key ``<prefix>dt=YYYY-MM-DD/<object id>.json``, kept within S3's 1,024 bytes whatever the
prefix and id; lines are JSON with sorted keys, so writing the same rows again (a redelivery)
writes the same bytes to the same key instead of adding rows.
"""

import json
from collections.abc import Iterable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any, Final

import boto3

from datalake_shared.s3_keys import bounded_key

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

CONTENT_TYPE: Final = "application/x-ndjson"


def dated_key(prefix: str, date: str, object_id: str, suffix: str = ".json") -> str:
    return bounded_key(f"{prefix}dt={date}/", object_id, suffix)


def json_lines(rows: Iterable[Mapping[str, Any]]) -> bytes:
    return "".join(
        json.dumps(row, sort_keys=True, separators=(",", ":")) + "\n" for row in rows
    ).encode()


class JsonLinesObjects:
    def __init__(self, bucket: str, prefix: str, client: "S3Client | None" = None) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self._client = client

    @cached_property
    def client(self) -> "S3Client":
        # Created on first use, never at import: importing needs no AWS and cold starts stay short.
        return self._client or boto3.client("s3")

    def put(self, key: str, body: bytes) -> str:
        """Writes one object (``json_lines``' bytes under a ``dated_key``); returns its key."""
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=CONTENT_TYPE)
        return key
