"""The TableConfig contract (datalake_contracts.table_config) and its two validators: the shared
layer's pydantic model and the Glue job's parser give every case of table_config_cases the same
verdict (or the documented one, for the rules only the layer applies)."""

import dataclasses
import json
from typing import Any

import pytest
from pydantic import ValidationError
from table_config_cases import CASES, Case

from cdc_merge import table_spec
from cdc_merge.table_spec import TableSpec
from datalake_contracts import table_config as contract
from datalake_shared.pipeline_config import ColumnConfig, TableConfig


def layer_accepts(config: dict[str, Any]) -> bool:
    try:
        TableConfig.model_validate(config)
    except ValidationError:
        return False
    return True


def glue_accepts(config: dict[str, Any]) -> bool:
    try:
        TableSpec.from_dict(config)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_both_validators_give_each_case_its_verdict(case: Case) -> None:
    # Given a config of the table / When each validator reads it
    config = case.config()
    # Then both give the case's verdict (the Glue job its own where a rule is the layer's only)
    assert (layer_accepts(config), glue_accepts(config)) == (case.valid, case.glue_verdict)


@pytest.mark.parametrize("case", [case for case in CASES if case.valid], ids=lambda c: c.id)
def test_the_job_accepts_every_config_as_the_loader_stores_it(case: Case) -> None:
    # Given a valid config as the config loader stores it (validated, canonical spelling)
    stored = json.loads(TableConfig.model_validate(case.config()).model_dump_json())
    # When the Glue job reads it / Then it takes it, with the same settings
    spec = TableSpec.from_dict(stored)
    assert spec.column_names == tuple(column["name"] for column in stored[contract.COLUMNS])
    assert (spec.file_format, spec.mode, spec.full_load_layout) == (
        stored[contract.FILE_FORMAT],
        stored[contract.MODE],
        stored[contract.FULL_LOAD_LAYOUT],
    )


def test_the_table_has_cases_on_both_sides() -> None:
    # Given the case table / Then it holds valid and invalid configs, and names each case once
    assert {case.valid for case in CASES} == {True, False}
    assert len({case.id for case in CASES}) == len(CASES)


def test_the_layers_model_has_the_contracts_fields() -> None:
    # Given the pydantic models / Then their fields are the contract's, in its order
    assert tuple(TableConfig.model_fields) == contract.FIELDS
    assert tuple(ColumnConfig.model_fields) == contract.COLUMN_FIELDS


def test_the_jobs_spec_reads_only_fields_of_the_contract() -> None:
    # Given the Glue job's table spec / Then each of its fields is a field of the contract
    fields = {field.name for field in dataclasses.fields(TableSpec)}
    assert fields <= set(contract.FIELDS)
    assert {field.name for field in dataclasses.fields(table_spec.Column)} == set(
        contract.COLUMN_FIELDS
    )


def test_the_defaults_are_the_contracts() -> None:
    # Given a config leaving every optional field out / When each validator reads it
    minimal = {
        key: value
        for key, value in CASES[0].config().items()
        if key not in {"sequence_column_type", "file_format", "mode", "full_load_layout"}
    }
    table, spec = TableConfig.model_validate(minimal), TableSpec.from_dict(minimal)
    # Then both fill in the contract's defaults
    expected = (
        contract.DEFAULT_SEQUENCE_COLUMN_TYPE,
        contract.DEFAULT_FILE_FORMAT,
        contract.DEFAULT_MODE,
        contract.DEFAULT_FULL_LOAD_LAYOUT,
    )
    assert (
        table.sequence_column_type,
        table.file_format,
        table.mode,
        table.full_load_layout,
    ) == expected
    assert (spec.sequence_column_type, spec.file_format, spec.mode, spec.full_load_layout) == (
        expected
    )
    assert table.active is contract.DEFAULT_ACTIVE


def test_the_jobs_staging_columns_are_reserved_by_the_contract() -> None:
    # Given the columns the merge job stages and writes besides the data / Then no data column
    # can be named like one of them (the layer refuses the reserved prefix and Op)
    staging = (
        table_spec.OP_COLUMN,
        table_spec.SEQ_COLUMN,
        table_spec.FILE_ORDER_COLUMN,
        table_spec.ROW_IN_FILE_COLUMN,
        table_spec.RANK_COLUMN,
        table_spec.IN_TARGET_COLUMN,
        table_spec.FULL_LOAD_OP_FIELD,
        *table_spec.STAGING_METADATA_COLUMNS,
    )
    assert all(contract.is_reserved_column(name) for name in staging)
    assert contract.is_operation_column(table_spec.HISTORY_OP_COLUMN)
    assert contract.is_operation_column(table_spec.PARQUET_OP_COLUMN)


@pytest.mark.parametrize(
    ("spelled", "canonical"),
    [
        ("string", "string"),
        (" BIGINT ", "bigint"),
        ("DECIMAL(10, 2)", "decimal(10,2)"),
        ("decimal (38,0)", "decimal(38,0)"),
        ("decimal(010,02)", "decimal(10,2)"),
        ("varchar", None),
        ("decimal(39,2)", None),
        ("decimal(5,6)", None),
        ("decimal(0,0)", None),
        ("decimal(10)", None),
        ("", None),
    ],
)
def test_column_types_have_one_canonical_spelling(spelled: str, canonical: str | None) -> None:
    assert contract.canonical_column_type(spelled) == canonical


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        (contract.SOURCE_TABLE_PATTERN, "sales.orders", True),
        (contract.SOURCE_TABLE_PATTERN, "sales.orders\n", False),
        (contract.TARGET_NAME_PATTERN, "sales", True),
        (contract.TARGET_NAME_PATTERN, "sales\n", False),
        (contract.CADENCE_PATTERN, "hourly", True),
        (contract.CADENCE_PATTERN, "hourly\n", False),
        (contract.COLUMN_NAME_PATTERN, "order_id", True),
        (contract.COLUMN_NAME_PATTERN, "order_id\n", False),
    ],
)
def test_patterns_match_whole_values(pattern: str, value: str, expected: bool) -> None:
    # Given a name with a trailing newline / Then it does not match ("$" alone would let it)
    assert contract.matches(pattern, value) is expected
