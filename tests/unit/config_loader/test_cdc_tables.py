"""The pipeline config's cdc_tables: the CdcTableConfig model, its place in the file, and the
CdcSourceTablePattern check the loader runs on upload."""

import json
from typing import Any

import pytest
from config_loader_fakes import BUCKET, FakeApplier, FakeObjects
from eventbridge_fake import RecordingPublisher
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError
from template_support import ROOT

from config_loader.service import ConfigLoader, LoadOutcome
from datalake_shared.cdc_tables import (
    STACK_SOURCE,
    CdcTableConfig,
    iam_pattern,
    sources_outside,
)
from datalake_shared.config_problems import PipelineConfigError
from datalake_shared.pipeline_config import parse_pipeline_config

BATCHES = '{"batches": [{"cadence": "hourly", "batch_size": 1, "max_parallel_batches": 1}]'


def entry(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "source_table": "cdc-customers",
        "target_table": "customers",
        "key_columns": ["customer_id"],
        "columns": [
            {"name": "customer_id", "type": "string"},
            {"name": "tags", "type": "array<string>"},
        ],
    }
    return {**base, **overrides}


def test_an_entry_takes_the_documented_defaults() -> None:
    # Given an entry naming only what it must / When it is read
    table = CdcTableConfig.model_validate(entry())
    # Then TTL deletes apply, unknown attributes are ignored, and it is active
    assert (table.ttl_deletes, table.unknown_attributes, table.active) == ("apply", "ignore", True)


def test_column_types_are_stored_in_glues_spelling() -> None:
    # Given types written loosely
    columns = [
        {"name": "id", "type": "STRING"},
        {"name": "amount", "type": "Decimal( 12 , 2 )"},
        {"name": "address", "type": "struct<street: string, city: string>"},
    ]
    # When read / Then they are kept as Glue spells them (what CREATE TABLE gets)
    table = CdcTableConfig.model_validate(entry(columns=columns, key_columns=["id"]))
    assert [column.type for column in table.columns] == [
        "string",
        "decimal(12,2)",
        "struct<street:string,city:string>",
    ]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"key_columns": ["nope"]}, "not one of the columns"),
        ({"key_columns": ["tags"]}, "a DynamoDB key"),
        ({"key_columns": ["customer_id", "customer_id"]}, "twice"),
        ({"columns": [{"name": "customer_id", "type": "varchar(10)"}]}, "no varchar"),
        ({"columns": [{"name": "customer_id", "type": "tinyint"}]}, "no tinyint"),
        ({"columns": [{"name": "customer_id", "type": "struct<`a b`:string>"}]}, "plain"),
        ({"target_table": "Customers"}, "plain"),
        ({"target_table": "select"}, "plain"),
        ({"source_table": "no spaces allowed"}, "DynamoDB table name"),
        ({"ttl_deletes": "keep"}, "apply"),
        ({"extra": 1}, "Extra inputs"),
    ],
)
def test_an_entry_the_stack_cannot_apply_is_refused(change: dict[str, Any], message: str) -> None:
    # Given an entry with one thing wrong / When read / Then it is refused, saying what
    with pytest.raises(ValidationError, match=message):
        CdcTableConfig.model_validate(entry(**change))


def test_the_stacks_own_stream_has_an_alias_no_table_name_can_take() -> None:
    # Given the alias of the stack's own source stream / Then it is a valid source
    assert CdcTableConfig.model_validate(entry(source_table=STACK_SOURCE)).source_table == (
        "stack:source"
    )


def test_a_file_naming_a_source_table_twice_is_rejected_with_the_location() -> None:
    # Given a file whose cdc_tables repeat a source table
    text = BATCHES + ', "cdc_tables": ' + json.dumps([entry(), entry()]) + "}"
    # When parsed / Then the whole file is rejected, at cdc_tables
    with pytest.raises(PipelineConfigError) as raised:
        parse_pipeline_config(text, "pipeline.json")
    assert any(
        p.location == "cdc_tables" and "repeated" in p.message for p in raised.value.problems
    )


def test_sources_outside_the_pattern_are_reported_and_the_stack_alias_is_exempt() -> None:
    # Given entries inside and outside cdc-* and the stack's own stream
    tables = [
        CdcTableConfig.model_validate(entry(source_table=name, target_table=f"t{index}"))
        for index, name in enumerate(["cdc-a", "prod-orders", STACK_SOURCE])
    ]
    # When checked against the stack's CdcSourceTablePattern
    problems = sources_outside(tables, "cdc-*")
    # Then only prod-orders is reported, at its location
    assert [p.location for p in problems] == ["cdc_tables[1].source_table"]
    assert "CdcSourceTablePattern" in problems[0].message


@given(st.from_regex(r"[A-Za-z0-9_.\-]{3,40}", fullmatch=True))
def test_iam_wildcards_match_as_iam_does(name: str) -> None:
    # Given any DynamoDB table name / Then * matches it, and its literal pattern matches it
    assert iam_pattern("*").fullmatch(name)
    assert iam_pattern(name).fullmatch(name)
    # And a dot in a pattern is a dot, never any character
    assert not iam_pattern("cdc.x").fullmatch("cdcax")


def test_the_sample_config_describes_the_templates_orders_table(
    sam_template: dict[str, Any],
) -> None:
    # Given the sample config's entry for the stack's own stream
    config = parse_pipeline_config((ROOT / "config" / "pipeline.yaml").read_text(), "p.yaml")
    (orders,) = [t for t in config.cdc_tables if t.source_table == STACK_SOURCE]
    # Then its columns are those of the template's CdcOrdersTable (a table it never creates)
    declared = sam_template["Resources"]["CdcOrdersTable"]["Properties"]["TableInput"]
    columns = declared["StorageDescriptor"]["Columns"]
    assert orders.target_table == declared["Name"]
    assert [(c.name, c.type) for c in orders.columns] == [(c["Name"], c["Type"]) for c in columns]


def test_the_loader_rejects_a_cdc_table_outside_the_pattern_and_applies_nothing() -> None:
    # Given an upload naming a DynamoDB table outside the stack's CdcSourceTablePattern
    objects = FakeObjects()
    text = BATCHES + ', "cdc_tables": ' + json.dumps([entry(source_table="prod-orders")]) + "}"
    objects.add("config/cdc.json", text)
    applier = FakeApplier()
    loader = ConfigLoader(
        objects, applier, RecordingPublisher(), frozenset({"sales"}), cdc_source_pattern="cdc-*"
    )
    # When it is loaded
    result = loader.load(BUCKET, "config/cdc.json", len(text))
    # Then it is rejected, saying where and why, and nothing is applied
    assert result.outcome is LoadOutcome.REJECTED
    assert any("CdcSourceTablePattern" in problem for problem in result.problems)
    assert applier.applied == []
