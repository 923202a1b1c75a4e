"""The file tracker table, seen from the merge job: a table's pending files, and marking them done.

The item layout (attribute names, statuses, the sparse pending-files index and its sort key
``pending_order``) is datalake_contracts.file_tracker_item's. Marking a file processed sets its
status and REMOVEs ``pending_status`` and ``pending_order``, which takes it out of the index the
batch planner queries.

The index returns only the attributes template.yaml projects into it
(``PENDING_INDEX_ATTRIBUTES`` names what this module reads; a unit test holds the template to it).
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from cdc_merge.dynamo_table import DynamoTable
from datalake_contracts import file_tracker_item as item_layout
from datalake_contracts.file_tracker_item import LoadType

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_KEY_CONDITION: Final = (
    f"{item_layout.PENDING_STATUS} = :landed AND begins_with({item_layout.PENDING_ORDER}, :prefix)"
)
_MARK_PROCESSED: Final = (
    f"SET #status = :processed, {item_layout.PROCESSED_AT} = :at,"
    f" {item_layout.PROCESSED_BY_RUN} = :run"
    f" REMOVE {item_layout.PENDING_STATUS}, {item_layout.PENDING_ORDER}"
)


@dataclass(frozen=True)
class PendingFile:
    source_table: str
    file_id: str
    bucket: str
    key: str
    load_type: LoadType
    event_time: str
    file_name: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


def _text(item: dict[str, Any], name: str, default: str = "") -> str:
    value = item.get(name)
    if isinstance(value, dict) and isinstance(value.get("S"), str):
        return str(value["S"])
    return default


def pending_file(item: dict[str, Any]) -> PendingFile:
    """A file as the index returns it. An attribute missing (not projected by the index) raises:
    guessing the file name from the key would plan a full load as inserts when the key
    pattern's file name is not the key's last segment."""
    file_id = _text(item, item_layout.FILE_ID)
    missing = [name for name in item_layout.PENDING_INDEX_ATTRIBUTES if not _text(item, name)]
    if missing:
        raise ValueError(
            f"file {file_id!r} lacks {missing}: does the {item_layout.PENDING_INDEX} "
            "projection in template.yaml include them?"
        )
    load_type = _text(item, item_layout.LOAD_TYPE)
    if load_type not in item_layout.LOAD_TYPES:
        raise ValueError(f"file {file_id!r} has {item_layout.LOAD_TYPE} {load_type!r}")
    return PendingFile(
        source_table=_text(item, item_layout.SOURCE_TABLE),
        file_id=file_id,
        bucket=_text(item, item_layout.BUCKET),
        key=_text(item, item_layout.KEY),
        load_type="full" if load_type == "full" else "cdc",
        event_time=_text(item, item_layout.EVENT_TIME),
        file_name=_text(item, item_layout.FILE_NAME),
    )


def landing_order(files: Iterable[PendingFile]) -> list[PendingFile]:
    """By event time; S3 events carry whole seconds, so within one second DMS's own order
    decides: full-load files before CDC files, each by name (LOAD00000001 < LOAD00000002; CDC
    files are named by their timestamp)."""
    return sorted(
        files,
        key=lambda file: (file.event_time, file.load_type != "full", file.file_name, file.file_id),
    )


def _utc_now() -> datetime:
    return datetime.now(UTC)


class DynamoFileTracker(DynamoTable):
    def __init__(
        self,
        table_name: str,
        client: "DynamoDBClient | None" = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        super().__init__(table_name, client)
        self._clock = clock

    def pending_files(self, source_table: str) -> list[PendingFile]:
        """The table's files still waiting to be merged, in landing order.

        Read from the sparse pending-files index, which holds pending files only: the cost does
        not grow with the table's history of processed files. The sort key's prefix selects the
        table's range; the filter on the table's own name drops files of a table whose name
        merely starts the same way ("sales.orders#2026" after "sales.orders#").
        """
        items: list[dict[str, Any]] = []
        paginator = self.client.get_paginator("query")
        for page in paginator.paginate(
            TableName=self.table_name,
            IndexName=item_layout.PENDING_INDEX,
            KeyConditionExpression=_KEY_CONDITION,
            FilterExpression=f"{item_layout.SOURCE_TABLE} = :table",
            ExpressionAttributeValues={
                ":landed": {"S": item_layout.LANDED_STATUS},
                ":prefix": {"S": item_layout.pending_order_prefix(source_table)},
                ":table": {"S": source_table},
            },
        ):
            items.extend(page.get("Items", []))
        return landing_order(pending_file(item) for item in items)

    def mark_processed(self, files: Sequence[PendingFile], run_id: str) -> None:
        """Marks each file processed by this run (one conditional UpdateItem per file)."""
        processed_at = self._clock().isoformat()
        for file in files:
            self.client.update_item(
                TableName=self.table_name,
                Key={
                    item_layout.SOURCE_TABLE: {"S": file.source_table},
                    item_layout.FILE_ID: {"S": file.file_id},
                },
                UpdateExpression=_MARK_PROCESSED,
                ConditionExpression=f"attribute_exists({item_layout.FILE_ID})",
                ExpressionAttributeNames={"#status": item_layout.STATUS},
                ExpressionAttributeValues={
                    ":processed": {"S": item_layout.PROCESSED_STATUS},
                    ":at": {"S": processed_at},
                    ":run": {"S": run_id},
                },
            )
