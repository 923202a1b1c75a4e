"""PipelineConfigStore against moto: items, transactions of 100, paginated reads."""

import json
from typing import Any, cast

import pytest
from boto_calls import CallRecorder
from config_loader_fakes import (
    BATCH_TABLE,
    BATCH_TABLE_KEYS,
    FIXED_NOW,
    TABLE_TABLE,
    TABLE_TABLE_KEYS,
    config_dict,
    many_tables,
    sample_config_text,
    table_dict,
)
from moto import mock_aws

from datalake_contracts.table_config import MAX_SOURCE_TABLE_LENGTH
from datalake_shared.config_problems import PipelineConfigError
from datalake_shared.config_store import (
    MAX_BYTES_PER_TRANSACTION,
    MAX_ITEMS_PER_TRANSACTION,
    PipelineConfigStore,
    StoredTable,
    item_bytes,
)
from datalake_shared.pipeline_config import (
    MAX_ITEM_BYTES,
    MAX_STORED_CONFIG_BYTES,
    ColumnConfig,
    PipelineConfig,
    TableConfig,
    parse_pipeline_config,
)


def config_of(tables: list[dict[str, Any]], cadences: tuple[str, ...] = ("hourly",)) -> Any:
    return PipelineConfig.model_validate(config_dict(tables, cadences))


def table_item(dynamodb: Any, cadence: str, source_table: str) -> dict[str, Any] | None:
    response = dynamodb.get_item(
        TableName=TABLE_TABLE,
        Key={"cadence": {"S": cadence}, "source_table": {"S": source_table}},
    )
    item: dict[str, Any] | None = response.get("Item")
    return item


def test_apply_writes_one_item_per_batch_and_table(
    config_store: PipelineConfigStore, dynamodb: Any
) -> None:
    # Given the example config / When applied
    config = parse_pipeline_config(sample_config_text(), "pipeline.yaml")
    plan = config_store.apply(config)
    # Then each cadence and each table has its item, in one transaction
    assert dynamodb.scan(TableName=BATCH_TABLE)["Count"] == 3
    assert dynamodb.scan(TableName=TABLE_TABLE)["Count"] == 4
    assert plan.summary() == {
        "batches": 3,
        "tables": 4,
        "active_tables": 3,
        "deactivated": 0,
        "untouched": 0,
        "transactions": 1,
    }


def test_table_item_holds_keys_active_flag_and_the_model_json(
    config_store: PipelineConfigStore, dynamodb: Any
) -> None:
    # Given an inactive table / When applied
    config_store.apply(config_of([table_dict(active=False)]))
    # Then its item carries the keys, the flag, the JSON of the model and the time
    item = table_item(dynamodb, "hourly", "sales.orders")
    assert item is not None
    assert set(item) == {"cadence", "source_table", "active", "config", "updated_at"}
    assert item["active"] == {"BOOL": False}
    assert item["updated_at"] == {"S": FIXED_NOW}
    assert json.loads(item["config"]["S"])["primary_key"] == ["id"]


def test_stored_configs_read_back_equal_to_what_was_applied(
    config_store: PipelineConfigStore,
) -> None:
    # Given the example config applied
    config = parse_pipeline_config(sample_config_text(), "pipeline.yaml")
    config_store.apply(config)
    # When each cadence is read back / Then batch and tables are exactly the file's
    for batch in config.batches:
        assert config_store.load_batch_config(batch.cadence) == batch
        expected = sorted(
            (t for t in config.tables if t.cadence == batch.cadence), key=lambda t: t.source_table
        )
        assert config_store.load_table_configs(batch.cadence) == expected


def test_unknown_cadence_has_no_batch_config_and_no_tables(
    config_store: PipelineConfigStore,
) -> None:
    assert config_store.load_batch_config("weekly") is None
    assert config_store.load_table_configs("weekly") == []


