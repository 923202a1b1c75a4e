"""Template parameter values checked against their declared constraints, as CloudFormation
does before it creates anything (moto accepts any value)."""

import re
from typing import Any


class ParameterError(ValueError):
    """A parameter value CloudFormation would reject; the message lists every problem."""


def _problems(name: str, spec: dict[str, Any], value: str) -> list[str]:
    problems = []
    allowed = spec.get("AllowedValues")
    if allowed is not None and value not in [str(v) for v in allowed]:
        problems.append(f"{name}={value!r} is not one of {allowed}")
    pattern = spec.get("AllowedPattern")
    # A CommaDelimitedList's pattern applies to each of its values (CloudFormation's rule).
    items = value.split(",") if spec.get("Type") == "CommaDelimitedList" else [value]
    for item in items:
        if pattern is not None and re.fullmatch(pattern, item) is None:
            problems.append(f"{name}={item!r} does not match {pattern!r}")
    if spec.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            return [*problems, f"{name}={value!r} is not a number"]
        if "MinValue" in spec and number < float(spec["MinValue"]):
            problems.append(f"{name}={value} is below MinValue {spec['MinValue']}")
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            problems.append(f"{name}={value} is above MaxValue {spec['MaxValue']}")
    if "MinLength" in spec and len(value) < int(spec["MinLength"]):
        problems.append(f"{name} is shorter than MinLength {spec['MinLength']}")
    if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
        problems.append(f"{name} is longer than MaxLength {spec['MaxLength']}")
    return problems


def check_parameters(declared: dict[str, dict[str, Any]], values: dict[str, str]) -> None:
    """Raises ParameterError for unknown names or values outside their constraints."""
    problems = [
        f"{name} is not a parameter of the template" for name in values if name not in declared
    ]
    for name, spec in declared.items():
        value = values.get(name, spec.get("Default"))
        if value is None:
            problems.append(f"{name} has no value and no Default")
            continue
        problems.extend(_problems(name, spec, str(value)))
    if problems:
        raise ParameterError("; ".join(problems))
