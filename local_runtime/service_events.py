"""The state-change events AWS services put on the default bus, which moto never sends.

On AWS, Glue emits "Glue Job State Change" when a run ends and Step Functions emits "Step
Functions Execution Status Change"; the monitoring rules of the template listen for them. The
local Glue and Step Functions bridges call these when a run or execution ends, so the same
rules (and pipeline_monitor behind them) see the same events locally.
"""

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from local_runtime.intrinsics import ACCOUNT_ID

if TYPE_CHECKING:
    import boto3

_GLUE_SEVERITY = {"SUCCEEDED": "INFO", "STOPPED": "INFO"}


def _put(
    session: "boto3.session.Session",
    source: str,
    detail_type: str,
    detail: Any,
    resources: list[str],
) -> None:
    session.client("events").put_events(
        Entries=[
            {
                "Source": source,
                "DetailType": detail_type,
                "Detail": json.dumps(detail),
                "Resources": resources,
                "Time": datetime.now(UTC),
            }
        ]
    )


def glue_job_state_change(
    session: "boto3.session.Session", job_name: str, run_id: str, state: str, message: str
) -> None:
    detail = {
        "jobName": job_name,
        "severity": _GLUE_SEVERITY.get(state, "ERROR"),
        "state": state,
        "jobRunId": run_id,
        "message": message,
    }
    _put(session, "aws.glue", "Glue Job State Change", detail, [])


def _epoch_ms(value: Any) -> int | None:
    return int(value.timestamp() * 1000) if isinstance(value, datetime) else None


def execution_status_change(session: "boto3.session.Session", execution: dict[str, Any]) -> None:
    """``execution`` is a DescribeExecution response of a finished execution."""
    detail = {
        "executionArn": execution["executionArn"],
        "stateMachineArn": execution["stateMachineArn"],
        "name": execution["name"],
        "status": execution["status"],
        "startDate": _epoch_ms(execution.get("startDate")),
        "stopDate": _epoch_ms(execution.get("stopDate")),
        "input": execution.get("input"),
        "output": execution.get("output"),
        "error": execution.get("error"),
        "cause": execution.get("cause"),
    }
    _put(
        session,
        "aws.states",
        "Step Functions Execution Status Change",
        detail,
        [execution["executionArn"]],
    )


def glue_table_state_change(
    session: "boto3.session.Session", database: str, table: str, type_of_change: str
) -> None:
    """The event Glue puts when a catalog table is written: CreateTable and DeleteTable as a
    database state change listing the table, UpdateTable as a table state change naming it."""
    arn = f"arn:aws:glue:{session.region_name}:{ACCOUNT_ID}:table/{database}/{table}"
    if type_of_change == "UpdateTable":
        detail_type = "Glue Data Catalog Table State Change"
        detail: dict[str, Any] = {
            "databaseName": database,
            "changedPartitions": [],
            "typeOfChange": type_of_change,
            "tableName": table,
        }
    else:
        detail_type = "Glue Data Catalog Database State Change"
        detail = {
            "databaseName": database,
            "typeOfChange": type_of_change,
            "changedTables": [table],
        }
    _put(session, "aws.glue", detail_type, detail, [arn])