def test_active_only_leaves_out_inactive_tables(config_store: PipelineConfigStore) -> None:
    # Given the example config (sales.returns is inactive on the daily cadence)
    config_store.apply(parse_pipeline_config(sample_config_text(), "pipeline.yaml"))
    # When the daily tables are read, active only / Then sales.returns is left out
    tables = config_store.load_table_configs("daily", active_only=True)
    assert [t.source_table for t in tables] == ["inventory.products"]


def test_apply_writes_in_transactions_of_at_most_100_items(
    config_store: PipelineConfigStore, dynamodb: Any
) -> None:
    # Given 250 tables and their batch config (251 items)
    recorder = CallRecorder(dynamodb)
    # When applied
    plan = config_store.apply(config_of(many_tables(250)))
    # Then 3 transactions write 100, 100 and 51 items, the batch config first
    calls = recorder.params_of("TransactWriteItems")
    assert [len(call["TransactItems"]) for call in calls] == [100, 100, 51]
    assert calls[0]["TransactItems"][0]["Put"]["TableName"] == BATCH_TABLE
    assert plan.transactions == 3
    assert dynamodb.scan(TableName=TABLE_TABLE, Select="COUNT")["Count"] == 250
    assert max(len(c["TransactItems"]) for c in calls) <= MAX_ITEMS_PER_TRANSACTION


def test_large_items_split_transactions_before_the_4_mb_limit(
    config_store: PipelineConfigStore, dynamodb: Any
) -> None:
    # Given 90 tables of 1000 columns each (~50 KB per item, ~4.5 MB in all)
    columns = [{"name": f"column_{n:04d}", "type": "decimal(38,10)"} for n in range(1000)]
    tables = [
        table_dict(f"wide.t{n:02d}", columns=columns, primary_key=["column_0000"])
        for n in range(90)
    ]
    recorder = CallRecorder(dynamodb)
    # When applied
    config_store.apply(config_of(tables))
    # Then no transaction carries more than 3.5 MB of items, as DynamoDB counts them
    calls = recorder.params_of("TransactWriteItems")
    sizes = [
        sum(item_bytes(action["Put"]["Item"]) for action in call["TransactItems"]) for call in calls
    ]
    assert len(calls) > 1
    assert max(sizes) <= MAX_BYTES_PER_TRANSACTION < 4 * 1024 * 1024


def test_apply_twice_is_harmless(config_store: PipelineConfigStore, dynamodb: Any) -> None:
    # Given the example config applied / When applied again (a retry)
    config = parse_pipeline_config(sample_config_text(), "pipeline.yaml")
    config_store.apply(config)
    config_store.apply(config)
    # Then the same items are there, once each
    assert dynamodb.scan(TableName=TABLE_TABLE)["Count"] == 4
    assert config_store.load_table_configs("hourly") == sorted(
        (t for t in config.tables if t.cadence == "hourly"), key=lambda t: t.source_table
    )


def test_apply_replaces_a_changed_table(config_store: PipelineConfigStore) -> None:
    # Given a table applied, then changed to history mode in the next file
    config_store.apply(config_of([table_dict()]))
    config_store.apply(config_of([table_dict(mode="history")]))
    # Then the stored config is the new one
    [table] = config_store.load_table_configs("hourly")
    assert table.mode == "history"


def test_tables_absent_from_the_file_are_left_as_they_are(
    config_store: PipelineConfigStore,
) -> None:
    # Given two tables applied, then a file with only one of them
    config_store.apply(config_of([table_dict("sales.orders"), table_dict("sales.items")]))
    plan = config_store.apply(config_of([table_dict("sales.orders")]))
    # Then the other is still stored and active, and reported as untouched
    assert [t.source_table for t in config_store.load_table_configs("hourly")] == [
        "sales.items",
        "sales.orders",
    ]
    assert plan.untouched == (StoredTable("hourly", "sales.items", active=True),)


