"""The applier over a fake Athena running on DuckDB: one MERGE per batch, retries, bisection,
failure reporting, splitting, and the TTL / unknown-attribute policies."""

from decimal import Decimal

from iceberg_cdc_fakes import (
    DATABASE,
    DEMO_COLUMNS,
    TABLE,
    Harness,
    Outcome,
    StreamWriter,
    harness,
    order,
    sequence_number,
)

from iceberg_cdc.changes import TtlPolicy
from iceberg_cdc.service import UnknownAttributePolicy


def test_batch_is_applied_with_one_merge(cdc: Harness, stream: StreamWriter) -> None:
    # Given 30 inserts, 10 of them modified, and a removal of an existing row
    cdc.warehouse.insert({"order_id": "old"})
    records = [stream.insert(order(f"o-{n:02d}")) for n in range(30)]
    records += [stream.modify(order(f"o-{n:02d}", status="paid")) for n in range(10)]
    records.append(stream.remove(order("old")))
    # When applied
    report = cdc.apply(records)
    # Then one statement wrote the final state of every key
    assert report.failures == {}
    assert len(cdc.athena.started) == 1
    rows = cdc.warehouse.rows()
    assert sorted(rows) == [f"o-{n:02d}" for n in range(30)]
    assert {rows[f"o-{n:02d}"]["status"] for n in range(10)} == {"paid"}
    assert (report.count("inserted"), report.count("updated"), report.count("deleted")) == (
        30,
        0,
        1,
    )
    assert report.records_applied == 41


def test_reapplying_a_batch_leaves_the_table_unchanged(cdc: Harness, stream: StreamWriter) -> None:
    # Given a batch already applied once
    records = [
        stream.insert(order("A")),
        stream.modify(order("A", status="paid")),
        stream.insert(order("B")),
    ]
    records.append(stream.remove(order("B")))
    cdc.apply(records)
    first = cdc.warehouse.rows()
    # When Lambda delivers it again (a retry) / Then the table is the same
    cdc.apply(records)
    assert cdc.warehouse.rows() == first


def test_commit_conflict_is_retried_then_succeeds(cdc: Harness, stream: StreamWriter) -> None:
    # Given Athena reports two Iceberg commit conflicts first
    cdc.athena.conflicts = 2
    # When a batch is applied
    report = cdc.apply([stream.insert(order("A")), stream.insert(order("B"))])
    # Then the same statement is retried until it commits, and nothing fails
    assert report.failures == {}
    assert report.conflicts_retried == 2
    assert report.statements == 1
    assert len(cdc.athena.started) == 3
    assert sorted(cdc.warehouse.rows()) == ["A", "B"]


def test_throttling_is_retried(cdc: Harness, stream: StreamWriter) -> None:
    # Given StartQueryExecution throttled twice
    cdc.athena.throttles = 2
    # When a batch is applied / Then it succeeds after backing off
    report = cdc.apply([stream.insert(order("A"))])
    assert report.failures == {}
    assert report.throttles_retried == 2
    assert cdc.sleeps[:2] == [0.75, 1.5]
    assert sorted(cdc.warehouse.rows()) == ["A"]


def test_persistent_failure_of_one_record_is_reported_alone(
    cdc: Harness, stream: StreamWriter
) -> None:
    # Given 8 keys, one of which Athena always rejects (written twice in the batch)
    records = [stream.insert(order(f"o-{n}")) for n in range(8)]
    records.insert(3, stream.insert(order("poison")))
    records.append(stream.modify(order("poison", status="again")))
    cdc.athena.poison = ("poison",)
    # When applied
    report = cdc.apply(records)
    # Then every other key is applied, and only the poison key's earliest record is reported
    assert sorted(cdc.warehouse.rows()) == [f"o-{n}" for n in range(8)]
    assert report.batch_item_failures() == [{"itemIdentifier": sequence_number(records[3])}]
    assert "INVALID_CAST_ARGUMENT" in report.failures[sequence_number(records[3])]
    assert report.failed_records == 2
    # And bisection stayed logarithmic: 1 + 2 per level for 9 keys
    assert report.statements <= 1 + 2 * 4


