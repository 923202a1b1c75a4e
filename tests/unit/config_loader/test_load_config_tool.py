"""`python -m tools.load_config`: validate, print, apply through the stack's outputs."""

import io
from pathlib import Path
from typing import Any

import boto3
import pytest
from config_loader_fakes import BATCH_TABLE, CONFIG_DIR, TABLE_TABLE

from datalake_shared.config_store import PipelineConfigStore
from tools import load_config

PIPELINE = CONFIG_DIR / "pipeline.yaml"
BROKEN = CONFIG_DIR / "broken.yaml"
STACK = "datalake-events-test"


class Run:
    def __init__(self, argv: list[str], clients: dict[str, Any] | None = None) -> None:
        out, err = io.StringIO(), io.StringIO()
        self.code = load_config.main(argv, out=out, err=err, clients=clients)
        self.out, self.err = out.getvalue(), err.getvalue()


def item_count(dynamodb: Any, table: str) -> int:
    count: int = dynamodb.scan(TableName=table, Select="COUNT")["Count"]
    return count


@pytest.fixture
def cloudformation(dynamodb: Any) -> Any:
    """A moto stack whose outputs name the two config tables (inside the dynamodb mock)."""
    client = boto3.client("cloudformation")
    template = """
Resources:
  Placeholder:
    Type: AWS::SQS::Queue
Outputs:
  BatchConfigTableName:
    Value: %s
  TableConfigTableName:
    Value: %s
""" % (BATCH_TABLE, TABLE_TABLE)  # noqa: UP031  (YAML braces would need escaping in f-strings)
    client.create_stack(StackName=STACK, TemplateBody=template)
    return client


def test_dry_run_validates_and_prints_the_summary_without_aws() -> None:
    # Given the example config / When checked with --dry-run (no AWS client exists here)
    run = Run([str(PIPELINE), "--dry-run"])
    # Then it succeeds and prints each cadence and table
    assert run.code == 0
    assert "config/pipeline.yaml: valid" in run.out
    assert "Dry run: nothing was written." in run.out
    for expected in ("hourly", "daily", "sales.orders", "inventory.products_history", "history"):
        assert expected in run.out


def test_dry_run_summary_counts_active_tables_per_cadence() -> None:
    run = Run([str(PIPELINE), "--dry-run"])
    hourly = next(line for line in run.out.splitlines() if line.strip().startswith("hourly   2"))
    daily = next(line for line in run.out.splitlines() if line.strip().startswith("daily    5"))
    assert hourly.rstrip().endswith("2 (2)")
    assert daily.rstrip().endswith("2 (1)")


def test_invalid_file_exits_1_listing_every_problem() -> None:
    # Given the broken example / When checked
    run = Run([str(BROKEN), "--dry-run"])
    # Then exit 1, and the nine problems on stderr, one per line
    assert run.code == 1
    lines = run.err.splitlines()
    assert lines[0].endswith("broken.yaml: 9 problems")
    assert len([line for line in lines if line.startswith(("batches[", "tables["))]) == 9
    assert lines[-1] == "Nothing was applied."
    assert run.out == ""


def test_invalid_file_writes_nothing(dynamodb: Any) -> None:
    run = Run(
        [str(BROKEN), "--batch-table", BATCH_TABLE, "--table-table", TABLE_TABLE],
        clients={"dynamodb": dynamodb},
    )
    assert run.code == 1
    assert (item_count(dynamodb, BATCH_TABLE), item_count(dynamodb, TABLE_TABLE)) == (0, 0)


def test_apply_with_explicit_tables(dynamodb: Any) -> None:
    # Given both table names / When applied
    run = Run(
        [str(PIPELINE), "--batch-table", BATCH_TABLE, "--table-table", TABLE_TABLE],
        clients={"dynamodb": dynamodb},
    )
    # Then every item is written and the summary says so
    assert run.code == 0, run.err
    assert "Applied 3 batch configs and 4 table configs in 1 transaction(s)." in run.out
    assert (item_count(dynamodb, BATCH_TABLE), item_count(dynamodb, TABLE_TABLE)) == (3, 4)


