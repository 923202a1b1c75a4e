"""Delete a deployed stack, then say exactly what it kept and how to remove each kept resource.

    python -m tools.destroy --stack datalake-events-dev --region eu-west-1 [--yes]
    python -m tools.destroy --empty-bucket <bucket> --region eu-west-1

Before anything is deleted, the stack's processed template and resource list are read: the
resources whose DeletionPolicy is Retain (the data and its catalog) are what CloudFormation
will leave behind, under these physical names. Resources the config loader made from the
pipeline config (decision 0030) are not the stack's: the stream mappings to iceberg_cdc other
than the template's, the stack's subscription filters on Redshift log groups and the QuickSight
datasets of its workbook tables are removed first, as CloudFormation would leave them pointing
at deleted functions and a deleted data source (the cadence schedules go with their schedule
group; the workbook tables' Glue tables stay in the retained lake database, with the CSVs they
read, and go with it). Buckets the stack does delete are emptied first
(every version and delete marker), since CloudFormation cannot delete a bucket that holds
objects. Then the stack is deleted, the deletion waited for, and the kept resources printed
with the commands that remove them. Nothing is deleted without typing the stack name, or --yes.

Exit codes: 0 deleted, 1 not confirmed, 2 usage (argparse), 3 AWS error (unknown stack, failed
deletion).
"""

import argparse
import contextlib
import functools
import shlex
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError, WaiterError
from samcli.yamlhelper import yaml_parse

from datalake_shared.redshift_log_groups import subscription_filter_name
from datalake_shared.redshift_subscriptions import CloudWatchLogsSubscriptions, GroupMissingError
from datalake_shared.workbook_datasets import QuickSightDatasets, account_of
from datalake_shared.workbook_tables import GlueWorkbookTables, dataset_id

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_cloudformation.type_defs import WaiterConfigTypeDef
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client

EXIT_NOT_CONFIRMED: Final = 1
EXIT_AWS: Final = 3
BUCKET: Final = "AWS::S3::Bucket"
RETAINING_POLICIES: Final = frozenset({"Retain", "RetainExceptOnCreate"})
# Catalog tables before their database, data stores last: the order to remove them in.
_REMOVAL_ORDER: Final = (
    "AWS::Glue::Table",
    "AWS::Glue::Database",
    "AWS::DynamoDB::Table",
    BUCKET,
    "AWS::KMS::Key",
)
_DELETE_BATCH: Final = 1000  # DeleteObjects takes at most 1,000 keys
# Deleting the stack takes minutes; wait up to an hour before calling it stuck.
_WAIT: "Final[WaiterConfigTypeDef]" = {"Delay": 10, "MaxAttempts": 360}

ClientFactory = Callable[[str], Any]
Confirm = Callable[["DeletionPlan"], bool]


class DestroyError(RuntimeError):
    """The stack could not be read, emptied or deleted."""


@dataclass(frozen=True)
class StackResource:
    logical_id: str
    resource_type: str
    physical_id: str
    deletion_policy: str


@dataclass(frozen=True)
class KeptResource:
    resource: StackResource
    commands: tuple[str, ...]


@dataclass(frozen=True)
class MadeByConfig:
    """A resource the config loader created for the stack, unknown to CloudFormation."""

    kind: str
    name: str
    remove: Callable[[], Any]


@dataclass(frozen=True)
class DeletionPlan:
    stack_name: str
    stack_id: str
    region: str
    kept: tuple[KeptResource, ...]
    emptied: tuple[StackResource, ...]  # buckets the stack deletes, emptied beforehand
    made_by_config: tuple[MadeByConfig, ...] = ()  # removed before the stack


def read_plan(client: ClientFactory, stack_name: str, region: str) -> DeletionPlan:
    """What deleting the stack will keep and what must be emptied first, read from the stack."""
    cloudformation: CloudFormationClient = client("cloudformation")
    stack_id = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]["StackId"]
    body = cloudformation.get_template(StackName=stack_id, TemplateStage="Processed")
    template = _as_template(body["TemplateBody"])
    declared = template.get("Resources", {})
    stack_resources: list[StackResource] = []
    paginator = cloudformation.get_paginator("list_stack_resources")
    for page in paginator.paginate(StackName=stack_id):
        for summary in page["StackResourceSummaries"]:
            physical_id = summary.get("PhysicalResourceId")
            if not physical_id or summary["ResourceStatus"] == "DELETE_COMPLETE":
                continue  # never created (a false Condition) or already gone
            logical_id = summary["LogicalResourceId"]
            stack_resources.append(
                StackResource(
                    logical_id=logical_id,
                    resource_type=summary["ResourceType"],
                    physical_id=physical_id,
                    deletion_policy=declared.get(logical_id, {}).get("DeletionPolicy", "Delete"),
                )
            )
    physical = {resource.logical_id: resource.physical_id for resource in stack_resources}
    stack = _Stack(declared, physical, region, client)
    kept = [
        KeptResource(resource, removal_commands(resource, stack))
        for resource in stack_resources
        if resource.deletion_policy in RETAINING_POLICIES
    ]
    kept.sort(
        key=lambda item: (_removal_rank(item.resource.resource_type), item.resource.logical_id)
    )
    emptied = tuple(
        resource
        for resource in stack_resources
        if resource.resource_type == BUCKET and resource.deletion_policy not in RETAINING_POLICIES
    )
    made = tuple(_made_by_config(stack_resources, stack_name, client))
    made += tuple(_workbook_datasets(physical, stack_name, stack_id, client))
    return DeletionPlan(stack_name, stack_id, region, tuple(kept), emptied, made)