def test_poison_batch_reports_every_key(cdc: Harness, stream: StreamWriter) -> None:
    # Given a batch whose every statement fails
    records = [stream.insert(order(f"bad-{n}")) for n in range(4)]
    cdc.athena.poison = ("bad-",)
    # When applied
    report = cdc.apply(records)
    # Then each key is reported by its record (Lambda retries from the lowest; after
    # MaximumRetryAttempts the template's OnFailure destination gets the batch's details)
    assert report.batch_item_failures() == [
        {"itemIdentifier": sequence_number(record)} for record in records
    ]
    assert cdc.warehouse.rows() == {}
    assert report.statements == 7  # 1 + 2 + 4: the whole batch, halves, single keys


def test_bisection_stops_at_the_statement_budget(stream: StreamWriter) -> None:
    # Given a poison batch of 16 keys and a budget of 5 statements
    cdc = harness(max_statements=5)
    records = [stream.insert(order(f"bad-{n:02d}")) for n in range(16)]
    cdc.athena.poison = ("bad-",)
    # When applied
    report = cdc.apply(records)
    # Then it stops at 5 statements and still reports every key (retried later)
    assert report.statements == 5
    assert len(report.failures) == 16


def test_transient_failure_reports_the_rest_without_bisecting(stream: StreamWriter) -> None:
    # Given Athena cancels the statement (neither a conflict nor the statement's fault)
    cdc = harness()
    cdc.athena.script = [Outcome("CANCELLED", "cancelled by an operator")]
    records = [stream.insert(order("A")), stream.insert(order("B"))]
    # When applied
    report = cdc.apply(records)
    # Then both keys are reported for a retry, after a single statement
    assert report.statements == 1
    assert sorted(report.failures) == sorted(sequence_number(r) for r in records)


def test_conflicts_outlasting_retries_are_bisected(stream: StreamWriter) -> None:
    # Given conflicts on the first statement's every attempt (smaller statements then commit)
    cdc = harness(max_attempts=2)
    cdc.athena.conflicts = 2
    # When a batch of 4 is applied
    report = cdc.apply([stream.insert(order(f"o-{n}")) for n in range(4)])
    # Then the halves went through: all applied, nothing reported
    assert report.failures == {}
    assert report.statements == 3
    assert len(cdc.warehouse.rows()) == 4


def test_value_that_cannot_be_converted_fails_its_key_only(
    cdc: Harness, stream: StreamWriter
) -> None:
    # Given one order whose amount has more decimals than decimal(12,2)
    good = stream.insert(order("good"))
    bad = stream.insert(order("bad", amount=Decimal("1.999")))
    # When applied
    report = cdc.apply([good, bad])
    # Then the good key is written; the bad one is reported without reaching Athena
    assert sorted(cdc.warehouse.rows()) == ["good"]
    assert list(report.failures) == [sequence_number(bad)]
    assert "amount" in report.failures[sequence_number(bad)]
    assert "bad" not in cdc.athena.started[0]


def test_undecodable_image_fails_alone(cdc: Harness, stream: StreamWriter) -> None:
    # Given a record whose image is not DynamoDB JSON among good ones
    records = [stream.insert(order("A")), stream.insert(order("B")), stream.insert(order("C"))]
    records[1]["dynamodb"]["NewImage"]["tags"] = {"SS": []}
    # When applied / Then it alone is reported; the others are written
    report = cdc.apply(records)
    assert list(report.failures) == [sequence_number(records[1])]
    assert sorted(cdc.warehouse.rows()) == ["A", "C"]


def test_undecodable_record_superseded_by_a_later_one_fails_alone(
    cdc: Harness, stream: StreamWriter
) -> None:
    # Given a key whose middle record is undecodable, followed by a good final image
    records = [
        stream.insert(order("A")),
        stream.modify(order("A")),
        stream.modify(order("A", status="final")),
    ]
    records[1]["dynamodb"]["NewImage"]["amount"] = {"N": "oops"}
    # When applied
    report = cdc.apply(records)
    # Then the final image is written and only the bad record is reported
    assert cdc.warehouse.rows()["A"]["status"] == "final"
    assert list(report.failures) == [sequence_number(records[1])]


