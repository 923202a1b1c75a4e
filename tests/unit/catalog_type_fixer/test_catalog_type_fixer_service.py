import pytest
from botocore.exceptions import ClientError
from catalog_type_fixer_fakes import (
    DATABASE,
    FakeCatalog,
    access_denied,
    column_types,
    crawled_table,
    database_event,
    fixer_over,
    iceberg_table,
    parquet_table,
    table_event,
)

from catalog_type_fixer.service import (
    CatalogTypeFixer,
    FixOutcome,
    FixResult,
    TableChangedMeanwhileError,
)


def test_crawled_table_is_updated_with_arrays(
    fixer: CatalogTypeFixer, catalog: FakeCatalog
) -> None:
    # Given the crawler updated the DynamoDB-crawled table
    # When its UpdateTable event is handled
    [result] = fixer.fix(table_event("sessions"))
    # Then the table's sets are arrays, and the fixed columns are named
    assert result == FixResult(
        FixOutcome.FIXED,
        DATABASE,
        "sessions",
        columns=("tags", "page_ids", "device", "experiments"),
    )
    assert column_types(catalog.table("sessions"))["device"] == (
        "struct<tags:array<string>,n:bigint>"
    )


def test_update_is_made_at_the_version_read(fixer: CatalogTypeFixer, catalog: FakeCatalog) -> None:
    # Given the crawled table at version 3 / When fixed
    fixer.fix(table_event("sessions"))
    # Then one UpdateTable was made, conditioned on version 3
    assert [(call.database, call.version_id) for call in catalog.updates] == [(DATABASE, "3")]


def test_update_keeps_parameters_location_and_partition_keys(
    fixer: CatalogTypeFixer, catalog: FakeCatalog
) -> None:
    # Given the crawled table / When fixed
    before = crawled_table()
    fixer.fix(table_event("sessions"))
    after = catalog.table("sessions")
    # Then its parameters, location, SerDe and partition keys are as the crawler wrote them
    assert after["Parameters"] == before["Parameters"]
    assert after["StorageDescriptor"]["Location"] == before["StorageDescriptor"]["Location"]
    assert after["StorageDescriptor"]["SerdeInfo"] == before["StorageDescriptor"]["SerdeInfo"]
    assert after["PartitionKeys"] == before["PartitionKeys"]
    assert after["StorageDescriptor"]["Columns"][2] == {
        "Name": "tags",
        "Type": "array<string>",
        "Comment": "String Set",
        "Parameters": {"source": "SS"},
    }


def test_created_table_is_fixed_too(fixer: CatalogTypeFixer, catalog: FakeCatalog) -> None:
    # Given the crawler's first run created the table / When its CreateTable event is handled
    [result] = fixer.fix(table_event("sessions", change="CreateTable"))
    # Then it is fixed
    assert result.outcome is FixOutcome.FIXED
    assert len(catalog.updates) == 1


def test_own_update_event_changes_nothing_more(
    fixer: CatalogTypeFixer, catalog: FakeCatalog
) -> None:
    # Given the table already fixed by a first event
    fixer.fix(table_event("sessions"))
    # When the UpdateTable event of that fix arrives in turn
    [result] = fixer.fix(table_event("sessions"))
    # Then it is unchanged and no second update is made: no loop
    assert result.outcome is FixOutcome.UNCHANGED
    assert len(catalog.updates) == 1


def test_table_without_sets_is_unchanged_without_update(
    fixer: CatalogTypeFixer, catalog: FakeCatalog
) -> None:
    # Given a Parquet table without set types / When its event is handled
    [result] = fixer.fix(table_event("orders_parquet"))
    # Then no UpdateTable call is made
    assert (result.outcome, catalog.updates) == (FixOutcome.UNCHANGED, [])


