"""The applier at its edges: which new attributes become columns, which records are reported
(and by which sequence number), the statement and time budgets, and keys that collide."""

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

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

from iceberg_cdc.athena import RunResult, RunStatus
from iceberg_cdc.changes import ChangeReader, RecordFailure, TtlPolicy
from iceberg_cdc.service import ApplyOptions, ApplyReport, CdcApplier, UnknownAttributePolicy

ADD = UnknownAttributePolicy.ADD


# ------------------------------------------------------------------ new columns


def test_attributes_that_cannot_become_columns_do_not_stop_the_others(
    stream: StreamWriter,
) -> None:
    # Given UNKNOWN_ATTRIBUTES=add and an order whose first new attributes cannot be columns
    # (a name that needs quoting, a reserved word, only NULL values), then a plain one
    cdc = harness(unknown_attributes=ADD)
    record = stream.insert(
        order("A", **{"gift note": "x", "select": "y", "nothing": None, "rating": Decimal(5)})
    )
    # When applied
    report = cdc.apply([record])
    # Then the plain attribute is added and written; the others stay unknown
    assert report.columns_added == [("rating", "decimal(38,9)")]
    assert cdc.warehouse.rows()["A"]["rating"] == Decimal(5)
    assert report.unknown_attributes == {"gift note": 1, "select": 1, "nothing": 1}
    assert report.failures == {}


def test_an_attribute_naming_a_skipped_column_is_not_added_again(stream: StreamWriter) -> None:
    # Given UNKNOWN_ATTRIBUTES=add and a table column of a type this function cannot write
    cdc = harness((("order_id", "string"),), unknown_attributes=ADD)
    cdc.glue.tables[(DATABASE, TABLE)]["StorageDescriptor"]["Columns"].append(
        {"Name": "uid", "Type": "uuid"}
    )
    # When an order carries that attribute and a new one
    report = cdc.apply([stream.insert({"order_id": "A", "uid": "u-1", "note": "n"})])
    # Then only the new attribute becomes a column
    assert report.columns_added == [("note", "string")]
    assert report.unknown_attributes == {"uid": 1}


def test_a_new_attribute_takes_its_type_from_its_first_non_null_value(
    stream: StreamWriter,
) -> None:
    # Given UNKNOWN_ATTRIBUTES=add and a new attribute NULL in one order, a number in the next
    cdc = harness(unknown_attributes=ADD)
    records = [stream.insert(order("A", score=None)), stream.insert(order("B", score=7))]
    # When applied / Then the column is a number column holding the value
    report = cdc.apply(records)
    assert report.columns_added == [("score", "decimal(38,9)")]
    assert cdc.warehouse.rows()["B"]["score"] == Decimal(7)


def test_attributes_differing_only_in_case_become_one_column(stream: StreamWriter) -> None:
    # Given UNKNOWN_ATTRIBUTES=add and two orders with "Note" (text) and "NOTE" (a number)
    cdc = harness(unknown_attributes=ADD)
    records = [stream.insert(order("A", Note="hi")), stream.insert(order("B", NOTE=3))]
    # When applied / Then one column, typed by the first attribute
    report = cdc.apply(records)
    assert report.columns_added == [("note", "string")]
    assert cdc.glue.columns()[len(DEMO_COLUMNS) :] == [("note", "string")]


def test_unknown_attributes_of_removals_and_invalid_records_are_not_added(
    stream: StreamWriter,
) -> None:
    # Given UNKNOWN_ATTRIBUTES=add, a removal and an invalid record carrying new attributes
    cdc = harness(unknown_attributes=ADD)
    invalid = stream.insert(order("B", extra_b="b"))
    del invalid["dynamodb"]["NewImage"]
    records = [stream.remove(order("A", extra_a="a")), invalid, stream.insert(order("C"))]
    # When applied / Then no column is added and no ALTER TABLE runs
    report = cdc.apply(records)
    assert report.columns_added == []
    assert report.unknown_attributes == {}
    assert [sql.split()[0] for sql in cdc.athena.started] == ["MERGE"]


