"""The state machines' definitions as Step Functions receives them: template.yaml's
DefinitionSubstitutions applied, each resolved to a realistic value of a deployed stack.

The template is translated offline (local_runtime.template.translate) and its intrinsics are
resolved by the local runtime's resolver (local_runtime.emulated.resolver_for) against a stack
that exists only on paper: every resource gets the physical id CloudFormation would give it
(its declared name, else ``<stack>-<logical id>-<suffix>``; an ARN where ``Ref`` returns one).
Nothing is deployed, so this needs no moto and takes a second.

``evaluate_format`` evaluates the one intrinsic that builds SQL in a definition
(``States.Format``), so the statements a state machine sends can be checked too.
"""

import hashlib
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Final

from local_runtime.deploy import DeployedStack
from local_runtime.emulated import resolver_for
from local_runtime.intrinsics import ACCOUNT_ID, Resolver
from local_runtime.template import TranslatedTemplate, load_sam_template, translate

ROOT: Final = Path(__file__).resolve().parents[3]
STACK_NAME: Final = "datalake-events"  # samconfig.toml's default stack
REGION: Final = "us-east-1"
_STACK_UUID: Final = "51af3dc0-da77-11e4-872e-1234567890ab"  # AWS::StackId's last part
_STATE_MACHINE: Final = "AWS::StepFunctions::StateMachine"
_PLACEHOLDER: Final = re.compile(r"\$\{([^}]*)\}")
# Where a resource type declares its own name (CloudFormation's physical id is then that name).
_NAME_PROPERTIES: Final = {
    "AWS::Glue::Database": ("DatabaseInput", "Name"),
    "AWS::Glue::Table": ("TableInput", "Name"),
    "AWS::Athena::WorkGroup": ("Name",),
    "AWS::Lambda::Function": ("FunctionName",),
    "AWS::SNS::Topic": ("TopicName",),
    "AWS::SQS::Queue": ("QueueName",),
    "AWS::DynamoDB::Table": ("TableName",),
    "AWS::S3::Bucket": ("BucketName",),
    "AWS::Logs::LogGroup": ("LogGroupName",),
    "AWS::StepFunctions::StateMachine": ("StateMachineName",),
    "AWS::Glue::Job": ("Name",),
}


@dataclass(frozen=True)
class StateMachineDefinition:
    logical_id: str
    file: Path
    """The statemachines/*.asl.json file the template points to."""
    substitutions: dict[str, str]
    text: str
    """The definition with every substitution applied, as CloudFormation would send it."""

    @property
    def definition(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.text)
        return parsed


def _suffix(logical_id: str) -> str:
    """CloudFormation's 12-13 character random suffix, made deterministic."""
    return hashlib.sha256(logical_id.encode()).hexdigest()[:12].upper()


def _generated_id(logical_id: str, resource_type: str) -> str:
    name = f"{STACK_NAME}-{logical_id}-{_suffix(logical_id)}"
    if resource_type == "AWS::SNS::Topic":
        return f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:{name}"
    if resource_type == "AWS::SQS::Queue":
        return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/{name}"
    if resource_type == _STATE_MACHINE:
        return f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:{name}"
    return name


def _declared_name(resource: dict[str, Any], resolver: Resolver) -> str | None:
    path = _NAME_PROPERTIES.get(resource["Type"])
    value: Any = resource.get("Properties", {})
    for step in path or ():
        if not isinstance(value, dict) or step not in value:
            return None
        value = value[step]
    if path is None or value is None:
        return None
    return str(resolver.resolve(value))


def paper_stack(translated: TranslatedTemplate) -> tuple[DeployedStack, Resolver]:
    """The stack CloudFormation would create (physical ids only) and a resolver over it."""
    resources = translated.cloudformation["Resources"]
    stack = DeployedStack(
        name=STACK_NAME,
        outputs={},
        resources={
            logical: _generated_id(logical, resource["Type"])
            for logical, resource in resources.items()
        },
        resource_types={logical: resource["Type"] for logical, resource in resources.items()},
        stack_id=f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{STACK_NAME}/{_STACK_UUID}",
    )
    resolver = resolver_for(translated, stack, {}, REGION)
    for logical, resource in resources.items():
        name = _declared_name(resource, resolver)
        if name is None:
            continue
        if resource["Type"] == "AWS::SNS::Topic":
            name = f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:{name}"
        stack.resources[logical] = name
    return stack, resolver_for(translated, stack, {}, REGION)