def test_a_table_moved_to_another_cadence_is_deactivated_under_the_old_one(
    config_store: PipelineConfigStore,
) -> None:
    # Given sales.orders applied on the hourly cadence
    config_store.apply(config_of([table_dict(cadence="hourly")], ("hourly", "daily")))
    # When a file moves it to the daily cadence
    plan = config_store.apply(config_of([table_dict(cadence="daily")], ("hourly", "daily")))
    # Then the hourly item stays, deactivated, so only the daily cadence merges the table
    assert [t.source_table for t in config_store.load_table_configs("hourly")] == ["sales.orders"]
    assert config_store.load_table_configs("hourly", active_only=True) == []
    assert [t.cadence for t in config_store.load_table_configs("daily", active_only=True)] == [
        "daily"
    ]
    assert [(t.cadence, t.active) for t in plan.deactivated] == [("hourly", False)]


def test_load_table_configs_reads_every_page(dynamodb: Any) -> None:
    # Given 35 tables, read 10 per page
    store = PipelineConfigStore(BATCH_TABLE, TABLE_TABLE, client=dynamodb, page_size=10)
    store.apply(config_of(many_tables(35)))
    recorder = CallRecorder(dynamodb)
    # When the cadence's tables are loaded
    tables = store.load_table_configs("hourly")
    # Then four Query calls return all 35, in source_table order
    assert len(recorder.params_of("Query")) == 4
    assert [t.source_table for t in tables] == [f"sales.t{n:04d}" for n in range(35)]
    assert recorder.params_of("Scan") == []


def test_load_table_configs_queries_by_cadence_never_scans(
    config_store: PipelineConfigStore, dynamodb: Any
) -> None:
    config_store.apply(parse_pipeline_config(sample_config_text(), "pipeline.yaml"))
    recorder = CallRecorder(dynamodb)
    config_store.load_table_configs("hourly", active_only=True)
    assert recorder.operations() == ["Query"]
    [query] = recorder.params_of("Query")
    assert query["ExpressionAttributeValues"][":cadence"] == {"S": "hourly"}


def test_corrupt_stored_item_is_reported_with_its_key(
    config_store: PipelineConfigStore, dynamodb: Any
) -> None:
    # Given an item whose config someone edited by hand into something invalid
    dynamodb.put_item(
        TableName=TABLE_TABLE,
        Item={
            "cadence": {"S": "hourly"},
            "source_table": {"S": "sales.orders"},
            "config": {"S": json.dumps({"cadence": "hourly"})},
        },
    )
    # When read / Then the error names the item
    with pytest.raises(PipelineConfigError, match=r"table-config-test\[hourly, sales\.orders\]"):
        config_store.load_table_configs("hourly")


def test_client_is_built_on_first_use_only() -> None:
    # Given a store built without a client / Then no client exists until one is needed
    store = PipelineConfigStore("b", "t")
    assert "client" not in vars(store)
    # When it is first used / Then a DynamoDB client is built and kept
    with mock_aws():
        assert store.client.meta.service_model.service_name == "dynamodb"
        assert store.client is store.client


def test_table_item_round_trips_through_the_model() -> None:
    table = TableConfig.model_validate(table_dict(partition_by=["day"]))
    item = PipelineConfigStore.table_item(table, FIXED_NOW)
    assert TableConfig.model_validate_json(item["config"]["S"]) == table


def test_template_tables_match_the_store_keys(sam_template: dict[str, Any]) -> None:
    # Given the template's config tables (declared by the lead's wiring)
    resources = sam_template["Resources"]
    # A renamed or removed table fails here, never skips.
    assert {"BatchConfigTable", "TableConfigTable"} <= resources.keys()
    # Then their keys are the ones the store reads and writes
    for name, keys in (
        ("BatchConfigTable", BATCH_TABLE_KEYS),
        ("TableConfigTable", TABLE_TABLE_KEYS),
    ):
        properties = resources[name]["Properties"]
        assert properties["KeySchema"] == keys["KeySchema"]
        assert sorted(
            properties["AttributeDefinitions"], key=lambda a: a["AttributeName"]
        ) == sorted(keys["AttributeDefinitions"], key=lambda a: a["AttributeName"])