def test_columns_are_not_added_when_no_statement_may_start(stream: StreamWriter) -> None:
    # Given UNKNOWN_ATTRIBUTES=add and an invocation with too little time left
    cdc = harness(unknown_attributes=ADD)
    records = [stream.insert(order("A", gift_note="x")), stream.insert(order("B"))]
    # When applied
    report = cdc.applier.apply(records, lambda: 1.0)
    # Then nothing runs and every key is reported for a retry (its data would be lost)
    assert cdc.athena.started == []
    assert sorted(report.failures) == sorted(sequence_number(r) for r in records)
    assert report.failed_records == 2


def test_columns_that_fail_to_be_added_for_a_transient_reason_fail_the_batch(
    stream: StreamWriter,
) -> None:
    # Given UNKNOWN_ATTRIBUTES=add and an ALTER TABLE that Athena cancels
    cdc = harness(unknown_attributes=ADD)
    cdc.athena.script = [Outcome("CANCELLED", "cancelled")]
    records = [stream.insert(order("A", gift_note="x")), stream.insert(order("B"))]
    # When applied
    report = cdc.apply(records)
    # Then no MERGE runs, every key is reported, and the column is asked for again next time
    assert [sql.split()[0] for sql in cdc.athena.started] == ["ALTER"]
    assert sorted(report.failures) == sorted(sequence_number(r) for r in records)
    again = cdc.apply([stream.insert(order("C", gift_note="y"))])
    assert again.columns_added == [("gift_note", "string")]


def test_columns_cannot_be_added_to_a_table_whose_name_needs_quoting(
    stream: StreamWriter,
) -> None:
    # Given UNKNOWN_ATTRIBUTES=add and a table whose name cannot be written bare in DDL
    cdc = harness(unknown_attributes=ADD)
    glue_table = cdc.glue.tables.pop((DATABASE, TABLE))
    glue_table["Name"] = "Orders"
    cdc.glue.put(DATABASE, glue_table)
    # (DuckDB's names ignore case: the MERGE into "Orders" writes the warehouse's orders)
    applier = CdcApplier(
        ApplyOptions(DATABASE, "Orders", unknown_attributes=ADD), cdc.catalog, cdc.runner
    )
    # When an order with a new attribute is applied
    report = applier.apply([stream.insert(order("A", gift_note="x"))], lambda: 600.0)
    # Then no ALTER TABLE runs, the row is written without it, and a warning says why
    assert [sql.split()[0] for sql in cdc.athena.started] == ["MERGE"]
    assert report.failures == {}
    assert report.unknown_attributes == {"gift_note": 1}
    assert len(report.warnings) == 1


def test_the_alter_table_counts_as_a_statement(stream: StreamWriter) -> None:
    # Given UNKNOWN_ATTRIBUTES=add / When an order with a new attribute is applied
    cdc = harness(unknown_attributes=ADD)
    report = cdc.apply([stream.insert(order("A", gift_note="x"))])
    # Then two statements ran, each with its query execution id
    assert report.statements == 2
    assert len(report.query_execution_ids) == 2
    assert len(set(report.query_execution_ids)) == 2


# ------------------------------------------------------------------ reporting


def test_batch_item_failures_are_ordered_by_number_not_text() -> None:
    # Given failures of records numbered 100 and 99
    report = ApplyReport()
    report.fail_record(RecordFailure("100", None, "bad"))
    report.fail_record(RecordFailure("99", None, "bad"))
    # Then the lowest number comes first (Lambda checkpoints there)
    assert report.batch_item_failures() == [{"itemIdentifier": "99"}, {"itemIdentifier": "100"}]


def test_a_record_reported_twice_keeps_its_first_reason() -> None:
    # Given a record failed twice / Then its first reason stays, and both count
    report = ApplyReport()
    report.fail_record(RecordFailure("7", None, "first"))
    report.fail_record(RecordFailure("7", None, "second"))
    assert report.failures == {"7": "first"}
    assert report.failed_records == 2


def test_batch_boundaries_are_the_first_and_last_sequence_numbers(
    cdc: Harness, stream: StreamWriter
) -> None:
    # Given a batch of three records / When applied
    records = [stream.insert(order("A")), stream.insert(order("B")), stream.remove(order("C"))]
    report = cdc.apply(records)
    # Then the report knows the batch's first and last sequence numbers
    assert (report.first_sequence_number, report.last_sequence_number) == (
        sequence_number(records[0]),
        sequence_number(records[2]),
    )