def test_small_size_limit_splits_and_applies_every_record_once(stream: StreamWriter) -> None:
    # Given a 6 KB statement limit and 40 ordinary orders
    cdc = harness(max_query_bytes=6000)
    records = [stream.insert(order(f"o-{n:02d}")) for n in range(40)]
    # When applied
    report = cdc.apply(records)
    # Then several statements within the limit wrote every key exactly once
    assert report.failures == {}
    assert report.statements > 1
    assert all(len(sql.encode()) <= 6000 for sql in cdc.athena.started)
    written = [
        key
        for sql in cdc.athena.started
        for key in (f"'o-{n:02d}'" for n in range(40))
        if key in sql
    ]
    assert sorted(written) == sorted(f"'o-{n:02d}'" for n in range(40))
    assert len(cdc.warehouse.rows()) == 40


def test_ttl_removal_is_ignored_when_configured(stream: StreamWriter) -> None:
    # Given TTL_DELETES=ignore and an existing row expired by DynamoDB's TTL
    cdc = harness(ttl_policy=TtlPolicy.IGNORE)
    cdc.warehouse.insert({"order_id": "expired"})
    # When the TTL removal is applied
    report = cdc.apply([stream.remove(order("expired"), ttl=True)])
    # Then the row stays, nothing runs, and the skip is counted
    assert "expired" in cdc.warehouse.rows()
    assert report.ttl_ignored == 1
    assert report.statements == 0


def test_ttl_removal_deletes_by_default(cdc: Harness, stream: StreamWriter) -> None:
    # Given an existing row expired by DynamoDB's TTL / When applied / Then it is deleted
    cdc.warehouse.insert({"order_id": "expired"})
    cdc.apply([stream.remove(order("expired"), ttl=True)])
    assert cdc.warehouse.rows() == {}


def test_unknown_attributes_are_ignored_and_reported(cdc: Harness, stream: StreamWriter) -> None:
    # Given orders carrying attributes the table lacks
    records = [
        stream.insert(order("A", gift_note="hi")),
        stream.insert(order("B", gift_note="yo", Rating=5)),
    ]
    # When applied with the default policy
    report = cdc.apply(records)
    # Then the rows are written without them, and they are reported with their counts
    assert sorted(cdc.warehouse.rows()) == ["A", "B"]
    assert report.unknown_attributes == {"gift_note": 2, "Rating": 1}
    assert report.columns_added == []


def test_unknown_attributes_are_added_as_columns_when_enabled(stream: StreamWriter) -> None:
    # Given UNKNOWN_ATTRIBUTES=add and orders with a new text, number and set attribute
    cdc = harness(unknown_attributes=UnknownAttributePolicy.ADD)
    records = [
        stream.insert(order("A", gift_note="hi", Rating=Decimal("4.5"))),
        stream.insert(order("B", labels={"x", "y"}, empty=None)),
    ]
    # When applied
    report = cdc.apply(records)
    # Then one ALTER TABLE adds typed columns, the cached schema is refreshed, values land
    assert cdc.athena.started[0].startswith(f"ALTER TABLE {DATABASE}.{TABLE} ADD COLUMNS")
    assert report.columns_added == [
        ("gift_note", "string"),
        ("rating", "decimal(38,9)"),
        ("labels", "array<string>"),
    ]
    assert cdc.glue.columns()[len(DEMO_COLUMNS) :] == report.columns_added
    rows = cdc.warehouse.rows()
    assert (rows["A"]["gift_note"], rows["A"]["rating"], rows["B"]["labels"]) == (
        "hi",
        Decimal("4.5"),
        ["x", "y"],
    )
    # And an attribute with only NULL values (no type to infer) stays unknown
    assert report.unknown_attributes == {"empty": 1}


def test_catalog_outage_reports_every_record(cdc: Harness, stream: StreamWriter) -> None:
    # Given Glue unavailable
    cdc.glue.outages = 1
    records = [stream.insert(order("A")), stream.insert(order("B"))]
    # When applied / Then every record is reported for a retry and nothing runs
    report = cdc.apply(records)
    assert sorted(report.failures) == sorted(sequence_number(r) for r in records)
    assert report.statements == 0