def test_apply_resolves_the_tables_from_the_stack_outputs(
    dynamodb: Any, cloudformation: Any
) -> None:
    # Given a stack whose outputs name the config tables / When applied with --stack
    run = Run(
        [str(PIPELINE), "--stack", STACK],
        clients={"dynamodb": dynamodb, "cloudformation": cloudformation},
    )
    # Then the tables named by the outputs hold the config
    assert run.code == 0, run.err
    store = PipelineConfigStore(BATCH_TABLE, TABLE_TABLE, client=dynamodb)
    assert [t.source_table for t in store.load_table_configs("daily")] == [
        "inventory.products",
        "sales.returns",
    ]


def test_apply_refuses_a_database_the_stacks_glue_job_may_not_write(
    dynamodb: Any, cloudformation: Any
) -> None:
    # Given a stack whose MergeTargetDatabases is "sales" only
    cloudformation.create_stack(
        StackName="sales-only",
        TemplateBody=(
            "Parameters:\n  MergeTargetDatabases:\n    Type: CommaDelimitedList\n"
            "Resources:\n  Placeholder:\n    Type: AWS::SQS::Queue\n"
            f"Outputs:\n  BatchConfigTableName:\n    Value: {BATCH_TABLE}\n"
            f"  TableConfigTableName:\n    Value: {TABLE_TABLE}\n"
        ),
        Parameters=[{"ParameterKey": "MergeTargetDatabases", "ParameterValue": "sales"}],
    )
    # When the example config (one table targets "inventory") is applied to it
    run = Run(
        [str(PIPELINE), "--stack", "sales-only"],
        clients={"dynamodb": dynamodb, "cloudformation": cloudformation},
    )
    # Then nothing is written and the error names the table and the parameter
    assert run.code == 1
    assert "tables[2].target_database: 'inventory' is not one of" in run.err
    assert item_count(dynamodb, TABLE_TABLE) == 0


def test_stack_defaults_to_aws_sam_stack_name(
    dynamodb: Any, cloudformation: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SAM_STACK_NAME", STACK)
    run = Run([str(PIPELINE)], clients={"dynamodb": dynamodb, "cloudformation": cloudformation})
    assert run.code == 0, run.err
    assert item_count(dynamodb, TABLE_TABLE) == 4


def test_stack_without_the_outputs_is_an_aws_error(dynamodb: Any, cloudformation: Any) -> None:
    cloudformation.create_stack(
        StackName="other", TemplateBody="Resources:\n  Q:\n    Type: AWS::SQS::Queue\n"
    )
    run = Run([str(PIPELINE), "--stack", "other"], clients={"cloudformation": cloudformation})
    assert run.code == 3
    assert "has no output(s) BatchConfigTableName, TableConfigTableName" in run.err


def test_unknown_stack_is_an_aws_error(dynamodb: Any, cloudformation: Any) -> None:
    run = Run([str(PIPELINE), "--stack", "nope"], clients={"cloudformation": cloudformation})
    assert run.code == 3
    assert "stack 'nope'" in run.err


def test_apply_reports_tables_it_left_untouched(dynamodb: Any, tmp_path: Path) -> None:
    # Given the example applied, then a file without sales.returns
    tables = ["--batch-table", BATCH_TABLE, "--table-table", TABLE_TABLE]
    Run([str(PIPELINE), *tables], clients={"dynamodb": dynamodb})
    smaller = tmp_path / "smaller.yaml"
    text = PIPELINE.read_text()
    smaller.write_text(text[: text.index("  # Configured but switched off")])
    # When applied / Then sales.returns is listed as left as it is
    run = Run([str(smaller), *tables], clients={"dynamodb": dynamodb})
    assert run.code == 0, run.err
    assert "  daily/sales.returns (inactive)" in run.out


def test_without_a_target_it_validates_then_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_SAM_STACK_NAME", raising=False)
    run = Run([str(PIPELINE)])
    assert run.code == 2
    assert "config/pipeline.yaml: valid" in run.out
    assert "give --stack" in run.err


def test_one_table_name_alone_is_a_usage_error() -> None:
    with pytest.raises(SystemExit) as raised:
        Run([str(PIPELINE), "--batch-table", BATCH_TABLE])
    assert raised.value.code == 2


def test_missing_file_exits_1(tmp_path: Path) -> None:
    run = Run([str(tmp_path / "nope.yaml"), "--dry-run"])
    assert run.code == 1
    assert "cannot read" in run.err