def test_an_empty_batch_runs_nothing(cdc: Harness) -> None:
    # Given no records / When applied / Then nothing is read, run or reported
    report = cdc.apply([])
    assert (report.first_sequence_number, report.last_sequence_number) == (None, None)
    assert report.failures == {}
    assert cdc.glue.get_calls == 0


def test_a_batch_of_failing_records_only_reads_no_schema(
    cdc: Harness, stream: StreamWriter
) -> None:
    # Given a batch whose every record is invalid
    records = [stream.insert(order("A")), stream.insert(order("B"))]
    for record in records:
        del record["dynamodb"]["NewImage"]
    # When applied / Then both are reported and neither Glue nor Athena is called
    report = cdc.apply(records)
    assert sorted(report.failures) == sorted(sequence_number(r) for r in records)
    assert report.failed_records == 2
    assert cdc.glue.get_calls == 0
    assert cdc.athena.started == []


def test_a_bad_record_in_the_middle_does_not_stop_the_records_after_it(
    cdc: Harness, stream: StreamWriter
) -> None:
    # Given a batch whose third record is no stream record and whose fifth has a bad key
    records = [stream.insert(order(f"o-{n}")) for n in range(7)]
    records[2]["eventName"] = "UPSERT"
    records[4]["dynamodb"]["Keys"] = {"order_id": {"S": 5}}
    # When applied
    report = cdc.apply(records)
    # Then every later good record is applied, and exactly the bad ones are reported
    assert sorted(cdc.warehouse.rows()) == ["o-0", "o-1", "o-3", "o-5", "o-6"]
    assert report.batch_item_failures() == [
        {"itemIdentifier": sequence_number(records[2])},
        {"itemIdentifier": sequence_number(records[4])},
    ]
    assert report.failed_records == 2
    assert report.records_applied == 5


def test_an_invalid_final_record_reports_its_keys_earliest_record(
    cdc: Harness, stream: StreamWriter
) -> None:
    # Given a key inserted, then modified by a record without NewImage, among good keys
    records = [
        stream.insert(order("A")),
        stream.insert(order("B")),
        stream.modify(order("B")),
        stream.insert(order("C")),
    ]
    del records[2]["dynamodb"]["NewImage"]
    # When applied
    report = cdc.apply(records)
    # Then the key is reported by its earliest record, with the invalid record's reason,
    # counting both records; the others are written
    assert report.batch_item_failures() == [{"itemIdentifier": sequence_number(records[1])}]
    reason = ChangeReader().read(records).keys[1].final.reason
    assert report.failures[sequence_number(records[1])] == reason
    assert reason
    assert report.failed_records == 2
    assert sorted(cdc.warehouse.rows()) == ["A", "C"]


def test_a_superseded_invalid_record_is_reported_by_its_own_number(
    cdc: Harness, stream: StreamWriter
) -> None:
    # Given a key whose second record is undecodable and whose third is good
    records = [
        stream.insert(order("A")),
        stream.modify(order("A")),
        stream.modify(order("A", status="final")),
    ]
    del records[1]["dynamodb"]["NewImage"]
    # When applied / Then the bad record alone is reported, with its reason, counted once
    report = cdc.apply(records)
    assert list(report.failures) == [sequence_number(records[1])]
    assert "NewImage" in report.failures[sequence_number(records[1])]
    assert report.failed_records == 1
    assert report.records_applied == 3


# ------------------------------------------------------------------ budgets


def test_a_statement_starts_with_exactly_the_minimum_time_left(
    cdc: Harness, stream: StreamWriter
) -> None:
    # Given exactly the minimum seconds per statement left / When applied
    report = cdc.applier.apply([stream.insert(order("A"))], lambda: 10.0)
    # Then the statement runs
    assert report.failures == {}
    assert "A" in cdc.warehouse.rows()


NOTE_TABLE = (("order_id", "string"), ("note", "string"))


