"""The pipeline configuration in DynamoDB Local (layers/shared/datalake_shared/config_store.py and
the config loader), on the two config tables exactly as template.yaml declares them: applied in
transactions within DynamoDB's limits, read back whole, and refused whole (before any write)
when one item could not be stored."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from boto_calls import CallRecorder
from eventbridge_fake import RecordingPublisher
from mypy_boto3_dynamodb import DynamoDBClient

from config_loader.service import ConfigLoader, LoadOutcome
from datalake_shared.config_problems import PipelineConfigError
from datalake_shared.config_store import PipelineConfigStore
from datalake_shared.pipeline_config import (
    BatchConfig,
    PipelineConfig,
    TableConfig,
    parse_pipeline_config,
)
from datalake_shared.s3_objects import S3Object
from tests.integration.engines.dynamodb_support import MAX_ITEM_BYTES, scan_all, utf8_len

NOW = "2026-11-23T10:00:00.000Z"
# A column name of the longest length the config allows.
LONG_COLUMN = "c" * 250


@pytest.fixture
def tables(template_table: Callable[[str], str]) -> tuple[str, str]:
    return template_table("BatchConfigTable"), template_table("TableConfigTable")


@pytest.fixture
def store(dynamodb: DynamoDBClient, tables: tuple[str, str]) -> PipelineConfigStore:
    return PipelineConfigStore(*tables, client=dynamodb, now=lambda: NOW)


def batch(cadence: str = "hourly") -> BatchConfig:
    return BatchConfig(cadence=cadence, batch_size=10, max_parallel_batches=2)


def table(
    source_table: str, cadence: str = "hourly", columns: int = 1, **extra: Any
) -> TableConfig:
    names = ["id"] + [f"{LONG_COLUMN}{n:05d}" for n in range(columns - 1)]
    return TableConfig.model_validate(
        {
            "cadence": cadence,
            "source_table": source_table,
            "target_database": "lake",
            "target_table": source_table.replace(".", "_").lower()[:255],
            "columns": [{"name": name, "type": "string"} for name in names],
            "primary_key": ["id"],
            "sequence_column": "change_ts",
            **extra,
        }
    )


def most_columns_accepted(source_table: str, up_to: int) -> int:
    """The most long columns a table config may have (``up_to`` if validation takes them all)."""
    low, high = 1, up_to
    while low < high:
        middle = (low + high + 1) // 2
        try:
            table(source_table, columns=middle)
        except ValueError:
            high = middle - 1
        else:
            low = middle
    return low


def config(*tables_: TableConfig, batches: Sequence[BatchConfig] = ()) -> PipelineConfig:
    cadences = sorted({t.cadence for t in tables_} | {b.cadence for b in batches})
    return PipelineConfig(
        batches=list(batches) or [batch(c) for c in cadences] or [batch()], tables=list(tables_)
    )


# ----------------------------------------------------------------------------- round trip


def test_an_applied_config_reads_back_as_written(store: PipelineConfigStore) -> None:
    # Given a config of one cadence and two tables, one inactive
    applied = config(table("sales.orders"), table("crm.customers", active=False))
    # When it is applied and read back
    store.apply(applied)
    # Then the batch config and both tables come back as validated, sorted by table
    assert store.load_batch_config("hourly") == applied.batches[0]
    assert store.load_table_configs("hourly") == [applied.tables[1], applied.tables[0]]
    assert store.load_table_configs("hourly", active_only=True) == [applied.tables[0]]
    assert store.load_batch_config("daily") is None


def test_every_page_of_a_cadences_tables_is_read(
    dynamodb: DynamoDBClient, tables: tuple[str, str]
) -> None:
    # Given 30 tables, every third inactive, read 7 items per page
    store = PipelineConfigStore(*tables, client=dynamodb, now=lambda: NOW, page_size=7)
    store.apply(config(*(table(f"s.t{n:02d}", active=n % 3 != 0) for n in range(30))))
    recorder = CallRecorder(dynamodb)
    # When the active ones are listed (the filter applies within each page)
    active = store.load_table_configs("hourly", active_only=True)
    # Then all 20 come back, over several pages
    assert [t.source_table for t in active] == [f"s.t{n:02d}" for n in range(30) if n % 3]
    assert len(recorder.params_of("Query")) >= 5


def test_a_table_moved_to_another_cadence_is_deactivated_where_it_was(
    store: PipelineConfigStore,
) -> None:
    # Given sales.orders stored under hourly
    store.apply(config(table("sales.orders")))
    # When a config moves it to daily
    plan = store.apply(config(table("sales.orders", cadence="daily"), batches=[batch("daily")]))
    # Then the hourly item stays, inactive, and the daily one is active
    assert [t.cadence for t in plan.deactivated] == ["hourly"]
    assert [t.active for t in store.load_table_configs("hourly")] == [False]
    assert [t.active for t in store.load_table_configs("daily")] == [True]


# ----------------------------------------------------------------------------- transactions


def test_more_than_100_items_are_written_in_several_transactions(
    store: PipelineConfigStore, dynamodb: DynamoDBClient, tables: tuple[str, str]
) -> None:
    # Given a config of 1 cadence and 150 tables (151 items)
    recorder = CallRecorder(dynamodb)
    # When it is applied
    plan = store.apply(config(*(table(f"s.t{n:03d}") for n in range(150))))
    # Then DynamoDB took two transactions, within its 100 actions each, and holds every item
    sizes = [len(t["TransactItems"]) for t in recorder.params_of("TransactWriteItems")]
    assert (plan.transactions, sizes) == (2, [100, 51])
    assert len(scan_all(dynamodb, tables[1])) == 150


def test_large_items_are_split_to_stay_under_the_4_mb_of_a_transaction(
    store: PipelineConfigStore, dynamodb: DynamoDBClient, tables: tuple[str, str]
) -> None:
    # Given 12 tables of ~375 KB each (4.5 MB in all)
    big = [table(f"s.t{n:02d}", columns=1320) for n in range(12)]
    assert all(utf8_len(t.model_dump_json()) > 370_000 for t in big)
    recorder = CallRecorder(dynamodb)
    # When applied
    plan = store.apply(config(*big))
    # Then no transaction carried 4 MB, and every table is stored
    assert plan.transactions >= 2
    for transaction in recorder.params_of("TransactWriteItems"):
        stored = sum(
            utf8_len(action["Put"]["Item"]["config"]["S"])
            for action in transaction["TransactItems"]
        )
        assert stored < 4 * 1024 * 1024
    assert len(scan_all(dynamodb, tables[1])) == 12


# ----------------------------------------------------------------------------- item size


def test_the_largest_valid_table_config_is_stored(
    store: PipelineConfigStore, dynamodb: DynamoDBClient, tables: tuple[str, str]
) -> None:
    # Given the table config with the most long columns validation lets through, under the
    # longest source table name
    name = "s." + "t" * 1022
    largest = table(name, columns=most_columns_accepted(name, up_to=3000))
    # When it is applied
    store.apply(config(largest))
    # Then DynamoDB holds it, within its 400 KB item limit, and it reads back whole
    assert store.load_table_configs("hourly") == [largest]
    item = dynamodb.get_item(
        TableName=tables[1],
        Key={"cadence": {"S": "hourly"}, "source_table": {"S": name}},
    )["Item"]
    assert utf8_len(item["config"]["S"]) > MAX_ITEM_BYTES - 4096


def test_a_table_config_too_large_for_one_item_is_a_validation_problem() -> None:
    # Given a config file whose second table has 1,700 long columns (~450 KB as stored)
    columns = "\n".join(
        f"      - {{name: {LONG_COLUMN}{n:05d}, type: string}}" for n in range(1700)
    )
    text = f"""batches:
  - {{cadence: hourly, batch_size: 10, max_parallel_batches: 2}}