def test_table_that_is_not_iceberg_fails_the_batch(stream: StreamWriter) -> None:
    # Given a Hive table in the catalog / When a batch is applied
    cdc = harness(table_type=None)
    report = cdc.apply([stream.insert(order("A"))])
    # Then the record is reported with the reason
    assert "not an Iceberg table" in next(iter(report.failures.values()))


def test_schema_is_read_once_per_cache_period(cdc: Harness, stream: StreamWriter) -> None:
    # Given three batches within the cache period / When applied / Then one GetTable
    for name in ("A", "B", "C"):
        cdc.apply([stream.insert(order(name))])
    assert cdc.glue.get_calls == 1


def test_hash_and_range_key_table() -> None:
    # Given a table keyed by order_id and line_no, and line changes
    writer = StreamWriter(keys=("order_id", "line_no"))
    cdc = harness(
        (("order_id", "string"), ("line_no", "int"), ("sku", "string")),
        key_columns=("order_id", "line_no"),
    )
    records = [
        writer.insert({"order_id": "o-1", "line_no": 1, "sku": "A"}),
        writer.insert({"order_id": "o-1", "line_no": 2, "sku": "B"}),
        writer.modify({"order_id": "o-1", "line_no": 1, "sku": "C"}),
        writer.remove({"order_id": "o-1", "line_no": 2, "sku": "B"}),
    ]
    # When applied / Then the key is both columns
    report = cdc.apply(records)
    assert report.failures == {}
    rows = [(row["order_id"], row["line_no"], row["sku"]) for row in cdc.warehouse.rows().values()]
    assert rows == [("o-1", 1, "C")]


def test_key_attribute_missing_from_the_table_fails_its_keys(stream: StreamWriter) -> None:
    # Given KEY_COLUMNS naming an attribute that is not a column
    cdc = harness(key_columns=("order_ref",))
    record = stream.insert(order("A", order_ref="R-1"))
    # When applied / Then the record is reported with the reason
    report = cdc.apply([record])
    assert "order_ref" in report.failures[sequence_number(record)]


def test_out_of_time_reports_without_starting_statements(
    cdc: Harness, stream: StreamWriter
) -> None:
    # Given an invocation with less time left than a statement needs
    record = stream.insert(order("A"))
    # When applied / Then nothing starts and the record is reported for a retry
    report = cdc.applier.apply([record], lambda: 2.0)
    assert report.statements == 0
    assert "time" in report.failures[sequence_number(record)]


def test_columns_athena_refuses_to_add_are_not_asked_for_again(stream: StreamWriter) -> None:
    # Given UNKNOWN_ATTRIBUTES=add and an ALTER TABLE that Athena rejects
    cdc = harness(unknown_attributes=UnknownAttributePolicy.ADD)
    cdc.athena.script = [Outcome("FAILED", "NOT_SUPPORTED: ALTER TABLE")]
    # When two batches carry the same new attribute
    first = cdc.apply([stream.insert(order("A", gift_note="hi"))])
    second = cdc.apply([stream.insert(order("B", gift_note="yo"))])
    # Then the rows are written without it, the refusal is a warning, and it is asked once
    assert first.failures == second.failures == {}
    assert "refused to add columns" in first.warnings[0]
    assert [sql.split()[0] for sql in cdc.athena.started] == ["ALTER", "MERGE", "MERGE"]
    assert second.unknown_attributes == {"gift_note": 1}


def test_columns_of_unsupported_types_are_warned_about_once(stream: StreamWriter) -> None:
    # Given a table with a column of a type this function cannot write
    cdc = harness((("order_id", "string"), ("status", "string")))
    cdc.glue.tables[(DATABASE, TABLE)]["StorageDescriptor"]["Columns"].append(
        {"Name": "uid", "Type": "uuid"}
    )
    # When two batches are applied
    first = cdc.apply([stream.insert({"order_id": "A", "status": "x"})])
    second = cdc.apply([stream.insert({"order_id": "B", "status": "y"})])
    # Then the rows are written, and the first batch warns about the left-out column
    assert sorted(cdc.warehouse.rows()) == ["A", "B"]
    assert first.warnings == ["columns left out of every statement: ['uid uuid']"]
    assert second.warnings == []
