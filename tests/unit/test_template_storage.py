"""Storage rules of template.yaml: every bucket's server access logs land in the stack's
access-log bucket, versioned buckets keep old versions for a bounded time, no bucket keeps
unfinished multipart uploads, and every topic, queue and bucket refuses plain HTTP."""

from typing import Any

import pytest

from tests.unit.template_support import ROOT, Template, refs, resources, tls_only_statements

ACCESS_LOG_BUCKET = "AccessLogBucket"
LOG_DELIVERY = "logging.s3.amazonaws.com"
# Buckets whose objects cannot be rebuilt or are audit records: an overwrite or delete must be
# recoverable. Athena results, clean CSVs (rebuilt from raw) and access logs are not versioned.
VERSIONED = {
    "StagingBucket",
    "ConfigBucket",
    "LakeBucket",
    "MetricsBucket",
    "MonitoringBucket",
    "RawWorkbookBucket",
    "DatasetBucket",
}


def _buckets(template: Template) -> dict[str, dict[str, Any]]:
    return resources(template, "AWS::S3::Bucket")


def _logged_buckets(template: Template) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in _buckets(template).items() if k != ACCESS_LOG_BUCKET}


def _log_delivery_statement(template: Template) -> dict[str, Any]:
    policies = [
        policy["Properties"]
        for policy in resources(template, "AWS::S3::BucketPolicy").values()
        if policy["Properties"]["Bucket"] == {"Ref": ACCESS_LOG_BUCKET}
    ]
    assert len(policies) == 1, "the access-log bucket has exactly one bucket policy"
    statements: list[dict[str, Any]] = policies[0]["PolicyDocument"]["Statement"]
    (statement,) = [
        s
        for s in statements
        if isinstance(s["Principal"], dict) and s["Principal"].get("Service") == LOG_DELIVERY
    ]
    return statement


def _resource_refs(value: Any) -> set[str]:
    """Logical ids a value refers to, without pseudo parameters such as AWS::NoValue."""
    return {ref for ref in refs(value) if not ref.startswith("AWS::")}


def _enabled_rules(bucket: dict[str, Any]) -> list[dict[str, Any]]:
    """Lifecycle rules that apply to the whole bucket (no prefix or tag filter). A rule under
    Fn::If (a retention parameter set to 0 drops it) has no Status here: never whole-bucket."""
    rules = bucket["Properties"].get("LifecycleConfiguration", {}).get("Rules", [])
    return [
        rule
        for rule in rules
        if rule.get("Status") == "Enabled" and not {"Prefix", "TagFilters", "Filter"} & set(rule)
    ]


def _bounded_days(template: Template, value: Any) -> dict[str, Any]:
    """The Number parameter a lifecycle day count refers to; it must have bounds."""
    (name,) = refs(value)
    parameter: dict[str, Any] = template["Parameters"][name]
    assert parameter["Type"] == "Number", name
    # S3 wants a non-zero positive day count; the upper bound keeps the bill bounded
    assert 1 <= parameter["MinValue"] <= parameter["Default"] <= parameter["MaxValue"], name
    return parameter


def test_every_bucket_logs_to_the_access_log_bucket(sam_template: Template) -> None:
    # Given every bucket but the access-log bucket
    granted = _log_delivery_statement(sam_template)["Resource"]["Fn::Sub"]
    for logical, bucket in _logged_buckets(sam_template).items():
        logging = bucket["Properties"].get("LoggingConfiguration")
        # Then it delivers its access logs to that bucket, under the prefix the policy grants
        assert logging is not None, f"{logical} has no server access logging"
        assert logging["DestinationBucketName"] == {"Ref": ACCESS_LOG_BUCKET}, logical
        assert granted == f"${{{ACCESS_LOG_BUCKET}.Arn}}/{logging['LogFilePrefix']}*", logical


def test_the_access_log_bucket_does_not_log_itself(sam_template: Template) -> None:
    # Given the access-log bucket / Then it has no logging (logs of log deliveries would loop)
    props = _buckets(sam_template)[ACCESS_LOG_BUCKET]["Properties"]
    assert "LoggingConfiguration" not in props


def test_log_delivery_is_granted_to_this_stacks_buckets_only(sam_template: Template) -> None:
    # Given the statement that lets S3 log delivery write into the access-log bucket
    statement = _log_delivery_statement(sam_template)
    condition = statement["Condition"]
    # Then it allows PutObject only, from this account, for exactly the buckets that log there
    assert (statement["Effect"], statement["Action"]) == ("Allow", "s3:PutObject")
    assert condition["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert _resource_refs(condition["ArnLike"]["aws:SourceArn"]) == set(
        _logged_buckets(sam_template)
    )


def test_a_bucket_that_is_not_created_drops_out_of_the_log_policy(sam_template: Template) -> None:
    # Given the buckets created only when no existing bucket is named (Existing* parameters)
    buckets = _buckets(sam_template)
    conditional = {k: v["Condition"] for k, v in buckets.items() if "Condition" in v}
    assert {"StagingBucket", "MetricsBucket"} <= set(conditional)
    source_arns = _log_delivery_statement(sam_template)["Condition"]["ArnLike"]["aws:SourceArn"]
    for entry in source_arns:
        (logical,) = _resource_refs(entry)
        if logical in conditional:
            # Then its ARN is listed under its own condition, and nothing otherwise
            when, arn, otherwise = entry["Fn::If"]
            assert when == conditional[logical]
            assert arn == {"Fn::GetAtt": [logical, "Arn"]}
            assert otherwise == {"Ref": "AWS::NoValue"}
        else:
            assert entry == {"Fn::GetAtt": [logical, "Arn"]}


