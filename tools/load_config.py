"""Validate a pipeline config file and apply it to the stack's config tables.

    python -m tools.load_config config/pipeline.yaml --dry-run
    python -m tools.load_config config/pipeline.yaml --stack datalake-events-dev
    python -m tools.load_config config/pipeline.yaml --batch-table X --table-table Y

The stack defaults to $AWS_SAM_STACK_NAME; its outputs BatchConfigTableName and
TableConfigTableName name the tables, and a table targeting a database outside its
MergeTargetDatabases parameter (the Glue job may not write there) is refused. An invalid file
is rejected whole: every problem is printed and nothing is written (exit 1). --dry-run
validates and prints without touching AWS.
Exit codes: 0 applied (or valid, with --dry-run), 1 invalid file, 2 usage, 3 AWS error.
"""

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NamedTuple, TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from datalake_shared.config_problems import PipelineConfigError
from datalake_shared.config_store import ApplyPlan, PipelineConfigStore
from datalake_shared.pipeline_config import (
    PipelineConfig,
    parse_pipeline_config,
    unwritable_targets,
)
from datalake_shared.settings import split_commas

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_dynamodb import DynamoDBClient

BATCH_TABLE_OUTPUT: Final = "BatchConfigTableName"
TABLE_TABLE_OUTPUT: Final = "TableConfigTableName"
WRITABLE_DATABASES_PARAMETER: Final = "MergeTargetDatabases"
STACK_ENV: Final = "AWS_SAM_STACK_NAME"
EXIT_INVALID: Final = 1
EXIT_USAGE: Final = 2
EXIT_AWS: Final = 3


class StackLookupError(RuntimeError):
    """The stack or its config-table outputs could not be found."""


