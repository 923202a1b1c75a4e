"""AlarmStateRule takes the stack's alarms by a name prefix only this stack has.

Every alarm is named "<stack name>/<what it watches>"; a stack name holds only letters, digits
and hyphens, so no other stack's alarms start with "<stack name>/" (a sibling such as
"<stack name>-prod" differs at the separator). The rule's pattern names that prefix once, so
its size depends on the stack name and region, never on the number of alarms.

EventBridge limits a pattern to 2,048 characters by default (EventBridge quotas, "Event pattern
size"). The template writes the pattern as compact JSON text; it is measured with a space after
every "," and ":" (Python's json.dumps), longer than that, so the bound holds for either form.
Matching is moto's EventBridge: a rule with the resolved pattern, a queue target, PutEvents.
"""

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

import boto3
import botocore.session
import pytest
from cfn_intrinsics import MAX_STACK_NAME_CHARS, Stack, evaluate, longest_arn_region
from moto import mock_aws
from template_support import refs, resources

EVENT_PATTERN_LIMIT = 2048
"""Characters; the default quota (adjustable on request, so a stack must not need more)."""

STACK = "datalake-events"
SIBLINGS = ("datalake-events-prod", "datalake-events-dev", "datalake-events2")
DEFAULT_SCOPE = {"WatchOtherAlarms": False}
"""MonitoredAlarms empty: the stack's own alarms only."""


def _pattern(template: dict[str, Any]) -> Any:
    return template["Resources"]["AlarmStateRule"]["Properties"]["EventPattern"]


def _resolved(template: dict[str, Any], stack: Stack) -> Any:
    """The pattern as EventBridge gets it for this stack (JSON text, read back), watching no
    other alarms unless the stack's conditions say so (MonitoredAlarms)."""
    stack = dataclasses.replace(stack, conditions={**DEFAULT_SCOPE, **stack.conditions})
    return json.loads(evaluate(_pattern(template), stack))


def _pattern_chars(pattern: Any) -> int:
    return len(json.dumps(pattern, ensure_ascii=False))


def _alarm_names(template: dict[str, Any], stack: Stack) -> dict[str, str]:
    return {
        logical: evaluate(alarm["Properties"]["AlarmName"], stack)
        for logical, alarm in resources(template, "AWS::CloudWatch::Alarm").items()
    }


def _state_change(stack: Stack, alarm_name: str) -> dict[str, Any]:
    """A PutEvents entry shaped as CloudWatch sends an alarm's state change to EventBridge."""
    arn = f"arn:{stack.partition}:cloudwatch:{stack.region}:{stack.account}:alarm:{alarm_name}"
    return {
        "Source": "aws.cloudwatch",
        "DetailType": "CloudWatch Alarm State Change",
        "Resources": [arn],
        "Detail": json.dumps({"alarmName": alarm_name, "state": {"value": "ALARM"}}),
    }


def _delivered(pattern: Any, entries: Sequence[Any]) -> list[str]:
    """Alarm ARNs of the entries a rule with this pattern delivers (moto's matcher)."""
    with mock_aws():
        events = boto3.client("events", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="alarm-rule-target")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        events.put_rule(Name="alarm-state", EventPattern=json.dumps(pattern))
        events.put_targets(
            Rule="alarm-state",
            Targets=[{"Id": "queue", "Arn": queue_arn["Attributes"]["QueueArn"]}],
        )
        for start in range(0, len(entries), 10):
            answer = events.put_events(Entries=list(entries[start : start + 10]))
            assert answer["FailedEntryCount"] == 0
        delivered: list[str] = []
        while messages := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
            "Messages", []
        ):
            for message in messages:
                delivered += json.loads(message["Body"])["resources"]
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return delivered