_CDC_FUNCTION: Final = "IcebergCdcFunction"
_AUDIT_FUNCTION: Final = "RedshiftAuditFunction"
_MAPPING: Final = "AWS::Lambda::EventSourceMapping"


def _made_by_config(
    resources: Sequence[StackResource], stack_name: str, client: ClientFactory
) -> list[MadeByConfig]:
    """The stream mappings and log subscription filters the config loader made."""
    physical = {resource.logical_id: resource.physical_id for resource in resources}
    made: list[MadeByConfig] = []
    if _CDC_FUNCTION in physical:
        declared = {r.physical_id for r in resources if r.resource_type == _MAPPING}
        lambda_client = client("lambda")
        paginator = lambda_client.get_paginator("list_event_source_mappings")
        for page in paginator.paginate(FunctionName=physical[_CDC_FUNCTION]):
            for mapping in page["EventSourceMappings"]:
                if mapping["UUID"] in declared:
                    continue  # the template's: CloudFormation deletes it
                made.append(
                    MadeByConfig(
                        "stream mapping",
                        f"{mapping['UUID']} ({mapping.get('EventSourceArn', '')})",
                        functools.partial(
                            lambda_client.delete_event_source_mapping, UUID=mapping["UUID"]
                        ),
                    )
                )
    if _AUDIT_FUNCTION in physical:
        logs = CloudWatchLogsSubscriptions(client("logs"))
        ours = subscription_filter_name(stack_name)
        for group in logs.user_activity_groups():
            with contextlib.suppress(GroupMissingError):  # deleted meanwhile: nothing to do
                if any(found.name == ours for found in logs.filters(group)):
                    made.append(
                        MadeByConfig(
                            "subscription filter",
                            f"{ours} on {group}",
                            functools.partial(logs.delete, group, ours),
                        )
                    )
    return made


_DATA_SOURCE: Final = "QuickSightAthenaDataSource"
_LAKE_DATABASE: Final = "LakeDatabase"


def _workbook_datasets(
    physical: dict[str, str], stack_name: str, stack_id: str, client: ClientFactory
) -> list[MadeByConfig]:
    """The SPICE datasets the config loader made for the workbook tables: every dataset of the
    account whose id starts with ``<stack>-workbook-`` (ListDataSets), whether its table is
    still there or not. Looked for when QuickSight is on, or was (a table marked with its
    dataset): ListDataSets fails in an account without QuickSight."""
    tables = None
    marked: dict[str, dict[str, Any]] = {}
    if _LAKE_DATABASE in physical:
        tables = GlueWorkbookTables(physical[_LAKE_DATABASE], stack_name, client("glue"))
        marked = {
            owned.dataset_id: table
            for owned, table in tables.owned().values()
            if owned.dataset_id is not None
        }
    if _DATA_SOURCE not in physical and not marked:
        return []
    datasets = QuickSightDatasets(account_of(stack_id), "", client("quicksight"))
    return [
        MadeByConfig(
            "QuickSight dataset",
            data_set_id,
            functools.partial(
                _remove_dataset, datasets, tables, data_set_id, marked.get(data_set_id)
            ),
        )
        for data_set_id in datasets.ids_starting_with(dataset_id(stack_name, ""))
    ]


def _remove_dataset(
    datasets: QuickSightDatasets,
    tables: GlueWorkbookTables | None,
    data_set_id: str,
    marked_table: dict[str, Any] | None,
) -> None:
    """Deletes the dataset, then its table's mark (the table stays, in the retained database:
    marked, a stack of the same name would refresh a dataset that is gone)."""
    datasets.delete(data_set_id)
    if tables is not None and marked_table is not None:
        tables.unmark(marked_table)


def _as_template(body: Any) -> dict[str, Any]:
    """GetTemplate returns JSON bodies already parsed, YAML ones as text."""
    template: dict[str, Any] = body if isinstance(body, dict) else yaml_parse(body)
    return template


