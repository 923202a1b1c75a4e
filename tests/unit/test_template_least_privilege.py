"""Least privilege, checked on template.yaml (and on SAM's translation of it where SAM adds
statements of its own): each principal reaches only what this stack owns."""

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from datalake_contracts.table_config import TARGET_NAME_PATTERN
from tests.unit.template_support import ROOT, Template, policy_statements, refs, resources

# SAM attaches these to a function with an SQS or DynamoDB event: each reaches every queue or
# stream of the account, so the template declares its mappings and scoped statements instead.
BROAD_MANAGED_POLICIES = ("AWSLambdaSQSQueueExecutionRole", "AWSLambdaDynamoDBExecutionRole")
POLL_ACTIONS = {
    "sqs": {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"},
    "dynamodb": {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"},
}
_COMPONENT = re.compile(r'^COMPONENT: Final = "([a-z-]+)"$', re.MULTILINE)


@pytest.fixture(scope="module")
def translated() -> Any:
    from local_runtime.template import translate  # noqa: PLC0415 - runs the SAM translator

    return translate(ROOT / "template.yaml", {"Stage": "local"})


def statements(resource: dict[str, Any]) -> list[dict[str, Any]]:
    """The inline statements of a SAM function or state machine."""
    found: list[dict[str, Any]] = []
    for policy in resource["Properties"].get("Policies", []):
        if isinstance(policy, dict) and "Statement" in policy:
            found.extend(policy_statements(policy["Statement"]))
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_no_function_gets_a_policy_that_reaches_every_queue_or_stream(translated: Any) -> None:
    # Given every role in SAM's translation of the template
    for logical, role in translated.resources_of_type("AWS::IAM::Role").items():
        attached = " ".join(str(arn) for arn in role["Properties"].get("ManagedPolicyArns", []))
        # Then none carries SAM's event-source policies
        assert not [name for name in BROAD_MANAGED_POLICIES if name in attached], logical


def test_each_mapping_polls_only_its_own_source(sam_template: Template) -> None:
    # Given each event source mapping the template declares
    mappings = resources(sam_template, "AWS::Lambda::EventSourceMapping")
    functions = resources(sam_template, "AWS::Serverless::Function")
    assert len(mappings) == 7
    for logical, mapping in mappings.items():
        props = mapping["Properties"]
        (function,) = refs(props["FunctionName"])
        source = props["EventSourceArn"]
        kind = "dynamodb" if "StartingPosition" in props else "sqs"
        # Then its function may poll exactly that source, with the actions polling needs
        granted: set[str] = set()
        for statement in statements(functions[function]):
            if statement["Resource"] == source:
                granted |= set(as_list(statement["Action"]))
        assert POLL_ACTIONS[kind] <= granted, logical
        # And it reports partial failures, so one bad record does not fail its batch
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"], logical
        if kind == "dynamodb":
            assert "OnFailure" in props["DestinationConfig"], logical


def test_no_function_uses_sam_sqs_or_stream_events(sam_template: Template) -> None:
    # Given every function / Then its queue and stream triggers are declared mappings
    for logical, function in resources(sam_template, "AWS::Serverless::Function").items():
        kinds = {event["Type"] for event in function["Properties"].get("Events", {}).values()}
        assert not kinds & {"SQS", "DynamoDB", "Kinesis"}, logical


def _function_sources(function: dict[str, Any]) -> set[str]:
    code = ROOT / function["Properties"]["CodeUri"]
    components = {m for path in code.rglob("*.py") for m in _COMPONENT.findall(path.read_text())}
    return {f"datalake-events.{component}" for component in components}


def _state_machine_sources(state_machine: dict[str, Any]) -> set[str]:
    definition = (ROOT / state_machine["Properties"]["DefinitionUri"]).read_text()
    return set(re.findall(r'"Source": "([^"]+)"', definition))


def test_each_principal_may_put_events_with_its_own_source_only(sam_template: Template) -> None:
    # Given every function and state machine that puts events
    publishers = {
        **{
            logical: _function_sources(resource)
            for logical, resource in resources(sam_template, "AWS::Serverless::Function").items()
        },
        **{
            logical: _state_machine_sources(resource)
            for logical, resource in resources(
                sam_template, "AWS::Serverless::StateMachine"
            ).items()
        },
    }
    checked = 0
    for logical, sources in publishers.items():
        resource = sam_template["Resources"][logical]
        put_events = [s for s in statements(resource) if "events:PutEvents" in as_list(s["Action"])]
        # No SAM policy template for it: EventBridgePutEventsPolicy allows any source
        assert not any(
            "EventBridgePutEventsPolicy" in policy
            for policy in resource["Properties"].get("Policies", [])
            if isinstance(policy, dict)
        ), logical
        if not sources:
            assert put_events == [], f"{logical} publishes nothing but may put events"
            continue
        # Then its one PutEvents statement allows exactly the sources its code puts, for every
        # entry of a call (events:source has one value per entry) and never for none
        (statement,) = put_events
        condition = statement["Condition"]
        assert set(condition) == {"ForAllValues:StringEquals", "Null"}, logical
        allowed = set(as_list(condition["ForAllValues:StringEquals"]["events:source"]))
        assert allowed == sources, logical
        assert condition["Null"] == {"events:source": "false"}, logical
        checked += 1
    assert checked == 10


def _glue_role_statements(template: Template) -> list[dict[str, Any]]:
    role = template["Resources"]["GlueJobRole"]["Properties"]
    found: list[dict[str, Any]] = []
    for policy in role["Policies"]:
        found.extend(policy["PolicyDocument"]["Statement"])
    return found


def test_glue_job_never_deletes_catalog_objects_and_writes_only_the_target_databases(
    sam_template: Template,
) -> None:
    # Given the Glue job role's statements
    glue_statements = [
        s
        for s in _glue_role_statements(sam_template)
        if any(a.startswith("glue:") for a in as_list(s["Action"]))
    ]
    for statement in glue_statements:
        # Then it may not delete tables or databases
        assert not [a for a in as_list(statement["Action"]) if "Delete" in a], statement["Sid"]
        # And tables and databases are those of MergeTargetDatabases, never every one
        text = json.dumps(statement["Resource"])
        assert "database/*" not in text, statement["Sid"]
        assert "table/*/*" not in text, statement["Sid"]
        if "database/" in text or "table/" in text:
            assert "MergeTargetDatabases" in text, statement["Sid"]


def test_every_glue_action_of_the_job_is_also_allowed_on_the_catalog(
    sam_template: Template,
) -> None:
    # Given the Glue job role's Glue statements (Glue authorizes a table action against the
    # catalog, the database and the table: all three must allow it)
    by_resource: dict[str, set[str]] = {"catalog": set(), "database": set(), "table": set()}
    for statement in _glue_role_statements(sam_template):
        actions = {a for a in as_list(statement["Action"]) if a.startswith("glue:")}
        text = json.dumps(statement["Resource"])
        for kind in by_resource:
            if f":{kind}" in text:
                by_resource[kind] |= actions
    # Then the catalog allows every action the databases and tables do
    assert by_resource["table"] <= by_resource["catalog"]
    assert by_resource["database"] <= by_resource["catalog"]
    assert {"glue:GetTable", "glue:CreateTable", "glue:UpdateTable"} <= by_resource["table"]


def test_glue_job_writes_only_its_warehouse_and_reads_only_this_stacks_artifacts(
    sam_template: Template,
) -> None:
    # Given the Glue job role's S3 object statements
    by_sid = {s["Sid"]: s for s in _glue_role_statements(sam_template)}
    # Then writes and deletes are under the warehouse prefix of the lake bucket
    writes = by_sid["IcebergWarehouseFiles"]
    assert writes["Resource"] == {"Fn::Sub": "${LakeBucket.Arn}/warehouse/*"}
    # And the job script is read from this stack's prefix of the artifact bucket only
    script = by_sid["ReadJobScript"]["Resource"]["Fn::Sub"]
    assert script.endswith("${ArtifactBucketPattern}/${AWS::StackName}/*")


def test_every_deploy_environment_uploads_under_its_stack_name() -> None:
    # Given samconfig.toml's environments (the Glue role reads <artifact bucket>/<stack>/*)
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    for env, sections in config.items():
        if not isinstance(sections, dict) or "deploy" not in sections:
            continue
        # Then each uploads its artifacts under the stack's own name
        stack = sections["global"]["parameters"]["stack_name"]
        assert sections["deploy"]["parameters"]["s3_prefix"] == stack, env


def test_target_databases_parameter_accepts_the_names_a_config_accepts(
    sam_template: Template,
) -> None:
    # Given MergeTargetDatabases and the config's target_database rule
    parameter = sam_template["Parameters"]["MergeTargetDatabases"]
    # Then both admit the same names, and the default is what the sample config targets
    assert parameter["AllowedPattern"] == TARGET_NAME_PATTERN
    sample = (ROOT / "config" / "pipeline.yaml").read_text()
    targeted = set(re.findall(r"target_database: (\w+)", sample))
    assert targeted <= set(parameter["Default"].split(","))


def test_config_loader_learns_the_writable_databases_from_the_parameter(
    sam_template: Template,
) -> None:
    environment = sam_template["Resources"]["ConfigLoaderFunction"]["Properties"]["Environment"]
    assert environment["Variables"]["MERGE_TARGET_DATABASES"] == {
        "Fn::Join": [",", {"Ref": "MergeTargetDatabases"}]
    }


def test_this_module_reads_code_where_the_template_points(sam_template: Template) -> None:
    # Guard for the source checks above: every CodeUri is a folder with Python modules
    for logical, function in resources(sam_template, "AWS::Serverless::Function").items():
        assert list(Path(ROOT / function["Properties"]["CodeUri"]).rglob("*.py")), logical


# Trust policies left without a source condition, and why. IAM cannot pass a role across
# accounts, so only a principal of this account can hand these roles to the service; and a
# condition on a key the service does not send when it assumes the role denies every
# assumption. AWS documents the source keys on role assumption for EventBridge Scheduler (the
# schedule group) but not for these, and no engine here can show what they send.
UNCONDITIONED_TRUST = {
    "lambda.amazonaws.com": "function execution roles (SAM)",
    "states.amazonaws.com": "state machine roles (SAM)",
    "glue.amazonaws.com": "the merge job's role",
    "events.amazonaws.com": "the rule role SAM creates to start the SPICE state machine",
}


def test_every_role_trust_is_bound_to_a_source_or_listed_with_its_reason(
    translated: Any,
) -> None:
    # Given every role of the translated template
    for logical, role in translated.resources_of_type("AWS::IAM::Role").items():
        for statement in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]:
            services = as_list(statement["Principal"]["Service"])
            keys = {key for test in statement.get("Condition", {}).values() for key in test}
            # Then it names its source, or its service is one listed above
            bound = {"aws:SourceAccount", "aws:SourceArn"} <= keys
            assert bound or set(services) <= set(UNCONDITIONED_TRUST), logical


def test_schedules_assume_only_roles_bound_to_this_accounts_schedule_group(
    translated: Any,
) -> None:
    # Given every schedule SAM generates from the template (the cadence schedules are the
    # config loader's: tests/unit/test_template_cadence_schedules.py)
    roles = translated.resources_of_type("AWS::IAM::Role")
    schedules = translated.resources_of_type("AWS::Scheduler::Schedule")
    for logical, schedule in schedules.items():
        (role,) = refs(schedule["Properties"]["Target"]["RoleArn"])
        (trust,) = roles[role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        # Then its role trusts the scheduler for this account's default group only
        assert trust["Condition"]["StringEquals"] == {
            "aws:SourceAccount": {"Ref": "AWS::AccountId"}
        }
        assert trust["Condition"]["ArnEquals"]["aws:SourceArn"]["Fn::Sub"].endswith(
            ":schedule-group/default"
        ), logical
