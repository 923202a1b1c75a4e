"""Demo section: messy workbooks uploaded to the raw bucket → SNS "uploaded" → excel_cleaner →
one CSV per sheet in the clean bucket (or quarantine with a "failed" message) → each new CSV
starts the SPICE ingestion state machine (CreateIngestion → Wait/DescribeIngestion). Two order
workbooks of one layout land under incoming/orders/, the folder of the config's workbook table
``orders`` (config/pipeline.yaml): its cleaning spec keeps one sheet, typed, and the table reads
both workbooks' rows on Athena."""

import io
import json
from datetime import date
from typing import TYPE_CHECKING, Any

from dev.demo.support import athena_rows
from local_runtime.report import table

if TYPE_CHECKING:
    from local_runtime.runtime import LocalRuntime

UPLOAD_PREFIX = "incoming/"
# The demo's SpiceDatasets parameter: CSVs under these clean prefixes refresh these datasets.
SPICE_DATASETS = {"incoming/sales/": "sales-dataset", "incoming/finance/": "finance-dataset"}
# The demo's WorkbookCleaningSpecs: the folder of the workbook table "orders" receives workbooks
# of one layout, each cleaned to one CSV (the "Orders" sheet), its columns typed as the table's.
ORDERS_PREFIX = f"{UPLOAD_PREFIX}orders/"
CLEANING_SPECS = [
    {
        "prefix": ORDERS_PREFIX,
        "sheet": "Orders",
        "types": {"order_date": "date", "units": "integer", "revenue": "number", "paid": "boolean"},
    }
]
# The workbook table's rows as Athena returns them, dates cast as the catalog's comments say.
ORDERS_QUERY = (
    "SELECT region, CAST(NULLIF(order_date, '') AS date) AS order_date, units, revenue, paid "
    "FROM workbook_orders ORDER BY order_date, region"
)