def test_keys_past_the_statement_budget_are_each_reported(stream: StreamWriter) -> None:
    # Given a budget of one statement and four keys too large to share a statement
    cdc = harness(NOTE_TABLE, max_statements=1, max_query_bytes=2000)
    records = [stream.insert({"order_id": f"o-{n}", "note": "x" * 1200}) for n in range(4)]
    # When applied
    report = cdc.apply(records)
    # Then the first key is written and each of the three others is reported by its record
    assert report.statements == 1
    assert sorted(cdc.warehouse.rows()) == ["o-0"]
    assert report.batch_item_failures() == [
        {"itemIdentifier": sequence_number(record)} for record in records[1:]
    ]
    assert report.failed_records == 3


def test_a_rejected_statement_is_bisected_left_half_first(stream: StreamWriter) -> None:
    # Given four keys whose first statement is rejected and whose halves then succeed
    cdc = harness()
    cdc.athena.script = [Outcome("FAILED", "rejected")]
    records = [stream.insert(order(f"o-{n}")) for n in range(4)]
    # When applied
    report = cdc.apply(records)
    # Then the halves run in order, the first half first, and every key is applied
    halves = cdc.athena.started[1:]
    assert ["'o-0'" in sql and "'o-1'" in sql for sql in halves] == [True, False]
    assert ["'o-2'" in sql and "'o-3'" in sql for sql in halves] == [False, True]
    assert report.failures == {}
    assert [dict(key.key)["order_id"] for key in report.applied] == ["o-0", "o-1", "o-2", "o-3"]


def test_a_transient_failure_stops_every_later_statement(stream: StreamWriter) -> None:
    # Given three keys too large to share a statement, and Athena cancelling the first
    cdc = harness(NOTE_TABLE, max_query_bytes=2000)
    cdc.athena.script = [Outcome("CANCELLED", "cancelled")]
    records = [stream.insert({"order_id": f"o-{n}", "note": "x" * 1200}) for n in range(3)]
    # When applied
    report = cdc.apply(records)
    # Then no other statement starts and every key is reported for a retry, with the reason
    assert report.statements == 1
    assert report.batch_item_failures() == [
        {"itemIdentifier": sequence_number(record)} for record in records
    ]
    assert all(report.failures.values())
    assert cdc.warehouse.rows() == {}


def test_a_rejected_statement_makes_the_next_batch_read_the_schema_again(
    cdc: Harness, stream: StreamWriter
) -> None:
    # Given a batch whose only statement Athena rejects (the table may have changed)
    cdc.athena.poison = ("poison",)
    cdc.apply([stream.insert(order("poison"))])
    # When the next batch is applied / Then the schema is read from Glue again
    cdc.apply([stream.insert(order("A"))])
    assert cdc.glue.get_calls == 2
    assert "A" in cdc.warehouse.rows()


def test_unknown_attributes_after_a_removal_are_still_reported(
    cdc: Harness, stream: StreamWriter
) -> None:
    # Given a removal, then an order carrying an attribute the table lacks
    records = [stream.remove(order("A", old_note="x")), stream.insert(order("B", gift_note="y"))]
    # When applied / Then the order's attribute is reported (the removal carries none)
    report = cdc.apply(records)
    assert report.unknown_attributes == {"gift_note": 1}


def test_a_key_too_large_for_a_statement_is_reported_and_the_others_written(
    stream: StreamWriter,
) -> None:
    # Given a 6 KB limit and an order with 10,000 characters of status between two small ones
    cdc = harness(max_query_bytes=6000)
    records = [
        stream.insert(order("A")),
        stream.insert(order("big", status="x" * 10_000)),
        stream.insert(order("C")),
    ]
    # When applied
    report = cdc.apply(records)
    # Then it alone is reported, with a reason; the others are written
    assert report.batch_item_failures() == [{"itemIdentifier": sequence_number(records[1])}]
    assert all(report.failures.values())
    assert sorted(cdc.warehouse.rows()) == ["A", "C"]


def test_a_limit_too_small_for_the_tables_merge_reports_every_key(stream: StreamWriter) -> None:
    # Given a statement limit smaller than the table's empty MERGE
    cdc = harness(max_query_bytes=500)
    records = [stream.insert(order("A")), stream.insert(order("B"))]
    # When applied / Then every key is reported, with a reason, and nothing runs
    report = cdc.apply(records)
    assert sorted(report.failures) == sorted(sequence_number(r) for r in records)
    assert all(report.failures.values())
    assert report.statements == 0


