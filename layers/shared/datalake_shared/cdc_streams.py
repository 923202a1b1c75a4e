"""The ``cdc_tables`` reconciler: stores the file's CDC entries and keeps one Lambda event source
mapping from each active entry's DynamoDB stream to iceberg_cdc.

1. ``problems`` (run before anything of the file is written): each active entry must name a
   table whose key is its ``key_columns`` and that has a stream of new images, and no stored
   active entry of another source may write the same target table. Then the entries are
   written to CdcTableConfigTable (whole-item Puts; entries the file does not mention stay as
   stored, as merge tables do).
2. Each active stored entry's stream is looked up (DescribeTable -> LatestStreamArn; the stream
   must show new images), and the function's mappings listed (ListEventSourceMappings).
3. A missing mapping is created with the settings of the template's IcebergCdcSourceChanges
   (TRIM_HORIZON, one batch per shard, bisect, bounded retries and record age, partial batch
   responses, OnFailure to CdcFailuresQueue); one whose settings drifted is updated; a mapping
   of the function whose table has no active entry, or was deleted, is deleted. A mapping still
   reading an existing active table's earlier stream (the stream was disabled or re-created) is
   kept: its unread records drain until the stream expires (24 h), while a new mapping reads
   the latest stream. A mapping
   being deleted counts as absent. The template's own mapping (its stream from the environment)
   and ``stack:source`` are never touched: CloudFormation owns them.

Idempotent: a second run with the same stored entries changes nothing. AWS errors are raised,
so that the load is retried.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Final

import boto3
from botocore.exceptions import ClientError
from pydantic import Field

from datalake_shared.cdc_tables import STACK_SOURCE, CdcTableConfig, CdcTableStore
from datalake_shared.config_reconcile import Reconciliation
from datalake_shared.observability import logger
from datalake_shared.pipeline_config import PipelineConfig
from datalake_shared.settings import EnvSettings

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_lambda import LambdaClient

RECONCILER_NAME: Final = "cdc_tables"
# The template's IcebergCdcSourceChanges values that are not parameters (a unit test holds them
# to the template).
STARTING_POSITION: Final = "TRIM_HORIZON"
MAXIMUM_BATCHING_WINDOW_SECONDS: Final = 5
PARALLELIZATION_FACTOR: Final = 1
MAXIMUM_RECORD_AGE_SECONDS: Final = 21600
FUNCTION_RESPONSE_TYPES: Final = ("ReportBatchItemFailures",)
_IMAGE_VIEWS: Final = frozenset({"NEW_IMAGE", "NEW_AND_OLD_IMAGES"})


class CdcStreamSettings(EnvSettings):
    """Settings of a config loader that keeps the CDC stream mappings (mixin). Empty
    ``CDC_TABLE_CONFIG_TABLE``: the stack has no CDC tables config; the reconciler is off."""

    cdc_table_config_table: str = Field(default="", alias="CDC_TABLE_CONFIG_TABLE")
    cdc_function_name: str = Field(default="", alias="CDC_FUNCTION_NAME")
    cdc_failures_queue_arn: str = Field(default="", alias="CDC_FAILURES_QUEUE_ARN")
    cdc_template_stream_arn: str = Field(default="", alias="CDC_TEMPLATE_STREAM_ARN")
    cdc_batch_size: int = Field(default=500, alias="CDC_BATCH_SIZE", ge=1, le=10000)
    cdc_maximum_retry_attempts: int = Field(
        default=5, alias="CDC_MAXIMUM_RETRY_ATTEMPTS", ge=-1, le=10000
    )
    cdc_source_table_pattern: str = Field(default="*", alias="CDC_SOURCE_TABLE_PATTERN")

    def stream_mappings(self) -> "MappingSettings | None":
        if not (self.cdc_table_config_table and self.cdc_function_name):
            return None
        return MappingSettings(
            function_name=self.cdc_function_name,
            failures_queue_arn=self.cdc_failures_queue_arn,
            template_stream_arn=self.cdc_template_stream_arn,
            batch_size=self.cdc_batch_size,
            maximum_retry_attempts=self.cdc_maximum_retry_attempts,
        )


@dataclass(frozen=True, slots=True)
class MappingSettings:
    function_name: str
    """iceberg_cdc's name or ARN."""
    failures_queue_arn: str
    template_stream_arn: str = ""
    batch_size: int = 500
    maximum_retry_attempts: int = 5

    def wanted(self) -> dict[str, Any]:
        """What every mapping should say (UpdateEventSourceMapping's arguments)."""
        wanted: dict[str, Any] = {
            "BatchSize": self.batch_size,
            "MaximumBatchingWindowInSeconds": MAXIMUM_BATCHING_WINDOW_SECONDS,
            "ParallelizationFactor": PARALLELIZATION_FACTOR,
            "BisectBatchOnFunctionError": True,
            "MaximumRetryAttempts": self.maximum_retry_attempts,
            "MaximumRecordAgeInSeconds": MAXIMUM_RECORD_AGE_SECONDS,
            "FunctionResponseTypes": list(FUNCTION_RESPONSE_TYPES),
        }
        if self.failures_queue_arn:
            wanted["DestinationConfig"] = {"OnFailure": {"Destination": self.failures_queue_arn}}
        return wanted


