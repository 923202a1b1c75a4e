"""In-memory stand-ins for the config loader's collaborators, sample configs and events."""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from lambda_support import load_handler_module, load_sample_event

from datalake_shared.config_store import CADENCE, SOURCE_TABLE, ApplyPlan
from datalake_shared.pipeline_config import PipelineConfig
from datalake_shared.s3_objects import ObjectMissingError, ObjectTooLargeError, S3Object

ROOT = Path(__file__).resolve().parents[3]
CONFIG_DIR = ROOT / "config"
BUCKET = "datalake-staging-example"
BATCH_TABLE = "batch-config-test"
TABLE_TABLE = "table-config-test"
FIXED_NOW = "2026-11-23T09:00:00.000Z"
# The databases the sample configs target (the template's MergeTargetDatabases).
WRITABLE_DATABASES = frozenset({"sales", "inventory", "lake"})

# The key schemas the contract gives the template's BatchConfigTable and TableConfigTable
# (test_config_store_matches_template checks the template against them once it has them).
BATCH_TABLE_KEYS: dict[str, Any] = {
    "AttributeDefinitions": [{"AttributeName": CADENCE, "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": CADENCE, "KeyType": "HASH"}],
}
TABLE_TABLE_KEYS: dict[str, Any] = {
    "AttributeDefinitions": [
        {"AttributeName": CADENCE, "AttributeType": "S"},
        {"AttributeName": SOURCE_TABLE, "AttributeType": "S"},
    ],
    "KeySchema": [
        {"AttributeName": CADENCE, "KeyType": "HASH"},
        {"AttributeName": SOURCE_TABLE, "KeyType": "RANGE"},
    ],
}


app = load_handler_module("config_loader")
load_event = partial(load_sample_event, "config_loader")


def uploaded(key: str, size: int = 1024, bucket: str = BUCKET) -> dict[str, Any]:
    """The sample "Object Created" event, for another object."""
    event = load_event("config_uploaded.json")
    event["detail"]["bucket"]["name"] = bucket
    event["detail"]["object"]["key"] = key
    event["detail"]["object"]["size"] = size
    return event


def sample_config_text(name: str = "pipeline.yaml") -> str:
    return (CONFIG_DIR / name).read_text()


def table_dict(
    source_table: str = "sales.orders", cadence: str = "hourly", **overrides: Any
) -> dict[str, Any]:
    """A valid table entry as a config file holds it."""
    schema, _, name = source_table.partition(".")
    table: dict[str, Any] = {
        "cadence": cadence,
        "source_table": source_table,
        "target_database": schema.lower(),
        "target_table": re.sub(r"\W", "_", name.lower()) or "target",
        "columns": [
            {"name": "id", "type": "bigint"},
            {"name": "amount", "type": "decimal(10,2)"},
            {"name": "day", "type": "date"},
        ],
        "primary_key": ["id"],
        "sequence_column": "change_ts",
    }
    table.update(overrides)
    return table


def config_dict(
    tables: Sequence[Mapping[str, Any]] = (), cadences: Sequence[str] = ("hourly",)
) -> dict[str, Any]:
    """A config file's content: one batch config per cadence, and the tables."""
    return {
        "batches": [
            {"cadence": cadence, "batch_size": 2, "max_parallel_batches": 2} for cadence in cadences
        ],
        "tables": [dict(table) for table in tables],
    }


def many_tables(count: int, cadence: str = "hourly") -> list[dict[str, Any]]:
    return [table_dict(f"sales.t{n:04d}", cadence) for n in range(count)]


@dataclass
class FakeObjects:
    """S3 objects in a dict: ``read`` honours the size limit as the S3 adapter does."""

    objects: dict[tuple[str, str], bytes] = field(default_factory=dict)
    reads: list[str] = field(default_factory=list)

    def add(self, key: str, body: str | bytes, bucket: str = BUCKET) -> None:
        self.objects[(bucket, key)] = body.encode() if isinstance(body, str) else body

    def text(self, key: str, bucket: str = BUCKET) -> str | None:
        body = self.objects.get((bucket, key))
        return body.decode() if body is not None else None

    def read(self, bucket: str, key: str, max_bytes: int) -> S3Object:
        self.reads.append(key)
        body = self.objects.get((bucket, key))
        if body is None:
            raise ObjectMissingError(key)
        if len(body) > max_bytes:
            raise ObjectTooLargeError(len(body))
        return S3Object(body=body, version_id="v-current", etag="etag")

    def put_text(self, bucket: str, key: str, text: str) -> None:
        self.objects[(bucket, key)] = text.encode()

    def delete_if_exists(self, bucket: str, key: str) -> bool:
        return self.objects.pop((bucket, key), None) is not None


class StoreUnavailableError(ClientError):
    def __init__(self) -> None:
        super().__init__(
            {"Error": {"Code": "InternalServerError", "Message": "try again"}},
            "TransactWriteItems",
        )


@dataclass
class FakeApplier:
    """Remembers what it applied; fails as DynamoDB would while ``outages`` lasts."""

    applied: list[PipelineConfig] = field(default_factory=list)
    outages: int = 0

    def apply(self, config: PipelineConfig) -> ApplyPlan:
        if self.outages:
            self.outages -= 1
            raise StoreUnavailableError
        self.applied.append(config)
        return ApplyPlan(batches=tuple(config.batches), tables=tuple(config.tables), transactions=1)
