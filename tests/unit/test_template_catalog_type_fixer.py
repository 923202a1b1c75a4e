"""template.yaml's catalog type fixer: which table changes reach it, and which tables it may
read and update, resolved for a stack with and without extra databases."""

import re
from typing import Any

import pytest

from local_runtime.intrinsics import Resolver, evaluate_conditions
from tests.unit.template_support import Template

CRAWLED = "lake_stack_crawled"
ARN = "arn:aws:glue:us-east-1:123456789012"


CONDITIONS = (
    "HasExtraTypeFixerDatabases",
    "HasSecondExtraTypeFixerDatabase",
    "HasThirdExtraTypeFixerDatabase",
)
CASES = [
    ("", [CRAWLED]),
    ("ops", [CRAWLED, "ops"]),
    ("sales_raw,ops", [CRAWLED, "sales_raw", "ops"]),
    ("a,b_2,c3", [CRAWLED, "a", "b_2", "c3"]),
]


def _no_attribute(logical: str, name: str) -> str:
    raise NotImplementedError(f"{logical}.{name}")


def _resolver(extra: str, conditions: dict[str, bool] | None = None) -> Resolver:
    return Resolver(
        stack_name="lake-stack",
        region="us-east-1",
        parameters={"TypeFixerExtraDatabases": extra},
        physical_ids={"CrawledDatabase": CRAWLED},
        conditions=conditions or {},
        attribute=_no_attribute,
    )


def _stack(template: Template, extra: str) -> Resolver:
    """The resolver of a stack deployed with ``extra``, its conditions decided by the
    template's own condition expressions."""
    conditions = evaluate_conditions(
        {name: template["Conditions"][name] for name in CONDITIONS},
        {"TypeFixerExtraDatabases": extra},
        lambda: _resolver(extra),
    )
    return _resolver(extra, conditions)


def _resolve_list(resolver: Resolver, items: list[Any]) -> list[Any]:
    """A list as CloudFormation builds it: an Fn::If item taking its chosen branch, and an
    item that is AWS::NoValue dropped."""
    present: list[Any] = []
    for item in items:
        chosen = item
        if isinstance(item, dict) and "Fn::If" in item:
            name, when_true, when_false = item["Fn::If"]
            chosen = when_true if resolver.conditions[name] else when_false
        if chosen != {"Ref": "AWS::NoValue"}:
            present.append(resolver.resolve(chosen))
    return present


def _glue_statement(template: Template) -> dict[str, Any]:
    props = template["Resources"]["CatalogTypeFixerFunction"]["Properties"]
    (statement,) = [
        s
        for policy in props["Policies"]
        for s in policy["Statement"]
        if any(str(a).startswith("glue:") for a in s["Action"])
    ]
    return statement


@pytest.mark.parametrize(("extra", "databases"), CASES)
def test_the_fixer_reads_and_updates_only_the_watched_databases_tables(
    sam_template: Template, extra: str, databases: list[str]
) -> None:
    # Given the fixer's Glue statement, resolved for a stack
    statement = _glue_statement(sam_template)
    resources = _resolve_list(_stack(sam_template, extra), statement["Resource"])
    # Then it may get and update tables, of the catalog, the watched databases and their tables
    assert sorted(statement["Action"]) == ["glue:GetTable", "glue:UpdateTable"]
    expected = {f"{ARN}:catalog"}
    expected |= {f"{ARN}:database/{db}" for db in databases}
    expected |= {f"{ARN}:table/{db}/*" for db in databases}
    assert set(resources) == expected


@pytest.mark.parametrize(("extra", "databases"), CASES)
def test_only_created_or_updated_tables_of_the_watched_databases_are_routed(
    sam_template: Template, extra: str, databases: list[str]
) -> None:
    # Given the rule, resolved for a stack
    pattern = _stack(sam_template, extra).resolve(
        sam_template["Resources"]["CatalogTableChangedRule"]["Properties"]["EventPattern"]
    )
    # Then it matches Glue's catalog changes of those databases, creations and updates only
    assert pattern == {
        "source": ["aws.glue"],
        "detail-type": [
            "Glue Data Catalog Database State Change",
            "Glue Data Catalog Table State Change",
        ],
        "detail": {"databaseName": databases, "typeOfChange": ["CreateTable", "UpdateTable"]},
    }


def test_the_function_is_told_the_same_databases(sam_template: Template) -> None:
    # Given the variable the function checks events against, resolved with extra databases
    variables = sam_template["Resources"]["CatalogTypeFixerFunction"]["Properties"]["Environment"][
        "Variables"
    ]
    # Then it lists exactly the databases the rule routes
    for extra, databases in CASES:
        resolved = _stack(sam_template, extra).resolve(variables["TYPE_FIXER_DATABASES"])
        assert resolved.split(",") == databases


@pytest.mark.parametrize(
    ("value", "accepted"),
    [("", True), ("a,b,c", True), ("a,b,c,d", False), ("Sales", False), ("a,,b", False)],
)
def test_the_parameter_takes_at_most_three_database_names(
    sam_template: Template, value: str, accepted: bool
) -> None:
    # Given the parameter's pattern (the policy names at most three extra databases)
    pattern = sam_template["Parameters"]["TypeFixerExtraDatabases"]["AllowedPattern"]
    # Then CloudFormation accepts a value only when the policy can name every database
    assert (re.fullmatch(pattern, value) is not None) is accepted