def _removal_rank(resource_type: str) -> int:
    if resource_type in _REMOVAL_ORDER:
        return _REMOVAL_ORDER.index(resource_type)
    return len(_REMOVAL_ORDER)


@dataclass(frozen=True)
class _Stack:
    """What a removal command needs besides the resource: the template, names, region."""

    declared: dict[str, Any]
    physical: dict[str, str]
    region: str
    client: ClientFactory


def _bucket_commands(resource: StackResource, stack: _Stack) -> list[str]:
    name, where = shlex.quote(resource.physical_id), _where(stack)
    return [
        f".venv/bin/python -m tools.destroy --empty-bucket {name} {where}",
        f"aws s3api delete-bucket --bucket {name} {where}",
    ]


def _table_commands(resource: StackResource, stack: _Stack) -> list[str]:
    name, where = shlex.quote(resource.physical_id), _where(stack)
    commands = [f"aws dynamodb delete-table --table-name {name} {where}"]
    if _deletion_protected(stack.client("dynamodb"), resource.physical_id):
        unprotect = f"--no-deletion-protection-enabled {where}"
        commands.insert(0, f"aws dynamodb update-table --table-name {name} {unprotect}")
    return commands


def _database_commands(resource: StackResource, stack: _Stack) -> list[str]:
    # Deletes the tables left in it too.
    return [f"aws glue delete-database --name {shlex.quote(resource.physical_id)} {_where(stack)}"]


def _catalog_table_commands(resource: StackResource, stack: _Stack) -> list[str]:
    # Removes the catalog entry only; an Iceberg table's files go with its bucket.
    properties = stack.declared.get(resource.logical_id, {}).get("Properties", {})
    database = shlex.quote(_resolve(properties.get("DatabaseName"), stack.physical))
    name = shlex.quote(resource.physical_id)
    return [f"aws glue delete-table --database-name {database} --name {name} {_where(stack)}"]


def _key_commands(resource: StackResource, stack: _Stack) -> list[str]:
    key = shlex.quote(resource.physical_id)
    return [
        f"aws kms schedule-key-deletion --key-id {key} --pending-window-in-days 7 {_where(stack)}"
    ]


def _log_group_commands(resource: StackResource, stack: _Stack) -> list[str]:
    group = shlex.quote(resource.physical_id)
    return [f"aws logs delete-log-group --log-group-name {group} {_where(stack)}"]


_COMMANDS: Final[dict[str, Callable[[StackResource, _Stack], list[str]]]] = {
    BUCKET: _bucket_commands,
    "AWS::DynamoDB::Table": _table_commands,
    "AWS::Glue::Database": _database_commands,
    "AWS::Glue::Table": _catalog_table_commands,
    "AWS::KMS::Key": _key_commands,
    "AWS::Logs::LogGroup": _log_group_commands,
}


def removal_commands(resource: StackResource, stack: _Stack) -> tuple[str, ...]:
    """The commands that remove a kept resource (a comment when none is known for its type)."""
    build = _COMMANDS.get(resource.resource_type)
    if build is None:
        kind, name = resource.resource_type, resource.physical_id
        return (f"# no command known for {kind}: delete {name} in its console",)
    return tuple(build(resource, stack))


def _where(stack: _Stack) -> str:
    return f"--region {shlex.quote(stack.region)}"


def _resolve(value: Any, physical: dict[str, str]) -> str:
    """A property's value: a literal, or a Ref to another resource of the stack."""
    if isinstance(value, str):
        return value
    reference = value.get("Ref") if isinstance(value, dict) else None
    if isinstance(reference, str):
        return physical.get(reference, reference)
    return "<database>"


def _deletion_protected(dynamodb: "DynamoDBClient", table: str) -> bool:
    described = dynamodb.describe_table(TableName=table)["Table"]
    return bool(described.get("DeletionProtectionEnabled", False))


def empty_bucket(s3: "S3Client", bucket: str) -> int:
    """Delete every object version and delete marker of a bucket; returns how many."""
    deleted = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        entries = [*page.get("Versions", []), *page.get("DeleteMarkers", [])]
        objects: list[Any] = [{"Key": e["Key"], "VersionId": e["VersionId"]} for e in entries]
        for start in range(0, len(objects), _DELETE_BATCH):
            batch = objects[start : start + _DELETE_BATCH]
            response = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
            if response.get("Errors"):
                first = response["Errors"][0]
                raise DestroyError(f"s3://{bucket}/{first.get('Key')}: {first.get('Message')}")
            deleted += len(batch)
    return deleted


