"""Processing history (HistoryTable): one item per table per run, whatever happened to it.

Keyed (source_table, run_key = "<started_at>#<run_id>"). The pipeline's names fit DynamoDB's
keys (configured tables up to 1,024 bytes, run ids up to 80 characters), but a batch passed to
the job by hand may carry anything, and its failure must still be recorded: a key part DynamoDB
would refuse (partition key over 2,048 bytes, sort key over 1,024) is cut and hashed. The item
keeps run_id whole; the error is cut to MAX_ERROR_CHARS.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Final, Literal

from cdc_merge.dynamo_table import DynamoTable
from datalake_contracts.dynamodb_keys import (
    MAX_PARTITION_KEY_BYTES,
    MAX_SORT_KEY_BYTES,
    bounded_key,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

Status = Literal["succeeded", "failed", "skipped_locked"]
# A DynamoDB item is at most 400 KB; a Spark error with its stack can be longer than that.
# 8,000 characters are at most 32,000 bytes of UTF-8, whatever the text.
MAX_ERROR_CHARS: Final = 8_000


@dataclass(frozen=True)
class HistoryRecord:
    source_table: str
    run_id: str
    batch_id: str
    status: Status
    started_at: datetime
    finished_at: datetime
    files: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    full_load: bool = False
    error: str | None = None

    @property
    def duration_ms(self) -> int:
        return int((self.finished_at - self.started_at).total_seconds() * 1000)

    @property
    def run_key(self) -> str:
        return f"{self.started_at.isoformat()}#{self.run_id}"


class DynamoHistory(DynamoTable):
    @staticmethod
    def item(record: HistoryRecord) -> dict[str, "AttributeValueTypeDef"]:
        item: dict[str, AttributeValueTypeDef] = {
            "source_table": {"S": bounded_key(record.source_table, MAX_PARTITION_KEY_BYTES)},
            "run_key": {"S": bounded_key(record.run_key, MAX_SORT_KEY_BYTES)},
            "run_id": {"S": record.run_id},
            "batch_id": {"S": record.batch_id},
            "status": {"S": record.status},
            "started_at": {"S": record.started_at.isoformat()},
            "finished_at": {"S": record.finished_at.isoformat()},
            "duration_ms": {"N": str(record.duration_ms)},
            "files": {"N": str(record.files)},
            "inserted": {"N": str(record.inserted)},
            "updated": {"N": str(record.updated)},
            "deleted": {"N": str(record.deleted)},
            "full_load": {"BOOL": record.full_load},
        }
        if record.error:
            item["error"] = {"S": record.error[:MAX_ERROR_CHARS]}
        return item

    def record(self, record: HistoryRecord) -> None:
        self.client.put_item(TableName=self.table_name, Item=self.item(record))
