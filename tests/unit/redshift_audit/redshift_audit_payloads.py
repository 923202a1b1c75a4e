"""CloudWatch Logs subscription payloads of Redshift user-activity logs, and the samples.

The samples in events/redshift_audit/ are generated from the payloads below (standard library
only); regenerate them with ``python3 tests/unit/redshift_audit/redshift_audit_payloads.py``.
"""

import base64
import gzip
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
EVENTS_DIR = ROOT / "events" / "redshift_audit"
ACCOUNT = "123456789012"
CLUSTER = "demo-cluster-ou1"
LOG_GROUP = f"/aws/redshift/cluster/{CLUSTER}/useractivitylog"
FILTER = "datalake-events-dev-RedshiftSensitiveQueries"
BASE_ID = 37_894_412_567_021_963_355_402_107_339_610_498_123_745_962_301_254_516_736


def activity_line(
    sql: str,
    *,
    user: str = "awsuser",
    time: str = "2026-11-20T10:15:30Z",
    xid: int = 5678,
    db: str = "dev",
) -> str:
    """One user-activity record as Redshift writes it."""
    return f"'{time} UTC [ db={db} user={user} pid=1234 userid=100 xid={xid} ]' LOG: {sql}"


def log_event(message: str, number: int, timestamp_ms: int = 1_795_169_731_000) -> dict[str, Any]:
    return {"id": str(BASE_ID + number), "timestamp": timestamp_ms + number, "message": message}


def data_message(*messages: str, log_group: str = LOG_GROUP) -> dict[str, Any]:
    return {
        "messageType": "DATA_MESSAGE",
        "owner": ACCOUNT,
        "logGroup": log_group,
        "logStream": CLUSTER,
        "subscriptionFilters": [FILTER],
        "logEvents": [log_event(message, number) for number, message in enumerate(messages)],
    }


def awslogs_event(payload: dict[str, Any]) -> dict[str, Any]:
    """What Lambda receives: the payload gzip-compressed (mtime 0: reproducible) and base64."""
    compressed = gzip.compress(json.dumps(payload, separators=(",", ":")).encode(), mtime=0)
    return {"awslogs": {"data": base64.b64encode(compressed).decode()}}


def decoded(event: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(
        gzip.decompress(base64.b64decode(event["awslogs"]["data"]))
    )
    return payload


def event_with(*sql: str, **line: Any) -> dict[str, Any]:
    """A subscription event with one log event per SQL text."""
    return awslogs_event(data_message(*(activity_line(text, **line) for text in sql)))


# The sample's log events, in order: what each one is there to show.
DDL_SAMPLE_MESSAGES = [
    # The post's two test lines.
    activity_line("alter table my_table alter column string type varchar(16);", xid=100),
    activity_line("create user rs_user with password '***';", xid=200, time="2026-11-20T10:15:41Z"),
    # Not sensitive: the keyword is inside a string literal.
    activity_line("SELECT 'GRANT ALL ON sales TO PUBLIC' AS note;", xid=300),
    # A comment, mixed case and two statements on one line, spread over three lines.
    activity_line(
        "/* nightly cleanup */\nDrop Table dev.public.demo_test_table_1; "
        "GRANT SELECT ON sales.orders\n  TO GROUP analysts;",
        user="etl_admin",
        xid=400,
    ),
    # Redshift's internal superuser: not audited by default (IGNORE_USERS=rdsdb).
    activity_line("create temp table volt_tt_6743 as select 1;", user="rdsdb", xid=500),
]
CONTROL_PAYLOAD = {
    "messageType": "CONTROL_MESSAGE",
    "owner": "CloudwatchLogs",
    "logGroup": "",
    "logStream": "",
    "subscriptionFilters": [],
    "logEvents": [
        {
            "id": "",
            "timestamp": 1_795_169_700_000,
            "message": "CWL CONTROL MESSAGE: Checking health of destination Lambda function.",
        }
    ],
}


def write_samples() -> None:
    samples = {
        "user_activity_ddl.json": awslogs_event(data_message(*DDL_SAMPLE_MESSAGES)),
        "control_message.json": awslogs_event(CONTROL_PAYLOAD),
    }
    for name, event in samples.items():
        (EVENTS_DIR / name).write_text(json.dumps(event, indent=2) + "\n")


if __name__ == "__main__":
    write_samples()
    sys.stdout.write(f"wrote {EVENTS_DIR}\n")