def sales_workbook() -> bytes:
    """What people upload: a title, a note, blank rows, a header, a totals row, and a second
    sheet, plus an empty one."""
    from openpyxl import Workbook  # type: ignore[import-untyped]  # noqa: PLC0415 - dev only

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Q3 Sales"
    sheet.append(["ACME Corp — Q3 sales report"])
    sheet.append(["Confidential: internal use only"])
    sheet.append([])
    sheet.append(["Region ", "Order Date", "Units", "Revenue (€)", "Discount %"])
    sheet.append(["  Zürich", date(2026, 7, 3), 12, 1499.9, 0.1])
    sheet.append(["Genève", date(2026, 8, 14), 7, 0.1 + 0.2, 0.25])
    sheet.append([])
    sheet.append(["Basel", date(2026, 9, 30), 3, 420, 0])
    sheet.append(["Total", None, 22, 1920.2, None])
    targets = book.create_sheet("Targets")
    targets.append(["region", "target"])
    targets.append(["Zürich", 1500])
    targets.append(["Genève", 800])
    book.create_sheet("Empty")
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def budget_workbook() -> bytes:
    from openpyxl import Workbook  # noqa: PLC0415 - dev dependency

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Budget 2027"
    sheet.append(["Cost centre", "Budget"])
    sheet.append(["Data platform", 250000])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def orders_workbook(rows: list[list[Any]]) -> bytes:
    """A team's order export: a title above the header, the orders, and a notes sheet the
    cleaning spec leaves out. Cells as people type them: "yes"/"no", a blank, "n/a"."""
    from openpyxl import Workbook  # noqa: PLC0415 - dev dependency

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Orders"
    sheet.append(["Orders export"])
    sheet.append(["Region", "Order date", "Units", "Revenue", "Paid?"])
    for row in rows:
        sheet.append(row)
    book.create_sheet("Notes").append(["Exported from the order desk"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def orders_q3() -> bytes:
    return orders_workbook(
        [
            ["Zürich", date(2026, 7, 3), 12, 1499.9, "yes"],
            ["Genève", date(2026, 8, 14), 7, 0.3, "no"],
        ]
    )


def orders_q4() -> bytes:
    return orders_workbook([["Basel", date(2026, 10, 2), None, "n/a", "yes"]])


def uploads() -> list[tuple[str, bytes, str]]:
    return [
        (f"{UPLOAD_PREFIX}sales/q3-report.xlsx", sales_workbook(), "messy workbook, 3 sheets"),
        (f"{UPLOAD_PREFIX}finance/budget.xlsx", budget_workbook(), "clean workbook"),
        (f"{UPLOAD_PREFIX}finance/ledger.xlsx", b"name,amount\nrent,1200\n", "a CSV renamed .xlsx"),
        (f"{ORDERS_PREFIX}2026-q3.xlsx", orders_q3(), "orders, one layout (workbook table)"),
        (f"{ORDERS_PREFIX}2026-q4.xlsx", orders_q4(), "orders, same layout, a blank and n/a"),
    ]


def _subscribe_queue(runtime: "LocalRuntime", topic_output: str) -> str:
    """What a team hooking into the results would do: an SQS queue subscribed to the topic."""
    name = f"demo-{topic_output.removesuffix('Arn').lower()}"
    url = runtime.sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = runtime.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    runtime.client("sns").subscribe(
        TopicArn=runtime.outputs[topic_output],
        Protocol="sqs",
        Endpoint=arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    return url


def _drain(runtime: "LocalRuntime", queue_url: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    while batch := runtime.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
        "Messages", []
    ):
        for message in batch:
            messages.append(json.loads(message["Body"]))
            runtime.sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return messages


def run(runtime: "LocalRuntime") -> None:
    results_queue = _subscribe_queue(runtime, "WorkbookResultsTopicArn")
    ingestions_queue = _subscribe_queue(runtime, "IngestionResultsTopicArn")
    runtime.quicksight_bridge.set_row_counts("sales-dataset", 3)
    runtime.quicksight_bridge.fail_dataset(
        "finance-dataset", "The dataset's data source cannot be reached"
    )
    raw = runtime.outputs["RawWorkbookBucketName"]
    for key, body, _ in uploads():
        runtime.s3.put_object(Bucket=raw, Key=key, Body=body)
    runtime.settle()

    print("\n4. Excel cleaning: uploads to the raw bucket → SNS → excel_cleaner:")
    print(table(["uploaded", "what"], [[key, what] for key, _, what in uploads()]))
    clean = runtime.outputs["CleanBucketName"]
    listed = runtime.s3.list_objects_v2(Bucket=clean).get("Contents", [])
    csvs = [obj["Key"] for obj in listed if obj["Key"].endswith(".csv")]
    for key in csvs:
        text = runtime.s3.get_object(Bucket=clean, Key=key)["Body"].read().decode()
        print(f"\n   s3://…clean…/{key}")
        print("".join(f"     {line}\n" for line in text.splitlines()), end="")
    quarantined = [
        obj["Key"]
        for bucket in (raw, clean)
        for obj in runtime.s3.list_objects_v2(Bucket=bucket).get("Contents", [])
        if obj["Key"].startswith("quarantine/")
    ]
    print(f"\n   quarantined: {', '.join(quarantined) or 'nothing'}")
    print("   results published (WorkbookResultsTopic):")
    results = _results(_drain(runtime, results_queue))
    print(table(["outcome", "source", "detail"], results, indent="     "))
    print("   SPICE ingestions (one run per cleaned workbook; IngestionResultsTopic):")
    ingestions = _ingestions(_drain(runtime, ingestions_queue))
    print(table(["manifest", "dataset", "status", "detail"], ingestions, indent="     "))
    header, rows = athena_rows(runtime, ORDERS_QUERY)
    print(
        f"   The config's workbook table workbook_orders reads both order workbooks "
        f"({ORDERS_PREFIX}); on Athena:\n     {ORDERS_QUERY}"
    )
    print(table(header, rows, indent="     "))
    print(
        "   With QuickSightPrincipalArn set, the table also has a SPICE dataset "
        f"({runtime.stack.name}-workbook-orders), refreshed by each workbook cleaned there."
    )


def _results(messages: list[dict[str, Any]]) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for message in messages:
        outputs = message.get("outputs") or []
        detail = (
            ", ".join(
                f"{o.get('sheet')}: {o.get('rows')} rows x {o.get('columns')} cols" for o in outputs
            )
            if outputs
            else str(message.get("reason", ""))[:70]
        )
        rows.append([message.get("outcome"), message.get("source", {}).get("key"), detail])
    return rows


def _ingestions(messages: list[dict[str, Any]]) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for message in sorted(messages, key=lambda m: str(m.get("key"))):
        if message.get("status") == "COMPLETED":
            ingested = message.get("ingestion", {}).get("RowInfo", {}).get("RowsIngested", "?")
            detail = f"rows ingested: {ingested}"
        else:
            reason = str(message.get("reason", ""))
            if reason.startswith("{"):  # the ingestion as DescribeIngestion gave it
                error = json.loads(reason).get("ErrorInfo", {})
                reason = f"{error.get('Type', '')}: {error.get('Message', '')}"
            detail = reason if len(reason) <= 60 else reason[:59] + "…"
        rows.append([message.get("key"), message.get("dataset_id"), message.get("status"), detail])
    return rows