# ------------------------------------------------------------------ rows


def test_an_attribute_matching_a_column_exactly_wins_over_one_differing_in_case(
    cdc: Harness, stream: StreamWriter
) -> None:
    # Given orders carrying "Status" before "status", and "status" before "Status"
    upper_first, exact_first = stream.insert(order("A")), stream.insert(order("B"))
    upper_first["dynamodb"]["NewImage"] = {
        "Status": {"S": "upper"},
        **upper_first["dynamodb"]["NewImage"],
    }
    exact_first["dynamodb"]["NewImage"]["Status"] = {"S": "upper"}
    # When applied
    report = cdc.apply([upper_first, exact_first])
    # Then the column takes the exactly named attribute's value either way
    assert report.failures == {}
    rows = cdc.warehouse.rows()
    assert (rows["A"]["status"], rows["B"]["status"]) == ("placed", "placed")


def test_attributes_after_an_unknown_one_are_still_written(
    cdc: Harness, stream: StreamWriter
) -> None:
    # Given an order whose image starts with an attribute the table lacks
    record = stream.insert(order("A", status="paid"))
    record["dynamodb"]["NewImage"] = {
        "aaa_unknown": {"S": "x"},
        **record["dynamodb"]["NewImage"],
    }
    # When applied / Then every known attribute after it lands in its column
    report = cdc.apply([record])
    row = cdc.warehouse.rows()["A"]
    assert (row["status"], row["amount"], row["quantity"]) == ("paid", Decimal("129.95"), 2)
    assert report.unknown_attributes == {"aaa_unknown": 1}


def test_attributes_after_a_case_variant_are_still_written(
    cdc: Harness, stream: StreamWriter
) -> None:
    # Given an order with "status", then "Status", then the other attributes
    record = stream.insert(order("A", status="paid"))
    image = record["dynamodb"]["NewImage"]
    record["dynamodb"]["NewImage"] = {
        "status": image.pop("status"),
        "Status": {"S": "upper"},
        **image,
    }
    # When applied / Then the exact attribute wins and the ones after it are written
    cdc.apply([record])
    row = cdc.warehouse.rows()["A"]
    assert (row["status"], row["amount"], row["quantity"]) == ("paid", Decimal("129.95"), 2)


def test_an_attribute_differing_only_in_case_fills_its_column(
    cdc: Harness, stream: StreamWriter
) -> None:
    # Given an order whose status attribute is spelled "STATUS" / When applied
    record = stream.insert({**order("A"), "STATUS": "shouted"})
    del record["dynamodb"]["NewImage"]["status"]
    cdc.apply([record])
    # Then the status column holds it
    assert cdc.warehouse.rows()["A"]["status"] == "shouted"


def test_an_image_whose_key_differs_from_the_records_keys_fails_its_key(
    cdc: Harness, stream: StreamWriter
) -> None:
    # Given a record whose NewImage names another order than its Keys, between good ones
    records = [stream.insert(order("A")), stream.insert(order("B")), stream.insert(order("C"))]
    records[1]["dynamodb"]["NewImage"]["order_id"] = {"S": "Z"}
    # When applied / Then it alone is reported, naming the key attribute; the others are written
    report = cdc.apply(records)
    assert report.batch_item_failures() == [{"itemIdentifier": sequence_number(records[1])}]
    assert report.failures[sequence_number(records[1])].split(": ")[1] == "order_id"
    assert sorted(cdc.warehouse.rows()) == ["A", "C"]


def test_a_key_that_cannot_become_its_columns_type_fails_its_key() -> None:
    # Given a table keyed by an int column and a record keyed by the text "" (and a good one)
    writer = StreamWriter(keys=("id",))
    cdc = harness((("id", "int"), ("v", "string")))
    records = [writer.insert({"id": "", "v": "a"}), writer.insert({"id": "2", "v": "b"})]
    # When applied / Then the bad key is reported; the good one is written
    report = cdc.apply(records)
    assert report.batch_item_failures() == [{"itemIdentifier": sequence_number(records[0])}]
    assert sorted(cdc.warehouse.rows()) == [2]