def substitute(text: str, substitutions: dict[str, str]) -> str:
    """What CloudFormation does with DefinitionSubstitutions: each ``${Name}`` becomes its
    value, verbatim (JSON escaping is the template author's job)."""
    for name, value in substitutions.items():
        text = text.replace("${" + name + "}", value)
    return text


def unsubstituted(text: str) -> list[str]:
    """``${...}`` placeholders left in a definition (a deployment would keep them literally)."""
    return _PLACEHOLDER.findall(text)


@cache
def _paper_template() -> tuple[TranslatedTemplate, Resolver]:
    translated = translate(ROOT / "template.yaml")
    _, resolver = paper_stack(translated)
    return translated, resolver


def deployed_properties(resource_type: str) -> dict[str, dict[str, Any]]:
    """The properties of the template's resources of a CloudFormation type, resolved (logical id
    -> properties)."""
    translated, resolver = _paper_template()
    return {
        logical: resolver.resolve(resource.get("Properties", {}))
        for logical, resource in translated.resources_of_type(resource_type).items()
    }


@cache
def state_machine_definitions() -> tuple[StateMachineDefinition, ...]:
    """Every AWS::Serverless::StateMachine of template.yaml, its definition substituted."""
    template_path = ROOT / "template.yaml"
    translated, resolver = _paper_template()
    files = _definition_files(template_path)
    definitions: list[StateMachineDefinition] = []
    for logical, resource in translated.resources_of_type(_STATE_MACHINE).items():
        properties = resource["Properties"]
        substitutions = {
            name: str(value)
            for name, value in resolver.resolve(
                properties.get("DefinitionSubstitutions", {})
            ).items()
        }
        # SAM inlines the file as an Fn::Join of its lines (what CloudFormation receives).
        text = str(resolver.resolve(properties["DefinitionString"]))
        definitions.append(
            StateMachineDefinition(
                logical_id=logical,
                file=files[logical],
                substitutions=substitutions,
                text=substitute(text, substitutions),
            )
        )
    return tuple(definitions)


def _definition_files(template_path: Path) -> dict[str, Path]:
    resources = load_sam_template(template_path)["Resources"]
    return {
        logical: (template_path.parent / resource["Properties"]["DefinitionUri"]).resolve()
        for logical, resource in resources.items()
        if resource["Type"] == "AWS::Serverless::StateMachine"
    }


# ------------------------------------------------------------------------------ States.Format

_FORMAT_CALL: Final = re.compile(
    r"States\.Format\('((?:[^'\\]|\\.)*)'((?:\s*,\s*\$\.[A-Za-z_]\w*)*)\)"
)


def evaluate_format(expression: str, inputs: dict[str, str]) -> str:
    """``States.Format('template', $.a, $.b)`` with ``inputs`` for the paths (``{"a": ...}``):
    ``{}`` takes the next argument; ``\\'``, ``\\{``, ``\\}``, ``\\\\`` are ASL's escapes.
    Only this shape is understood; anything else raises ValueError."""
    call = _FORMAT_CALL.fullmatch(expression.strip())
    if call is None:
        raise ValueError(f"not a States.Format('...', $.path, ...) call: {expression!r}")
    template, paths = call.group(1), re.findall(r"\$\.(\w+)", call.group(2))
    arguments = iter(inputs[path] for path in paths)
    pieces: list[str] = []
    index = 0
    while index < len(template):
        character = template[index]
        if character == "\\":
            pieces.append(template[index + 1])
            index += 2
            continue
        if template.startswith("{}", index):
            argument = next(arguments, None)
            if argument is None:
                raise ValueError(f"fewer arguments than {{}} in {expression!r}")
            pieces.append(argument)
            index += 2
            continue
        if character in "{}":
            raise ValueError(f"an unescaped {character!r} in {expression!r}")
        pieces.append(character)
        index += 1
    if next(arguments, None) is not None:
        raise ValueError(f"more arguments than {{}} in {expression!r}")
    return "".join(pieces)