def describe_plan(plan: DeletionPlan) -> str:
    lines = [f"Stack {plan.stack_name} ({plan.region}) will be deleted."]
    for made in plan.made_by_config:
        lines.append(f"  removed first (made by the config loader): {made.kind} {made.name}")
    for bucket in plan.emptied:
        lines.append(f"  emptied first (the stack deletes it): s3://{bucket.physical_id}")
    lines.append(f"  kept (DeletionPolicy Retain): {len(plan.kept)} resources")
    for item in plan.kept:
        resource = item.resource
        lines.append(f"    {resource.resource_type:<22} {resource.physical_id}")
    return "\n".join(lines)


def describe_kept(plan: DeletionPlan) -> str:
    """The report after deletion: each kept resource, its physical name, how to remove it."""
    if not plan.kept:
        return f"Deleted stack {plan.stack_name}; it kept nothing."
    lines = [
        f"Deleted stack {plan.stack_name} ({plan.region}). It kept {len(plan.kept)} resources "
        "(DeletionPolicy Retain); to remove them, in this order:"
    ]
    for item in plan.kept:
        resource = item.resource
        lines.append(f"  {resource.resource_type} {resource.logical_id}: {resource.physical_id}")
        lines.extend(f"    {command}" for command in item.commands)
    return "\n".join(lines)


def destroy(
    stack_name: str,
    region: str,
    client: ClientFactory,
    *,
    confirm: Confirm,
    out: TextIO,
    wait: "WaiterConfigTypeDef | None" = None,
) -> int:
    """Plan, confirm, empty, delete, wait, report. Returns the exit code."""
    plan = read_plan(client, stack_name, region)
    print(describe_plan(plan), file=out)
    if not confirm(plan):
        print("Not confirmed: nothing was deleted.", file=out)
        return EXIT_NOT_CONFIRMED
    for made in plan.made_by_config:
        made.remove()
        print(f"removed {made.kind} {made.name}", file=out)
    s3: S3Client = client("s3")
    for bucket in plan.emptied:
        count = empty_bucket(s3, bucket.physical_id)
        print(f"emptied s3://{bucket.physical_id} ({count} objects and versions)", file=out)
    cloudformation: CloudFormationClient = client("cloudformation")
    cloudformation.delete_stack(StackName=plan.stack_id)
    print(f"deleting {plan.stack_name}...", file=out)
    try:
        # By stack id: a deleted stack stays describable by id (DELETE_COMPLETE), not by name.
        waiter = cloudformation.get_waiter("stack_delete_complete")
        waiter.wait(StackName=plan.stack_id, WaiterConfig=wait or _WAIT)
    except WaiterError as error:
        print(f"The deletion of {plan.stack_name} failed: {error}", file=out)
        for reason in _failed_deletions(cloudformation, plan.stack_id):
            print(f"  {reason}", file=out)
        return EXIT_AWS
    print(describe_kept(plan), file=out)
    return 0


def _failed_deletions(cloudformation: "CloudFormationClient", stack_id: str) -> list[str]:
    events = cloudformation.describe_stack_events(StackName=stack_id)["StackEvents"]
    return [
        f"{event['LogicalResourceId']}: {event.get('ResourceStatusReason', '')}"
        for event in events
        if event.get("ResourceStatus") == "DELETE_FAILED"
    ]


def ask(plan: DeletionPlan) -> bool:
    """Confirmation by typing the stack's name (a terminal is needed: use --yes otherwise)."""
    if not sys.stdin.isatty():
        print("Not a terminal: pass --yes (make destroy CONFIRM=1) to delete without asking.")
        return False
    return (
        input(f"Type the stack name ({plan.stack_name}) to delete it: ").strip() == plan.stack_name
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tools.destroy",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--stack", help="the stack to delete")
    target.add_argument("--empty-bucket", help="delete every object version of this bucket")
    parser.add_argument("--region", required=True, help="the stack's region")
    parser.add_argument("--yes", action="store_true", help="delete without asking")
    return parser.parse_args(argv)


def _clients(session: Any) -> ClientFactory:
    """The session's clients by service name (its typed overloads take only literal names)."""

    @functools.cache  # one client per service, however many resources ask
    def client(service: str) -> Any:
        return session.client(service)

    return client


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    args = parse_args(argv)
    session = boto3.session.Session(region_name=args.region)
    try:
        if args.empty_bucket:
            count = empty_bucket(session.client("s3"), args.empty_bucket)
            print(f"emptied s3://{args.empty_bucket} ({count} objects and versions)", file=out)
            return 0
        confirm: Confirm = (lambda _plan: True) if args.yes else ask
        return destroy(
            args.stack,
            args.region,
            _clients(session),
            confirm=confirm,
            out=out,
        )
    except (ClientError, BotoCoreError, DestroyError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_AWS


if __name__ == "__main__":
    sys.exit(main())