class FailingSecondTransaction:
    """A DynamoDB client whose second TransactWriteItems call fails, as a throttle would."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.transactions = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def transact_write_items(self, **params: Any) -> Any:
        self.transactions += 1
        if self.transactions == 2:
            raise self._client.exceptions.TransactionCanceledException(
                {"Error": {"Code": "TransactionCanceledException", "Message": "throttled"}},
                "TransactWriteItems",
            )
        return self._client.transact_write_items(**params)


def test_failed_transaction_raises_and_applying_again_completes(dynamodb: Any) -> None:
    # Given 150 tables and a client whose second transaction fails
    flaky = FailingSecondTransaction(dynamodb)
    store = PipelineConfigStore(BATCH_TABLE, TABLE_TABLE, client=cast(Any, flaky))
    config = config_of(many_tables(150))
    # When applied / Then the error is raised with only the first 100 items written
    with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
        store.apply(config)
    assert dynamodb.scan(TableName=TABLE_TABLE, Select="COUNT")["Count"] == 99
    # When applied again / Then every table is there
    store.apply(config)
    assert len(store.load_table_configs("hourly")) == 150


@pytest.mark.parametrize(
    ("item", "size"),
    [
        ({"name": {"S": "abc"}}, 4 + 3),
        ({"é": {"S": "€"}}, 2 + 3),
        ({"flag": {"BOOL": True}}, 4 + 1),
        ({"n": {"N": "12345"}}, 1 + 21),
        ({"l": {"L": [{"S": "ab"}, {"NULL": True}]}}, 1 + 3 + (1 + 2) + (1 + 1)),
        ({"m": {"M": {"k": {"S": "v"}}}}, 1 + 3 + 1 + 1 + 1),
    ],
)
def test_item_size_counts_names_and_values_as_dynamodb_does(
    item: dict[str, Any], size: int
) -> None:
    # Given an item / When measured / Then names and values count in UTF-8 bytes (numbers at
    # their largest, containers with their overhead)
    assert item_bytes(item) == size


def test_the_largest_valid_config_fits_one_item_with_the_longest_keys() -> None:
    # Given a table config at the stored limit, with the longest cadence and source table
    base = TableConfig.model_validate(
        table_dict("s." + "t" * (MAX_SOURCE_TABLE_LENGTH - 2), cadence="c" * 40, target_table="t")
    )
    room = MAX_STORED_CONFIG_BYTES - len(base.model_dump_json())
    padding = base.columns[0].model_copy(update={"name": "p" * 200})
    columns = [*base.columns, *[padding] * (room // (len(padding.model_dump_json()) + 1))]
    largest = base.model_copy(update={"columns": columns, "active": False})
    assert MAX_STORED_CONFIG_BYTES - 300 < len(largest.model_dump_json()) <= MAX_STORED_CONFIG_BYTES
    # When stored as an item / Then DynamoDB's 400 KB holds it
    item = PipelineConfigStore.table_item(largest, FIXED_NOW)
    assert item_bytes(item) <= MAX_ITEM_BYTES


def test_an_item_over_400_kb_rejects_the_config_before_any_write(
    config_store: PipelineConfigStore, dynamodb: Any
) -> None:
    # Given 150 valid tables and, last, one over 400 KB built without validation
    valid = [TableConfig.model_validate(t) for t in many_tables(150)]
    wide = [{"name": f"{'c' * 245}{n:05d}", "type": "string"} for n in range(1600)]
    oversized = valid[0].model_copy(
        update={
            "source_table": "wide.table",
            "columns": [ColumnConfig.model_validate(c) for c in wide],
        }
    )
    config = PipelineConfig.model_construct(
        batches=config_of([]).batches, tables=[*valid, oversized]
    )
    # When applied
    with pytest.raises(PipelineConfigError) as rejected:
        config_store.apply(config)
    # Then the oversized table is named and nothing was written
    assert [problem.location for problem in rejected.value.problems] == ["tables[150]"]
    assert dynamodb.scan(TableName=BATCH_TABLE)["Count"] == 0
    assert dynamodb.scan(TableName=TABLE_TABLE)["Count"] == 0
