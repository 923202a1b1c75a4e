"""What a template value becomes in a given stack: CloudFormation's intrinsic and rule
functions evaluated on template data, for the tests that must know the real name, pattern or
rule verdict rather than its template spelling.

Ref and the string functions are the local runtime's resolver (local_runtime.intrinsics), the
one the runtime deploys the template with; the rule functions are written here from
CloudFormation's documentation. Only the functions those tests meet are evaluated: anything
else raises, so a template that starts using another cannot pass by being misread.
Parameter values are strings, as CloudFormation passes them (a Number parameter's Ref is its
text, which is what the rule functions compare).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import botocore.loaders

from local_runtime.intrinsics import Resolver

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
    conditions: Mapping[str, bool] = field(default_factory=dict)
    """The template's conditions that Fn::If meets, as this deployment decides them."""

    def __post_init__(self) -> None:
        if not STACK_NAME.fullmatch(self.name):
            raise ValueError(f"CloudFormation refuses the stack name {self.name!r}")

    @property
    def stack_id(self) -> str:
        return (
            f"arn:{self.partition}:cloudformation:{self.region}:{self.account}"
            f":stack/{self.name}/{self.uuid}"
        )

    def resolver(self) -> Resolver:
        """The local runtime's resolver for Ref and the string functions, set for this stack."""
        return Resolver(
            stack_name=self.name,
            stack_id=self.stack_id,
            region=self.region,
            partition=self.partition,
            account=self.account,
            parameters=self.parameters,
            physical_ids={},
            conditions=self.conditions,
            attribute=_no_attribute,
        )


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
    _refuse_unsupported(value)
    if isinstance(value, Mapping) and len(value) == 1:
        ((name, argument),) = value.items()
        rule_function = _RULE_FUNCTIONS.get(name)
        if rule_function is not None:
            return rule_function(argument, stack)
    # Ref, Fn::Sub, Fn::Join, Fn::Split, Fn::Select, Fn::If: the local runtime's resolver.
    return stack.resolver().resolve(value)


def rule_allows(rule: Mapping[str, Any], stack: Stack) -> bool:
    """A Rules entry's verdict: its assertions hold, or its condition is false."""
    if not _boolean(evaluate(rule.get("RuleCondition", True), stack)):
        return True
    return all(_boolean(evaluate(item["Assert"], stack)) for item in rule["Assertions"])


def _refuse_unsupported(value: Any) -> None:
    """A template that starts using another function must not pass by being misread."""
    if isinstance(value, list):
        for item in value:
            _refuse_unsupported(item)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if key.startswith("Fn::") and key not in _SUPPORTED:
                raise NotImplementedError(f"{key} is not evaluated here")
            _refuse_unsupported(item)


def _no_attribute(logical: str, name: str) -> str:
    raise NotImplementedError(f"Fn::GetAtt {logical}.{name} is not evaluated here")


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


_RULE_FUNCTIONS: dict[str, Any] = {
    "Fn::Contains": _contains,
    "Fn::Equals": _equals,
    "Fn::Not": _not,
    "Fn::And": _and,
    "Fn::Or": _or,
}
_SUPPORTED = {*_RULE_FUNCTIONS, "Fn::Sub", "Fn::Join", "Fn::Split", "Fn::Select", "Fn::If"}