def test_iceberg_table_is_refused_even_with_a_set_column(catalog: FakeCatalog) -> None:
    # Given an Iceberg table whose catalog entry (oddly) holds a set type
    table = iceberg_table()
    table["StorageDescriptor"]["Columns"][1]["Type"] = "set<string>"
    catalog.add(table)
    # When its event is handled
    [result] = fixer_over(catalog).fix(table_event("sessions_iceberg"))
    # Then it is refused and left as it is
    assert (result.outcome, result.note) == (
        FixOutcome.REFUSED,
        "an Iceberg table (table_type ICEBERG)",
    )
    assert catalog.updates == []


def test_deleted_table_is_skipped(fixer: CatalogTypeFixer, catalog: FakeCatalog) -> None:
    # Given an event for a table deleted since / When handled
    [result] = fixer.fix(table_event("gone"))
    # Then it is skipped, saying why
    assert (result.outcome, result.note) == (FixOutcome.SKIPPED, "table deleted since the event")
    assert catalog.updates == []


def test_table_deleted_between_read_and_update_is_skipped(
    fixer: CatalogTypeFixer, catalog: FakeCatalog
) -> None:
    # Given the table read, then deleted before the update reaches Glue
    original = catalog.update_table

    def delete_then_update(database: str, table_input: dict, version_id: str | None) -> None:
        del catalog.tables[(database, table_input["Name"])]
        original(database, table_input, version_id)

    catalog.update_table = delete_then_update  # type: ignore[method-assign]
    # When fixed / Then it is skipped, not failed
    [result] = fixer.fix(table_event("sessions"))
    assert (result.outcome, result.note) == (
        FixOutcome.SKIPPED,
        "table deleted before it could be updated",
    )


def test_crawler_write_between_read_and_update_fails_the_fix(
    fixer: CatalogTypeFixer, catalog: FakeCatalog
) -> None:
    # Given a crawler writes the table right after the fixer reads it
    catalog.crawler_writes_after_read = 1
    # When fixed / Then Glue's version check refuses the update and the fix raises
    with pytest.raises(TableChangedMeanwhileError):
        fixer.fix(table_event("sessions"))
    # And the table keeps the crawler's columns
    assert column_types(catalog.table("sessions"))["tags"] == "set<string>"


def test_retry_after_a_concurrent_write_fixes_the_new_version(
    fixer: CatalogTypeFixer, catalog: FakeCatalog
) -> None:
    # Given a first attempt lost to a crawler's write
    catalog.crawler_writes_after_read = 1
    with pytest.raises(TableChangedMeanwhileError):
        fixer.fix(table_event("sessions"))
    # When the redelivered event is handled
    [result] = fixer.fix(table_event("sessions"))
    # Then the update is made at the new version
    assert result.outcome is FixOutcome.FIXED
    assert [call.version_id for call in catalog.updates] == ["3", "4"]


def test_other_glue_errors_propagate(fixer: CatalogTypeFixer, catalog: FakeCatalog) -> None:
    # Given Glue denies the update
    catalog.update_errors.append(access_denied())
    # When fixed / Then the ClientError reaches the caller (the record fails)
    with pytest.raises(ClientError, match="AccessDeniedException"):
        fixer.fix(table_event("sessions"))


def test_other_database_is_skipped_without_reading(catalog: FakeCatalog) -> None:
    # Given the same table in a database the fixer is not configured for
    catalog.add(crawled_table(), database="sandbox_db")
    # When its event is handled
    [result] = fixer_over(catalog, DATABASE).fix(table_event("sessions", database="sandbox_db"))
    # Then it is skipped without a read or an update
    assert (result.outcome, result.note) == (
        FixOutcome.SKIPPED,
        "database not in TYPE_FIXER_DATABASES",
    )
    assert (catalog.reads, catalog.updates) == (0, [])


def test_databases_match_whatever_their_case_in_the_setting(catalog: FakeCatalog) -> None:
    # Given the fixer configured with the database in uppercase / When an event comes
    [result] = fixer_over(catalog, "CRAWLED_DB").fix(table_event("sessions"))
    # Then Glue's lowercase name matches
    assert result.outcome is FixOutcome.FIXED