tables:
  - {{cadence: hourly, source_table: sales.orders, target_database: lake, target_table: orders,
      columns: [{{name: id, type: bigint}}], primary_key: [id], sequence_column: ts}}
  - cadence: hourly
    source_table: sales.wide
    target_database: lake
    target_table: wide
    primary_key: [id]
    sequence_column: ts
    columns:
      - {{name: id, type: bigint}}
{columns}
"""
    # When it is parsed / Then the table is rejected, located, with the limit named
    with pytest.raises(PipelineConfigError) as rejected:
        parse_pipeline_config(text, "pipeline.yaml")
    [problem] = rejected.value.problems
    assert (problem.location, problem.line) == ("tables[1]", 6)
    assert "400 KB" in problem.message


def test_a_source_table_longer_than_a_sort_key_is_a_validation_problem() -> None:
    # Given a table whose name is one byte over the TableConfig table's 1,024-byte sort key
    name = "s." + "t" * 1023
    # When validated / Then it is refused, naming the field
    with pytest.raises(ValueError, match="source_table"):
        table(name)


def test_an_oversized_item_rejects_the_whole_config_before_any_write(
    store: PipelineConfigStore, dynamodb: DynamoDBClient, tables: tuple[str, str]
) -> None:
    # Given 120 valid tables and, last, one whose item is over 400 KB (built without
    # validation, as a caller of the store could)
    valid = [table(f"s.t{n:03d}") for n in range(120)]
    oversized = table("s.wide").model_copy(
        update={"columns": table("s.x", columns=1320).columns * 2}
    )
    unchecked = PipelineConfig.model_construct(batches=[batch()], tables=[*valid, oversized])
    # When it is applied
    with pytest.raises(PipelineConfigError) as rejected:
        store.apply(unchecked)
    # Then it is refused with the table named, and neither table holds anything
    assert [problem.location for problem in rejected.value.problems] == ["tables[120]"]
    assert "400 KB" in str(rejected.value)
    assert scan_all(dynamodb, tables[0]) == []
    assert scan_all(dynamodb, tables[1]) == []


# ----------------------------------------------------------------------------- config loader


@dataclass
class InMemoryObjects:
    """The config bucket: one object per key."""

    objects: dict[str, bytes] = field(default_factory=dict)

    def read(self, bucket: str, key: str, max_bytes: int) -> S3Object:
        return S3Object(self.objects[key], version_id="v1")

    def put_text(self, bucket: str, key: str, text: str) -> None:
        self.objects[key] = text.encode()

    def delete_if_exists(self, bucket: str, key: str) -> bool:
        return self.objects.pop(key, None) is not None


def test_the_loader_rejects_an_unstorable_file_and_keeps_the_stored_config(
    store: PipelineConfigStore, dynamodb: DynamoDBClient, tables: tuple[str, str]
) -> None:
    # Given a stored config, and an upload whose table has a 500 KB description of its batch
    store.apply(config(table("sales.orders")))
    before = scan_all(dynamodb, tables[0]), scan_all(dynamodb, tables[1])
    objects = InMemoryObjects(
        {
            "pipeline.json": (
                '{"batches": [{"cadence": "hourly", "batch_size": 1, '
                f'"max_parallel_batches": 1, "description": "{"d" * 500_000}"}}]}}'
            ).encode()
        }
    )
    loader = ConfigLoader(
        objects, store, RecordingPublisher(), frozenset({"lake"}), now=lambda: NOW
    )
    # When the loader handles the upload
    result = loader.load("config-bucket", "pipeline.json", len(objects.objects["pipeline.json"]))
    # Then it is rejected with a report naming the batch, and the tables are as they were
    assert result.outcome is LoadOutcome.REJECTED
    assert [p.split(":")[0] for p in result.problems] == ["batches[0]"]
    assert "400 KB" in objects.objects["pipeline.json.rejected.txt"].decode()
    assert (scan_all(dynamodb, tables[0]), scan_all(dynamodb, tables[1])) == before


def test_the_loader_applies_a_valid_file_to_dynamodb(
    store: PipelineConfigStore, dynamodb: DynamoDBClient, tables: tuple[str, str]
) -> None:
    # Given a valid upload
    text = (
        '{"batches": [{"cadence": "hourly", "batch_size": 1, "max_parallel_batches": 1}], '
        '"tables": [{"cadence": "hourly", "source_table": "sales.orders", '
        '"target_database": "lake", "target_table": "orders", '
        '"columns": [{"name": "id", "type": "bigint"}], "primary_key": ["id"], '
        '"sequence_column": "ts"}]}'
    )
    objects = InMemoryObjects({"pipeline.json": text.encode()})
    events = RecordingPublisher()
    loader = ConfigLoader(objects, store, events, frozenset({"lake"}), now=lambda: NOW)
    # When the loader handles it
    result = loader.load("config-bucket", "pipeline.json", len(text))
    # Then the config is in DynamoDB and announced
    assert result.outcome is LoadOutcome.APPLIED
    assert [t.source_table for t in store.load_table_configs("hourly")] == ["sales.orders"]
    assert events.types() == ["Pipeline Config Applied"]