class CdcSourceError(RuntimeError):
    """A configured source table has no stream iceberg_cdc can apply."""


class SourceTableMissingError(CdcSourceError):
    """The configured source table does not exist (deleted, or never made)."""


def table_of_stream(stream_arn: str) -> str:
    """arn:aws:dynamodb:<region>:<account>:table/<name>/stream/<label> -> <name>."""
    return stream_arn.split(":table/", 1)[-1].split("/stream/", 1)[0]


def drifted(mapping: Mapping[str, Any], wanted: Mapping[str, Any]) -> bool:
    """Whether a listed mapping differs from what it should say (or is not enabled)."""
    if mapping.get("State") in {"Disabled", "Disabling"}:
        return True
    for name, value in wanted.items():
        current, expected = mapping.get(name), value
        if name == "FunctionResponseTypes":
            current, expected = sorted(current or []), sorted(value)
        elif name == "DestinationConfig":
            current = (current or {}).get("OnFailure", {}).get("Destination")
            expected = value["OnFailure"]["Destination"]
        if current != expected:
            return True
    return False


class CdcStreamReconciler:
    """Implements ``ConfigReconciler`` for ``cdc_tables``; clients are built on first use."""

    name = RECONCILER_NAME

    def __init__(
        self,
        store: CdcTableStore,
        settings: MappingSettings,
        *,
        dynamodb: "DynamoDBClient | None" = None,
        lambda_client: "LambdaClient | None" = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self._dynamodb = dynamodb
        self._lambda = lambda_client

    @cached_property
    def dynamodb(self) -> "DynamoDBClient":
        return self._dynamodb or boto3.client("dynamodb")

    @cached_property
    def lambda_client(self) -> "LambdaClient":
        return self._lambda or boto3.client("lambda")

    def problems(self, config: PipelineConfig) -> list[str]:
        """The file's active entries whose table cannot be applied as configured, and targets
        another stored entry already writes."""
        found: list[str] = []
        active = [t for t in config.cdc_tables if t.active and t.source_table != STACK_SOURCE]
        for table in active:
            try:
                self.stream_arn(table.source_table, table)
            except CdcSourceError as error:
                found.append(str(error))
        if not config.cdc_tables:
            return found
        in_file = {table.source_table for table in config.cdc_tables}
        targets = {t.target_table: t.source_table for t in config.cdc_tables if t.active}
        for stored in self.store.load_all():
            other = targets.get(stored.target_table)
            if stored.active and stored.source_table not in in_file and other is not None:
                found.append(
                    f"cdc_tables: {other!r} and the stored entry {stored.source_table!r} would "
                    f"both write {stored.target_table!r}; set that entry active: false first"
                )
        return found

    def reconcile(self, config: PipelineConfig) -> Reconciliation:
        # ``problems`` has checked the file's tables before the loader wrote anything; checked
        # again here, as a table can change between the two.
        streams = {
            table.source_table: self.stream_arn(table.source_table, table)
            for table in config.cdc_tables
            if table.active and table.source_table != STACK_SOURCE
        }
        self.store.put_all(config.cdc_tables)
        template_stream = self.settings.template_stream_arn
        wanted, active_tables = self._wanted_streams(streams)
        created: list[str] = []
        updated: list[str] = []
        removed: list[str] = []
        unchanged: list[str] = []
        found: set[str] = set()
        desired = self.settings.wanted()
        for mapping in self._mappings():
            stream_arn = str(mapping.get("EventSourceArn", ""))
            if stream_arn == template_stream or ":dynamodb:" not in stream_arn:
                continue  # CloudFormation's, or not a stream mapping
            name = table_of_stream(stream_arn)
            if mapping.get("State") == "Deleting":
                continue  # going away: a new one is made if its stream is wanted
            if stream_arn not in wanted and name in active_tables:
                unchanged.append(name)  # an earlier stream of an active table: left to drain
                continue
            if stream_arn not in wanted or stream_arn in found:
                self.lambda_client.delete_event_source_mapping(UUID=mapping["UUID"])
                removed.append(name)
                continue
            found.add(stream_arn)
            if drifted(mapping, desired):
                self.lambda_client.update_event_source_mapping(
                    UUID=mapping["UUID"],
                    FunctionName=self.settings.function_name,
                    Enabled=True,
                    **desired,
                )
                updated.append(name)
            else:
                unchanged.append(name)
        for stream_arn, source_table in sorted(wanted.items(), key=lambda item: item[1]):
            if stream_arn in found:
                continue
            self.lambda_client.create_event_source_mapping(
                EventSourceArn=stream_arn,
                FunctionName=self.settings.function_name,
                StartingPosition=STARTING_POSITION,
                Enabled=True,
                **desired,
            )
            created.append(source_table)
        return Reconciliation(
            created=tuple(created),
            updated=tuple(updated),
            removed=tuple(removed),
            unchanged=tuple(unchanged),
        )

    def _wanted_streams(self, streams: Mapping[str, str]) -> tuple[dict[str, str], set[str]]:
        """The streams to map (stream ARN -> source table) and the active tables, from every
        stored entry; ``streams`` are those already looked up for the file's entries."""
        wanted: dict[str, str] = {}
        active_tables: set[str] = set()
        for table in self.store.load_all():
            if not table.active or table.source_table == STACK_SOURCE:
                continue
            stream_arn = streams.get(table.source_table)
            if stream_arn is None:
                try:
                    stream_arn = self.stream_arn(table.source_table, table)
                except SourceTableMissingError:
                    continue  # the table was deleted: its mapping goes too
                except CdcSourceError:
                    # the stream was disabled or changed: the mapping reading it drains
                    active_tables.add(table.source_table)
                    continue
                except ClientError as error:
                    # e.g. outside a since-narrowed CdcSourceTablePattern: its mapping stays
                    logger.warning(
                        "Stored CDC table not checked",
                        extra={"source_table": table.source_table, "error": str(error)},
                    )
                    continue
            active_tables.add(table.source_table)
            if stream_arn != self.settings.template_stream_arn:
                wanted[stream_arn] = table.source_table
        return wanted, active_tables

    def stream_arn(self, source_table: str, config: CdcTableConfig | None = None) -> str:
        """The table's current stream; CdcSourceError unless it shows new images and the
        table's key is ``config``'s ``key_columns`` (a partial key would merge distinct items
        into one row)."""
        try:
            table = self.dynamodb.describe_table(TableName=source_table)["Table"]
        except self.dynamodb.exceptions.ResourceNotFoundException as error:
            raise SourceTableMissingError(
                f"cdc_tables: DynamoDB table {source_table!r} does not exist"
            ) from error
        key = [
            element["AttributeName"]
            for kind in ("HASH", "RANGE")
            for element in table.get("KeySchema", [])
            if element["KeyType"] == kind
        ]
        if config is not None and list(config.key_columns) != key:
            raise CdcSourceError(
                f"cdc_tables: {source_table!r} has key_columns {list(config.key_columns)}, but "
                f"the table's key is {key} (hash, then range): list exactly those"
            )
        specification: Mapping[str, Any] = table.get("StreamSpecification") or {}
        stream_arn = table.get("LatestStreamArn")
        if not specification.get("StreamEnabled") or not stream_arn:
            raise CdcSourceError(
                f"cdc_tables: {source_table!r} has no stream; enable one with "
                "StreamViewType NEW_AND_OLD_IMAGES"
            )
        if specification.get("StreamViewType") not in _IMAGE_VIEWS:
            raise CdcSourceError(
                f"cdc_tables: the stream of {source_table!r} is "
                f"{specification.get('StreamViewType')}; iceberg_cdc needs new images "
                "(NEW_AND_OLD_IMAGES)"
            )
        return str(stream_arn)

    def _mappings(self) -> Iterator[Mapping[str, Any]]:
        paginator = self.lambda_client.get_paginator("list_event_source_mappings")
        for page in paginator.paginate(FunctionName=self.settings.function_name):
            yield from page.get("EventSourceMappings", [])


def cdc_stream_reconciler(settings: CdcStreamSettings) -> CdcStreamReconciler | None:
    """The reconciler a config loader with these settings runs (None: the stack has none)."""
    mappings = settings.stream_mappings()
    if mappings is None:
        return None
    return CdcStreamReconciler(CdcTableStore(settings.cdc_table_config_table), mappings)