def test_a_removal_whose_key_cannot_become_its_columns_type_fails_its_key() -> None:
    # Given a table keyed by an int column, and removals keyed by "x" (not a number) and "2"
    writer = StreamWriter(keys=("id",))
    cdc = harness((("id", "int"), ("v", "string")))
    cdc.warehouse.insert({"id": 2, "v": "b"})
    records = [writer.remove({"id": "x"}), writer.remove({"id": "2"})]
    # When applied / Then the bad key is reported, naming its column; the other is deleted
    report = cdc.apply(records)
    assert report.batch_item_failures() == [{"itemIdentifier": sequence_number(records[0])}]
    assert report.failures[sequence_number(records[0])].split(": ")[1] == "id"
    assert cdc.warehouse.rows() == {}


def test_keys_that_become_one_table_key_are_written_once_the_later_winning() -> None:
    # Given a table keyed by an int column, and DynamoDB keys "7" then "07" (one table key)
    writer = StreamWriter(keys=("id",))
    cdc = harness((("id", "int"), ("v", "string")))
    records = [writer.insert({"id": "7", "v": "first"}), writer.insert({"id": "07", "v": "second"})]
    # When applied
    report = cdc.apply(records)
    # Then one row holds the later change, and both records count as applied in one key
    assert cdc.warehouse.rows() == {7: {"id": 7, "v": "second"}}
    assert report.records_applied == 2
    assert [key.key for key in report.applied] == [(("id", "07"),)]


def test_colliding_keys_that_fail_are_reported_by_the_earliest_record() -> None:
    # Given colliding keys "7" and "07" whose MERGE Athena always rejects
    writer = StreamWriter(keys=("id",))
    cdc = harness((("id", "int"), ("v", "string")))
    cdc.athena.poison = ("poison",)
    records = [writer.insert({"id": "7", "v": "a"}), writer.insert({"id": "07", "v": "poison"})]
    # When applied / Then the first record of either reports them, both counted
    report = cdc.apply(records)
    assert report.batch_item_failures() == [{"itemIdentifier": sequence_number(records[0])}]
    assert report.failed_records == 2


# ------------------------------------------------------------------ counting


@dataclass
class ScriptedRunner:
    """A StatementRunner answering each statement with the next scripted result."""

    results: list[RunResult]
    sql: list[str] = field(default_factory=list)

    def run(self, sql: str, remaining: Callable[[], float]) -> RunResult:
        self.sql.append(sql)
        return self.results.pop(0)


def scripted(
    cdc: Harness, *results: RunResult, **options: Any
) -> tuple[CdcApplier, ScriptedRunner]:
    runner = ScriptedRunner(list(results))
    applier = CdcApplier(ApplyOptions(DATABASE, TABLE, **options), cdc.catalog, runner)
    return applier, runner


def test_retries_are_summed_over_every_statement(cdc: Harness, stream: StreamWriter) -> None:
    # Given a 4 KB limit that needs two statements, each retried after conflicts and throttles
    applier, _ = scripted(
        cdc,
        RunResult(RunStatus.SUCCEEDED, "q-1", conflicts_retried=1, throttles_retried=2),
        RunResult(RunStatus.SUCCEEDED, "q-2", conflicts_retried=3, throttles_retried=4),
        max_query_bytes=4096,
    )
    records = [stream.insert(order(f"o-{n}", status="x" * 1200)) for n in range(2)]
    # When applied
    report = applier.apply(records, lambda: 600.0)
    # Then the report counts the retries of both statements and lists both executions
    assert (report.conflicts_retried, report.throttles_retried) == (4, 6)
    assert report.query_execution_ids == ["q-1", "q-2"]
    assert report.statements == 2


def test_only_statements_that_succeeded_list_their_execution(
    cdc: Harness, stream: StreamWriter
) -> None:
    # Given one key whose statement Athena rejects (it has an execution id)
    applier, _ = scripted(cdc, RunResult(RunStatus.FAILED, "q-failed", error="rejected"))
    record = stream.insert(order("A"))
    # When applied / Then the key is reported and no execution is listed
    report = applier.apply([record], lambda: 600.0)
    assert report.query_execution_ids == []
    assert list(report.failures) == [sequence_number(record)]


