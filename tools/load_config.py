"""Validate a pipeline config file and apply it to the stack's config tables.

    python -m tools.load_config config/pipeline.yaml --dry-run
    python -m tools.load_config config/pipeline.yaml --stack datalake-events-dev
    python -m tools.load_config config/pipeline.yaml --batch-table X --table-table Y

The stack defaults to $AWS_SAM_STACK_NAME; its outputs BatchConfigTableName and
TableConfigTableName name the tables, and a table targeting a database outside its
MergeTargetDatabases parameter (the Glue job may not write there) is refused. With --stack, each
stored cadence's schedule is then created, updated or removed as the config loader would (the
schedule group and target are read from the loader function's environment), and so are the
log subscriptions of the file's redshift_log_groups, the stream mappings of its cdc_tables
(a table outside the stack's CdcSourceTablePattern is refused first), and the Glue tables (and,
with QuickSight on, the SPICE datasets) of its workbook_tables. An invalid file
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
from pydantic import ValidationError

from datalake_shared.cadence_schedules import (
    CadenceScheduleSettings,
    cadence_schedule_reconciler,
    schedule_rows,
)
from datalake_shared.cdc_streams import CdcStreamReconciler, CdcStreamSettings
from datalake_shared.cdc_tables import CdcTableStore, sources_outside
from datalake_shared.config_problems import ConfigProblem, PipelineConfigError
from datalake_shared.config_store import ApplyPlan, PipelineConfigStore
from datalake_shared.pipeline_config import (
    PipelineConfig,
    parse_pipeline_config,
    unwritable_targets,
)
from datalake_shared.redshift_subscriptions import (
    RedshiftSubscriptionSettings,
    redshift_subscription_reconciler,
)
from datalake_shared.settings import split_commas
from datalake_shared.workbook_catalog import (
    WorkbookTableReconciler,
    WorkbookTableSettings,
    workbook_table_reconciler,
)

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_dynamodb import DynamoDBClient

BATCH_TABLE_OUTPUT: Final = "BatchConfigTableName"
TABLE_TABLE_OUTPUT: Final = "TableConfigTableName"
# The loader's environment says where the cadence schedules go (datalake_shared.cadence_schedules).
LOADER_FUNCTION_OUTPUT: Final = "ConfigLoaderFunctionName"
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
    schedules = text_table(["cadence", "schedule"], schedule_rows(config.batches))
    text = f"Batches\n{batches}\n\nSchedules\n{schedules}\n\nTables\n{tables}"
    if config.redshift_log_groups is not None:  # absent: the file leaves them as they are
        groups = config.redshift_log_groups
        text += "\n\nRedshift log groups (one subscription each)\n" + (
            "\n".join(f"  {group}" for group in groups) or "  none: every one is unsubscribed"
        )
    if config.workbook_tables is not None:  # absent: the file leaves them as they are
        text += "\n\nWorkbook tables (Athena tables over cleaned workbooks)\n" + (
            text_table(
                ["name", "glue table", "prefix", "columns"],
                [
                    [table.name, table.glue_name, table.prefix, len(table.columns)]
                    for table in config.workbook_tables
                ],
            )
            if config.workbook_tables
            else "  none: every one is deleted"
        )
    if config.cdc_tables:
        text += "\n\nCDC tables (DynamoDB stream -> Iceberg table)\n" + text_table(
            ["source_table", "target_table", "key", "columns", "ttl", "unknown", "active"],
            [
                [
                    cdc.source_table,
                    cdc.target_table,
                    ",".join(cdc.key_columns),
                    len(cdc.columns),
                    cdc.ttl_deletes,
                    cdc.unknown_attributes,
                    "yes" if cdc.active else "no",
                ]
                for cdc in config.cdc_tables
            ],
        )
    return text


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
    # None: the stack predates the output (and the cadence schedules).
    loader_function: str | None = None


def stack_values(
    stack: str, client: "CloudFormationClient | None" = None, required: Sequence[str] = ()
) -> tuple[dict[str, str], dict[str, str]]:
    """The stack's (outputs, parameters) by key; StackLookupError when an output in
    ``required`` is missing. Also used by tools/table_status.py."""
    cloudformation = client or boto3.client("cloudformation")
    try:
        stacks = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as error:
        raise StackLookupError(f"stack {stack!r}: {error}") from error
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    missing = [name for name in required if name not in outputs]
    if missing:
        raise StackLookupError(f"stack {stack!r} has no output(s) {', '.join(missing)}")
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stacks[0].get("Parameters", [])}
    return outputs, parameters


def stack_tables(stack: str, client: "CloudFormationClient | None" = None) -> StackConfigTargets:
    """The config tables (from the stack's outputs) and the databases its Glue job may write."""
    outputs, parameters = stack_values(stack, client, (BATCH_TABLE_OUTPUT, TABLE_TABLE_OUTPUT))
    writable = parameters.get(WRITABLE_DATABASES_PARAMETER)
    return StackConfigTargets(
        outputs[BATCH_TABLE_OUTPUT],
        outputs[TABLE_TABLE_OUTPUT],
        split_commas(writable) if writable else None,
        outputs.get(LOADER_FUNCTION_OUTPUT),
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
    loader_function: str | None = None
    try:
        if args.batch_table is not None:
            batch_table, table_table = args.batch_table, args.table_table
        else:
            targets = stack_tables(
                args.stack, clients.get("cloudformation") or session.client("cloudformation")
            )
            batch_table, table_table = targets.batch_table, targets.table_table
            loader_function = targets.loader_function
            if targets.writable_databases is not None:
                unwritable = unwritable_targets(config, targets.writable_databases)
                if unwritable:
                    raise PipelineConfigError(str(args.file), unwritable)
        dynamodb: DynamoDBClient = clients.get("dynamodb") or session.client("dynamodb")
        store = PipelineConfigStore(batch_table, table_table, client=dynamodb)
        cdc_settings = _cdc_settings(config, loader_function, clients, session)
        cdc = _cdc_reconciler(cdc_settings, clients, session)
        if cdc is not None:  # what the loader rejects before writing, the tool does too
            refused = cdc.problems(config)
            if refused:
                raise PipelineConfigError("cdc_tables", [ConfigProblem("", p) for p in refused])
        workbooks = _workbook_reconciler(config, loader_function, clients, session)
        if workbooks is not None:
            refused = workbooks.problems(config)
            if refused:
                raise PipelineConfigError(
                    "workbook_tables", [ConfigProblem("", p) for p in refused]
                )
        plan = store.apply(config)
        schedules = _reconcile_schedules(config, store, loader_function, clients, session)
        schedules += _reconcile_redshift_log_groups(config, loader_function, clients, session)
        schedules += _reconcile_cdc_tables(config, cdc)
        schedules += _reconcile_workbook_tables(config, loader_function, workbooks)
    except PipelineConfigError as error:  # an item DynamoDB would refuse: nothing was written
        print(f"{error}\nNothing was applied.", file=err)
        return EXIT_INVALID
    except (StackLookupError, BotoCoreError, ClientError, ValidationError) as error:
        print(f"error: {error}", file=err)
        return EXIT_AWS
    print(f"{describe_applied(plan)}\n  -> {batch_table}, {table_table}\n{schedules}", file=out)
    return 0


def _loader_variables(
    loader_function: str, clients: dict[str, Any], session: boto3.session.Session
) -> dict[str, str]:
    """The config loader function's environment: the settings its reconcilers read."""
    functions = clients.get("lambda") or session.client("lambda")
    environment = functions.get_function_configuration(FunctionName=loader_function)
    variables: dict[str, str] = environment.get("Environment", {}).get("Variables", {})
    return variables


def _reconcile_schedules(
    config: PipelineConfig,
    store: PipelineConfigStore,
    loader_function: str | None,
    clients: dict[str, Any],
    session: boto3.session.Session,
) -> str:
    """Keeps the cadence schedules as the config loader does; what it changed, as text."""
    if loader_function is None:
        return (
            "Cadence schedules: not changed (give --stack, or upload the file under the config "
            "bucket's prefix, to create or update them)."
        )
    variables = _loader_variables(loader_function, clients, session)
    settings = CadenceScheduleSettings.model_validate(variables)
    scheduler = clients.get("scheduler") or session.client("scheduler")
    done = cadence_schedule_reconciler(store, settings, scheduler).reconcile(config)
    summary = ", ".join(f"{k} {v}" for k, v in done.summary().items() if v)
    return f"Cadence schedules in {settings.cadence_schedule_group}: {summary or 'none'}."


def _reconcile_redshift_log_groups(
    config: PipelineConfig,
    loader_function: str | None,
    clients: dict[str, Any],
    session: boto3.session.Session,
) -> str:
    """Keeps the Redshift log subscriptions as the config loader does; what changed, as text
    (nothing when the file has no redshift_log_groups: they are left as they are)."""
    if config.redshift_log_groups is None:
        return ""
    if loader_function is None:
        return "\nRedshift log groups: not changed (give --stack, or upload the file)."
    variables = _loader_variables(loader_function, clients, session)
    settings = RedshiftSubscriptionSettings.model_validate(variables)
    logs = clients.get("logs") or session.client("logs")
    done = redshift_subscription_reconciler(settings, logs).reconcile(config)
    lines = [f"\nRedshift log groups ({settings.redshift_subscription_filter}):"]
    lines += [
        f"  {what} {group}"
        for what, groups in (
            ("subscribed", done.created),
            ("updated", done.updated),
            ("unsubscribed", done.removed),
            ("unchanged", done.unchanged),
        )
        for group in groups
    ]
    lines += [f"  NOT subscribed {problem}" for problem in done.problems]
    return "\n".join(lines)


def _cdc_settings(
    config: PipelineConfig,
    loader_function: str | None,
    clients: dict[str, Any],
    session: boto3.session.Session,
) -> CdcStreamSettings | None:
    """The loader's CDC settings (None without --stack); PipelineConfigError, before anything
    is written, for a cdc table outside the stack's CdcSourceTablePattern."""
    if loader_function is None:
        return None
    variables = _loader_variables(loader_function, clients, session)
    settings = CdcStreamSettings.model_validate(variables)
    outside = sources_outside(config.cdc_tables, settings.cdc_source_table_pattern)
    if outside:
        raise PipelineConfigError("cdc_tables", outside)
    return settings


def _cdc_reconciler(
    settings: CdcStreamSettings | None,
    clients: dict[str, Any],
    session: boto3.session.Session,
) -> CdcStreamReconciler | None:
    """The config loader's cdc_tables reconciler (None without --stack)."""
    mappings = settings.stream_mappings() if settings is not None else None
    if settings is None or mappings is None:
        return None
    dynamodb = clients.get("dynamodb") or session.client("dynamodb")
    store = CdcTableStore(settings.cdc_table_config_table, client=dynamodb)
    functions = clients.get("lambda") or session.client("lambda")
    return CdcStreamReconciler(store, mappings, dynamodb=dynamodb, lambda_client=functions)


def _reconcile_cdc_tables(config: PipelineConfig, reconciler: CdcStreamReconciler | None) -> str:
    """Stores the file's cdc_tables and keeps every stored entry's stream mapping, as the
    config loader does (also for a file without cdc_tables: a stored entry's stream may have
    changed)."""
    if reconciler is None:
        if not config.cdc_tables:
            return ""
        return "\nCDC tables: not changed (give --stack, or upload the file)."
    done = reconciler.reconcile(config)
    summary = ", ".join(f"{k} {v}" for k, v in done.summary().items() if v)
    return f"\nCDC stream mappings: {summary or 'none'}."


def _workbook_reconciler(
    config: PipelineConfig,
    loader_function: str | None,
    clients: dict[str, Any],
    session: boto3.session.Session,
) -> WorkbookTableReconciler | None:
    """The config loader's workbook_tables reconciler (None without --stack, when the file has
    no workbook_tables, or when the stack keeps none)."""
    if loader_function is None or config.workbook_tables is None:
        return None
    variables = _loader_variables(loader_function, clients, session)
    settings = WorkbookTableSettings.model_validate(variables)
    glue = clients.get("glue") or session.client("glue")
    quicksight = clients.get("quicksight") or session.client("quicksight")
    return workbook_table_reconciler(settings, glue, quicksight)


def _reconcile_workbook_tables(
    config: PipelineConfig,
    loader_function: str | None,
    reconciler: WorkbookTableReconciler | None,
) -> str:
    """Keeps the workbook tables (and datasets) as the config loader does; what changed."""
    if config.workbook_tables is None:
        return ""
    if reconciler is None:
        why = "give --stack, or upload the file" if loader_function is None else "not in the stack"
        return f"\nWorkbook tables: not changed ({why})."
    done = reconciler.reconcile(config)
    summary = done.summary()
    datasets = summary.pop("datasets", None)
    lines = ", ".join(f"{k} {v}" for k, v in summary.items() if v)
    text = f"\nWorkbook tables in {reconciler.glue.database}: {lines or 'none'}."
    if datasets is not None:
        changed = ", ".join(f"{k} {v}" for k, v in datasets.items() if v)
        text += f"\nWorkbook datasets (QuickSight): {changed or 'none'}."
    return text


if __name__ == "__main__":
    raise SystemExit(main())
