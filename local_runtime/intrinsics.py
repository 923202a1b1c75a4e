"""Resolves the intrinsic functions of resources moto's CloudFormation does not create.

Glue jobs, the Glue catalog, Athena resources, secrets and Scheduler schedules are skipped by
moto; the runtime creates or emulates them from the translated template, so their properties
(Ref, Fn::GetAtt, Fn::Sub, Fn::If, Fn::Join, Fn::Split, Fn::Select) are resolved here against
the deployed stack: parameters, pseudo parameters, conditions and physical ids.
"""

import re
from collections.abc import Callable, Mapping
from typing import Any

ACCOUNT_ID = "123456789012"  # moto's default account
_SUB_VARIABLE = re.compile(r"\$\{([^}!]+)\}")


class UnresolvableError(ValueError):
    """A reference the local runtime cannot resolve (named in the message)."""


class Resolver:
    def __init__(
        self,
        *,
        stack_name: str,
        region: str,
        parameters: Mapping[str, str],
        physical_ids: Mapping[str, str],
        conditions: Mapping[str, bool],
        attribute: Callable[[str, str], str],
        stack_id: str = "",
        list_parameters: frozenset[str] = frozenset(),
        account: str = ACCOUNT_ID,
        partition: str = "aws",
    ) -> None:
        self.pseudo = {
            "AWS::StackName": stack_name,
            "AWS::Region": region,
            "AWS::AccountId": account,
            "AWS::Partition": partition,
            "AWS::URLSuffix": "amazonaws.com",
        }
        if stack_id:  # unknown: a Ref to it stays unresolvable
            self.pseudo["AWS::StackId"] = stack_id
        self.parameters = parameters
        # CommaDelimitedList parameters: a Ref to one is a list, as in CloudFormation.
        self.list_parameters = list_parameters
        self.physical_ids = physical_ids
        self.conditions = conditions
        self.attribute = attribute  # (logical id, attribute) → value, e.g. ("Role", "Arn")

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            handlers: dict[str, Callable[[Any], Any]] = {
                "Ref": self._ref,
                "Fn::GetAtt": self._get_att,
                "Fn::Sub": self._sub,
                "Fn::If": self._if,
                "Fn::Join": self._join,
                "Fn::Split": self._split,
                "Fn::Select": self._select,
            }
            handler = handlers.get(key)
            if handler is not None:
                return handler(argument)
        return {key: self.resolve(item) for key, item in value.items()}

    def _ref(self, name: str) -> str | list[str]:
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self.list_parameters:
            return str(self.parameters[name]).split(",")
        if name in self.parameters:
            return str(self.parameters[name])
        if name in self.physical_ids:
            return self.physical_ids[name]
        raise UnresolvableError(f"Ref {name}")

    def _get_att(self, argument: Any) -> str:
        logical, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
        return self.attribute(str(logical), str(attribute))

    def _sub(self, argument: Any) -> str:
        template, variables = (argument, {}) if isinstance(argument, str) else argument
        resolved = {name: self.resolve(value) for name, value in variables.items()}

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in resolved:
                return str(resolved[name])
            if "." in name:
                return self._get_att(name)
            return str(self._ref(name))

        # "${!Literal}" is Fn::Sub's escape for a literal "${Literal}".
        return _SUB_VARIABLE.sub(substitute, template).replace("${!", "${")

    def _if(self, argument: list[Any]) -> Any:
        condition, when_true, when_false = argument
        return self.resolve(when_true if self.conditions[condition] else when_false)

    def _join(self, argument: list[Any]) -> str:
        separator, parts = argument
        return str(separator).join(str(part) for part in self.resolve(parts))

    def _split(self, argument: list[Any]) -> list[str]:
        separator, text = argument
        return str(self.resolve(text)).split(str(separator))

    def _select(self, argument: list[Any]) -> Any:
        index, items = argument
        return self.resolve(items)[int(self.resolve(index))]


def evaluate_conditions(
    conditions: Mapping[str, Any],
    parameters: Mapping[str, str],
    resolver_for: Callable[[], Resolver],
) -> dict[str, bool]:
    """The template's conditions (Fn::Equals/Not/And/Or/Condition) over parameter values."""
    results: dict[str, bool] = {}

    def evaluate(expression: Any) -> bool:
        ((key, argument),) = expression.items()
        if key == "Fn::Equals":
            left, right = (resolver_for().resolve(side) for side in argument)
            return str(left) == str(right)
        if key == "Fn::Not":
            return not evaluate(argument[0])
        if key == "Fn::And":
            return all(evaluate(item) for item in argument)
        if key == "Fn::Or":
            return any(evaluate(item) for item in argument)
        if key == "Condition":
            return condition(argument)
        raise UnresolvableError(f"condition function {key}")

    def condition(name: str) -> bool:
        if name not in results:
            results[name] = evaluate(conditions[name])
        return results[name]

    for name in conditions:
        condition(name)
    return results
