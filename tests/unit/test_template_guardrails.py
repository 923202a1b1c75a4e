"""Rules every resource of template.yaml follows, checked on the template itself so a new
capability cannot quietly skip one: encryption, TLS-only access, dead-letter queues with
alarms, bounded retries, log retention, least-privilege statements."""

from typing import Any

import pytest

from tests.unit.template_support import (
    ROOT,
    Template,
    policy_statements,
    refs,
    resources,
    tls_only_statements,
)


def test_every_bucket_is_encrypted_private_and_tls_only(sam_template: Template) -> None:
    # Given every bucket of the template
    buckets = resources(sam_template, "AWS::S3::Bucket")
    protected = tls_only_statements(sam_template, "AWS::S3::BucketPolicy", "Bucket")
    for logical, bucket in buckets.items():
        props = bucket["Properties"]
        # Then it is encrypted, blocks public access and refuses plain HTTP
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"], logical
        assert all(props["PublicAccessBlockConfiguration"].values()), logical
        assert logical in protected, f"{logical} has no TLS-only bucket policy"


def test_every_queue_is_encrypted_and_tls_only(sam_template: Template) -> None:
    # Given every queue / Then SSE is on and a policy refuses plain HTTP
    protected = tls_only_statements(sam_template, "AWS::SQS::QueuePolicy", "Queues")
    for logical, queue in resources(sam_template, "AWS::SQS::Queue").items():
        props = queue["Properties"]
        assert props.get("SqsManagedSseEnabled") or props.get("KmsMasterKeyId"), logical
        assert logical in protected, f"{logical} has no TLS-only queue policy"


def test_every_topic_is_encrypted_with_the_stack_key(sam_template: Template) -> None:
    # Given every topic / Then it uses the customer-managed key services can publish with
    for logical, topic in resources(sam_template, "AWS::SNS::Topic").items():
        assert topic["Properties"]["KmsMasterKeyId"] == {"Ref": "AlertsKey"}, logical


