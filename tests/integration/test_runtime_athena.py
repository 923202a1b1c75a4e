"""The local Athena stand-in on a small template of its own: a Glue database with an Iceberg
table, a workgroup, and a state machine using ``athena:startQueryExecution.sync``. Queries go
through the Athena API (moto) and run on DuckDB; the state machine runs in moto's interpreter.
(the project's template is exercised by each capability's own flow tests)"""

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local_runtime import LocalRuntime
from local_runtime.bridges.athena import AthenaBridge
from local_runtime.template import glue_table_columns

ROOT = Path(__file__).resolve().parents[2]

DATABASE = "local_lake"
COLUMNS = list(glue_table_columns(ROOT / "template.yaml", "CdcOrdersTable"))


def athena_task(statement: str, result: str) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::athena:startQueryExecution.sync",
        "Parameters": {
            "QueryString.$": f"States.Format('{statement}', $.table)",
            "WorkGroup": "${WorkGroup}",
            "QueryExecutionContext": {"Database": "${Database}"},
        },
        "ResultSelector": {
            "query_id.$": "$.QueryExecution.QueryExecutionId",
            "state.$": "$.QueryExecution.Status.State",
        },
        "ResultPath": f"$.{result}",
    }


MAINTENANCE = {
    "StartAt": "Optimize",
    "States": {
        "Optimize": {
            **athena_task('OPTIMIZE "${Database}"."{}" REWRITE DATA USING BIN_PACK', "optimize"),
            "Next": "Vacuum",
        },
        "Vacuum": {**athena_task('VACUUM "${Database}"."{}"', "vacuum"), "End": True},
    },
}


def template() -> str:
    columns = "\n".join(
        f"                - {{Name: {name}, Type: '{glue_type}'}}" for name, glue_type in COLUMNS
    )
    return textwrap.dedent(
        """
        Transform: AWS::Serverless-2016-10-31
        Resources:
          LakeBucket:
            Type: AWS::S3::Bucket
          ResultsBucket:
            Type: AWS::S3::Bucket
          LakeDatabase:
            Type: AWS::Glue::Database
            Properties:
              CatalogId: !Ref AWS::AccountId
              DatabaseInput:
                Name: {database}
          OrdersTable:
            Type: AWS::Glue::Table
            Properties:
              CatalogId: !Ref AWS::AccountId
              DatabaseName: !Ref LakeDatabase
              OpenTableFormatInput:
                IcebergInput:
                  MetadataOperation: CREATE
                  Version: "2"
              TableInput:
                Name: orders
                TableType: EXTERNAL_TABLE
                StorageDescriptor:
                  Location: !Sub s3://${{LakeBucket}}/orders/
                  Columns:
        {columns}
          AthenaWorkGroup:
            Type: AWS::Athena::WorkGroup
            Properties:
              Name: local-lake
              Description: queries of the local lake
              WorkGroupConfiguration:
                EnforceWorkGroupConfiguration: true
                ResultConfiguration:
                  OutputLocation: !Sub s3://${{ResultsBucket}}/results/
          MaintenanceStateMachine:
            Type: AWS::Serverless::StateMachine
            Properties:
              Definition: {definition}
              DefinitionSubstitutions:
                WorkGroup: !Ref AthenaWorkGroup
                Database: !Ref LakeDatabase
              Policies:
                - Statement:
                    - Effect: Allow
                      Action: [athena:StartQueryExecution, athena:GetQueryExecution]
                      Resource: "*"
        Outputs:
          ResultsBucketName:
            Value: !Ref ResultsBucket
          WorkGroupName:
            Value: !Ref AthenaWorkGroup
          MaintenanceStateMachineArn:
            Value: !Ref MaintenanceStateMachine
        """
    ).format(database=DATABASE, columns=columns, definition=json.dumps(MAINTENANCE))


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    root = tmp_path_factory.mktemp("athena-project")
    (root / "template.yaml").write_text(template())
    local = LocalRuntime(template_path=root / "template.yaml", workdir=root / "work")
    if not any(isinstance(b, AthenaBridge) for b in local.bridges):  # until the runtime has it
        local.bridges.append(AthenaBridge())
    with local:
        yield local


@pytest.fixture
def bridge(runtime: LocalRuntime) -> AthenaBridge:
    [athena] = [b for b in runtime.bridges if isinstance(b, AthenaBridge)]
    return athena


def run(runtime: LocalRuntime, sql: str) -> dict[str, Any]:
    """StartQueryExecution in the stack's workgroup, then its GetQueryExecution."""
    athena = runtime.client("athena")
    query_id = athena.start_query_execution(
        QueryString=sql,
        WorkGroup=runtime.outputs["WorkGroupName"],
        QueryExecutionContext={"Database": DATABASE},
    )["QueryExecutionId"]
    execution: dict[str, Any] = athena.get_query_execution(QueryExecutionId=query_id)
    return execution["QueryExecution"]


