"""In-memory S3 and EventBridge for pipeline_metrics, event builders, and a DuckDB view over
the CSV objects the function wrote (declared like the Glue table: every column a string)."""

import copy
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError

from datalake_shared.event_publisher import EventPublisher
from pipeline_metrics.announcer import EventBridgeWrittenPublisher
from pipeline_metrics.csv_rows import COLUMNS, decode_csv
from pipeline_metrics.service import MetricsWriter
from pipeline_metrics.store import S3MetricsStore

if TYPE_CHECKING:
    import duckdb
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_s3 import S3Client

from eventbridge_fake import FakeEventsClient
from lambda_support import ROOT, FakeLambdaContext, load_handler_module, load_sample_event
from sqs_samples import md5_of_body

ATHENA_DIR = ROOT / "athena" / "pipeline_metrics"
BUCKET = "datalake-metrics-example"
PREFIX = "pipeline-metrics/"
ACCOUNT = "123456789012"
REGION = "us-east-1"

app = load_handler_module("pipeline_metrics")
load_event = partial(load_sample_event, "pipeline_metrics")

DETAIL_TYPES = {
    "pipeline": "CodePipeline Pipeline Execution State Change",
    "stage": "CodePipeline Stage Execution State Change",
    "action": "CodePipeline Action Execution State Change",
}


def bodies(name: str) -> list[dict[str, Any]]:
    """The EventBridge events inside a sample SQS batch."""
    return [json.loads(record["body"]) for record in load_event(name)["Records"]]


