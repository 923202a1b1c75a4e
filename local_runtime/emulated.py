"""Resources moto's CloudFormation skips but our wiring needs, built from the same template.

- AWS::Glue::Job: created with the Glue API (moto then answers StartJobRun/GetJobRun; the Glue
  bridge runs the job locally).
- AWS::Scheduler::Schedule: kept as definitions; the scheduler bridge fires them on demand.
- AWS::Scheduler::ScheduleGroup: created with the Scheduler API (its schedules are fired too).
- AWS::Lambda::EventInvokeConfig: retries and on-failure destinations of async invocations.
- AWS::Glue::Database / AWS::Glue::Table: created with the Glue API (an Iceberg table gets the
  ``table_type=ICEBERG`` parameter Glue gives it; the local Athena reads the catalog).
- AWS::Athena::WorkGroup / AWS::Athena::NamedQuery: created with the Athena API.
- AWS::SecretsManager::Secret: created with its initial value.
- AWS::QuickSight::DataSource / DataSet / Dashboard: created with the QuickSight API, which
  checks their properties against its model (moto keeps datasets by id only; see
  moto_adapter.services.quicksight_data_sets).
- AWS::S3::Bucket NotificationConfiguration (topic, queue and function notifications): moto's
  CloudFormation ignores it; applied with the S3 API, filters included.
- Function environments, stack outputs, dashboard bodies and EventBridge rule patterns: a value
  moto resolved against one of these resources (it knows no physical id for them, e.g. a Glue
  database's name in a pattern) is resolved again once they exist.
- AWS::StepFunctions::StateMachine: moto's CloudFormation creates it in the backend that does
  not execute, and ignores DefinitionSubstitutions; it is created again where executions run,
  same name, with the substitutions applied.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from local_runtime.attributes import attribute_value
from local_runtime.deploy import UNRESOLVED_BY_MOTO, DeployedStack, DeployError
from local_runtime.intrinsics import ACCOUNT_ID, Resolver, UnresolvableError, evaluate_conditions
from local_runtime.moto_adapter.services import state_machine
from local_runtime.template import TranslatedTemplate

if TYPE_CHECKING:
    import boto3


@dataclass(frozen=True)
class GlueJob:
    logical_id: str
    name: str
    script_location: str
    default_arguments: dict[str, str]
    max_concurrent_runs: int


@dataclass(frozen=True)
class Schedule:
    logical_id: str
    expression: str
    enabled: bool
    target_arn: str
    input: str


@dataclass(frozen=True)
class InvokeConfig:
    function: str
    maximum_retry_attempts: int
    on_failure: str | None


@dataclass
class EmulatedResources:
    glue_jobs: dict[str, GlueJob] = field(default_factory=dict)
    schedules: dict[str, Schedule] = field(default_factory=dict)
    invoke_configs: dict[str, InvokeConfig] = field(default_factory=dict)


def resolver_for(
    translated: TranslatedTemplate,
    stack: DeployedStack,
    parameters: dict[str, str],
    region: str,
) -> Resolver:
    declared = translated.cloudformation.get("Parameters", {})
    values = {name: str(spec.get("Default", "")) for name, spec in declared.items()}
    values.update(parameters)

    def attribute(logical: str, name: str) -> str:
        physical = stack.resources.get(logical)
        if physical is None:
            raise UnresolvableError(f"Fn::GetAtt {logical}.{name} (not created)")
        try:
            return attribute_value(stack.resource_types.get(logical, ""), physical, name, region)
        except UnresolvableError:
            raise UnresolvableError(f"Fn::GetAtt {logical}.{name}") from None

    def build(conditions: dict[str, bool]) -> Resolver:
        return Resolver(
            stack_name=stack.name,
            stack_id=stack.stack_id,
            region=region,
            parameters=values,
            physical_ids=stack.resources,
            conditions=conditions,
            attribute=attribute,
            list_parameters=frozenset(
                name for name, spec in declared.items() if spec.get("Type") == "CommaDelimitedList"
            ),
        )

    conditions = evaluate_conditions(
        translated.cloudformation.get("Conditions", {}), values, lambda: build({})
    )
    return build(conditions)


def build_emulated(
    translated: TranslatedTemplate,
    stack: DeployedStack,
    parameters: dict[str, str],
    session: "boto3.session.Session",
) -> EmulatedResources:
    resolver = resolver_for(translated, stack, parameters, session.region_name)
    emulated = EmulatedResources()
    glue = session.client("glue")
    for logical, resource in translated.resources_of_type("AWS::Glue::Job").items():
        props: dict[str, Any] = resolver.resolve(resource["Properties"])
        name = props.get("Name") or f"{stack.name}-{logical}"
        max_runs = int(props.get("ExecutionProperty", {}).get("MaxConcurrentRuns", 1))
        glue.create_job(
            Name=name,
            Role=props["Role"],
            Command=props["Command"],
            DefaultArguments=props.get("DefaultArguments", {}),
            ExecutionProperty={"MaxConcurrentRuns": max_runs},
            GlueVersion=props.get("GlueVersion", "5.1"),
        )
        emulated.glue_jobs[logical] = GlueJob(
            logical_id=logical,
            name=name,
            script_location=props["Command"]["ScriptLocation"],
            default_arguments=dict(props.get("DefaultArguments", {})),
            max_concurrent_runs=max_runs,
        )
        stack.resources[logical] = name
    scheduler = session.client("scheduler")
    for logical, resource in translated.resources_of_type("AWS::Scheduler::ScheduleGroup").items():
        # Schedules created through the Scheduler API (e.g. by the config loader) go in it.
        name = resolver.resolve(resource.get("Properties", {})).get("Name") or logical
        scheduler.create_schedule_group(Name=name)
        stack.resources[logical] = name
        stack.resource_types[logical] = "AWS::Scheduler::ScheduleGroup"
    for logical, resource in translated.resources_of_type("AWS::Scheduler::Schedule").items():
        props = resolver.resolve(resource["Properties"])
        emulated.schedules[logical] = Schedule(
            logical_id=logical,
            expression=props["ScheduleExpression"],
            enabled=props.get("State", "ENABLED") == "ENABLED",
            target_arn=props["Target"]["Arn"],
            input=props["Target"].get("Input", "{}"),
        )
    _create_catalog_and_athena(translated, stack, session, resolver)
    _create_secrets(translated, stack, session, resolver)
    _create_quicksight(translated, stack, session, resolver)
    resolver = resolver_for(translated, stack, parameters, session.region_name)
    _refresh_function_environments(translated, stack, session, resolver)
    _refresh_outputs(translated, stack, resolver)
    _refresh_dashboards(translated, stack, session, resolver)
    _refresh_rule_patterns(translated, stack, session, resolver)
    _apply_bucket_notifications(translated, stack, session, resolver)
    _recreate_state_machines(translated, stack, session, resolver)
    for resource in translated.resources_of_type("AWS::Lambda::EventInvokeConfig").values():
        props = resolver.resolve(resource["Properties"])
        on_failure = props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        emulated.invoke_configs[props["FunctionName"]] = InvokeConfig(
            function=props["FunctionName"],
            maximum_retry_attempts=int(props.get("MaximumRetryAttempts", 2)),
            on_failure=on_failure,
        )
    return emulated


def _recreate_state_machines(
    translated: TranslatedTemplate,
    stack: DeployedStack,
    session: "boto3.session.Session",
    resolver: Resolver,
) -> None:
    client = session.client("stepfunctions")
    machines = translated.resources_of_type("AWS::StepFunctions::StateMachine")
    for logical, resource in machines.items():
        arn = stack.resources[logical]
        created = state_machine(ACCOUNT_ID, session.region_name, arn)
        substitutions = resolver.resolve(resource["Properties"].get("DefinitionSubstitutions", {}))
        definition = created.definition
        for name, value in substitutions.items():
            definition = definition.replace("${" + name + "}", str(value))
        client.create_state_machine(
            name=arn.rsplit(":", 1)[-1], definition=definition, roleArn=created.roleArn
        )


def _enabled(resource: dict[str, Any], resolver: Resolver) -> bool:
    condition = resource.get("Condition")
    return condition is None or bool(resolver.conditions.get(condition, False))


def _create_catalog_and_athena(
    translated: TranslatedTemplate,
    stack: DeployedStack,
    session: "boto3.session.Session",
    resolver: Resolver,
) -> None:
    glue = session.client("glue")
    athena = session.client("athena")
    for logical, resource in translated.resources_of_type("AWS::Glue::Database").items():
        if not _enabled(resource, resolver):
            continue
        props = resolver.resolve(resource["Properties"])
        database_input: Any = props["DatabaseInput"]
        glue.create_database(DatabaseInput=database_input)
        stack.resources[logical] = props["DatabaseInput"]["Name"]
    for logical, resource in translated.resources_of_type("AWS::Glue::Table").items():
        if not _enabled(resource, resolver):
            continue
        props = resolver.resolve(resource["Properties"])
        table_input: Any = dict(props["TableInput"])
        if "IcebergInput" in props.get("OpenTableFormatInput", {}):
            # What Glue records when it creates the Iceberg metadata itself.
            table_input["Parameters"] = {
                **table_input.get("Parameters", {}),
                "table_type": "ICEBERG",
            }
        glue.create_table(DatabaseName=props["DatabaseName"], TableInput=table_input)
        stack.resources[logical] = table_input["Name"]
    for logical, resource in translated.resources_of_type("AWS::Athena::WorkGroup").items():
        if not _enabled(resource, resolver):
            continue
        props = resolver.resolve(resource["Properties"])
        configuration = dict(props.get("WorkGroupConfiguration", {}))
        configuration.pop("EngineVersion", None)  # moto's model has no engine versions
        group: Any = {"Name": props["Name"], "Configuration": configuration}
        if props.get("Description"):
            group["Description"] = props["Description"]
        athena.create_work_group(**group)
        stack.resources[logical] = props["Name"]
    for logical, resource in translated.resources_of_type("AWS::Athena::NamedQuery").items():
        if not _enabled(resource, resolver):
            continue
        props = resolver.resolve(resource["Properties"])
        query: Any = {
            "Name": props.get("Name") or f"{stack.name}-{logical}",
            "Database": props["Database"],
            "QueryString": props["QueryString"],
            "WorkGroup": props.get("WorkGroup", "primary"),
        }
        if props.get("Description"):
            query["Description"] = props["Description"]
        created = athena.create_named_query(**query)
        stack.resources[logical] = created["NamedQueryId"]


def _create_secrets(
    translated: TranslatedTemplate,
    stack: DeployedStack,
    session: "boto3.session.Session",
    resolver: Resolver,
) -> None:
    secrets = session.client("secretsmanager")
    for logical, resource in translated.resources_of_type("AWS::SecretsManager::Secret").items():
        if not _enabled(resource, resolver):
            continue
        props = resolver.resolve(resource.get("Properties", {}))
        created = secrets.create_secret(
            Name=props.get("Name") or f"{stack.name}-{logical}",
            Description=props.get("Description", ""),
            SecretString=props.get("SecretString", ""),
        )
        stack.resources[logical] = created["ARN"]  # Ref of a secret is its ARN


# Created in this order: a dataset reads its data source's ARN, a dashboard its datasets'.
_QUICKSIGHT_IDS = {
    "AWS::QuickSight::DataSource": "DataSourceId",
    "AWS::QuickSight::DataSet": "DataSetId",
    "AWS::QuickSight::Dashboard": "DashboardId",
}


def _create_quicksight(
    translated: TranslatedTemplate,
    stack: DeployedStack,
    session: "boto3.session.Session",
    resolver: Resolver,
) -> None:
    quicksight = session.client("quicksight")
    creators: dict[str, Callable[..., Any]] = {
        "AWS::QuickSight::DataSource": quicksight.create_data_source,
        "AWS::QuickSight::DataSet": quicksight.create_data_set,
        "AWS::QuickSight::Dashboard": quicksight.create_dashboard,
    }
    for kind, id_property in _QUICKSIGHT_IDS.items():
        for logical, resource in translated.resources_of_type(kind).items():
            if not _enabled(resource, resolver):
                continue
            props = resolver.resolve(resource["Properties"])
            creators[kind](**props)  # these properties are the Create* request's parameters
            stack.resources[logical] = f"{props['AwsAccountId']}|{props[id_property]}"
            stack.resource_types[logical] = kind


def _refresh_function_environments(
    translated: TranslatedTemplate,
    stack: DeployedStack,
    session: "boto3.session.Session",
    resolver: Resolver,
) -> None:
    lambda_client = session.client("lambda")
    for logical, resource in translated.resources_of_type("AWS::Lambda::Function").items():
        declared = resource["Properties"].get("Environment", {}).get("Variables", {})
        if logical not in stack.resources or not declared:
            continue
        name = stack.resources[logical]
        current = lambda_client.get_function_configuration(FunctionName=name)
        variables = dict(current.get("Environment", {}).get("Variables", {}))
        changed = False
        for key, expression in declared.items():
            try:
                value = str(resolver.resolve(expression))
            except (UnresolvableError, KeyError) as error:
                if UNRESOLVED_BY_MOTO in variables.get(key, ""):
                    raise DeployError(
                        f"function {logical}: environment variable {key} is "
                        f"{variables[key]!r}, unresolvable locally ({error})"
                    ) from error
                continue  # what moto resolved stays
            if variables.get(key) != value:
                variables[key] = value
                changed = True
        if changed:
            lambda_client.update_function_configuration(
                FunctionName=name, Environment={"Variables": variables}
            )


def _refresh_outputs(
    translated: TranslatedTemplate, stack: DeployedStack, resolver: Resolver
) -> None:
    """The outputs moto left out (they read an attribute of a resource it skips): one that
    cannot be resolved now is an error, as CloudFormation would fail the stack."""
    for name, output in translated.cloudformation.get("Outputs", {}).items():
        if not _enabled(output, resolver) or stack.outputs.get(name):
            continue
        try:
            stack.outputs[name] = str(resolver.resolve(output["Value"]))
        except (UnresolvableError, KeyError) as error:
            raise DeployError(f"output {name} is unresolvable locally ({error})") from error


def _refresh_dashboards(
    translated: TranslatedTemplate,
    stack: DeployedStack,
    session: "boto3.session.Session",
    resolver: Resolver,
) -> None:
    """moto's CloudFormation puts a dashboard, but leaves the ${...} of the resources it skips
    (the Glue job) in its body: put again, same name, with the body resolved now they exist.
    The name is the physical id (DashboardName is optional: CloudFormation then makes one up)."""
    cloudwatch = session.client("cloudwatch")
    for logical, resource in translated.resources_of_type("AWS::CloudWatch::Dashboard").items():
        if logical not in stack.resources:
            continue
        body = resolver.resolve(resource["Properties"]["DashboardBody"])
        cloudwatch.put_dashboard(DashboardName=stack.resources[logical], DashboardBody=body)


def _refresh_rule_patterns(
    translated: TranslatedTemplate,
    stack: DeployedStack,
    session: "boto3.session.Session",
    resolver: Resolver,
) -> None:
    """A rule whose pattern names a resource moto skipped got null in its place (matching
    nothing): its pattern is resolved again and put back, its targets kept."""
    events = session.client("events")
    for logical, resource in translated.resources_of_type("AWS::Events::Rule").items():
        pattern = resource["Properties"].get("EventPattern")
        if logical not in stack.resources or not isinstance(pattern, dict):
            continue
        rule = events.describe_rule(Name=stack.resources[logical])
        try:
            resolved = resolver.resolve(pattern)
        except (UnresolvableError, KeyError) as error:
            if UNRESOLVED_BY_MOTO in rule.get("EventPattern", ""):
                raise DeployError(
                    f"rule {logical}: its pattern is unresolvable locally ({error})"
                ) from error
            continue  # what moto resolved stays
        if isinstance(resolved, str):  # a pattern written as JSON text (Fn::Sub)
            resolved = json.loads(resolved)
        if json.loads(rule.get("EventPattern") or "{}") != resolved:
            events.put_rule(
                Name=rule["Name"],
                EventPattern=json.dumps(resolved),
                State=rule.get("State", "ENABLED"),
                Description=rule.get("Description", ""),
            )


# (CloudFormation key, S3 API key, CloudFormation ARN property, S3 API ARN property)
_NOTIFICATION_KINDS = (
    ("TopicConfigurations", "TopicConfigurations", "Topic", "TopicArn"),
    ("QueueConfigurations", "QueueConfigurations", "Queue", "QueueArn"),
    ("LambdaConfigurations", "LambdaFunctionConfigurations", "Function", "LambdaFunctionArn"),
)


def _apply_bucket_notifications(
    translated: TranslatedTemplate,
    stack: DeployedStack,
    session: "boto3.session.Session",
    resolver: Resolver,
) -> None:
    """A bucket's topic/queue/function notifications, as the template declares them (the
    EventBridge switch is kept: S3 replaces the whole configuration)."""
    s3 = session.client("s3")
    for logical, resource in translated.resources_of_type("AWS::S3::Bucket").items():
        bucket = stack.resources.get(logical)
        declared = resource.get("Properties", {}).get("NotificationConfiguration", {})
        if bucket is None or not _enabled(resource, resolver):
            continue
        if not any(declared.get(kind) for kind, *_ in _NOTIFICATION_KINDS):
            continue
        props = resolver.resolve(declared)
        configuration: dict[str, Any] = {}
        if props.get("EventBridgeConfiguration", {}).get("EventBridgeEnabled"):
            configuration["EventBridgeConfiguration"] = {}
        for cfn_kind, api_kind, arn_property, api_arn_property in _NOTIFICATION_KINDS:
            for entry in props.get(cfn_kind, []):
                item: dict[str, Any] = {
                    api_arn_property: entry[arn_property],
                    "Events": [entry["Event"]],
                }
                rules = entry.get("Filter", {}).get("S3Key", {}).get("Rules")
                if rules:
                    item["Filter"] = {"Key": {"FilterRules": rules}}
                configuration.setdefault(api_kind, []).append(item)
        s3.put_bucket_notification_configuration(
            Bucket=bucket,
            NotificationConfiguration=configuration,  # type: ignore[arg-type]
        )