def test_the_pattern_names_no_alarm_so_it_does_not_grow_with_them(
    sam_template: dict[str, Any],
) -> None:
    # Given the template's alarms
    alarms = set(resources(sam_template, "AWS::CloudWatch::Alarm"))
    # When the alarm rule's pattern is read
    named = refs(_pattern(sam_template))
    # Then it refers to none of them (an alarm added later leaves it as it is)
    assert len(alarms) >= 18
    assert named & alarms == set()


@pytest.mark.parametrize("name_chars", [40, MAX_STACK_NAME_CHARS])
def test_the_pattern_fits_eventbridge_for_a_long_stack_name_in_the_longest_region(
    sam_template: dict[str, Any], name_chars: int
) -> None:
    # Given a stack name of this length in the region whose ARNs are longest (partition and
    # region are both spelled out in the pattern's ARN prefix)
    partition, region = longest_arn_region()
    name = ("datalake-events-staging-" + "x" * MAX_STACK_NAME_CHARS)[:name_chars]
    stack = Stack(name=name, region=region, partition=partition)
    # When the pattern is resolved for that stack
    pattern = _resolved(sam_template, stack)
    # Then it is within EventBridge's default pattern size
    assert name in json.dumps(pattern)
    assert _pattern_chars(pattern) <= EVENT_PATTERN_LIMIT


def test_every_alarm_is_named_under_the_stack_prefix(sam_template: dict[str, Any]) -> None:
    # Given the longest stack name CloudFormation allows
    stack = Stack(name="d" * MAX_STACK_NAME_CHARS)
    longest_name = botocore.session.get_session().get_service_model("cloudwatch")
    max_chars = longest_name.shape_for("AlarmName").metadata["max"]
    # When every alarm's name is resolved for it
    names = _alarm_names(sam_template, stack)
    # Then each is "<stack>/<something>", distinct, and within CloudWatch's name length
    assert all(
        name.startswith(f"{stack.name}/") and name != f"{stack.name}/" for name in names.values()
    )
    assert len(set(names.values())) == len(names)
    assert max(len(name) for name in names.values()) <= max_chars


def test_the_rule_matches_every_alarm_of_its_stack(sam_template: dict[str, Any]) -> None:
    # Given the rule of stack "datalake-events" and a state change of each of its alarms
    stack = Stack(name=STACK)
    alarm_names = _alarm_names(sam_template, stack).values()
    entries = [_state_change(stack, name) for name in alarm_names]
    # When EventBridge matches them against the rule's pattern
    delivered = _delivered(_resolved(sam_template, stack), entries)
    # Then every one of them reaches the target
    assert sorted(delivered) == sorted(entry["Resources"][0] for entry in entries)


@pytest.mark.parametrize("sibling", SIBLINGS)
def test_the_rule_matches_no_alarm_of_a_sibling_stack(
    sam_template: dict[str, Any], sibling: str
) -> None:
    # Given the rule of stack "datalake-events" and the alarms of a stack whose name starts
    # with the same letters, in the same account and region
    pattern = _resolved(sam_template, Stack(name=STACK))
    other = Stack(name=sibling)
    entries = [_state_change(other, name) for name in _alarm_names(sam_template, other).values()]
    # When EventBridge matches them
    delivered = _delivered(pattern, entries)
    # Then none reaches the target
    assert delivered == []


@pytest.mark.parametrize(
    "other",
    [Stack(name=STACK, account="210987654321"), Stack(name=STACK, region="eu-west-1")],
    ids=["account", "region"],
)
def test_the_rule_matches_no_alarm_of_the_same_name_elsewhere(
    sam_template: dict[str, Any], other: Stack
) -> None:
    # Given this stack's alarm names, raised in another account or region (an event forwarded
    # from another bus carries its own ARN)
    pattern = _resolved(sam_template, Stack(name=STACK))
    entries = [_state_change(other, name) for name in _alarm_names(sam_template, other).values()]
    # When EventBridge matches them
    delivered = _delivered(pattern, entries)
    # Then none reaches the target
    assert delivered == []