def codepipeline_event(
    level: str,
    *,
    state: str,
    time: str,
    pipeline: str = "orders-service",
    execution_id: str = "3f6c1a2b-8d4e-4f5a-9b6c-7d8e9f0a1b2c",
    stage: str = "Build",
    action: str = "Build",
    category: str = "Build",
    provider: str = "CodeBuild",
    summary: str | None = None,
    error_code: str | None = None,
    url: str | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    """A CodePipeline state change, shaped like the samples, for one pipeline/stage/action."""
    detail: dict[str, Any] = {"pipeline": pipeline, "execution-id": execution_id}
    if level in ("stage", "action"):
        detail["stage"] = stage
    if level == "action":
        detail["action"] = action
        detail["type"] = {
            "owner": "AWS",
            "category": category,
            "provider": provider,
            "version": "1",
        }
        result = {
            name: value
            for name, value in (
                ("external-execution-summary", summary),
                ("external-execution-url", url),
                ("error-code", error_code),
            )
            if value is not None
        }
        if result:
            detail["execution-result"] = result
    detail.update({"state": state, "version": 3.0, "pipeline-execution-attempt": 1.0})
    identity = f"{level}|{pipeline}|{execution_id}|{stage}|{action}|{state}|{time}"
    return {
        "version": "0",
        "id": event_id or str(uuid.UUID(bytes=hashlib.sha256(identity.encode()).digest()[:16])),
        "detail-type": DETAIL_TYPES[level],
        "source": "aws.codepipeline",
        "account": ACCOUNT,
        "time": time,
        "region": REGION,
        "resources": [f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:{pipeline}"],
        "detail": detail,
    }


def sqs_event(*messages: Mapping[str, Any] | str, start: int = 0) -> dict[str, Any]:
    """An SQS batch (sample record shape) carrying the given bodies, message ids m<start>..."""
    template = load_event("execution_succeeded.json")["Records"][0]
    records = []
    for index, message in enumerate(messages, start=start):
        record = copy.deepcopy(template)
        body = message if isinstance(message, str) else json.dumps(message)
        record["messageId"] = f"m{index}"
        record["body"] = body
        record["md5OfBody"] = md5_of_body(body)
        records.append(record)
    return {"Records": records}


@dataclass
class FakeS3Client:
    """``put_object`` over a dict. Keys in ``denied`` fail (AccessDenied) ``denied[key]`` times;
    ``outages`` holds the numbers (0-based) of the calls that fail as a whole."""

    denied: dict[str, int] = field(default_factory=dict)
    outages: set[int] = field(default_factory=set)
    objects: dict[str, bytes] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)

    def put_object(self, **request: Any) -> dict[str, Any]:
        call_number = len(self.requests)
        self.requests.append(request)
        key = request["Key"]
        if call_number in self.outages:
            raise ClientError(
                {"Error": {"Code": "SlowDown", "Message": "Reduce your request rate."}},
                "PutObject",
            )
        if self.denied.get(key, 0):
            self.denied[key] -= 1
            raise ClientError(
                {"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "PutObject"
            )
        self.objects[key] = request["Body"]
        return {"ETag": '"etag"'}

    def put_keys(self) -> list[str]:
        return [request["Key"] for request in self.requests]


def writer_with(s3: FakeS3Client, events: FakeEventsClient, prefix: str = PREFIX) -> MetricsWriter:
    """The real S3 store and EventBridge publisher over the fake clients."""
    return MetricsWriter(
        store=S3MetricsStore(BUCKET, client=cast("S3Client", s3)),
        publisher=EventBridgeWrittenPublisher(
            EventPublisher(
                component="pipeline-metrics",
                bus_name="datalake-bus",
                client=cast("EventBridgeClient", events),
            )
        ),
        prefix=prefix,
    )


def handle(writer: MetricsWriter, *events: dict[str, Any]) -> list[dict[str, Any]]:
    """Runs the handler over each SQS event; returns each response."""
    return [app.lambda_handler(event, FakeLambdaContext(), writer=writer) for event in events]


# --- DuckDB over the written objects, declared like the Glue table ----------------------------


def save_objects(objects: Mapping[str, bytes], directory: Path) -> None:
    """Lays the objects out as in the bucket (``pipeline-metrics/dt=.../<sha256>.csv``)."""
    for key, body in objects.items():
        path = directory / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)


def metrics_connection(directory: Path) -> "duckdb.DuckDBPyConnection":
    """A view ``pipeline_metrics`` over every CSV under ``directory``, read as Athena's
    OpenCSVSerde reads them: header skipped, backslash escapes, every column a string (empty
    values stay empty strings), ``dt`` a string partition column from the path.

    DuckDB is imported here, not at module level: loaded while conftest.py is imported, its
    bindings report spurious leaks at interpreter exit after hypothesis tests."""
    import duckdb  # noqa: PLC0415

    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    columns = ", ".join(f"'{name}': 'VARCHAR'" for name in COLUMNS)
    pattern = str(directory / "**" / "*.csv").replace("'", "''")
    # Built from our own column names and a quoted path: nothing user-supplied.
    connection.execute(
        "CREATE VIEW pipeline_metrics AS SELECT * FROM read_csv("  # noqa: S608
        f"'{pattern}', header = true, delim = ',', quote = '\"', escape = '\\', "
        f"columns = {{{columns}}}, hive_partitioning = true, hive_types = {{'dt': 'VARCHAR'}}, "
        "allow_quoted_nulls = false, strict_mode = true)"
    )
    return connection


def athena_query(name: str) -> str:
    return (ATHENA_DIR / name).read_text()


def run_query(connection: "duckdb.DuckDBPyConnection", name: str) -> list[dict[str, Any]]:
    """An Athena (Trino) named query, transpiled to DuckDB and run; rows as column -> value."""
    import sqlglot  # noqa: PLC0415
    from sqlglot.errors import ErrorLevel  # noqa: PLC0415

    sql = sqlglot.transpile(
        athena_query(name), read="trino", write="duckdb", unsupported_level=ErrorLevel.RAISE
    )[0]
    cursor = connection.execute(sql)
    names = [column[0] for column in cursor.description or []]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def rows_of(objects: Iterable[bytes]) -> list[dict[str, str]]:
    """Every data row of the given CSV bodies, read with Python's csv."""
    return [row for body in objects for row in decode_csv(body)]
