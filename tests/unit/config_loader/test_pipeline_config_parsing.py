"""parse_pipeline_config: YAML or JSON in, a PipelineConfig or every problem at once out."""

import json
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]
from config_loader_fakes import config_dict, sample_config_text, table_dict
from hypothesis import given, settings
from hypothesis import strategies as st

from datalake_shared.config_documents import MAX_DOCUMENT_NODES
from datalake_shared.config_problems import PipelineConfigError, format_location
from datalake_shared.pipeline_config import PipelineConfig, parse_pipeline_config


def problems_of(text: str, filename: str = "pipeline.yaml") -> list[str]:
    with pytest.raises(PipelineConfigError) as raised:
        parse_pipeline_config(text, filename)
    return [str(problem) for problem in raised.value.problems]


def locations_of(text: str, filename: str = "pipeline.yaml") -> list[str]:
    with pytest.raises(PipelineConfigError) as raised:
        parse_pipeline_config(text, filename)
    return [problem.location for problem in raised.value.problems]


def test_example_config_of_the_demo_is_valid() -> None:
    # Given config/pipeline.yaml / When parsed
    config = parse_pipeline_config(sample_config_text(), "config/pipeline.yaml")
    # Then it configures the demo's tables on the hourly and daily cadences, and a 15min one
    assert [(b.cadence, b.batch_size, b.max_parallel_batches) for b in config.batches] == [
        ("hourly", 2, 2),
        ("daily", 5, 1),
        ("15min", 4, 2),
    ]
    assert [b.effective_schedule for b in config.batches] == [
        "rate(1 hour)",
        "cron(0 2 * * ? *)",
        "rate(15 minutes)",
    ]
    assert {(t.cadence, t.source_table, t.mode, t.active) for t in config.tables} == {
        ("hourly", "sales.orders", "current", True),
        ("hourly", "sales.customers", "current", True),
        ("daily", "inventory.products", "history", True),
        ("daily", "sales.returns", "current", False),
    }


def test_example_orders_columns_follow_the_demo_files() -> None:
    # Given the demo's CDC row "I,2026-11-23 10:14:59,1004,9,2026-11-23,49.99,open"
    config = parse_pipeline_config(sample_config_text(), "config/pipeline.yaml")
    orders = next(t for t in config.tables if t.source_table == "sales.orders")
    # Then Op and the sequence column come first, then the five data columns in order
    row = ["I", "2026-11-23 10:14:59", "1004", "9", "2026-11-23", "49.99", "open"]
    assert len(row) == 2 + len(orders.columns)
    assert orders.sequence_column == "change_ts"
    assert orders.column_names == ["order_id", "customer_id", "order_date", "amount", "status"]
    assert orders.columns[3].type == "decimal(10,2)"


def test_broken_example_lists_every_problem_with_its_location_and_line() -> None:
    # Given config/broken.yaml, wrong in many places / When parsed
    problems = problems_of(sample_config_text("broken.yaml"), "config/broken.yaml")
    # Then each mistake is reported once, in file order
    assert problems == [
        "batches[0].batch_size: Input should be less than or equal to 200 (got 500) (line 6)",
        "batches[0].worker_type: Input should be 'G.1X', 'G.2X', 'G.4X', 'G.8X' or 'G.025X' "
        "(got 'G.3X') (line 8)",
        "tables[0].columns[1].type: unknown column type 'money'; use one of string, int, "
        "bigint, double, boolean, date, timestamp or decimal(p,s) (line 17)",
        "tables[0].primary_key: ['id'] not among columns ['order_id', 'amount'] (line 18)",
        "tables[1].cadence: no batch config for cadence 'weekly'; add it under batches "
        "(configured: ['hourly']) (line 21)",
        "tables[1].target_database: String should match pattern '^[a-z0-9_]{1,255}$' "
        "(got 'Sales') (line 23)",
        "tables[1].primay_key: unknown key (a typo?) (line 29)",
        "tables[2].sequence_column: required (line 31)",
        "tables[2].source_table: 'sales.orders' is listed twice for cadence 'hourly' "
        "(also tables[0]) (line 32)",
    ]


def test_error_message_has_one_problem_per_line() -> None:
    # Given the broken example / When rejected
    with pytest.raises(PipelineConfigError) as raised:
        parse_pipeline_config(sample_config_text("broken.yaml"), "config/broken.yaml")
    # Then the message names the file and the count, then one line per problem
    lines = str(raised.value).splitlines()
    assert lines[0] == "config/broken.yaml: 9 problems"
    assert lines[1:] == [str(problem) for problem in raised.value.problems]


def test_json_file_is_parsed_like_yaml() -> None:
    # Given the example config as JSON / When parsed / Then the same config comes out
    as_yaml = parse_pipeline_config(sample_config_text(), "pipeline.yaml")
    text = json.dumps(yaml.safe_load(sample_config_text()))
    assert parse_pipeline_config(text, "pipeline.json") == as_yaml


def test_json_problems_have_locations_but_no_lines() -> None:
    text = json.dumps(config_dict([table_dict(primary_key=["nope"])]))
    assert problems_of(text, "pipeline.json") == [
        "tables[0].primary_key: ['nope'] not among columns ['id', 'amount', 'day']"
    ]


