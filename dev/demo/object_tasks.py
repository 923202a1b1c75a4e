"""Demo section: scheduled object rewrites. Uploads to the dataset bucket get a one-time
schedule per rule (the template's default: file_contents removed 30 days after upload); the
runtime's compressed clock then jumps 30 days, the schedules fire, and the objects are
rewritten in place."""

import csv
import io
import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from local_runtime.activity import emitted_metrics
from local_runtime.report import table

if TYPE_CHECKING:
    from local_runtime.runtime import LocalRuntime

JSON_KEY = "dataset/uploads/2026/12/07/mock_uploaded_data.json"
CSV_KEY = "dataset/uploads/2026/12/07/attachments.csv"
_ROWS = [
    {"id": 1, "user": "ada@example.com", "file_name": "cv.pdf", "file_contents": "JVBERi0xLjcK"},
    {"id": 2, "user": "grace@example.com", "file_name": "notes.txt", "file_contents": "aGVsbG8="},
]


def _json_lines() -> bytes:
    return "".join(json.dumps(row) + "\n" for row in _ROWS).encode()


def _csv() -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(_ROWS[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(_ROWS)
    return out.getvalue().encode()


def _first_line(runtime: "LocalRuntime", key: str, line: int) -> str:
    body = runtime.s3.get_object(Bucket=runtime.outputs["DatasetBucketName"], Key=key)["Body"]
    return body.read().decode().splitlines()[line]


def _versions(runtime: "LocalRuntime", key: str) -> int:
    listed = runtime.s3.list_object_versions(
        Bucket=runtime.outputs["DatasetBucketName"], Prefix=key
    )
    return len([v for v in listed.get("Versions", []) if v["Key"] == key])


def _tasks(runtime: "LocalRuntime") -> list[dict[str, Any]]:
    items = runtime.dynamodb.scan(
        TableName=runtime.outputs["ObjectTaskTableName"], ConsistentRead=True
    )["Items"]
    plain = [{name: next(iter(value.values())) for name, value in i.items()} for i in items]
    return sorted(plain, key=lambda item: str(item["key"]))


def run(runtime: "LocalRuntime") -> None:
    bucket = runtime.outputs["DatasetBucketName"]
    for key, body in ((JSON_KEY, _json_lines()), (CSV_KEY, _csv())):
        runtime.s3.put_object(Bucket=bucket, Key=key, Body=body)
    runtime.settle()
    scheduler = runtime.client("scheduler")
    group = runtime.outputs["ObjectTaskScheduleGroupName"]
    pending = scheduler.list_schedules(GroupName=group)["Schedules"]
    expressions = {
        s["Name"]: scheduler.get_schedule(GroupName=group, Name=s["Name"])["ScheduleExpression"]
        for s in pending
    }
    before = {
        key: _first_line(runtime, key, 0 if key == JSON_KEY else 1) for key in (JSON_KEY, CSV_KEY)
    }
    print(
        "\n8. Scheduled object rewrites: two uploads to the dataset bucket → object_task_scheduler"
        f" → {len(pending)} one-time schedule(s) (rule drop-file-contents, 30 days):"
    )
    print(
        table(
            ["object", "task (schedule name)", "fires"],
            [
                [t["key"], t["task_id"][:19] + "…", expressions.get(t["task_id"], "?")]
                for t in _tasks(runtime)
            ],
        )
    )

    fired = runtime.advance_clock(timedelta(days=30, minutes=2))
    runtime.settle()
    left = scheduler.list_schedules(GroupName=group)["Schedules"]
    print(
        f"\n   The clock jumps 30 days: {len(fired)} schedule(s) fired → ObjectTaskQueue → "
        f"object_rewriter; {len(left)} schedule(s) left (deleted after running)."
    )
    rows = []
    for task in _tasks(runtime):
        key = str(task["key"])
        line = 0 if key == JSON_KEY else 1
        rows.append(
            [
                key,
                task["outcome"],
                _versions(runtime, key),
                before[key],
                _first_line(runtime, key, line),
            ]
        )
    print(table(["object", "outcome", "versions", "before", "after"], rows))
    ignored = sum(
        emitted_metrics(i.logs)["RewritesIgnored"]
        for i in runtime.invocations
        if i.function == "ObjectTaskSchedulerFunction"
    )
    print(
        f"   The rewrites' own upload events reached the scheduler: {ignored} ignored as"
        " rewrites (their metadata says so), so nothing is scheduled twice."
    )