def test_a_statement_that_succeeded_without_an_execution_id_lists_none(
    cdc: Harness, stream: StreamWriter
) -> None:
    # Given a statement that succeeded but whose execution id is unknown
    applier, _ = scripted(cdc, RunResult(RunStatus.SUCCEEDED, None))
    # When applied / Then the key is applied and no execution is listed
    report = applier.apply([stream.insert(order("A"))], lambda: 600.0)
    assert report.query_execution_ids == []
    assert report.records_applied == 1


def test_the_summary_counts_what_the_batch_did(stream: StreamWriter) -> None:
    # Given TTL_DELETES=ignore and a batch that inserts, updates, deletes, ignores a TTL
    # removal and has an invalid record
    cdc = harness(ttl_policy=TtlPolicy.IGNORE)
    invalid = stream.insert(order("E"))
    del invalid["dynamodb"]["NewImage"]
    records = [
        stream.insert(order("A")),
        stream.modify(order("A", status="paid")),
        stream.modify(order("B")),
        stream.remove(order("C")),
        stream.remove(order("D"), ttl=True),
        invalid,
    ]
    # When applied
    report = cdc.apply(records)
    # Then its summary (what the log line and the announcement say) counts each outcome
    assert report.summary() == {
        "records": 6,
        "records_applied": 4,
        "records_failed": 1,
        "keys_applied": 3,
        "inserted": 1,
        "updated": 1,
        "deleted": 1,
        "ttl_deletes_ignored": 1,
        "statements": 1,
        "query_execution_ids": report.query_execution_ids,
    }
    assert len(report.query_execution_ids) == 1


def test_failing_applied_keys_reports_each_by_its_earliest_record(
    cdc: Harness, stream: StreamWriter
) -> None:
    # Given a batch applied: A twice, B once, and C that failed
    records = [
        stream.insert(order("A")),
        stream.insert(order("B")),
        stream.modify(order("A")),
        stream.insert(order("C", amount=Decimal("1.999"))),
    ]
    report = cdc.apply(records)
    first_reason = report.failures[sequence_number(records[3])]
    # When the applied keys are failed afterwards (their announcement cannot be put)
    report.fail_applied("announcement too large")
    # Then each applied key is reported by its earliest record; C keeps its own reason, and
    # only C's record counts as missing the table
    assert report.failures == {
        sequence_number(records[0]): "announcement too large",
        sequence_number(records[1]): "announcement too large",
        sequence_number(records[3]): first_reason,
    }
    assert report.failed_records == 1


def test_a_column_athena_refused_does_not_stop_other_new_columns(stream: StreamWriter) -> None:
    # Given UNKNOWN_ATTRIBUTES=add and a column Athena refused to add in an earlier batch
    cdc = harness(unknown_attributes=ADD)
    cdc.athena.script = [Outcome("FAILED", "NOT_SUPPORTED: ALTER TABLE")]
    cdc.apply([stream.insert(order("A", gift_note="hi"))])
    # When a batch carries it before another new attribute
    report = cdc.apply([stream.insert(order("B", gift_note="yo", rating=3))])
    # Then the other attribute is added; the refused one is not asked for again
    assert report.columns_added == [("rating", "decimal(38,9)")]
    assert report.unknown_attributes == {"gift_note": 1}
    assert cdc.athena.started[2] == (
        f"ALTER TABLE {DATABASE}.{TABLE} ADD COLUMNS (rating decimal(38,9))"
    )


def test_records_keyed_by_different_attributes_are_each_written_by_their_own_key() -> None:
    # Given no KEY_COLUMNS and records whose Keys name different attributes of the table
    by_order = StreamWriter(keys=("order_id",))
    by_line = StreamWriter(keys=("order_id", "line_no"), sequence=itertools.count(2000).__next__)
    cdc = harness((("order_id", "string"), ("line_no", "int"), ("v", "string")))
    records = [
        by_order.insert({"order_id": "A", "v": "a"}),
        by_line.insert({"order_id": "B", "line_no": 1, "v": "b"}),
    ]
    # When applied / Then each record is written, matched on its own key
    report = cdc.apply(records)
    assert report.failures == {}
    rows = cdc.warehouse.rows()
    assert {name: (row["line_no"], row["v"]) for name, row in rows.items()} == {
        "A": (None, "a"),
        "B": (1, "b"),
    }
