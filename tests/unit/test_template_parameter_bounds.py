"""Parameter bounds against the AWS limits of the properties the parameters feed.

cfn-lint checks literal property values against CloudFormation's resource schemas but not a
parameter's MinValue/MaxValue, so a value AWS refuses passes validation and fails mid-deploy.
Here every Number parameter is followed to the properties it reaches: where the resource schema
(shipped with cfn-lint, from the CloudFormation registry) states a minimum, maximum or set of
values, the parameter must stay inside it; elsewhere the limit comes from the service's docs
(DOCUMENTED_LIMITS). Limits that involve two values are checked one by one: the Rules assertion
on the file tracker's batch (Lambda: an SQS BatchSize above 10 needs a batching window of at
least 1 s), the SPICE poll budget (a Standard execution's history holds 25,000 events and lasts
at most a year), and each SQS queue's visibility timeout against its consumer's timeout.
"""

import json
from collections.abc import Iterator
from typing import Any

from cfn_intrinsics import Stack, rule_allows
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER  # type: ignore[import-untyped]
from template_support import ROOT, resources

DOCUMENTED_LIMITS: dict[tuple[str, str], tuple[int, int | None]] = {
    # Amazon SQS Developer Guide, dead-letter queues: maxReceiveCount 1 to 1,000.
    ("AWS::SQS::Queue", "RedrivePolicy.maxReceiveCount"): (1, 1000),
    # AWS Glue quotas: concurrent runs per job (default 1,000; "controlled by a service limit").
    ("AWS::Glue::Job", "ExecutionProperty.MaxConcurrentRuns"): (1, 1000),
    # Amazon S3 API, LifecycleExpiration / NoncurrentVersionExpiration: a positive integer.
    ("AWS::S3::Bucket", "LifecycleConfiguration.Rules.ExpirationInDays"): (1, None),
    (
        "AWS::S3::Bucket",
        "LifecycleConfiguration.Rules.NoncurrentVersionExpiration.NoncurrentDays",
    ): (1, None),
    # Passed to the config loader for the stream mappings it creates (datalake_shared.
    # cdc_streams), as IcebergCdcSourceChanges takes them: Lambda CreateEventSourceMapping
    # (DynamoDB streams) BatchSize 1 to 10,000, MaximumRetryAttempts -1 to 10,000.
    ("AWS::Serverless::Function", "Environment.Variables.CDC_BATCH_SIZE"): (1, 10000),
    ("AWS::Serverless::Function", "Environment.Variables.CDC_MAXIMUM_RETRY_ATTEMPTS"): (-1, 10000),
    # Substituted into the SPICE state machine: test_the_spice_poll_budget_fits_one_execution.
    ("AWS::Serverless::StateMachine", "DefinitionSubstitutions.PollSeconds"): (1, None),
    ("AWS::Serverless::StateMachine", "DefinitionSubstitutions.MaxPolls"): (1, None),
}

MAX_HISTORY_EVENTS = 25_000
"""Step Functions quotas: events in one Standard execution's history (not adjustable)."""

MAX_EXECUTION_SECONDS = 365 * 24 * 3600
"""Step Functions quotas: a Standard execution runs at most one year."""

SQS_SMALL_BATCH = 10
"""Lambda: an SQS BatchSize above 10 needs MaximumBatchingWindowInSeconds of at least 1."""


