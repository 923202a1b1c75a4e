"""What the demo's sections share: Athena queries on the local stand-in, and waiting for them."""

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from local_runtime.runtime import LocalRuntime

_QUERY_TIMEOUT_S = 30.0


def athena_rows(
    runtime: "LocalRuntime", sql: str, database: str | None = None
) -> tuple[list[str], list[list[str]]]:
    """Runs ``sql`` through the Athena API (the DuckDB stand-in locally) in the stack's
    workgroup; returns the header and the rows, as GetQueryResults gives them."""
    athena = runtime.client("athena")
    query_id = athena.start_query_execution(
        QueryString=sql,
        WorkGroup=runtime.outputs["AthenaWorkGroupName"],
        QueryExecutionContext={"Database": database or runtime.outputs["LakeDatabaseName"]},
    )["QueryExecutionId"]
    deadline = time.monotonic() + _QUERY_TIMEOUT_S
    while True:
        status = athena.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
        if status["State"] in {"SUCCEEDED", "FAILED", "CANCELLED"}:
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"query {query_id} still {status['State']}")
        time.sleep(0.05)
    if status["State"] != "SUCCEEDED":
        raise RuntimeError(f"query failed: {status.get('StateChangeReason')}")
    rows: list[list[str]] = []
    for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=query_id):
        for row in page["ResultSet"]["Rows"]:
            rows.append([cell.get("VarCharValue", "") for cell in row["Data"]])
    return (rows[0], rows[1:]) if rows else ([], [])


def named_query(runtime: "LocalRuntime", name_starts_with: str) -> dict[str, Any]:
    """A named query of the template (NamedQueryId, Name, QueryString, Database...)."""
    athena = runtime.client("athena")
    ids = athena.list_named_queries(WorkGroup=runtime.outputs["AthenaWorkGroupName"])[
        "NamedQueryIds"
    ]
    for query_id in ids:
        query = athena.get_named_query(NamedQueryId=query_id)["NamedQuery"]
        if query["Name"].startswith(name_starts_with):
            return dict(query)
    raise KeyError(f"no named query starting with {name_starts_with!r}")


def shown(path: Path) -> str:
    """A path as the demo prints it: relative to the working directory when inside it."""
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)
