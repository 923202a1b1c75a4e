"""What every function's tests (and the handler benchmarks) need: its handler module, its sample
events, a Lambda context, and readers for the JSON logs and EMF metrics Powertools writes.

Importable from any test folder under tests/unit (pytest puts this folder on sys.path for its
conftest.py).
"""

import copy
import importlib
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from local_runtime.activity import emitted_metrics
from local_runtime.template_tables import create_table_from_template

ROOT = Path(__file__).resolve().parents[2]


def load_handler_module(function: str) -> ModuleType:
    """functions/<function>/<function>/handler.py, the module the template's Handler names."""
    return importlib.import_module(f"{function}.handler")


def load_sample_event(function: str, name: str) -> dict[str, Any]:
    """A sample event from events/<function>/ (the files `sam local invoke -e` uses)."""
    event: dict[str, Any] = json.loads((ROOT / "events" / function / name).read_text())
    return event


def sample_event_names(function: str) -> list[str]:
    """The file names of events/<function>/'s sample events, sorted."""
    return sorted(path.name for path in (ROOT / "events" / function).glob("*.json"))


def sqs_batch_like(record: Mapping[str, Any], *bodies: Mapping[str, Any] | str) -> dict[str, Any]:
    """An SQS batch of copies of ``record`` (a sample event's) carrying ``bodies`` (JSON text as
    it is, anything else JSON-encoded), message ids m0, m1..."""
    records = []
    for index, body in enumerate(bodies):
        copied = copy.deepcopy(dict(record))
        copied["messageId"] = f"m{index}"
        copied["body"] = body if isinstance(body, str) else json.dumps(body)
        records.append(copied)
    return {"Records": records}


def create_template_table(
    client: Any, template: dict[str, Any], logical_id: str, name: str
) -> None:
    """Creates a DynamoDB table (keys, indexes, stream, TTL) as template.yaml declares it."""
    create_table_from_template(client, template, logical_id, name)


@dataclass(frozen=True)
class FakeLambdaContext:
    function_name: str = "datalake-events-test"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = (
        "arn:aws:lambda:us-east-1:123456789012:function:datalake-events-test"
    )
    aws_request_id: str = "6f3a1c2e-0000-4000-8000-000000000001"
    remaining_ms: int = 60_000

    def get_remaining_time_in_millis(self) -> int:
        """Read by Powertools idempotency (the in-progress record expires with the invocation)."""
        return self.remaining_ms


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
        return dict(emitted_metrics(self._capsys.readouterr().out))