@pytest.mark.parametrize(
    "change",
    [
        "DeleteTable",
        "BatchDeleteTable",
        "CreatePartition",
        "BatchCreatePartition",
        "UpdatePartition",
        "BatchUpdatePartition",
        "DeletePartition",
        "BatchDeletePartition",
    ],
)
def test_changes_other_than_create_or_update_table_are_skipped(
    fixer: CatalogTypeFixer, catalog: FakeCatalog, change: str
) -> None:
    # Given an event of a partition or delete change / When handled
    [result] = fixer.fix(table_event("sessions", change=change))
    # Then it is skipped, naming the change, without a read
    assert result.outcome is FixOutcome.SKIPPED
    assert change in result.note
    assert catalog.reads == 0


def test_view_is_skipped(catalog: FakeCatalog) -> None:
    # Given a view whose columns (oddly) hold a set
    catalog.add(crawled_table() | {"Name": "sessions_view", "TableType": "VIRTUAL_VIEW"})
    # When its event is handled / Then it is skipped and not updated
    [result] = fixer_over(catalog).fix(table_event("sessions_view"))
    assert result.outcome is FixOutcome.SKIPPED
    assert catalog.updates == []


def test_parquet_partition_keys_survive_when_a_set_column_is_fixed(catalog: FakeCatalog) -> None:
    # Given a partitioned table with one set column
    table = parquet_table()
    table["StorageDescriptor"]["Columns"].append({"Name": "labels", "Type": "set<string>"})
    catalog.add(table)
    # When fixed
    fixer_over(catalog).fix(table_event("orders_parquet"))
    # Then its partition keys and SerDe are unchanged and the column is an array
    after = catalog.table("orders_parquet")
    assert after["PartitionKeys"] == table["PartitionKeys"]
    assert after["StorageDescriptor"]["SerdeInfo"] == table["StorageDescriptor"]["SerdeInfo"]
    assert column_types(after)["labels"] == "array<string>"


def test_a_crawlers_first_run_fixes_every_table_it_created(
    fixer: CatalogTypeFixer, catalog: FakeCatalog
) -> None:
    # Given a crawler's first run created two tables, announced as one database state change
    second = crawled_table()
    second["Name"] = "sessions_archive"
    catalog.add(second)
    # When the CreateTable event is handled
    results = fixer.fix(database_event(["sessions", "sessions_archive", "orders_parquet"]))
    # Then each table it names got its own result, the crawled ones fixed
    assert [(r.table, r.outcome) for r in results] == [
        ("sessions", FixOutcome.FIXED),
        ("sessions_archive", FixOutcome.FIXED),
        ("orders_parquet", FixOutcome.UNCHANGED),
    ]
    assert column_types(catalog.table("sessions_archive"))["tags"] == "array<string>"


def test_a_table_failing_in_a_database_change_fails_the_event_and_its_retry_converges(
    fixer: CatalogTypeFixer, catalog: FakeCatalog
) -> None:
    # Given two created tables, the second one's update denied once
    second = crawled_table()
    second["Name"] = "sessions_archive"
    catalog.add(second)
    event = database_event(["sessions", "sessions_archive"])
    catalog.update_errors.extend([None, access_denied()])
    # When the event is handled, then handled again (SQS redelivers it)
    with pytest.raises(ClientError):
        fixer.fix(event)
    results = fixer.fix(event)
    # Then the retry left the first table alone and fixed the second
    assert [r.outcome for r in results] == [FixOutcome.UNCHANGED, FixOutcome.FIXED]


def test_a_deleted_tables_database_change_is_skipped_for_each_table(
    fixer: CatalogTypeFixer, catalog: FakeCatalog
) -> None:
    # Given a BatchDeleteTable announced as a database state change
    event = database_event(["sessions", "orders_parquet"], change="BatchDeleteTable")
    # When handled / Then nothing is read, each table is skipped saying why
    results = fixer.fix(event)
    assert [(r.table, r.outcome) for r in results] == [
        ("sessions", FixOutcome.SKIPPED),
        ("orders_parquet", FixOutcome.SKIPPED),
    ]
    assert catalog.reads == 0
