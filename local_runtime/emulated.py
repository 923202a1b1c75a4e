"""Resources moto's CloudFormation skips but our wiring needs, built from the same template.

- AWS::Glue::Job: created with the Glue API (moto then answers StartJobRun/GetJobRun; the Glue
  bridge runs the job locally).
- AWS::Scheduler::Schedule: kept as definitions; the scheduler bridge fires them on demand.
- AWS::Lambda::EventInvokeConfig: retries and on-failure destinations of async invocations.
- AWS::StepFunctions::StateMachine: moto's CloudFormation creates it in the backend that does
  not execute, and ignores DefinitionSubstitutions; it is created again where executions run,
  same name, with the substitutions applied.
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from moto.stepfunctions.models import stepfunctions_backends

from local_runtime.deploy import DeployedStack
from local_runtime.intrinsics import ACCOUNT_ID, Resolver, UnresolvableError, evaluate_conditions
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


def _arn(kind: str, physical: str, region: str) -> str:
    name = physical.rsplit("/", 1)[-1]
    arns = {
        "AWS::IAM::Role": f"arn:aws:iam::{ACCOUNT_ID}:role/{physical}",
        "AWS::SQS::Queue": f"arn:aws:sqs:{region}:{ACCOUNT_ID}:{name}",
        "AWS::Lambda::Function": f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{physical}",
        "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{region}:{ACCOUNT_ID}:table/{physical}",
        "AWS::S3::Bucket": f"arn:aws:s3:::{physical}",
    }
    return arns.get(kind, physical)  # state machines, topics: the physical id is the ARN


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
        if name == "Arn":
            return _arn(stack.resource_types.get(logical, ""), physical, region)
        if name == "QueueName":
            return physical.rsplit("/", 1)[-1]
        raise UnresolvableError(f"Fn::GetAtt {logical}.{name}")

    def build(conditions: dict[str, bool]) -> Resolver:
        return Resolver(
            stack_name=stack.name,
            region=region,
            parameters=values,
            physical_ids=stack.resources,
            conditions=conditions,
            attribute=attribute,
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
            GlueVersion=props.get("GlueVersion", "5.0"),
        )
        emulated.glue_jobs[logical] = GlueJob(
            logical_id=logical,
            name=name,
            script_location=props["Command"]["ScriptLocation"],
            default_arguments=dict(props.get("DefaultArguments", {})),
            max_concurrent_runs=max_runs,
        )
        stack.resources[logical] = name
    for logical, resource in translated.resources_of_type("AWS::Scheduler::Schedule").items():
        props = resolver.resolve(resource["Properties"])
        emulated.schedules[logical] = Schedule(
            logical_id=logical,
            expression=props["ScheduleExpression"],
            enabled=props.get("State", "ENABLED") == "ENABLED",
            target_arn=props["Target"]["Arn"],
            input=props["Target"].get("Input", "{}"),
        )
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
    backend = stepfunctions_backends[ACCOUNT_ID][session.region_name]
    machines = translated.resources_of_type("AWS::StepFunctions::StateMachine")
    for logical, resource in machines.items():
        arn = stack.resources[logical]
        created = backend.describe_state_machine(arn)
        substitutions = resolver.resolve(resource["Properties"].get("DefinitionSubstitutions", {}))
        definition = created.definition
        for name, value in substitutions.items():
            definition = definition.replace("${" + name + "}", str(value))
        client.create_state_machine(
            name=arn.rsplit(":", 1)[-1], definition=definition, roleArn=created.roleArn
        )