@pytest.mark.parametrize("filename", ["pipeline.YAML", "dir/pipeline.yml"])
def test_yaml_suffixes_are_recognised_in_any_case(filename: str) -> None:
    config = parse_pipeline_config(yaml.safe_dump(config_dict([table_dict()])), filename)
    assert [t.source_table for t in config.tables] == ["sales.orders"]


def test_unsupported_file_type_is_rejected() -> None:
    assert problems_of("batches: []", "pipeline.toml") == [
        "unsupported file type '.toml'; use .yaml, .yml, .json"
    ]


def test_yaml_syntax_error_is_reported_with_its_line() -> None:
    text = "batches:\n  - cadence: hourly\n    batch_size: [2\n"
    [problem] = problems_of(text)
    assert problem.startswith("not valid YAML: ")
    assert problem.endswith("(line 4)")


def test_json_syntax_error_is_reported_with_its_line() -> None:
    assert problems_of('{\n"batches": [\n}', "pipeline.json") == [
        "not valid JSON: Expecting value (line 3)"
    ]


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just text"])
def test_document_that_is_not_a_mapping_is_rejected(text: str) -> None:
    assert problems_of(text) == ["must be a mapping with the keys 'batches' and 'tables'"]


def test_missing_batches_is_reported() -> None:
    assert locations_of("tables: []\n") == ["batches"]


def test_duplicate_yaml_key_is_an_error_even_when_everything_else_is_valid() -> None:
    # Given a valid file in which one table says primary_key twice (YAML keeps the last)
    text = yaml.safe_dump(config_dict([table_dict()]), sort_keys=False)
    text = text.replace("  primary_key:\n", "  primary_key: [amount]\n  primary_key:\n", 1)
    # When parsed / Then the repeated key is reported with its line
    [problem] = problems_of(text)
    assert problem.startswith("tables[0].primary_key: duplicate key")
    assert "(line " in problem


def test_python_tags_are_refused() -> None:
    # Given a YAML tag that would build a Python object with an unsafe loader
    text = "batches: !!python/object/apply:os.system ['true']\n"
    [problem] = problems_of(text)
    assert problem.startswith("not valid YAML: ")


def test_alias_bomb_is_stopped_before_it_expands() -> None:
    # Given the "billion laughs": 9 levels of 10 aliases each
    lines = ['a0: &a0 ["lol"]']
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 10)]
    # When parsed / Then it is refused by size, quickly, instead of expanding 10^9 values
    assert problems_of("\n".join(lines)) == [f"document has more than {MAX_DOCUMENT_NODES} values"]


def test_deep_nesting_is_refused_not_crashing() -> None:
    text = "[" * 100_000 + "]" * 100_000
    assert problems_of(text, "pipeline.json") == ["JSON nested too deeply"]


def test_invalid_columns_do_not_hide_other_problems_of_the_table() -> None:
    # Given a table with a bad column type AND a primary key that is no column
    columns = [{"name": "id", "type": "money"}]
    text = json.dumps(config_dict([table_dict(columns=columns, primary_key=["code"])]))
    # Then both are reported
    assert locations_of(text, "pipeline.json") == [
        "tables[0].columns[0].type",
        "tables[0].primary_key",
    ]


def test_file_level_rules_are_reported_along_with_item_problems() -> None:
    # Given an invalid table and, elsewhere, a cadence without batch config
    tables = [table_dict(primary_key=[]), table_dict("sales.items", cadence="weekly")]
    text = json.dumps(config_dict(tables))
    # Then both problems are listed, not just the first kind
    assert locations_of(text, "pipeline.json") == ["tables[0].primary_key", "tables[1].cadence"]


@pytest.mark.parametrize(
    ("location", "text"),
    [
        (("tables", 3, "primary_key"), "tables[3].primary_key"),
        (("tables", 0, "columns", 2, "type"), "tables[0].columns[2].type"),
        (("batches",), "batches"),
        ((), ""),
    ],
)
def test_locations_read_like_paths(location: tuple[Any, ...], text: str) -> None:
    assert format_location(location) == text


@settings(max_examples=30, deadline=None)
@given(broken=st.sets(st.integers(min_value=0, max_value=24), min_size=1, max_size=8))
def test_every_broken_table_is_reported_exactly_once(broken: set[int]) -> None:
    # Given 25 valid tables, some of whose primary keys name a missing column
    tables = [
        table_dict(f"sales.t{n:02d}", primary_key=["missing"] if n in broken else ["id"])
        for n in range(25)
    ]
    text = yaml.safe_dump(config_dict(tables), sort_keys=False)
    # When parsed / Then exactly those tables are reported, each at its primary key, in order
    assert locations_of(text) == [f"tables[{n}].primary_key" for n in sorted(broken)]


@settings(max_examples=30, deadline=None)
@given(count=st.integers(min_value=0, max_value=30))
def test_any_number_of_valid_tables_parses(count: int) -> None:
    tables = [table_dict(f"sales.t{n:02d}") for n in range(count)]
    config = parse_pipeline_config(yaml.safe_dump(config_dict(tables)), "p.yaml")
    assert isinstance(config, PipelineConfig)
    assert len(config.tables) == count
