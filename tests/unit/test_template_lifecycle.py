"""Retention of what accumulates: every bucket either expires its objects by a lifecycle rule
whose age is a parameter (0 = keep forever, which drops the rule), or keeps them for a written
reason; the lake's current Iceberg files are never expired (docs/operations.md#retention)."""

from typing import Any

import pytest

from local_runtime.intrinsics import evaluate_conditions
from tests.unit.cfn_intrinsics import Stack
from tests.unit.template_support import Template, refs, resources

# bucket -> (retention parameter, key prefix the rule is limited to: a Ref or a literal)
EXPIRING: dict[str, tuple[str, list[Any]]] = {
    "StagingBucket": ("StagingFileRetentionDays", [{"Ref": "StagingPrefix"}]),
    "MonitoringBucket": ("MonitoringRetentionDays", ["monitoring-events/", "table-runs/"]),
    "MetricsBucket": ("PipelineMetricsRetentionDays", [{"Ref": "PipelineMetricsPrefix"}]),
    "RawWorkbookBucket": ("RawWorkbookRetentionDays", [{"Ref": "WorkbookUploadPrefix"}]),
    "CleanBucket": ("QuarantineRetentionDays", ["quarantine/"]),
    "AthenaResultsBucket": ("AthenaResultsRetentionDays", [None]),
    "AccessLogBucket": ("AccessLogRetentionDays", [None]),
}
# Buckets whose current objects are kept until someone deletes them, and why.
KEPT_FOREVER = {
    "ConfigBucket": "a few small config files, the record of what was applied "
    "(old versions expire)",
    "LakeBucket": "the Iceberg tables' current data and metadata (Iceberg maintenance removes "
    "what no snapshot needs; only noncurrent versions expire)",
    "DatasetBucket": "the data set its owners upload; the object tasks rewrite its objects, never "
    "delete them (the versions a rewrite replaced are deleted, other old versions expire)",
}
# Retention parameters where 0 means "keep forever" (a Condition drops the rule).
OPTIONAL = {name for name, _ in EXPIRING.values()} - {
    "AthenaResultsRetentionDays",
    "AccessLogRetentionDays",
}


def _rules(template: Template, bucket: str) -> list[Any]:
    rules: list[Any] = resources(template, "AWS::S3::Bucket")[bucket]["Properties"][
        "LifecycleConfiguration"
    ]["Rules"]
    return rules


def _expiring_rules(template: Template, bucket: str) -> list[dict[str, Any]]:
    """The rules that expire current objects; a conditional one as written under Fn::If."""
    found = []
    for rule in _rules(template, bucket):
        body = rule["Fn::If"][1] if "Fn::If" in rule else rule
        if "ExpirationInDays" in body or "ExpirationDate" in body:
            found.append(body)
    return found


def test_every_bucket_expires_its_objects_or_says_why_not(sam_template: Template) -> None:
    # Given every bucket of the template
    buckets = set(resources(sam_template, "AWS::S3::Bucket"))

    # Then each is either expiring (by a rule below) or kept with a reason
    assert buckets == set(EXPIRING) | set(KEPT_FOREVER)
    assert not set(EXPIRING) & set(KEPT_FOREVER)
    for bucket in KEPT_FOREVER:
        assert _expiring_rules(sam_template, bucket) == [], bucket


@pytest.mark.parametrize("bucket", sorted(EXPIRING))
def test_each_expiring_rule_takes_its_age_from_its_parameter(
    sam_template: Template, bucket: str
) -> None:
    # Given the bucket's rules that expire current objects
    parameter, prefixes = EXPIRING[bucket]
    rules = _expiring_rules(sam_template, bucket)

    # Then there is one per prefix, each aged by the bucket's retention parameter, enabled
    assert [rule.get("Prefix") for rule in rules] == prefixes
    for rule in rules:
        assert rule["ExpirationInDays"] == {"Ref": parameter}
        assert rule["Status"] == "Enabled"
        # S3 refuses ExpiredObjectDeleteMarker next to a day count
        assert "ExpiredObjectDeleteMarker" not in rule


@pytest.mark.parametrize("parameter", sorted(OPTIONAL))
def test_retention_parameters_allow_zero_for_forever_within_bounds(
    sam_template: Template, parameter: str
) -> None:
    spec = sam_template["Parameters"][parameter]
    assert spec["Type"] == "Number"
    assert spec["MinValue"] == 0 <= spec["Default"] <= spec["MaxValue"] <= 3650
    assert "0 = forever" in " ".join(spec["Description"].split())


@pytest.mark.parametrize("parameter", sorted(OPTIONAL))
@pytest.mark.parametrize(("days", "expected"), [("0", False), ("1", True), ("30", True)])
def test_zero_days_drops_the_rule_and_any_other_value_keeps_it(
    sam_template: Template, parameter: str, days: str, expected: bool
) -> None:
    # Given a stack with the retention parameter set to `days`
    values = _parameter_values(sam_template, {parameter: days})
    stack = Stack("datalake-events", parameters=values)
    conditions = evaluate_conditions(sam_template["Conditions"], values, stack.resolver)
    # When the buckets' conditional rules that parameter ages are resolved
    governed = [
        rule["Fn::If"][0]
        for bucket, (name, _) in EXPIRING.items()
        if name == parameter
        for rule in _rules(sam_template, bucket)
        if "Fn::If" in rule and {"Ref": parameter} == rule["Fn::If"][1].get("ExpirationInDays")
    ]

    # Then each is kept for a day count and dropped (AWS::NoValue) for 0
    assert governed
    for condition in governed:
        assert conditions[condition] is expected
    assert all(refs(r["Fn::If"][2]) == {"AWS::NoValue"} for r in _all_conditional(sam_template))


def test_the_lake_never_expires_current_table_files(sam_template: Template) -> None:
    # Given the lake bucket's rules
    rules = _rules(sam_template, "LakeBucket")

    # Then none expires current objects: only noncurrent versions go
    assert rules
    assert all("Fn::If" not in rule for rule in rules)
    assert all(not {"ExpirationInDays", "ExpirationDate", "Transitions"} & set(r) for r in rules)


def _all_conditional(template: Template) -> list[dict[str, Any]]:
    return [
        rule
        for bucket in resources(template, "AWS::S3::Bucket")
        for rule in _rules(template, bucket)
        if "Fn::If" in rule
    ]


def _parameter_values(template: Template, overrides: dict[str, str]) -> dict[str, str]:
    values = {name: str(spec.get("Default", "")) for name, spec in template["Parameters"].items()}
    return values | overrides
