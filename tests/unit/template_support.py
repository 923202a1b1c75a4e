"""template.yaml read as data: the helpers every template guardrail test uses."""

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

Template = dict[str, Any]


def resources(template: Template, kind: str) -> dict[str, dict[str, Any]]:
    return {
        logical: resource
        for logical, resource in template["Resources"].items()
        if resource["Type"] == kind
    }


def refs(value: Any) -> set[str]:
    """Logical ids a value refers to (Ref, Fn::GetAtt, ${...} in Fn::Sub)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "Ref" and isinstance(item, str):
                found.add(item)
            elif key == "Fn::GetAtt":
                found.add(item[0] if isinstance(item, list) else item.split(".")[0])
            elif key == "Fn::Sub":
                text = item if isinstance(item, str) else item[0]
                found.update(part.split("}")[0].split(".")[0] for part in text.split("${")[1:])
                if not isinstance(item, str):
                    found |= refs(item[1])
            else:
                found |= refs(item)
    elif isinstance(value, list):
        for item in value:
            found |= refs(item)
    return found


def policy_statements(statements: list[Any]) -> list[dict[str, Any]]:
    """A policy's statements, a conditional one (Fn::If, with AWS::NoValue) as its statement."""
    found: list[dict[str, Any]] = []
    for statement in statements:
        if isinstance(statement, dict) and "Fn::If" in statement:
            found += [s for s in statement["Fn::If"][1:] if isinstance(s, dict) and "Effect" in s]
        else:
            found.append(statement)
    return found


def tls_only_statements(template: Template, policy_kind: str, target_key: str) -> set[str]:
    """Logical ids of the resources a TLS-only deny statement protects."""
    protected: set[str] = set()
    for policy in resources(template, policy_kind).values():
        props = policy["Properties"]
        for statement in props["PolicyDocument"]["Statement"]:
            condition = statement.get("Condition", {}).get("Bool", {})
            if statement["Effect"] == "Deny" and condition.get("aws:SecureTransport") == "false":
                protected |= refs(props[target_key])
    return protected
