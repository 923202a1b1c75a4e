"""What a template value becomes in a given stack: CloudFormation's intrinsic and rule
functions evaluated on template data, for the tests that must know the real name, pattern or
rule verdict rather than its template spelling.

Written from CloudFormation's documentation (intrinsic function reference, rule functions,
pseudo parameters), apart from the template, and only for the functions those tests meet:
anything else raises, so a template that starts using another cannot pass by being misread.
Parameter values are strings, as CloudFormation passes them (a Number parameter's Ref is its
text, which is what the rule functions compare).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import botocore.loaders

MAX_STACK_NAME_CHARS = 128
"""CreateStack: letters, digits and hyphens, starting with a letter, at most 128 characters."""

STACK_NAME = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,127}")


@dataclass(frozen=True)
class Stack:
    """One deployment of the template: the pseudo parameters and the parameter values."""

    name: str
    region: str = "us-east-1"
    partition: str = "aws"
    account: str = "123456789012"
    uuid: str = "51af3dc0-da77-11e4-872e-1234567890ab"
    parameters: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not STACK_NAME.fullmatch(self.name):
            raise ValueError(f"CloudFormation refuses the stack name {self.name!r}")

    @property
    def stack_id(self) -> str:
        return (
            f"arn:{self.partition}:cloudformation:{self.region}:{self.account}"
            f":stack/{self.name}/{self.uuid}"
        )

    def pseudo(self) -> dict[str, str]:
        return {
            "AWS::StackName": self.name,
            "AWS::StackId": self.stack_id,
            "AWS::Region": self.region,
            "AWS::Partition": self.partition,
            "AWS::AccountId": self.account,
            "AWS::URLSuffix": "amazonaws.com",
        }


def regions_by_partition() -> list[tuple[str, str]]:
    """(partition, region) for every region botocore's endpoint data knows, in all partitions."""
    endpoints = botocore.loaders.Loader().load_data("endpoints")
    return [
        (partition["partition"], region)
        for partition in endpoints["partitions"]
        for region in partition["regions"]
    ]


def longest_arn_region() -> tuple[str, str]:
    """The (partition, region) that makes an ARN longest: both are spelled out in it."""
    return max(regions_by_partition(), key=lambda pair: (len(pair[0]) + len(pair[1]), pair))


def evaluate(value: Any, stack: Stack) -> Any:
    """The value with every intrinsic or rule function in it evaluated for this stack."""
    if isinstance(value, list):
        return [evaluate(item, stack) for item in value]
    if not isinstance(value, Mapping):
        return value
    if len(value) == 1:
        (name, argument), *_ = value.items()
        function = _FUNCTIONS.get(name)
        if function is not None:
            return function(argument, stack)
        if name.startswith("Fn::"):
            raise NotImplementedError(f"{name} is not evaluated here")
    return {key: evaluate(item, stack) for key, item in value.items()}


def rule_allows(rule: Mapping[str, Any], stack: Stack) -> bool:
    """A Rules entry's verdict: its assertions hold, or its condition is false."""
    if not _boolean(evaluate(rule.get("RuleCondition", True), stack)):
        return True
    return all(_boolean(evaluate(item["Assert"], stack)) for item in rule["Assertions"])


def _ref(name: str, stack: Stack) -> str:
    pseudo = stack.pseudo()
    if name in pseudo:
        return pseudo[name]
    if name in stack.parameters:
        return stack.parameters[name]
    raise KeyError(f"Ref {name}: not a pseudo parameter nor a parameter given to the stack")


_SUB_VARIABLE = re.compile(r"\$\{([^}]+)\}")


def _sub(argument: Any, stack: Stack) -> str:
    text, variables = (argument, {}) if isinstance(argument, str) else argument
    values = {key: evaluate(item, stack) for key, item in variables.items()}

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"  # ${!Literal} is written as ${Literal}
        if name in values:
            return str(values[name])
        return _ref(name, stack)

    return _SUB_VARIABLE.sub(replace, text)


def _select(argument: list[Any], stack: Stack) -> Any:
    index, items = evaluate(argument, stack)
    return items[int(index)]


def _split(argument: list[Any], stack: Stack) -> list[str]:
    delimiter, text = evaluate(argument, stack)
    return str(text).split(delimiter)


def _join(argument: list[Any], stack: Stack) -> str:
    delimiter, items = evaluate(argument, stack)
    return str(delimiter).join(str(item) for item in items)


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"a rule function must give true or false, not {value!r}")
    return value


def _contains(argument: list[Any], stack: Stack) -> bool:
    strings, text = evaluate(argument, stack)
    return str(text) in [str(item) for item in strings]


def _equals(argument: list[Any], stack: Stack) -> bool:
    left, right = evaluate(argument, stack)
    return str(left) == str(right)


def _not(argument: list[Any], stack: Stack) -> bool:
    (condition,) = argument
    return not _boolean(evaluate(condition, stack))


def _and(argument: list[Any], stack: Stack) -> bool:
    if not 2 <= len(argument) <= 10:
        raise ValueError("Fn::And takes 2 to 10 conditions")
    return all(_boolean(evaluate(item, stack)) for item in argument)


def _or(argument: list[Any], stack: Stack) -> bool:
    if not 2 <= len(argument) <= 10:
        raise ValueError("Fn::Or takes 2 to 10 conditions")
    return any(_boolean(evaluate(item, stack)) for item in argument)


_FUNCTIONS: dict[str, Any] = {
    "Ref": _ref,
    "Fn::Sub": _sub,
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::Join": _join,
    "Fn::Contains": _contains,
    "Fn::Equals": _equals,
    "Fn::Not": _not,
    "Fn::And": _and,
    "Fn::Or": _or,
}
