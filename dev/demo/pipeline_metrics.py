"""Demo section: CodePipeline state changes → pipeline_metrics CSVs → the template's named
queries, run on the local Athena (DuckDB) over the objects written."""

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from dev.demo.support import athena_rows, named_query
from local_runtime.report import table

if TYPE_CHECKING:
    from local_runtime.runtime import LocalRuntime

_DETAIL_TYPES = {
    "pipeline": "CodePipeline Pipeline Execution State Change",
    "stage": "CodePipeline Stage Execution State Change",
    "action": "CodePipeline Action Execution State Change",
}
_BUILD = {"owner": "AWS", "category": "Build", "provider": "CodeBuild", "version": "1"}
_DEPLOY = {"owner": "AWS", "category": "Deploy", "provider": "CloudFormation", "version": "1"}


def _entry(level: str, at: datetime, detail: dict[str, Any]) -> dict[str, Any]:
    return {
        "Source": "aws.codepipeline",
        "DetailType": _DETAIL_TYPES[level],
        "Time": at,
        "Resources": [f"arn:aws:codepipeline:us-east-1:123456789012:{detail['pipeline']}"],
        "Detail": json.dumps({"version": 1, **detail}),
    }


def _execution(
    pipeline: str, start: datetime, outcome: str, failure: str | None = None
) -> Iterator[dict[str, Any]]:
    """What CodePipeline emits for one execution: pipeline, stage and action changes."""
    run = str(uuid.uuid4())
    base = {"pipeline": pipeline, "execution-id": run}
    yield _entry("pipeline", start, {**base, "state": "STARTED"})
    yield _entry("stage", start, {**base, "stage": "Build", "state": "STARTED"})
    build = {**base, "stage": "Build", "action": "Compile", "type": _BUILD}
    yield _entry("action", start, {**build, "state": "STARTED"})
    done = start + timedelta(minutes=4)
    if outcome == "FAILED":
        result = {"external-execution-summary": failure, "error-code": "JobFailed"}
        yield _entry("action", done, {**build, "state": "FAILED", "execution-result": result})
        yield _entry("stage", done, {**base, "stage": "Build", "state": "FAILED"})
        yield _entry("pipeline", done, {**base, "state": "FAILED"})
        return
    yield _entry("action", done, {**build, "state": "SUCCEEDED"})
    yield _entry("stage", done, {**base, "stage": "Build", "state": "SUCCEEDED"})
    if outcome in {"SUPERSEDED", "CANCELED"}:
        yield _entry("pipeline", done + timedelta(minutes=1), {**base, "state": outcome})
        return
    deploy = {**base, "stage": "Deploy", "action": "Stack", "type": _DEPLOY}
    end = done + timedelta(minutes=6)
    yield _entry("action", done, {**deploy, "state": "STARTED"})
    yield _entry("action", end, {**deploy, "state": "SUCCEEDED"})
    yield _entry("pipeline", end, {**base, "state": "SUCCEEDED"})


def codepipeline_events(now: datetime) -> list[dict[str, Any]]:
    yesterday = now - timedelta(days=1)
    failure = 'unit tests failed: 3 of 212, "test_merge_keys" (see report, line 42)\nexit 1'
    runs = [
        ("web-app", yesterday.replace(hour=9), "SUCCEEDED", None),
        ("web-app", yesterday.replace(hour=14), "FAILED", failure),
        ("web-app", now.replace(hour=8), "SUCCEEDED", None),
        ("data-etl", yesterday.replace(hour=3), "SUCCEEDED", None),
        ("data-etl", now.replace(hour=3), "SUPERSEDED", None),
        ("infra", now.replace(hour=7), "CANCELED", None),
    ]
    return [
        entry
        for pipeline, start, outcome, why in runs
        for entry in _execution(pipeline, start.replace(minute=0, second=0), outcome, why)
    ]


def run(runtime: "LocalRuntime") -> None:
    now = datetime.now(UTC)
    entries = codepipeline_events(now)
    events = runtime.client("events")
    for start in range(0, len(entries), 10):  # PutEvents takes 10 entries per call
        events.put_events(Entries=entries[start : start + 10])
    runtime.settle()

    s3 = runtime.s3
    bucket = runtime.outputs["MetricsBucketName"]
    objects = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    print(
        f"\n5. CodePipeline: {len(entries)} state changes of 6 executions → "
        f"{len(objects)} CSV object(s) (one per batch and day):"
    )
    print(table(["key", "bytes"], [[o["Key"], o["Size"]] for o in objects]))

    for name in ("pipeline metrics - executions and success rate", "pipeline metrics - failing"):
        query = named_query(runtime, name)
        headers, rows = athena_rows(runtime, query["QueryString"], query["Database"])
        print(f"\n   Named query “{query['Name']}” (local Athena on DuckDB):")
        print(table(headers, [[_short(cell) for cell in row] for row in rows], indent="     "))


def _short(cell: str, width: int = 48) -> str:
    flat = cell.replace("\n", "⏎")
    return flat if len(flat) <= width else flat[: width - 1] + "…"