def test_every_dead_letter_queue_has_an_alarm(sam_template: Template) -> None:
    # Given the queues used as DLQs, OnFailure destinations or rule dead-letter targets
    dead_letter: set[str] = set()
    for resource in sam_template["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::SQS::Queue" and "RedrivePolicy" in props:
            dead_letter |= refs(props["RedrivePolicy"]["deadLetterTargetArn"])
        for found in _dead_letter_settings(props):
            dead_letter |= {r for r in refs(found) if r.endswith(("DLQ", "Queue"))}
    queues = set(resources(sam_template, "AWS::SQS::Queue"))
    dead_letter &= queues
    # Then each one has a CloudWatch alarm on its depth
    alarmed = {
        ref
        for alarm in resources(sam_template, "AWS::CloudWatch::Alarm").values()
        for dimension in alarm["Properties"].get("Dimensions", [])
        for ref in refs(dimension["Value"])
    }
    assert len(dead_letter) >= 8
    assert dead_letter - alarmed == set()


def _dead_letter_settings(value: Any) -> list[Any]:
    found: list[Any] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in {"DeadLetterConfig", "OnFailure"}:
                found.append(item)
            else:
                found.extend(_dead_letter_settings(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_dead_letter_settings(item))
    return found


def test_every_function_has_bounded_retries_and_a_log_group_with_retention(
    sam_template: Template,
) -> None:
    functions = resources(sam_template, "AWS::Serverless::Function")
    log_groups = resources(sam_template, "AWS::Logs::LogGroup")
    for logical, function in functions.items():
        props = function["Properties"]
        # Then its logs go to a log group of the template with a retention
        (group,) = refs(props["LoggingConfig"]["LogGroup"])
        assert "RetentionInDays" in log_groups[group]["Properties"], logical
        # And asynchronous invocations have bounded retries and somewhere to fail to
        invoke_config = props.get("EventInvokeConfig")
        if invoke_config is not None:
            assert invoke_config["MaximumRetryAttempts"] <= 2, logical
            assert "OnFailure" in invoke_config["DestinationConfig"], logical
        for name, event in props.get("Events", {}).items():
            if event["Type"] in {"SQS", "DynamoDB"}:
                assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
            if event["Type"] == "DynamoDB":
                assert "OnFailure" in event["Properties"]["DestinationConfig"], name
            if event["Type"] == "SNS":  # SNS invokes asynchronously
                assert "OnFailure" in props["EventInvokeConfig"]["DestinationConfig"], logical


# Service Authorization Reference: these actions have no resource type, so "*" is the only
# Resource they take.
NO_RESOURCE_TYPE_ACTIONS = frozenset(
    {"lambda:CreateEventSourceMapping", "lambda:ListEventSourceMappings"}
)


@pytest.mark.parametrize("kind", ["AWS::Serverless::Function", "AWS::Serverless::StateMachine"])
def test_no_statement_allows_every_action(sam_template: Template, kind: str) -> None:
    # Given the inline policy statements of functions and state machines
    for logical, resource in resources(sam_template, kind).items():
        for policy in resource["Properties"].get("Policies", []):
            listed = policy.get("Statement", []) if isinstance(policy, dict) else []
            for statement in policy_statements(listed):
                actions = statement["Action"]
                actions = actions if isinstance(actions, list) else [actions]
                # Then no statement grants a whole service or everything
                assert all(not a.endswith(":*") and a != "*" for a in actions), logical
                # And only log delivery and the actions AWS authorizes on no resource type (the
                # config loader's stream mappings, bound by lambda:FunctionArn where AWS has
                # it) use "*"
                if statement["Resource"] == "*":
                    assert all(
                        a.startswith("logs:") or a in NO_RESOURCE_TYPE_ACTIONS for a in actions
                    ), logical
                    if "lambda:CreateEventSourceMapping" in actions:
                        assert "lambda:FunctionArn" in str(statement.get("Condition")), logical


def test_no_secret_or_webhook_is_in_the_template(sam_template: Template) -> None:
    # Given the whole template as text / Then no webhook URL or credential is in it
    text = str(sam_template)
    assert "hooks.slack.com/services" not in text
    assert "AKIA" not in text


def test_sam_creates_no_queue_the_template_does_not_declare(sam_template: Template) -> None:
    # Given the template as SAM translates it (an event's DeadLetterConfig given with "Type"
    # makes SAM create a bare queue of its own, without alarm, policy or retention)
    from local_runtime.template import translate  # noqa: PLC0415 - runs the SAM translator

    translated = translate(ROOT / "template.yaml", {"Stage": "local"})
    # Then every queue in the result is one the template declares
    created = set(translated.resources_of_type("AWS::SQS::Queue"))
    assert created == set(resources(sam_template, "AWS::SQS::Queue"))


def _service_statements(template: Template) -> list[tuple[str, dict[str, Any]]]:
    """(logical id, statement) of every resource-policy statement allowing an AWS service."""
    documents = {
        "AWS::SQS::QueuePolicy": "PolicyDocument",
        "AWS::SNS::TopicPolicy": "PolicyDocument",
        "AWS::S3::BucketPolicy": "PolicyDocument",
        "AWS::KMS::Key": "KeyPolicy",
    }
    found = []
    for kind, document in documents.items():
        for logical, resource in resources(template, kind).items():
            for statement in resource["Properties"][document]["Statement"]:
                principal = statement.get("Principal")
                allows = statement["Effect"] == "Allow" and isinstance(principal, dict)
                if allows and "Service" in principal:
                    found.append((logical, statement))
    return found


# Service statements that must not carry a source condition, and why.
UNBOUND_SERVICE_STATEMENTS = {
    # SNS: aws:SourceAccount/SourceArn in a key policy is not supported for EventBridge to an
    # encrypted topic (every event would be dropped); S3's documented key policy has none. Each
    # topic's own policy names the rule or bucket that may publish.
    ("AlertsKey", "RulesAndBucketsPublish"),
}


def test_every_service_principal_is_bound_to_a_source(sam_template: Template) -> None:
    # Given every resource-policy statement that lets an AWS service in
    statements = _service_statements(sam_template)
    assert len(statements) >= 10
    found = {(logical, statement.get("Sid")) for logical, statement in statements}
    assert found >= UNBOUND_SERVICE_STATEMENTS  # no stale exemption
    for logical, statement in statements:
        if (logical, statement.get("Sid")) in UNBOUND_SERVICE_STATEMENTS:
            assert "Condition" not in statement, logical
            continue
        # Then it names the source resource or at least this account (confused deputy)
        keys = {key for test in statement.get("Condition", {}).values() for key in test}
        assert keys & {"aws:SourceArn", "aws:SourceAccount"}, (logical, statement.get("Sid"))
    # And so does every Lambda permission the template declares
    for logical, permission in resources(sam_template, "AWS::Lambda::Permission").items():
        props = permission["Properties"]
        assert "SourceArn" in props or "SourceAccount" in props, logical
