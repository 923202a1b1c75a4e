"""tools.destroy's plan: read from the stack before anything is deleted, it lists what the stack
will keep (with the commands that remove it) and which buckets must be emptied first. The
deletion itself runs against moto in tests/integration/test_destroy.py; moto's CloudFormation
creates no Glue catalog and no deletion protection, which these in-memory fakes stand for."""

from typing import Any

from quicksight_fake import FakeQuickSight

from datalake_shared.workbook_tables import DATASET_PARAMETER, OWNER_PARAMETER
from tools.destroy import DeletionPlan, read_plan

STACK_ID = "arn:aws:cloudformation:eu-west-1:123456789012:stack/lake/1"
TEMPLATE: dict[str, Any] = {
    "Resources": {
        "LakeDatabase": {"Type": "AWS::Glue::Database", "DeletionPolicy": "Retain"},
        "OrdersTable": {
            "Type": "AWS::Glue::Table",
            "DeletionPolicy": "Retain",
            "Properties": {"DatabaseName": {"Ref": "LakeDatabase"}},
        },
        "TrackerTable": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain"},
        "LeaseTable": {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Delete"},
        "ResultsBucket": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Delete"},
        "StagingBucket": {"Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain"},
        "Queue": {"Type": "AWS::SQS::Queue"},
    }
}
# (logical id, type, physical id, status) as ListStackResources reports them
LISTED = [
    ("LakeDatabase", "AWS::Glue::Database", "lake", "CREATE_COMPLETE"),
    ("OrdersTable", "AWS::Glue::Table", "orders", "CREATE_COMPLETE"),
    ("TrackerTable", "AWS::DynamoDB::Table", "lake-TrackerTable-1", "UPDATE_COMPLETE"),
    ("LeaseTable", "AWS::DynamoDB::Table", "lake-LeaseTable-1", "CREATE_COMPLETE"),
    ("ResultsBucket", "AWS::S3::Bucket", "lake-results-1", "CREATE_COMPLETE"),
    ("StagingBucket", "AWS::S3::Bucket", "lake-staging-1", "DELETE_COMPLETE"),
    ("Queue", "AWS::SQS::Queue", "https://sqs/lake-Queue-1", "CREATE_COMPLETE"),
]


class FakeCloudFormation:
    def __init__(self, body: Any, listed: list[tuple[str, str, str, str]] = LISTED) -> None:
        self.body = body
        self.listed = listed

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        assert StackName == "lake"
        return {"Stacks": [{"StackId": STACK_ID, "StackName": "lake"}]}

    def get_template(self, StackName: str, TemplateStage: str) -> dict[str, Any]:
        assert (StackName, TemplateStage) == (STACK_ID, "Processed")
        return {"TemplateBody": self.body}

    def get_paginator(self, operation: str) -> "FakeCloudFormation":
        assert operation == "list_stack_resources"
        return self

    def paginate(self, StackName: str) -> list[dict[str, Any]]:
        summaries = [
            {
                "LogicalResourceId": logical,
                "ResourceType": kind,
                "PhysicalResourceId": physical,
                "ResourceStatus": status,
            }
            for logical, kind, physical, status in self.listed
        ]
        return [
            {"StackResourceSummaries": summaries[:3]},
            {"StackResourceSummaries": summaries[3:]},
        ]


class FakeDynamoDb:
    def __init__(self, protected: set[str]) -> None:
        self.protected = protected

    def describe_table(self, TableName: str) -> dict[str, Any]:
        return {
            "Table": {
                "TableName": TableName,
                "DeletionProtectionEnabled": TableName in self.protected,
            }
        }


class FakeGlue:
    """GetTables of the lake database, and the tables UpdateTable wrote."""

    def __init__(self, tables: list[dict[str, Any]] | None = None) -> None:
        self.tables = tables or []
        self.updated: list[dict[str, Any]] = []

    def get_paginator(self, operation: str) -> "FakeGlue":
        assert operation == "get_tables"
        return self

    def paginate(self, DatabaseName: str) -> list[dict[str, Any]]:
        assert DatabaseName == "lake"
        return [{"TableList": self.tables}]

    def update_table(self, DatabaseName: str, TableInput: dict[str, Any]) -> None:
        self.updated.append(TableInput)


def plan_for(body: Any = TEMPLATE, protected: frozenset[str] = frozenset()) -> DeletionPlan:
    clients = {
        "cloudformation": FakeCloudFormation(body),
        "dynamodb": FakeDynamoDb(set(protected)),
        "glue": FakeGlue(),
    }
    return read_plan(clients.__getitem__, "lake", "eu-west-1")


def commands(plan: DeletionPlan) -> dict[str, tuple[str, ...]]:
    return {item.resource.logical_id: item.commands for item in plan.kept}


def test_only_retained_resources_that_exist_are_kept() -> None:
    # Given a stack whose retained staging bucket is already gone / When the plan is read
    plan = plan_for()

    # Then the kept list holds the retained resources still there, and nothing else
    assert set(commands(plan)) == {"LakeDatabase", "OrdersTable", "TrackerTable"}


def test_buckets_the_stack_deletes_are_emptied_first() -> None:
    # Given a bucket with DeletionPolicy Delete / Then the plan empties it before the deletion
    assert [bucket.physical_id for bucket in plan_for().emptied] == ["lake-results-1"]


def test_a_glue_table_is_removed_from_the_database_it_refers_to_before_the_database() -> None:
    # Given a retained Glue table whose DatabaseName is a Ref to the retained database
    plan = plan_for()

    # Then its command names the database's physical name, and it comes first
    assert commands(plan)["OrdersTable"] == (
        "aws glue delete-table --database-name lake --name orders --region eu-west-1",
    )
    order = [item.resource.logical_id for item in plan.kept]
    assert order.index("OrdersTable") < order.index("LakeDatabase")


def test_a_deletion_protected_table_is_unprotected_before_it_is_deleted() -> None:
    # Given a retained table with deletion protection on (Stage=prod)
    plan = plan_for(protected=frozenset({"lake-TrackerTable-1"}))

    # Then turning the protection off comes before the delete
    assert commands(plan)["TrackerTable"] == (
        "aws dynamodb update-table --table-name lake-TrackerTable-1 "
        "--no-deletion-protection-enabled --region eu-west-1",
        "aws dynamodb delete-table --table-name lake-TrackerTable-1 --region eu-west-1",
    )


def test_a_yaml_template_body_is_read_like_a_json_one() -> None:
    # Given the processed template returned as YAML text (short tags included), not parsed JSON
    body = "\n".join(
        [
            "Resources:",
            *(
                f"  {logical}:\n    Type: {resource['Type']}\n"
                f"    DeletionPolicy: {resource.get('DeletionPolicy', 'Delete')}"
                for logical, resource in TEMPLATE["Resources"].items()
                if logical != "OrdersTable"
            ),
            "  OrdersTable:",
            "    Type: AWS::Glue::Table",
            "    DeletionPolicy: Retain",
            "    Properties:",
            "      DatabaseName: !Ref LakeDatabase",
        ]
    )

    # Then the plan is the same
    assert plan_for(body) == plan_for()


def workbook_table(name: str, owner: str, dataset: str | None) -> dict[str, Any]:
    """A workbook table as GetTables reads it (with fields UpdateTable does not take)."""
    parameters = {OWNER_PARAMETER: owner, **({DATASET_PARAMETER: dataset} if dataset else {})}
    return {
        "Name": f"workbook_{name}",
        "DatabaseName": "lake",
        "CreateTime": "2026-07-01",
        "Parameters": parameters,
        "StorageDescriptor": {"Location": f"s3://clean/incoming/{name}/"},
    }


def clients_with(quicksight: FakeQuickSight, glue: FakeGlue, data_source: bool) -> Any:
    source = ("QuickSightAthenaDataSource", "AWS::QuickSight::DataSource", "x|lake-athena")
    listed = [*LISTED, (*source, "CREATE_COMPLETE")] if data_source else LISTED
    clients = {
        "cloudformation": FakeCloudFormation(TEMPLATE, listed),
        "dynamodb": FakeDynamoDb(set()),
        "glue": glue,
        "quicksight": quicksight,
    }
    return clients.__getitem__


def test_every_workbook_dataset_of_the_stack_is_removed_before_it() -> None:
    # Given QuickSight on; the stack's datasets of a marked table and of a table deleted since
    # (each listed on a page of its own), another stack's and an unrelated one
    quicksight = FakeQuickSight("123456789012")
    for data_set_id in ("lake-workbook-orders", "lake-workbook-gone", "dev-workbook-x", "sales"):
        quicksight.data_sets[data_set_id] = {"DataSetId": data_set_id}
    glue = FakeGlue([workbook_table("orders", "lake", "lake-workbook-orders")])
    # When the plan is read
    plan = read_plan(clients_with(quicksight, glue, data_source=True), "lake", "eu-west-1")
    # Then both of the stack's datasets are removed first, and only they
    made = [(item.kind, item.name) for item in plan.made_by_config]
    assert made == [
        ("QuickSight dataset", "lake-workbook-gone"),
        ("QuickSight dataset", "lake-workbook-orders"),
    ]
    for item in plan.made_by_config:
        item.remove()
    assert sorted(quicksight.data_sets) == ["dev-workbook-x", "sales"]
    # And the table that stays (in the retained database) no longer names its dataset
    [unmarked] = glue.updated
    assert unmarked["Name"] == "workbook_orders"
    assert DATASET_PARAMETER not in unmarked["Parameters"]
    assert "CreateTime" not in unmarked


def test_datasets_left_after_quicksight_was_turned_off_are_found_by_their_tables_mark() -> None:
    # Given no data source any more, but a table still naming its dataset
    quicksight = FakeQuickSight("123456789012")
    quicksight.data_sets["lake-workbook-orders"] = {"DataSetId": "lake-workbook-orders"}
    glue = FakeGlue([workbook_table("orders", "lake", "lake-workbook-orders")])
    # When the plan is read / Then the dataset is removed first
    plan = read_plan(clients_with(quicksight, glue, data_source=False), "lake", "eu-west-1")
    assert [item.name for item in plan.made_by_config] == ["lake-workbook-orders"]


def test_without_quicksight_ever_on_no_dataset_is_looked_for() -> None:
    # Given no data source and no marked table / When the plan is read
    quicksight = FakeQuickSight("123456789012")
    glue = FakeGlue([workbook_table("orders", "lake", None)])
    plan = read_plan(clients_with(quicksight, glue, data_source=False), "lake", "eu-west-1")
    # Then QuickSight was not asked (ListDataSets fails in an account without it)
    assert plan.made_by_config == ()
    assert quicksight.calls == []
