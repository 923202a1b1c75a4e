"""The ports the cleaning service talks through: S3 objects, the result topic, EventBridge.

Protocols and the errors and values they carry, so ``excel_cleaner.service`` stays pure
orchestration, tested with in-memory fakes, while ``excel_cleaner.adapters`` implements them
with boto3. Events go out through the layer's ``EventSink`` (``EventPublisher`` on AWS).
"""

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from datalake_shared.s3_objects import S3Object


class StoreError(Exception):
    """S3 reported a partial failure (e.g. some keys of a batch delete); worth a retry."""


class WorkbookStore(Protocol):
    def read(self, bucket: str, key: str, max_bytes: int) -> S3Object:
        """The object's current content; ObjectMissingError / ObjectTooLargeError."""
        ...

    def read_json(self, bucket: str, key: str) -> Mapping[str, Any] | None:
        """A small JSON object, or None when there is none (or it is not JSON)."""
        ...

    def put(self, bucket: str, key: str, body: bytes, content_type: str) -> None: ...

    def copy(
        self,
        source_bucket: str,
        source_key: str,
        *,
        source_version: str | None,
        bucket: str,
        key: str,
        metadata: Mapping[str, str],
    ) -> None: ...

    def delete(self, bucket: str, keys: Sequence[str]) -> None: ...


class ResultTopic(Protocol):
    def publish(self, outcome: str, subject: str, message: Mapping[str, Any]) -> None: ...