def merge(order_id: str, status: str, op: str = "MODIFY") -> str:
    """A MERGE shaped like iceberg_cdc's: typed VALUES, delete / update / insert branches."""
    columns = ", ".join(name for name, _ in COLUMNS)
    values = ", ".join(f"s.{name}" for name, _ in COLUMNS)
    return textwrap.dedent(
        f"""
        MERGE INTO "{DATABASE}"."orders" AS t
        USING (VALUES (
          '{order_id}', 'c-1', '{status}', CAST('12.50' AS decimal(12,2)), CAST(3 AS bigint), true,
          ARRAY['gift', 'it''s'], MAP(ARRAY['channel'], ARRAY['web']),
          CAST(ROW('1 Main St', 'Paris', '75001') AS ROW(street varchar, city varchar,
            postcode varchar)),
          '[{{"sku":"A-1","qty":2}}]', from_base64('AAEC'), DATE '2026-11-20',
          CAST(from_iso8601_timestamp('2026-11-20T10:15:30.123456Z') AS timestamp(6)),
          CAST(1795000000 AS bigint), '{op}'
        )) AS s(order_id, customer_id, status, amount, quantity, is_gift, tags, attributes,
                shipping_address, line_items, signature, order_date, updated_at, expires_at, op)
        ON t.order_id = s.order_id
        WHEN MATCHED AND s.op = 'REMOVE' THEN DELETE
        WHEN MATCHED THEN UPDATE SET status = s.status, updated_at = s.updated_at
        WHEN NOT MATCHED AND s.op <> 'REMOVE' THEN INSERT ({columns})
          VALUES ({values})
        """  # noqa: S608 - test constants, not input
    )


def test_merge_through_the_athena_api_writes_the_duckdb_lake(
    runtime: LocalRuntime, bridge: AthenaBridge
) -> None:
    # Given the Iceberg table of the template, empty
    # When a MERGE is started through the Athena API
    execution = run(runtime, merge("o-merge", "NEW"))

    # Then it SUCCEEDED at once and the row is in the DuckDB lake, typed as the Glue columns
    assert execution["Status"]["State"] == "SUCCEEDED"
    assert execution["StatementType"] == "DML"
    assert bridge.engine is not None
    rows = [r for r in bridge.engine.table_rows(DATABASE, "orders") if r[0] == "o-merge"]
    assert len(rows) == 1
    assert rows[0][6:9] == (
        ["gift", "it's"],
        {"channel": "web"},
        {"street": "1 Main St", "city": "Paris", "postcode": "75001"},
    )
    assert (runtime.stack.outputs["WorkGroupName"], "SUCCEEDED") == (
        bridge.queries[-1].workgroup,
        bridge.queries[-1].state,
    )


