"""The Monitored* parameters widen the monitoring rules' patterns; empty, they leave them as
the stack's own. The patterns are JSON text joined from the parameters, so these tests resolve
them for a stack and read the text back: any value AllowedPattern accepts must give valid JSON
with each entry as one EventBridge wildcard filter, whatever it holds.

What the patterns match is tested on the deployed stack, with EventBridge's matcher
(tests/integration/test_monitoring_scope.py)."""

import json
import re
from typing import Any, Final

from cfn_intrinsics import MAX_STACK_NAME_CHARS, Stack, evaluate, longest_arn_region
from hypothesis import given
from hypothesis import strategies as st
from template_support import resources

EVENT_PATTERN_LIMIT: Final = 2048
"""Characters: EventBridge's default "Event pattern size" quota."""
GLUE_JOB_STATES: Final = ["FAILED", "TIMEOUT", "STOPPED", "ERROR", "SUCCEEDED"]
# rule -> (parameter, condition, what an entry becomes in the wildcard filter)
SCOPED_RULES: Final = {
    "GlueJobStateRule": ("MonitoredGlueJobs", "WatchOtherGlueJobs", "{}"),
    "GlueCrawlerStateRule": ("MonitoredGlueCrawlers", "WatchOtherGlueCrawlers", "{}"),
    "AlarmStateRule": ("MonitoredAlarms", "WatchOtherAlarms", "arn:*:cloudwatch:*:*:alarm:{}"),
}


def allowed_pattern(template: dict[str, Any], parameter: str) -> str:
    return str(template["Parameters"][parameter]["AllowedPattern"])


def resolved(template: dict[str, Any], rule: str, stack: Stack) -> Any:
    pattern = template["Resources"][rule]["Properties"]["EventPattern"]
    return json.loads(evaluate(pattern, stack))


def scoped(rule: str, value: str, name: str = "datalake-events", **where: str) -> Stack:
    parameter, condition, _ = SCOPED_RULES[rule]
    return Stack(
        name=name,
        parameters={parameter: value},
        conditions={condition: value != ""},
        **where,  # type: ignore[arg-type]
    )


def wildcards(pattern: Any) -> list[str]:
    """Every wildcard filter's value in a pattern."""
    found: list[str] = []
    if isinstance(pattern, dict):
        for key, item in pattern.items():
            found += [item] if key == "wildcard" else wildcards(item)
    elif isinstance(pattern, list):
        for item in pattern:
            found += wildcards(item)
    return found


def test_default_scope_keeps_the_glue_rules_as_they_were(sam_template: dict[str, Any]) -> None:
    # Given the parameters left empty
    # When the Glue rules are resolved for stack "sales"
    jobs = resolved(sam_template, "GlueJobStateRule", scoped("GlueJobStateRule", "", "sales"))
    crawlers = resolved(
        sam_template, "GlueCrawlerStateRule", scoped("GlueCrawlerStateRule", "", "sales")
    )
    # Then they are the stack's own, exactly
    assert jobs == {
        "source": ["aws.glue"],
        "detail-type": ["Glue Job State Change"],
        "detail": {"jobName": ["sales-cdc-merge"], "state": GLUE_JOB_STATES},
    }
    assert crawlers["detail"] == {"crawlerName": [{"prefix": "sales"}]}


@given(data=st.data())
def test_every_accepted_value_gives_valid_json_with_one_wildcard_per_entry(
    sam_template: dict[str, Any], data: st.DataObject
) -> None:
    # Given any rule and any value its parameter's AllowedPattern accepts
    rule = data.draw(st.sampled_from(sorted(SCOPED_RULES)))
    parameter, _, spelled = SCOPED_RULES[rule]
    value = data.draw(st.from_regex(allowed_pattern(sam_template, parameter), fullmatch=True))
    # When the rule's pattern is resolved with it
    pattern = resolved(sam_template, rule, scoped(rule, value))
    # Then it is JSON whose wildcard filters are exactly the entries, in order
    expected = [spelled.format(entry) for entry in value.split(",")] if value else []
    assert wildcards(pattern) == expected


def test_the_allowed_pattern_refuses_what_would_break_the_json(
    sam_template: dict[str, Any],
) -> None:
    # Given the parameters' AllowedPattern (CloudFormation checks values against it)
    for parameter, _, _ in SCOPED_RULES.values():
        allowed = re.compile(allowed_pattern(sam_template, parameter))
        # When values holding quotes, backslashes, spaces, empty entries or "**" are checked
        refused = ['etl"', "etl\\", "etl orders", "etl,,x", ",etl", "etl,", "etl-**", '"},{"x']
        # Then each is refused, and ordinary scopes pass
        assert [value for value in refused if allowed.fullmatch(value)] == []
        assert allowed.fullmatch("etl-*,billing-daily,team/x*y")


def test_a_realistic_scope_fits_eventbridge_for_the_longest_stack_and_region(
    sam_template: dict[str, Any],
) -> None:
    # Given ten 24-character entries (about half the parameter's length), the longest stack
    # name and the region whose ARNs are longest
    partition, region = longest_arn_region()
    value = ",".join(f"team-{i:02}-etl-orders-load*"[:24] for i in range(10))
    for rule in SCOPED_RULES:
        stack = scoped(rule, value, "d" * MAX_STACK_NAME_CHARS, region=region, partition=partition)
        # When the pattern is resolved
        pattern = resolved(sam_template, rule, stack)
        # Then it is within EventBridge's default pattern size
        assert len(json.dumps(pattern)) <= EVENT_PATTERN_LIMIT, rule


def test_the_publish_policy_allows_only_the_monitor_topic_and_its_key_through_sns(
    sam_template: dict[str, Any],
) -> None:
    # Given the managed policy teams attach to their functions' roles
    policy = resources(sam_template, "AWS::IAM::ManagedPolicy")["MonitorPublishPolicy"]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    # When its statements are read
    by_sid = {s["Sid"]: s for s in statements}
    # Then it publishes to the monitor topic only, and uses the alerts key only through SNS
    assert by_sid["PublishFailedInvocations"]["Action"] == "sns:Publish"
    assert by_sid["PublishFailedInvocations"]["Resource"] == {"Ref": "MonitorTopic"}
    kms = by_sid["EncryptForTheTopic"]
    assert kms["Resource"] == {"Fn::GetAtt": ["AlertsKey", "Arn"]}
    assert "kms:ViaService" in kms["Condition"]["StringEquals"]
    assert all(s["Effect"] == "Allow" for s in statements)
    assert len(statements) == 2
    # And the stack outputs it with the topic
    outputs = sam_template["Outputs"]
    assert outputs["MonitorPublishPolicyArn"]["Value"] == {"Ref": "MonitorPublishPolicy"}
    assert outputs["MonitorTopicArn"]["Value"] == {"Ref": "MonitorTopic"}


def test_only_this_account_may_publish_failure_records_to_the_topic(
    sam_template: dict[str, Any],
) -> None:
    # Given the monitor topic's policy
    policy = sam_template["Resources"]["MonitorTopicPolicy"]["Properties"]["PolicyDocument"]
    # When the statement for functions' destinations is read
    [statement] = [s for s in policy["Statement"] if s["Sid"] == "AccountFunctionsReportFailures"]
    # Then its principal is this account (IAM decides which roles), for sns:Publish only
    principal = evaluate(statement["Principal"]["AWS"], Stack(name="s", account="111122223333"))
    assert principal == "arn:aws:iam::111122223333:root"
    assert statement["Action"] == "sns:Publish"
