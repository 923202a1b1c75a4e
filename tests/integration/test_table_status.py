"""The per-table status view after a batch run in the local runtime: the named query (Athena,
the DuckDB stand-in) over the Glue job's table-runs records, and `make table-status`'s CLI over
the stack's DynamoDB tables."""

import io
import json
from typing import Any

import pytest

from dev.demo.support import athena_rows, named_query
from local_runtime import LocalRuntime
from tests.integration.test_batch_dispatch import (
    example_config,
    land_dms_files,
    tick,
    upload_config,
)
from tools import table_status

# A customers CDC file with a value that is not a bigint: that table's merge fails.
BAD_CUSTOMERS = {
    "sales/customers/2026/11/23/20261123-101501789.csv": (
        b"U,2026-11-23 10:15:01,not-a-number,Alan M. Turing,GB\n"
    )
}


@pytest.fixture
def one_failed_run(runtime: LocalRuntime) -> LocalRuntime:
    """Given one table per batch, DMS files landed, customers' bad; the hourly tick ran."""
    upload_config(runtime, example_config(batch_size=1))
    land_dms_files(runtime, BAD_CUSTOMERS)
    tick(runtime)
    return runtime


def status_rows(runtime: LocalRuntime) -> dict[str, dict[str, str]]:
    query = named_query(runtime, "table status")
    header, rows = athena_rows(runtime, query["QueryString"])
    return {row[0]: dict(zip(header, row, strict=True)) for row in rows}


def cli_status(runtime: LocalRuntime, *args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = table_status.main(
        ["--stack", runtime.stack_name, *args], out=out, err=out, session=RuntimeSession(runtime)
    )
    return code, out.getvalue()


class RuntimeSession:
    """The runtime's clients, as a boto3 session would give them."""

    def __init__(self, runtime: LocalRuntime) -> None:
        self.runtime = runtime

    def client(self, service_name: Any) -> Any:
        return self.runtime.client(service_name)


def test_named_query_shows_each_tables_last_run_outcome_and_error(
    one_failed_run: LocalRuntime,
) -> None:
    # When the per-table status named query runs
    rows = status_rows(one_failed_run)

    # Then each merged table has one row: orders succeeded, customers failed with its error
    assert set(rows) == {"sales.orders", "sales.customers"}
    orders, customers = rows["sales.orders"], rows["sales.customers"]
    assert (orders["last_outcome"], orders["last_files"], orders["last_error"]) == (
        "succeeded",
        "4",
        "",
    )
    assert customers["last_outcome"] == "failed"
    assert "customer_id" in customers["last_error"]
    assert customers["failed_runs"] == "1"
    # ...with the Glue run that did it (Glue's run id, not only the dispatch run)
    glue_runs = {run.run_id for run in one_failed_run.glue_bridge.runs}
    assert {orders["last_job_run_id"], customers["last_job_run_id"]} == glue_runs


def test_cli_lists_every_configured_table_with_pending_files(
    one_failed_run: LocalRuntime,
) -> None:
    # When the CLI lists the stack's tables as JSON
    code, out = cli_status(one_failed_run, "--format", "json")

    # Then every configured table is there, the failed one first, with its error and its files
    # still pending; the daily table never ran and keeps its landed file pending
    assert code == 0, out
    tables = json.loads(out)["tables"]
    assert tables[0]["source_table"] == "sales.customers"
    by_name = {row["source_table"]: row for row in tables}
    assert set(by_name) == {t["source_table"] for t in example_config()["tables"]}
    customers = by_name["sales.customers"]
    assert (customers["outcome"], customers["pending_files"]) == ("failed", 2)
    assert customers["oldest_pending"] is not None
    assert "customer_id" in customers["last_error"]
    orders = by_name["sales.orders"]
    assert (orders["outcome"], orders["pending_files"], orders["last_error"]) == (
        "succeeded",
        0,
        None,
    )
    assert orders["last_job_run_id"] in {run.run_id for run in one_failed_run.glue_bridge.runs}
    products = by_name["inventory.products"]
    assert (products["cadence"], products["outcome"]) == ("daily", table_status.NEVER_RUN)
    assert products["pending_files"] > 0


def test_cli_filters_by_cadence_and_prints_a_readable_table(
    one_failed_run: LocalRuntime,
) -> None:
    # When the CLI lists the daily cadence as text
    code, out = cli_status(one_failed_run, "--cadence", "daily")

    # Then only the daily tables are listed, under the column headers
    assert code == 0, out
    lines = out.strip().splitlines()
    assert lines[0].split()[:3] == ["cadence", "table", "active"]
    daily = sorted(t["source_table"] for t in example_config()["tables"] if t["cadence"] == "daily")
    assert daily
    assert sorted(line.split()[1] for line in lines[2:]) == daily
    assert {line.split()[0] for line in lines[2:]} == {"daily"}


def test_cli_reports_an_unknown_stack_as_an_aws_error(runtime: LocalRuntime) -> None:
    # Given a stack name that does not exist
    out = io.StringIO()

    # When the CLI is pointed at it
    code = table_status.main(
        ["--stack", "no-such-stack"], out=out, err=out, session=RuntimeSession(runtime)
    )

    # Then it says so and exits with the AWS error code
    assert code == table_status.EXIT_AWS
    assert "no-such-stack" in out.getvalue()
