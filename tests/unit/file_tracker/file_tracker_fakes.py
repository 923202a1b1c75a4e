"""In-memory stand-ins for the file tracker's store and publisher, plus sample-event loading."""

import importlib.util
import io
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from file_tracking import PutResult, TrackedFile

from datalake_shared.s3_events import S3ObjectCreatedEvent, S3ObjectCreatedSqsRecord

ROOT = Path(__file__).resolve().parents[3]
EVENTS_DIR = ROOT / "events" / "file_tracker"


def _load_handler_module() -> ModuleType:
    """functions/file_tracker/app.py under its own name: every function has an ``app`` module,
    so a plain ``import app`` would pick whichever function folder comes first on sys.path."""
    name = "file_tracker_app"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, ROOT / "functions" / "file_tracker" / "app.py"
        )
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


app = _load_handler_module()


def load_event(name: str) -> dict[str, Any]:
    """A sample event from events/file_tracker/ (the same files `sam local invoke -e` uses)."""
    event: dict[str, Any] = json.loads((EVENTS_DIR / name).read_text())
    return event


def s3_events(name: str) -> list[S3ObjectCreatedEvent]:
    """The S3 events inside a sample SQS batch."""
    return [
        S3ObjectCreatedSqsRecord.model_validate(record).body
        for record in load_event(name)["Records"]
    ]


def object_created(
    key: str,
    *,
    size: int = 1024,
    version_id: str | None = "v1",
    sequencer: str | None = "0062F4A7B3C1D2E3F4",
    etag: str | None = "b1946ac92492d2347c6235b4d2611184",
    bucket: str = "datalake-staging-example",
    time: str = "2026-11-22T10:15:00Z",
) -> S3ObjectCreatedEvent:
    """An "Object Created" event shaped like the samples, for one object."""
    body = json.loads(load_event("sqs_batch.json")["Records"][0]["body"])
    body["time"] = time
    body["detail"]["bucket"]["name"] = bucket
    body["detail"]["object"] = {
        "key": key,
        "size": size,
        "etag": etag,
        "version-id": version_id,
        "sequencer": sequencer,
    }
    return S3ObjectCreatedEvent.model_validate(body)


def sqs_event(*bodies: dict[str, Any] | str, receive_count: int = 1) -> dict[str, Any]:
    """An SQS batch (sample record shape) carrying the given bodies, message ids m0, m1..."""
    template = load_event("sqs_batch.json")["Records"][0]
    records = []
    for index, body in enumerate(bodies):
        record = json.loads(json.dumps(template))
        record["messageId"] = f"m{index}"
        record["body"] = body if isinstance(body, str) else json.dumps(body)
        record["attributes"]["ApproximateReceiveCount"] = str(receive_count)
        records.append(record)
    return {"Records": records}


@dataclass
class StoredFile:
    file: TrackedFile
    announced: bool = False


@dataclass
class FakeTrackerStore:
    """Dict-backed store with the same write-once semantics as the DynamoDB adapter."""

    files: dict[tuple[str, str], StoredFile] = field(default_factory=dict)
    unmatched: dict[str, dict[str, str]] = field(default_factory=dict)

    def put_if_absent(self, file: TrackedFile) -> PutResult:
        stored = self.files.get((file.source_table, file.file_id))
        if stored is not None:
            return PutResult(created=False, announced=stored.announced)
        self.files[(file.source_table, file.file_id)] = StoredFile(file)
        return PutResult(created=True, announced=False)

    def mark_announced(self, file: TrackedFile) -> None:
        self.files[(file.source_table, file.file_id)].announced = True

    def record_unmatched(
        self, bucket: str, key: str, file_id: str, event_time: str, reason: str
    ) -> None:
        self.unmatched.setdefault(
            file_id, {"bucket": bucket, "key": key, "event_time": event_time, "reason": reason}
        )


class PublishFailedError(RuntimeError):
    """Stands in for EventBridge being unreachable."""


@dataclass
class FakePublisher:
    """Records published files; the first ``failures`` calls raise, as an outage would."""

    failures: int = 0
    published: list[TrackedFile] = field(default_factory=list)

    def publish_landed(self, file: TrackedFile) -> None:
        if self.failures:
            self.failures -= 1
            raise PublishFailedError("EventBridge unavailable")
        self.published.append(file)


@dataclass(frozen=True)
class FakeLambdaContext:
    function_name: str = "file-tracker"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:file-tracker"
    aws_request_id: str = "6f3a1c2e-0000-4000-8000-000000000001"


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