def _usages(value: Any, parameter: str, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Property paths (list positions and intrinsic functions left out) that Ref the parameter."""
    if isinstance(value, dict):
        if value.get("Ref") == parameter:
            yield path
            return
        for key, item in value.items():
            inner = path if key.startswith("Fn::") else (*path, key)
            yield from _usages(item, parameter, inner)
    elif isinstance(value, list):
        for item in value:
            yield from _usages(item, parameter, path)


def _deref(node: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = schema["definitions"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def _property_schema(kind: str, path: tuple[str, ...]) -> dict[str, Any] | None:
    """The registry schema of a property path, or None where there is none to read."""
    if not kind.startswith("AWS::") or kind.startswith("AWS::Serverless::"):
        return None
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", kind).schema
    node: dict[str, Any] | None = schema
    for key in path:
        assert node is not None
        node = _deref(node, schema)
        if "properties" not in node and "items" in node:
            node = _deref(node["items"], schema)
        node = node.get("properties", {}).get(key)
        if node is None:
            return None
    return _deref(node, schema) if node is not None else None


def _bounds_violations(name: str, parameter: dict[str, Any], kind: str, path: str) -> list[str]:
    schema = _property_schema(kind, tuple(path.split(".")))
    low, high = parameter.get("MinValue"), parameter.get("MaxValue")
    allowed = parameter.get("AllowedValues")
    found: list[str] = []
    if schema and "enum" in schema:
        if allowed is None or not set(allowed) <= set(schema["enum"]):
            found.append(f"{name}: AllowedValues must be among {schema['enum']} ({kind} {path})")
        return found
    if allowed is not None:
        low, high = min(allowed), max(allowed)
    if schema and ("minimum" in schema or "maximum" in schema):
        limit = (schema.get("minimum"), schema.get("maximum"))
    elif (kind, path) in DOCUMENTED_LIMITS:
        limit = DOCUMENTED_LIMITS[(kind, path)]
    else:
        return [f"{name} feeds {kind} {path}, whose limit is not known here: add it"]
    if low is None or high is None:
        found.append(f"{name}: no MinValue/MaxValue ({kind} {path} takes {limit})")
    elif (limit[0] is not None and low < limit[0]) or (limit[1] is not None and high > limit[1]):
        found.append(f"{name}: {low}..{high} is outside {limit} ({kind} {path})")
    return found


def _off_at_zero(template: dict[str, Any]) -> set[str]:
    """Number parameters with MinValue 0 and a condition `!Not [!Equals [!Ref P, 0]]`."""
    return {
        condition["Fn::Not"][0]["Fn::Equals"][0]["Ref"]
        for condition in template.get("Conditions", {}).values()
        if "Fn::Not" in condition
        and "Fn::Equals" in condition["Fn::Not"][0]
        and condition["Fn::Not"][0]["Fn::Equals"][1] == 0
        and "Ref" in condition["Fn::Not"][0]["Fn::Equals"][0]
    } & {
        name for name, parameter in template["Parameters"].items() if parameter.get("MinValue") == 0
    }


def test_every_number_parameter_stays_inside_what_its_properties_accept(
    sam_template: dict[str, Any],
) -> None:
    # Given every Number parameter and the resource properties it is passed to
    numbers = {
        name: parameter
        for name, parameter in sam_template["Parameters"].items()
        if parameter["Type"] == "Number"
    }
    fed = {
        name: {
            (resource["Type"], ".".join(path))
            for resource in sam_template["Resources"].values()
            for path in _usages(resource.get("Properties", {}), name)
        }
        for name in numbers
    }
    # When each parameter's bounds are compared with each property's limit (a "0 = off"
    # parameter feeds its property only when not 0: tests/unit/test_template_lifecycle.py)
    off_at_zero = _off_at_zero(sam_template)
    violations = [
        found
        for name, properties in fed.items()
        for kind, path in sorted(properties)
        for found in _bounds_violations(
            name,
            numbers[name] | ({"MinValue": 1} if name in off_at_zero else {}),
            kind,
            path,
        )
    ]
    # Then none lies outside (and every limit is known, from a schema or the docs)
    assert len([name for name, properties in fed.items() if properties]) >= 12
    assert violations == []


def test_the_file_tracker_rule_refuses_exactly_what_lambda_refuses(
    sam_template: dict[str, Any],
) -> None:
    # Given every batching window the parameter allows (and "0" as other spellings of it), and
    # batch sizes around the limit up to the largest allowed
    parameters = sam_template["Parameters"]
    windows = [*map(str, range(parameters["FileTrackerBatchingWindowSeconds"]["MaxValue"] + 1))]
    windows += ["00", "0.0"]
    sizes = [
        *map(str, range(1, 21)),
        "100",
        "9999",
        str(parameters["FileTrackerBatchSize"]["MaxValue"]),
    ]
    rule = sam_template["Rules"]["FileTrackerBatchSizeNeedsWindow"]
    # When the rule is evaluated for each pair
    verdicts = {
        (window, size): rule_allows(
            rule,
            Stack(
                name="datalake-events",
                parameters={
                    "FileTrackerBatchingWindowSeconds": window,
                    "FileTrackerBatchSize": size,
                },
            ),
        )
        for window in windows
        for size in sizes
    }
    # Then it allows a pair exactly when Lambda would create the event source mapping
    expected = {
        (window, size): float(window) >= 1 or int(size) <= SQS_SMALL_BATCH
        for window, size in verdicts
    }
    assert verdicts == expected
    assert not verdicts[("0", "11")]
    assert verdicts[("1", "11")]
    assert verdicts[("0", "10")]


def test_the_rule_lists_every_window_the_parameter_allows(sam_template: dict[str, Any]) -> None:
    # Given the batching window parameter's bounds
    window = sam_template["Parameters"]["FileTrackerBatchingWindowSeconds"]
    # When the rule's list of windows that count as set is read
    condition = sam_template["Rules"]["FileTrackerBatchSizeNeedsWindow"]["RuleCondition"]
    listed, _ = condition["Fn::Not"][0]["Fn::Contains"]
    # Then it is every whole second from 1 to the parameter's MaxValue
    assert window["MinValue"] == 0
    assert listed == [str(n) for n in range(1, window["MaxValue"] + 1)]


def _history_events(state: dict[str, Any]) -> int:
    """Events a state writes at most: entered and exited, plus 3 per Task attempt (scheduled,
    started, succeeded or failed), retries included (MaxAttempts defaults to 3)."""
    if state["Type"] != "Task":
        return 2
    retries = sum(int(retrier.get("MaxAttempts", 3)) for retrier in state.get("Retry", []))
    return 2 + 3 * (1 + retries)


def _next_states(state: dict[str, Any]) -> set[str]:
    targets = {state.get("Next"), state.get("Default")}
    targets |= {choice.get("Next") for choice in state.get("Choices", [])}
    targets |= {catcher.get("Next") for catcher in state.get("Catch", [])}
    return {target for target in targets if target}


def _in_a_cycle(states: dict[str, Any]) -> set[str]:
    def reachable(start: str) -> set[str]:
        seen, todo = set(), list(_next_states(states[start]))
        while todo:
            name = todo.pop()
            if name not in seen:
                seen.add(name)
                todo += _next_states(states[name])
        return seen

    return {name for name in states if name in reachable(name)}


def test_the_spice_poll_budget_fits_one_execution(sam_template: dict[str, Any]) -> None:
    # Given the SPICE state machine and the largest poll count and interval the stack allows
    machine = sam_template["Resources"]["SpiceIngestionStateMachine"]["Properties"]
    states = json.loads((ROOT / machine["DefinitionUri"]).read_text())["States"]
    parameters = sam_template["Parameters"]
    polls = parameters[machine["DefinitionSubstitutions"]["MaxPolls"]["Ref"]]["MaxValue"]
    seconds = parameters[machine["DefinitionSubstitutions"]["PollSeconds"]["Ref"]]["MaxValue"]
    # When its history is counted at worst: each poll loop state every poll, every other state
    # once, each Task using all its retries, plus the execution's start and end
    loop = _in_a_cycle(states)
    per_poll = sum(_history_events(states[name]) for name in loop)
    once = 2 + sum(_history_events(state) for name, state in states.items() if name not in loop)
    # Then one execution holds it, and lasts less than a year
    assert loop >= {"WaitForIngestion", "DescribeIngestion"}
    assert polls * per_poll + once <= MAX_HISTORY_EVENTS
    assert polls * seconds <= MAX_EXECUTION_SECONDS


def test_each_sqs_queue_outlasts_its_consumer_and_batching_window(
    sam_template: dict[str, Any],
) -> None:
    # Given each SQS event source mapping, its queue and its function
    parameters = sam_template["Parameters"]
    default_timeout = sam_template["Globals"]["Function"]["Timeout"]
    mappings = resources(sam_template, "AWS::Lambda::EventSourceMapping").values()
    queues = resources(sam_template, "AWS::SQS::Queue")
    checked: dict[str, tuple[int, int]] = {}
    for mapping in mappings:
        props = mapping["Properties"]
        source = props["EventSourceArn"].get("Fn::GetAtt", [""])[0]
        if source not in queues:
            continue
        # When the longest wait is added up: six function timeouts (Lambda's advice, so a
        # throttled batch can be retried) plus the longest batching window allowed
        function = sam_template["Resources"][props["FunctionName"]["Ref"]]["Properties"]
        window = props.get("MaximumBatchingWindowInSeconds", 0)
        if isinstance(window, dict):
            window = parameters[window["Ref"]]["MaxValue"]
        needed = 6 * function.get("Timeout", default_timeout) + window
        checked[source] = (queues[source]["Properties"]["VisibilityTimeout"], needed)
    # Then every queue hides a received message at least that long
    assert len(checked) >= 2
    assert {queue: pair for queue, pair in checked.items() if pair[0] < pair[1]} == {}
