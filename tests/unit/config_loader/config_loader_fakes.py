"""In-memory stand-ins for the config loader's collaborators, sample configs and events."""

import importlib.util
import io
import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from botocore.exceptions import ClientError
from config_loading import ConfigObject, ConfigObjectMissingError, ConfigTooLargeError

from datalake_shared.config_store import CADENCE, SOURCE_TABLE, ApplyPlan
from datalake_shared.pipeline_config import PipelineConfig

ROOT = Path(__file__).resolve().parents[3]
EVENTS_DIR = ROOT / "events" / "config_loader"
CONFIG_DIR = ROOT / "config"
BUCKET = "datalake-staging-example"
BATCH_TABLE = "batch-config-test"
TABLE_TABLE = "table-config-test"
FIXED_NOW = "2026-11-23T09:00:00.000Z"

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


def _load_handler_module() -> ModuleType:
    """functions/config_loader/app.py under its own name (every function has an ``app``)."""
    name = "config_loader_app"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, ROOT / "functions" / "config_loader" / "app.py"
        )
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


app = _load_handler_module()


def load_event(name: str) -> dict[str, Any]:
    """A sample event from events/config_loader/ (the same files `sam local invoke -e` uses)."""
    event: dict[str, Any] = json.loads((EVENTS_DIR / name).read_text())
    return event


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

    def read(self, bucket: str, key: str, max_bytes: int) -> ConfigObject:
        self.reads.append(key)
        body = self.objects.get((bucket, key))
        if body is None:
            raise ConfigObjectMissingError(key)
        if len(body) > max_bytes:
            raise ConfigTooLargeError(len(body))
        return ConfigObject(body=body, version_id="v-current", etag="etag")

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


@dataclass
class FakeEvents:
    published: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def publish(
        self,
        detail_type: str,
        details: Sequence[Mapping[str, Any]],
        resources: Sequence[str] = (),
    ) -> None:
        self.published.extend((detail_type, dict(detail)) for detail in details)

    def types(self) -> list[str]:
        return [detail_type for detail_type, _ in self.published]


@dataclass(frozen=True)
class FakeLambdaContext:
    function_name: str = "config-loader"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:config-loader"
    aws_request_id: str = "6f3a1c2e-0000-4000-8000-000000000003"


class CapturedLogs:
    def __init__(self, stream: io.StringIO) -> None:
        self._stream = stream

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self._stream.getvalue().splitlines() if line]


class MetricsReader:
    """Sums the CloudWatch EMF metrics Powertools printed (its log_metrics flush)."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys = capsys

    def totals(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for line in self._capsys.readouterr().out.splitlines():
            if not line.startswith("{"):
                continue
            blob = json.loads(line)
            if "_aws" not in blob:
                continue
            for directive in blob["_aws"]["CloudWatchMetrics"]:
                for metric in directive["Metrics"]:
                    value = blob[metric["Name"]]
                    values = value if isinstance(value, list) else [value]
                    totals[metric["Name"]] = totals.get(metric["Name"], 0) + sum(values)
        return totals


class DynamoCallRecorder:
    """Records the operations (and their parameters) a real boto3 client makes."""

    def __init__(self, client: Any, service: str = "dynamodb") -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        client.meta.events.register(f"before-parameter-build.{service}", self._record)

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self.calls.append((model.name, params))

    def params_of(self, operation: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == operation]