def text_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [list(headers), *[[str(cell) for cell in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join("  " + line.rstrip() for line in lines)


def describe(config: PipelineConfig) -> str:
    batches = text_table(
        ["cadence", "batch_size", "max_parallel", "workers", "tables (active)"],
        [
            [
                batch.cadence,
                batch.batch_size,
                batch.max_parallel_batches,
                f"{batch.number_of_workers} x {batch.worker_type}",
                f"{sum(t.cadence == batch.cadence for t in config.tables)} "
                f"({sum(t.cadence == batch.cadence and t.active for t in config.tables)})",
            ]
            for batch in config.batches
        ],
    )
    tables = text_table(
        ["cadence", "source_table", "target", "mode", "format", "primary_key", "columns", "active"],
        [
            [
                table.cadence,
                table.source_table,
                f"{table.target_database}.{table.target_table}",
                table.mode,
                table.file_format,
                ",".join(table.primary_key),
                len(table.columns),
                "yes" if table.active else "no",
            ]
            for table in sorted(config.tables, key=lambda t: (t.cadence, t.source_table))
        ],
    )
    return f"Batches\n{batches}\n\nTables\n{tables}"


def describe_applied(plan: ApplyPlan) -> str:
    lines = [
        f"Applied {len(plan.batches)} batch configs and {len(plan.tables)} table configs "
        f"in {plan.transactions} transaction(s)."
    ]
    lines += [
        f"  deactivated {t.cadence}/{t.source_table}: the file moves it to another cadence"
        for t in plan.deactivated
    ]
    if plan.untouched:
        lines.append("Stored tables this file does not mention (left as they are):")
        lines += [
            f"  {t.cadence}/{t.source_table} ({'active' if t.active else 'inactive'})"
            for t in plan.untouched
        ]
    return "\n".join(lines)


class StackConfigTargets(NamedTuple):
    batch_table: str
    table_table: str
    # None: the stack predates the MergeTargetDatabases parameter.
    writable_databases: frozenset[str] | None


def stack_tables(stack: str, client: "CloudFormationClient | None" = None) -> StackConfigTargets:
    """The config tables (from the stack's outputs) and the databases its Glue job may write."""
    cloudformation = client or boto3.client("cloudformation")
    try:
        stacks = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as error:
        raise StackLookupError(f"stack {stack!r}: {error}") from error
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    missing = [name for name in (BATCH_TABLE_OUTPUT, TABLE_TABLE_OUTPUT) if name not in outputs]
    if missing:
        raise StackLookupError(f"stack {stack!r} has no output(s) {', '.join(missing)}")
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stacks[0].get("Parameters", [])}
    writable = parameters.get(WRITABLE_DATABASES_PARAMETER)
    return StackConfigTargets(
        outputs[BATCH_TABLE_OUTPUT],
        outputs[TABLE_TABLE_OUTPUT],
        split_commas(writable) if writable else None,
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.load_config",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", type=Path, help="config file (.yaml, .yml or .json)")
    parser.add_argument(
        "--stack", default=os.environ.get(STACK_ENV), help=f"stack name (default ${STACK_ENV})"
    )
    parser.add_argument("--batch-table", help="BatchConfigTable name (instead of --stack)")
    parser.add_argument("--table-table", help="TableConfigTable name (instead of --stack)")
    parser.add_argument("--region", help="AWS region (default: the AWS CLI's)")
    parser.add_argument(
        "--dry-run", action="store_true", help="validate and print only; no AWS calls"
    )
    args = parser.parse_args(argv)
    if (args.batch_table is None) != (args.table_table is None):
        parser.error("--batch-table and --table-table go together")
    return args


def main(
    argv: Sequence[str] | None = None,
    *,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    clients: dict[str, Any] | None = None,
) -> int:
    """``clients`` ("cloudformation", "dynamodb") lets tests pass their own boto3 clients."""
    args = parse_args(argv)
    clients = clients or {}
    try:
        config = parse_pipeline_config(args.file.read_text(encoding="utf-8-sig"), str(args.file))
    except (OSError, UnicodeDecodeError) as error:
        print(f"cannot read {args.file}: {error}", file=err)
        return EXIT_INVALID
    except PipelineConfigError as error:
        print(f"{error}\nNothing was applied.", file=err)
        return EXIT_INVALID
    print(f"{args.file}: valid\n\n{describe(config)}\n", file=out)
    if args.dry_run:
        print("Dry run: nothing was written.", file=out)
        return 0
    if args.batch_table is None and not args.stack:
        print(
            f"error: give --stack (or set {STACK_ENV}) or --batch-table/--table-table to apply "
            "the file, or --dry-run to only validate it",
            file=err,
        )
        return EXIT_USAGE

    return _apply(args, config, clients, out, err)


def _apply(
    args: argparse.Namespace,
    config: PipelineConfig,
    clients: dict[str, Any],
    out: TextIO,
    err: TextIO,
) -> int:
    session = boto3.session.Session(region_name=args.region)
    try:
        if args.batch_table is not None:
            batch_table, table_table = args.batch_table, args.table_table
        else:
            targets = stack_tables(
                args.stack, clients.get("cloudformation") or session.client("cloudformation")
            )
            batch_table, table_table = targets.batch_table, targets.table_table
            if targets.writable_databases is not None:
                unwritable = unwritable_targets(config, targets.writable_databases)
                if unwritable:
                    raise PipelineConfigError(str(args.file), unwritable)
        dynamodb: DynamoDBClient = clients.get("dynamodb") or session.client("dynamodb")
        plan = PipelineConfigStore(batch_table, table_table, client=dynamodb).apply(config)
    except PipelineConfigError as error:  # an item DynamoDB would refuse: nothing was written
        print(f"{error}\nNothing was applied.", file=err)
        return EXIT_INVALID
    except (StackLookupError, BotoCoreError, ClientError) as error:
        print(f"error: {error}", file=err)
        return EXIT_AWS
    print(f"{describe_applied(plan)}\n  -> {batch_table}, {table_table}", file=out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
