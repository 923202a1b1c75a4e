"""tools.destroy's plan: read from the stack before anything is deleted, it lists what the stack
will keep (with the commands that remove it) and which buckets must be emptied first. The
deletion itself runs against moto in tests/integration/test_destroy.py; moto's CloudFormation
creates no Glue catalog and no deletion protection, which these in-memory fakes stand for."""

from typing import Any

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
    def __init__(self, body: Any) -> None:
        self.body = body

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
            for logical, kind, physical, status in LISTED
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


def plan_for(body: Any = TEMPLATE, protected: frozenset[str] = frozenset()) -> DeletionPlan:
    clients = {"cloudformation": FakeCloudFormation(body), "dynamodb": FakeDynamoDb(set(protected))}
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