def test_the_access_log_bucket_meets_s3_log_delivery_rules(sam_template: Template) -> None:
    # Given the access-log bucket
    bucket = _buckets(sam_template)[ACCESS_LOG_BUCKET]
    props = bucket["Properties"]
    (encryption,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    # Then its default encryption is SSE-S3 (log delivery refuses SSE-KMS), ACLs are off (the
    # grant is the bucket policy), and Object Lock, which log delivery refuses, is off
    assert encryption["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert not {"AccessControl", "ObjectLockEnabled", "ObjectLockConfiguration"} & set(props)
    # And logs expire after a bounded, configurable number of days; the bucket outlives the stack
    expiring = [rule for rule in _enabled_rules(bucket) if "ExpirationInDays" in rule]
    assert [refs(rule["ExpirationInDays"]) for rule in expiring] == [{"AccessLogRetentionDays"}]
    _bounded_days(sam_template, expiring[0]["ExpirationInDays"])
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"


def test_every_bucket_aborts_incomplete_multipart_uploads(sam_template: Template) -> None:
    # Given every bucket of the template
    for logical, bucket in _buckets(sam_template).items():
        days = [
            rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]
            for rule in _enabled_rules(bucket)
            if "AbortIncompleteMultipartUpload" in rule
        ]
        # Then a whole-bucket rule drops unfinished uploads' parts within a week
        assert len(days) == 1, f"{logical} does not abort incomplete multipart uploads"
        assert 1 <= days[0] <= 7, logical


@pytest.mark.parametrize("logical", sorted(VERSIONED))
def test_buckets_holding_records_are_versioned(sam_template: Template, logical: str) -> None:
    # Given a bucket whose objects are records or cannot be rebuilt
    props = _buckets(sam_template)[logical]["Properties"]
    # Then versioning keeps an overwritten or deleted object recoverable
    assert props.get("VersioningConfiguration") == {"Status": "Enabled"}, logical


def test_every_versioned_bucket_expires_old_versions(sam_template: Template) -> None:
    # Given every versioned bucket of the template
    versioned = {
        logical: bucket
        for logical, bucket in _buckets(sam_template).items()
        if bucket["Properties"].get("VersioningConfiguration", {}).get("Status") == "Enabled"
    }
    assert set(versioned) == VERSIONED
    for logical, bucket in versioned.items():
        expiring = [
            rule for rule in _enabled_rules(bucket) if "NoncurrentVersionExpiration" in rule
        ]
        # Then a whole-bucket rule deletes noncurrent versions after a bounded number of days,
        # and removes the delete markers left with no version behind them
        assert len(expiring) == 1, f"{logical} keeps every old version forever"
        _bounded_days(sam_template, expiring[0]["NoncurrentVersionExpiration"]["NoncurrentDays"])
        assert expiring[0]["ExpiredObjectDeleteMarker"] is True, logical


def test_the_lake_keeps_deleted_table_files_for_less_time(sam_template: Template) -> None:
    # Given the lake, where Iceberg maintenance deletes data files every day on purpose
    def retention(logical: str) -> dict[str, Any]:
        (rule,) = [
            r
            for r in _enabled_rules(_buckets(sam_template)[logical])
            if "NoncurrentVersionExpiration" in r
        ]
        return _bounded_days(sam_template, rule["NoncurrentVersionExpiration"]["NoncurrentDays"])

    # Then its old versions have their own retention, shorter than the audit records'
    assert retention("LakeBucket") is not retention("MonitoringBucket")
    assert retention("LakeBucket")["Default"] < retention("MonitoringBucket")["Default"]


@pytest.mark.parametrize(
    ("kind", "policy_kind", "target_key"),
    [
        ("AWS::SNS::Topic", "AWS::SNS::TopicPolicy", "Topics"),
        ("AWS::SQS::Queue", "AWS::SQS::QueuePolicy", "Queues"),
        ("AWS::S3::Bucket", "AWS::S3::BucketPolicy", "Bucket"),
    ],
)
def test_every_topic_queue_and_bucket_refuses_plain_http(
    sam_template: Template, kind: str, policy_kind: str, target_key: str
) -> None:
    # Given every resource of the kind / Then a resource policy denies requests without TLS
    protected = tls_only_statements(sam_template, policy_kind, target_key)
    unprotected = set(resources(sam_template, kind)) - protected
    assert unprotected == set(), f"no TLS-only {policy_kind}: {sorted(unprotected)}"


def test_sam_adds_no_topic_or_bucket_the_template_does_not_declare(sam_template: Template) -> None:
    # Given the template as SAM translates it (an event destination given by "Type" alone makes
    # SAM create a bare topic, without key or policy)
    from local_runtime.template import translate  # noqa: PLC0415 - runs the SAM translator

    translated = translate(ROOT / "template.yaml", {"Stage": "local"})
    # Then every topic and bucket in the result is one the template declares
    for kind in ("AWS::SNS::Topic", "AWS::S3::Bucket"):
        assert set(translated.resources_of_type(kind)) == set(resources(sam_template, kind))