def test_a_select_returns_athena_result_set_and_writes_the_results_csv(
    runtime: LocalRuntime,
) -> None:
    # Given an order in the table
    run(runtime, merge("o-select", "NEW"))

    # When it is selected
    execution = run(
        runtime,
        "SELECT order_id, amount, tags, updated_at, customer_id IS NULL AS no_customer "
        "FROM orders WHERE order_id = 'o-select'",
    )
    results = runtime.client("athena").get_query_results(
        QueryExecutionId=execution["QueryExecutionId"]
    )

    # Then rows come back as Athena prints them, header first, with typed column info
    values = [[d.get("VarCharValue") for d in row["Data"]] for row in results["ResultSet"]["Rows"]]
    assert values == [
        ["order_id", "amount", "tags", "updated_at", "no_customer"],
        ["o-select", "12.50", "[gift, it's]", "2026-11-20 10:15:30.123456", "false"],
    ]
    info = results["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
    assert [(c["Name"], c["Type"]) for c in info][:3] == [
        ("order_id", "varchar"),
        ("amount", "decimal"),
        ("tags", "array"),
    ]
    # and the results file is in the workgroup's (enforced) output location
    location = execution["ResultConfiguration"]["OutputLocation"]
    bucket = runtime.outputs["ResultsBucketName"]
    assert location == f"s3://{bucket}/results/{execution['QueryExecutionId']}.csv"
    body = runtime.s3.get_object(Bucket=bucket, Key=location.split("/", 3)[3])["Body"].read()
    assert body.decode().splitlines()[1].startswith('"o-select","12.50"')


def test_a_failed_query_says_why_like_athena(runtime: LocalRuntime) -> None:
    # Given no table named "missing"
    # When a query reads it
    execution = run(runtime, "SELECT * FROM missing")

    # Then it FAILED with Athena's reason and error fields, and its results are refused
    status = execution["Status"]
    assert status["State"] == "FAILED"
    assert status["StateChangeReason"].startswith("TABLE_NOT_FOUND: line 1:15:")
    assert status["AthenaError"]["ErrorCategory"] == 2
    assert status["AthenaError"]["Retryable"] is False
    with pytest.raises(ClientError, match="FAILED"):
        runtime.client("athena").get_query_results(QueryExecutionId=execution["QueryExecutionId"])


def test_fail_next_fails_the_next_merge_like_an_iceberg_commit_conflict(
    runtime: LocalRuntime, bridge: AthenaBridge
) -> None:
    # Given one injected commit conflict for MERGE statements
    bridge.fail_next(1, statement="MERGE")

    # When a SELECT then two MERGEs run
    selected = run(runtime, "SELECT 1")
    first = run(runtime, merge("o-conflict", "NEW"))
    second = run(runtime, merge("o-conflict", "NEW"))

    # Then only the first MERGE failed, retryably, and its retry landed
    assert selected["Status"]["State"] == "SUCCEEDED"
    assert first["Status"]["State"] == "FAILED"
    assert first["Status"]["StateChangeReason"].startswith("ICEBERG_COMMIT_ERROR")
    assert first["Status"]["AthenaError"]["Retryable"] is True
    assert second["Status"]["State"] == "SUCCEEDED"
    assert bridge.engine is not None
    assert sum(r[0] == "o-conflict" for r in bridge.engine.table_rows(DATABASE, "orders")) == 1


def test_throttle_next_refuses_start_query_execution(
    runtime: LocalRuntime, bridge: AthenaBridge
) -> None:
    # Given Athena throttling the next call
    bridge.throttle_next()

    # When a query is started, Then the call is refused as throttled; the next one runs
    with pytest.raises(ClientError) as refused:
        run(runtime, "SELECT 1")
    assert refused.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert run(runtime, "SELECT 1")["Status"]["State"] == "SUCCEEDED"


def test_alter_table_add_columns_updates_glue_and_the_lake(
    runtime: LocalRuntime, bridge: AthenaBridge
) -> None:
    # Given the orders table
    # When Athena DDL adds a column
    execution = run(runtime, f'ALTER TABLE "{DATABASE}"."orders" ADD COLUMNS (coupon string)')

    # Then the Glue table has it, and it can be written and read
    assert execution["Status"]["State"] == "SUCCEEDED"
    assert execution["StatementType"] == "DDL"
    table = runtime.client("glue").get_table(DatabaseName=DATABASE, Name="orders")["Table"]
    assert table["StorageDescriptor"]["Columns"][-1] == {"Name": "coupon", "Type": "string"}
    assert run(runtime, merge("o-coupon", "NEW"))["Status"]["State"] == "SUCCEEDED"
    assert (
        run(runtime, "UPDATE orders SET coupon = 'XMAS' WHERE order_id = 'o-coupon'")["Status"][
            "State"
        ]
        == "SUCCEEDED"
    )
    assert bridge.engine is not None
    assert [
        row[-1] for row in bridge.engine.table_rows(DATABASE, "orders") if row[0] == "o-coupon"
    ] == ["XMAS"]


def start_maintenance(runtime: LocalRuntime, table: str, name: str) -> dict[str, Any]:
    arn = runtime.stepfunctions_bridge.start(
        runtime.outputs["MaintenanceStateMachineArn"], json.dumps({"table": table}), name
    )
    runtime.settle()
    return runtime.stepfunctions_bridge.describe(arn)


def test_sync_state_machine_optimizes_then_vacuums(
    runtime: LocalRuntime, bridge: AthenaBridge
) -> None:
    # Given the maintenance state machine (athena:startQueryExecution.sync)
    # When it runs for the orders table
    execution = start_maintenance(runtime, "orders", "maintain-orders")

    # Then both queries ran to SUCCEEDED before the execution went on, in order
    assert execution["status"] == "SUCCEEDED", execution
    output = json.loads(execution["output"])
    assert output["optimize"]["state"] == output["vacuum"]["state"] == "SUCCEEDED"
    assert bridge.query(output["optimize"]["query_id"]).sql.startswith("OPTIMIZE")
    assert bridge.engine is not None
    assert [(m.statement, m.table) for m in bridge.engine.maintenance][-2:] == [
        ("OPTIMIZE", "orders"),
        ("VACUUM", "orders"),
    ]


def test_sync_task_fails_when_its_query_fails(runtime: LocalRuntime) -> None:
    # Given a table that does not exist
    # When the maintenance state machine runs for it
    execution = start_maintenance(runtime, "no_such_table", "maintain-missing")

    # Then the task failed as States.TaskFailed with the query execution as the cause
    assert execution["status"] == "FAILED"
    history = runtime.client("stepfunctions").get_execution_history(
        executionArn=execution["executionArn"]
    )["events"]
    [failed] = [e for e in history if e["type"] == "TaskFailed"]
    details = failed["taskFailedEventDetails"]
    assert details["error"] == "States.TaskFailed"
    cause = json.loads(details["cause"])
    assert cause["QueryExecution"]["Status"]["State"] == "FAILED"
    assert "TABLE_NOT_FOUND" in cause["QueryExecution"]["Status"]["StateChangeReason"]
