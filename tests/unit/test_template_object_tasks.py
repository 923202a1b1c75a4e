"""template.yaml's scheduled object rewrites: who may schedule, deliver and rewrite what, and
which stream records reach the rewriter (the TTL fallback)."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from datalake_shared.object_tasks import ObjectTask, TaskStatus, parse_rules, scheduled_item
from local_runtime.bridges.stream_records import TTL_IDENTITY, matches_filters
from tests.unit.template_support import Template, refs

GROUP = "ObjectTaskScheduleGroup"
ROLE = "ObjectTaskScheduleRole"


def _statements(template: Template, function: str) -> list[dict[str, Any]]:
    props = template["Resources"][function]["Properties"]
    return [
        statement
        for policy in props.get("Policies", [])
        if isinstance(policy, dict)  # SAM policy templates name no bucket of this stack
        for statement in policy.get("Statement", [])
    ]


def _actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def test_the_schedule_role_trusts_only_the_object_task_group(sam_template: Template) -> None:
    # Given the role the one-time schedules assume
    role = sam_template["Resources"][ROLE]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    # Then only the scheduler, for this account and this group, may assume it
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    source = trust["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::Sub"]
    assert source.endswith(f":schedule-group/${{{GROUP}}}")
    # And it may send to the task queue and its dead-letter queue, nothing else
    (policy,) = role["Policies"]
    granted = [(s["Action"], refs(s["Resource"])) for s in policy["PolicyDocument"]["Statement"]]
    assert sorted(granted, key=str) == sorted(
        [("sqs:SendMessage", {"ObjectTaskQueue"}), ("sqs:SendMessage", {"ObjectTaskDLQ"})], key=str
    )


def test_the_scheduler_creates_schedules_in_its_group_and_passes_only_their_role(
    sam_template: Template,
) -> None:
    # Given the scheduler function's statements
    statements = _statements(sam_template, "ObjectTaskSchedulerFunction")
    by_action = {action: s for s in statements for action in _actions(s)}
    # Then it creates schedules of its own group only, never updates or deletes one
    create = by_action["scheduler:CreateSchedule"]
    assert create["Resource"]["Fn::Sub"].endswith(f":schedule/${{{GROUP}}}/*")
    assert not {a for a in by_action if a.startswith("scheduler:")} - {"scheduler:CreateSchedule"}
    # And it may pass the schedule role, to the scheduler only
    passing = by_action["iam:PassRole"]
    assert refs(passing["Resource"]) == {ROLE}
    assert passing["Condition"] == {
        "StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}
    }


def test_only_the_rewriter_may_change_or_delete_dataset_objects(sam_template: Template) -> None:
    # Given every function's statements on the dataset bucket's objects
    writers: dict[str, set[str]] = {}
    for logical, resource in sam_template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for statement in _statements(sam_template, logical):
            if "DatasetBucket" not in refs(statement.get("Resource")):
                continue
            changing = {a for a in _actions(statement) if a.startswith(("s3:Put", "s3:Delete"))}
            if changing:
                writers.setdefault(logical, set()).update(changing)
    # Then only the rewriter writes, and it deletes versions only (never a whole object)
    assert writers == {
        "ObjectRewriterFunction": {"s3:PutObject", "s3:PutObjectTagging", "s3:DeleteObjectVersion"}
    }


def _remove_record(status: TaskStatus, identity: dict[str, str] | None) -> dict[str, Any]:
    (rule,) = parse_rules(
        '[{"name":"drop","prefix":"dataset/","after_days":30,"action":"remove","fields":["x"]}]'
    )
    task = ObjectTask.for_upload("bucket-1", "dataset/a.json", "v1", rule, datetime.now(UTC))
    image = scheduled_item(task, datetime.now(UTC))
    image["status"] = {"S": status.value}
    record: dict[str, Any] = {
        "eventName": "REMOVE",
        "eventSource": "aws:dynamodb",
        "dynamodb": {"Keys": {"task_id": image["task_id"]}, "OldImage": image},
    }
    if identity is not None:
        record["userIdentity"] = identity
    return record


@pytest.mark.parametrize(
    ("status", "identity", "passes"),
    [
        (TaskStatus.SCHEDULED, TTL_IDENTITY, True),
        (TaskStatus.DONE, TTL_IDENTITY, False),
        (TaskStatus.SCHEDULED, None, False),
        (TaskStatus.SCHEDULED, {"type": "Service", "principalId": "other.amazonaws.com"}, False),
    ],
)
def test_only_a_ttl_expiry_of_a_scheduled_task_reaches_the_rewriter(
    sam_template: Template, status: TaskStatus, identity: dict[str, str] | None, passes: bool
) -> None:
    # Given the expired-tasks mapping's filter
    criteria = sam_template["Resources"]["ObjectRewriterExpiredTasks"]["Properties"][
        "FilterCriteria"
    ]
    # When a REMOVE record of a task item meets it
    # Then only DynamoDB's TTL removing a task still scheduled passes
    assert matches_filters(_remove_record(status, identity), criteria) is passes


def test_writes_to_the_task_table_never_reach_the_rewriter(sam_template: Template) -> None:
    # Given the expired-tasks mapping's filter and an INSERT of a scheduled task
    criteria = sam_template["Resources"]["ObjectRewriterExpiredTasks"]["Properties"][
        "FilterCriteria"
    ]
    record = _remove_record(TaskStatus.SCHEDULED, None)
    record["eventName"] = "INSERT"
    record["dynamodb"]["NewImage"] = record["dynamodb"].pop("OldImage")
    # Then it is filtered out
    assert matches_filters(record, criteria) is False


def test_the_default_rules_parse(sam_template: Template) -> None:
    # Given the ObjectTaskRules parameter's default / Then the functions accept it
    default = sam_template["Parameters"]["ObjectTaskRules"]["Default"]
    assert [rule.name for rule in parse_rules(default)] == [
        entry["name"] for entry in json.loads(default)
    ]
