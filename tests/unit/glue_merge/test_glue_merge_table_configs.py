"""DynamoTableConfigs and with_table_configs: a batch's named tables replaced by their configs,
read with BatchGetItem (at most 100 keys a call, unprocessed keys asked again, a bounded number
of times), from a fake client and from the table the config loader writes (moto)."""

import copy
import json
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from glue_merge_fakes import table_config
from moto_dynamodb import template_tables

from cdc_merge.job import CONFIG_ERROR_KEY
from cdc_merge.table_configs import DynamoTableConfigs, with_table_configs
from datalake_contracts.dynamodb_keys import MAX_PARTITION_KEY_BYTES, MAX_SORT_KEY_BYTES
from datalake_shared.config_store import PipelineConfigStore
from datalake_shared.pipeline_config import TableConfig

TABLE = "table-configs"
CADENCE = "hourly"


def config_of(name: str) -> dict[str, Any]:
    return {"source_table": name, "target_table": name.rpartition(".")[2]}


def key_of(name: str, cadence: str = CADENCE) -> dict[str, Any]:
    return {"cadence": {"S": cadence}, "source_table": {"S": name}}


class FakeBatchGet:
    """BatchGetItem over stored configs, keyed (cadence, source_table). Each call answers at most
    ``per_call`` of its keys; the first ``throttled`` calls answer none (a response without
    "Responses", as a throttled DynamoDB may send); what is not answered comes back in
    UnprocessedKeys, as DynamoDB sends it (empty once all keys are answered)."""

    def __init__(
        self,
        configs: Mapping[tuple[str, str], dict[str, Any]],
        per_call: int = 100,
        throttled: int = 0,
    ) -> None:
        self.configs = dict(configs)
        self.per_call = per_call
        self.throttled = throttled
        self.requests: list[dict[str, Any]] = []

    @property
    def keys_per_call(self) -> list[int]:
        return [len(request[TABLE]["Keys"]) for request in self.requests]

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        self.requests.append(copy.deepcopy(RequestItems))
        assert set(RequestItems) == {TABLE}
        asked = RequestItems[TABLE]
        assert len(asked["Keys"]) <= 100  # DynamoDB refuses more
        if len(self.requests) <= self.throttled:
            return {"UnprocessedKeys": copy.deepcopy(RequestItems)}
        answered, left = asked["Keys"][: self.per_call], asked["Keys"][self.per_call :]
        items = [
            {
                "cadence": key["cadence"],
                "source_table": key["source_table"],
                "config": {"S": json.dumps(config)},
            }
            for key in answered
            if (config := self.configs.get((key["cadence"]["S"], key["source_table"]["S"])))
        ]
        return {
            "Responses": {TABLE: items},
            "UnprocessedKeys": {TABLE: {**asked, "Keys": left}} if left else {},
        }


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits between attempts, recorded instead of slept."""
    waited: list[float] = []
    monkeypatch.setattr("cdc_merge.table_configs.time.sleep", waited.append)
    return waited


def stored(*names: str, cadence: str = CADENCE) -> dict[tuple[str, str], dict[str, Any]]:
    return {(cadence, name): config_of(name) for name in names}


def read(client: FakeBatchGet, names: list[str], cadence: str = CADENCE) -> list[dict[str, Any]]:
    return DynamoTableConfigs(TABLE, client=client).configs(cadence, names)  # type: ignore[arg-type]


def is_missing(entry: Mapping[str, Any], name: str) -> bool:
    """An entry standing for a table without a config: its name and the reason, nothing else."""
    return (
        set(entry) == {"source_table", CONFIG_ERROR_KEY}
        and entry["source_table"] == name
        and bool(entry[CONFIG_ERROR_KEY])
    )


# --- reading configs -----------------------------------------------------------------------------


def test_configs_come_back_in_the_order_the_batch_names_them() -> None:
    # Given three stored configs
    client = FakeBatchGet(stored("s.a", "s.b", "s.c"))
    # When asked for in another order / Then they come back in the order asked
    assert read(client, ["s.c", "s.a", "s.b"]) == [
        config_of("s.c"),
        config_of("s.a"),
        config_of("s.b"),
    ]


def test_one_consistent_read_asks_for_each_table_under_the_cadence() -> None:
    # Given stored configs
    client = FakeBatchGet(stored("s.a", "s.b"))
    # When read
    read(client, ["s.a", "s.b"])
    # Then one strongly consistent request names each (cadence, source_table) key
    assert client.requests == [
        {TABLE: {"Keys": [key_of("s.a"), key_of("s.b")], "ConsistentRead": True}}
    ]


def test_a_table_named_twice_is_asked_for_once() -> None:
    # Given a batch naming one table twice
    client = FakeBatchGet(stored("s.t"))
    # When its configs are read / Then one key was sent, and both entries get the config
    assert read(client, ["s.t", "s.t"]) == [config_of("s.t"), config_of("s.t")]
    assert client.keys_per_call == [1]


def test_a_table_without_a_config_gets_an_entry_saying_so_and_the_others_their_configs() -> None:
    # Given a config stored for one table only, and one stored under another cadence
    client = FakeBatchGet({**stored("s.kept"), **stored("s.moved", cadence="daily")})
    # When both are read for the hourly cadence
    found = read(client, ["s.moved", "s.kept"])
    # Then the one without an hourly config fails alone, on the record; the other is read
    assert is_missing(found[0], "s.moved")
    assert found[1] == config_of("s.kept")


def test_a_batch_naming_no_table_asks_nothing() -> None:
    client = FakeBatchGet({})
    assert read(client, []) == []
    assert client.requests == []


@pytest.mark.parametrize(
    ("tables", "keys_per_call"),
    [(1, [1]), (100, [100]), (101, [100, 1]), (250, [100, 100, 50])],
)
def test_keys_are_asked_for_at_most_a_hundred_a_call(tables: int, keys_per_call: list[int]) -> None:
    # Given a batch of more tables than one BatchGetItem may name
    names = [f"s.t{n:03d}" for n in range(tables)]
    client = FakeBatchGet(stored(*names))
    # When read / Then the keys go in calls of at most 100, and every config comes back in order
    assert read(client, names) == [config_of(name) for name in names]
    assert client.keys_per_call == keys_per_call


def test_a_name_too_long_for_a_sort_key_is_not_asked_for_and_has_no_config() -> None:
    # Given one name of exactly the sort key's limit and one a byte over it (2-byte characters)
    fits = "s." + "é" * ((MAX_SORT_KEY_BYTES - 2) // 2)
    too_long = fits + "x"
    assert len(fits.encode()) == MAX_SORT_KEY_BYTES
    client = FakeBatchGet(stored(fits, too_long))
    # When read
    found = read(client, [too_long, fits])
    # Then only the one that fits is asked for (DynamoDB would refuse the whole request)
    assert client.requests[0][TABLE]["Keys"] == [key_of(fits)]
    assert is_missing(found[0], too_long)
    assert found[1] == config_of(fits)


def test_a_cadence_too_long_for_a_partition_key_asks_nothing() -> None:
    # Given a cadence a byte over the partition key's limit
    cadence = "c" * (MAX_PARTITION_KEY_BYTES + 1)
    client = FakeBatchGet(stored("s.a", cadence=cadence))
    # When read / Then nothing is asked and the table has no config
    [found] = read(client, ["s.a"], cadence=cadence)
    assert client.requests == []
    assert is_missing(found, "s.a")


def test_a_cadence_of_exactly_the_partition_keys_limit_is_asked_for() -> None:
    cadence = "c" * MAX_PARTITION_KEY_BYTES
    client = FakeBatchGet(stored("s.a", cadence=cadence))
    assert read(client, ["s.a"], cadence=cadence) == [config_of("s.a")]


# --- unprocessed keys ----------------------------------------------------------------------------


def test_unprocessed_keys_are_asked_again_as_dynamodb_returned_them(sleeps: list[float]) -> None:
    # Given a BatchGetItem answering two keys a call
    names = ["s.a", "s.b", "s.c", "s.d", "s.e"]
    client = FakeBatchGet(stored(*names), per_call=2)
    # When read
    found = read(client, names)
    # Then each call asks for exactly the keys the previous one left unprocessed, until none are
    assert found == [config_of(name) for name in names]
    assert [request[TABLE] for request in client.requests] == [
        {"Keys": [key_of(name) for name in names[start:]], "ConsistentRead": True}
        for start in (0, 2, 4)
    ]
    assert len(sleeps) == 2


def test_a_throttled_call_answering_nothing_is_retried(sleeps: list[float]) -> None:
    # Given a BatchGetItem whose first call is throttled (no Responses at all)
    client = FakeBatchGet(stored("s.a"), throttled=1)
    # When read / Then the config comes from the second call
    assert read(client, ["s.a"]) == [config_of("s.a")]
    assert client.keys_per_call == [1, 1]


def test_a_response_without_the_tables_items_is_retried(sleeps: list[float]) -> None:
    # Given a first response that has Responses, but nothing for the table yet
    class EmptyFirst(FakeBatchGet):
        def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
            if not self.requests:
                self.requests.append(copy.deepcopy(RequestItems))
                return {"Responses": {}, "UnprocessedKeys": copy.deepcopy(RequestItems)}
            return super().batch_get_item(RequestItems)

    client = EmptyFirst(stored("s.a"))
    # When read / Then the second call brings the config
    assert read(client, ["s.a"]) == [config_of("s.a")]
    assert len(client.requests) == 2


def test_retries_wait_longer_each_time(sleeps: list[float]) -> None:
    # Given a BatchGetItem throttled four times, then answering
    client = FakeBatchGet(stored("s.a"), throttled=4)
    # When read
    assert read(client, ["s.a"]) == [config_of("s.a")]
    # Then five calls were made, waiting 50 ms, then twice as long before each next one
    assert len(client.requests) == 5
    assert sleeps == [0.05, 0.1, 0.2, 0.4]


def test_keys_still_unprocessed_after_five_calls_fail_the_read(sleeps: list[float]) -> None:
    # Given a BatchGetItem that stays throttled
    client = FakeBatchGet(stored("s.a"), throttled=1_000)
    # When read / Then it gives up after five calls, with an error rather than a gap
    with pytest.raises(RuntimeError, match=TABLE):
        read(client, ["s.a"])
    assert len(client.requests) == 5
    # And it does not wait after the last call, as no call follows
    assert sleeps == [0.05, 0.1, 0.2, 0.4]


# --- the batch -----------------------------------------------------------------------------------


class Unused:
    """Configs that must not be read."""

    def configs(self, cadence: str, source_tables: list[str]) -> list[dict[str, Any]]:
        raise AssertionError("no config should be read")


def test_a_batch_naming_its_tables_gets_their_configs_and_keeps_the_rest() -> None:
    # Given a batch naming two tables
    client = FakeBatchGet(stored("s.a", "s.b"))
    batch = {"batch_id": "b-000", "run_id": "run-1", "cadence": CADENCE, "tables": ["s.b", "s.a"]}
    # When their configs are filled in
    filled = with_table_configs(batch, DynamoTableConfigs(TABLE, client=client))  # type: ignore[arg-type]
    # Then each name became its config, in order, and the rest of the batch is as it was
    assert filled == {**batch, "tables": [config_of("s.b"), config_of("s.a")]}
    assert batch["tables"] == ["s.b", "s.a"]


@pytest.mark.parametrize(
    "tables",
    [
        [table_config("s.a")],  # configs already inline
        ["s.a", table_config("s.b")],  # not all names: left as sent
        "s.a",  # not a list
        None,
    ],
)
def test_a_batch_that_does_not_name_only_tables_is_left_as_it_is(tables: object) -> None:
    batch = {"batch_id": "b-000", "run_id": "run-1", "tables": tables}
    assert with_table_configs(batch, Unused()) == batch  # type: ignore[arg-type]


def test_a_batch_without_tables_is_left_as_it_is() -> None:
    batch = {"batch_id": "b-000", "run_id": "run-1"}
    assert with_table_configs(batch, Unused()) == batch  # type: ignore[arg-type]


@pytest.mark.parametrize("cadence", [None, "", 7, ["hourly"]])
def test_a_batch_naming_tables_without_a_cadence_is_refused(cadence: object) -> None:
    # Given a batch naming its tables, with no usable cadence (the configs' partition key)
    batch: dict[str, Any] = {"batch_id": "b-000", "run_id": "run-1", "tables": ["s.a"]}
    if cadence is not None:
        batch["cadence"] = cadence
    # When its configs are asked for / Then it is refused, nothing read
    with pytest.raises(ValueError, match="cadence"):
        with_table_configs(batch, Unused())  # type: ignore[arg-type]


# --- the table the config loader writes ----------------------------------------------------------


@pytest.fixture
def dynamodb(sam_template: dict[str, Any]) -> Iterator[Any]:
    with template_tables(sam_template, {"TableConfigTable": TABLE}) as client:
        yield client


def test_the_job_reads_the_configs_the_config_loader_stores(dynamodb: Any) -> None:
    # Given two table configs stored as the config loader stores them
    models = [TableConfig.model_validate(table_config(name)) for name in ("sales.orders", "crm.x")]
    for model in models:
        item = PipelineConfigStore("batch-config", TABLE).table_item(model, "2026-11-23T10:00Z")
        dynamodb.put_item(TableName=TABLE, Item=item)
    # When the job reads them, and a table with none
    found = DynamoTableConfigs(TABLE, client=dynamodb).configs(
        CADENCE, ["crm.x", "gone.table", "sales.orders"]
    )
    # Then each is the stored JSON, and the missing one fails alone
    assert found[0] == json.loads(models[1].model_dump_json())
    assert is_missing(found[1], "gone.table")
    assert found[2] == json.loads(models[0].model_dump_json())
