"""Stack bucket names that a policy has to spell out: explicit, and the same in both places.

The raw workbook bucket notifies a topic whose policy must exist first, so the policy cannot Ref
the bucket (a cycle) and names it instead. A generated bucket name is cut short for a long stack
name, so the policy used to match "*rawworkbookbucket*", which missed those and matched other
stacks' buckets. The bucket now has an explicit name made of the account, the region and the
first group of the stack id's UUID, written the same way in the policy.

S3's rules for general purpose bucket names (S3 User Guide, "General purpose bucket naming
rules") are written out below, apart from the template.
"""

import ipaddress
import re
import uuid
from typing import Any

import pytest
from cfn_intrinsics import MAX_STACK_NAME_CHARS, Stack, evaluate, regions_by_partition
from template_support import resources

MAX_BUCKET_NAME_CHARS = 63
_BUCKET_CHARACTERS = re.compile(r"[a-z0-9][a-z0-9.-]*[a-z0-9]")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
# "-an" only in an account regional namespace, which this bucket is not created in.
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3", "-an")


def s3_naming_violation(name: str) -> str | None:
    """Why S3 refuses this general purpose bucket name, or None."""
    if not 3 <= len(name) <= MAX_BUCKET_NAME_CHARS:
        return f"{len(name)} characters: 3 to {MAX_BUCKET_NAME_CHARS}"
    if not _BUCKET_CHARACTERS.fullmatch(name):
        return "only a-z, 0-9, '.' and '-', starting and ending with a letter or digit"
    if ".." in name:
        return "two adjacent periods"
    try:
        ipaddress.ip_address(name)
        return "formatted as an IP address"
    except ValueError:
        pass
    if name.startswith(_RESERVED_PREFIXES) or name.endswith(_RESERVED_SUFFIXES):
        return "a reserved prefix or suffix"
    return None


def _raw_bucket_name(template: dict[str, Any], stack: Stack) -> str:
    bucket = template["Resources"]["RawWorkbookBucket"]["Properties"]["BucketName"]
    name: str = evaluate(bucket, stack)
    return name


def _raw_bucket_publish_condition(template: dict[str, Any]) -> dict[str, Any]:
    policy = template["Resources"]["WorkbookUploadedTopicPolicy"]["Properties"]["PolicyDocument"]
    (statement,) = [s for s in policy["Statement"] if s.get("Sid") == "RawBucketPublishes"]
    condition: dict[str, Any] = statement["Condition"]
    return condition


def _stack_ids() -> list[str]:
    """UUIDs as a stack id carries them: time-based as CloudFormation's look, and random."""
    return [str(uuid.uuid1()), str(uuid.uuid4()), "51af3dc0-da77-11e4-872e-1234567890ab"]


@pytest.mark.parametrize("stack_uuid", _stack_ids(), ids=["time-based", "random", "fixed"])
def test_the_raw_bucket_name_is_valid_in_every_region_for_the_longest_stack_name(
    sam_template: dict[str, Any], stack_uuid: str
) -> None:
    # Given the longest stack name CloudFormation allows, in every region of every partition
    stacks = [
        Stack(name="D" * MAX_STACK_NAME_CHARS, region=region, partition=partition, uuid=stack_uuid)
        for partition, region in regions_by_partition()
    ]
    # When the raw bucket's name is resolved for each
    names = {stack.region: _raw_bucket_name(sam_template, stack) for stack in stacks}
    # Then S3 accepts every one
    refused = {region: s3_naming_violation(name) for region, name in names.items()}
    assert {region: why for region, why in refused.items() if why} == {}
    assert len(names) > 30


def test_the_topic_policy_names_exactly_the_raw_bucket(sam_template: dict[str, Any]) -> None:
    # Given a stack in any partition
    stack = Stack(name="datalake-events", region="us-gov-west-1", partition="aws-us-gov")
    # When the topic policy's source condition is resolved
    condition = _raw_bucket_publish_condition(sam_template)
    # Then it is an exact ARN match on this stack's raw bucket (no pattern, no other bucket)
    assert set(condition) == {"StringEquals", "ArnEquals"}
    source_arn = evaluate(condition["ArnEquals"]["aws:SourceArn"], stack)
    assert source_arn == f"arn:aws-us-gov:s3:::{_raw_bucket_name(sam_template, stack)}"
    assert "*" not in source_arn
    assert "?" not in source_arn


def test_two_stacks_in_one_account_and_region_get_different_raw_buckets(
    sam_template: dict[str, Any],
) -> None:
    # Given two stacks created one after the other in the same account and region
    first, second = (Stack(name="datalake-events", uuid=str(uuid.uuid1())) for _ in range(2))
    # When their raw buckets are named
    names = {_raw_bucket_name(sam_template, stack) for stack in (first, second)}
    # Then the names differ (a retained bucket of a deleted stack never blocks a new one)
    assert len(names) == 2


def _bucket_parts_of_s3_arns(value: Any) -> list[str]:
    """The bucket part of every S3 ARN written in a value (an Fn::Sub text or a plain string)."""
    found: list[str] = []
    if isinstance(value, str):
        found += [m.group(1) for m in re.finditer(r"s3:::([^/\"]*)", value)]
    elif isinstance(value, dict):
        for item in value.values():
            found += _bucket_parts_of_s3_arns(item)
    elif isinstance(value, list):
        for item in value:
            found += _bucket_parts_of_s3_arns(item)
    return found


def test_no_s3_arn_in_the_template_matches_a_bucket_name_by_pattern(
    sam_template: dict[str, Any],
) -> None:
    # Given every resource of the template
    written = _bucket_parts_of_s3_arns(sam_template["Resources"])
    # When the bucket part of each S3 ARN written in it is read
    patterns = [part for part in written if "*" in part or "?" in part]
    # Then none is a wildcard standing in for a bucket's name (a parameter may hold one)
    assert written
    assert patterns == []


def test_every_explicit_bucket_name_fits_for_the_longest_stack_name(
    sam_template: dict[str, Any],
) -> None:
    # Given the longest stack name, in the region whose name is longest
    partition, region = max(regions_by_partition(), key=lambda pair: len(pair[1]))
    stack = Stack(name="d" * MAX_STACK_NAME_CHARS, region=region, partition=partition)
    # When each bucket the template names explicitly is resolved
    named = {
        logical: evaluate(bucket["Properties"]["BucketName"], stack)
        for logical, bucket in resources(sam_template, "AWS::S3::Bucket").items()
        if "BucketName" in bucket.get("Properties", {})
    }
    # Then S3 accepts every name
    assert "RawWorkbookBucket" in named
    assert {k: s3_naming_violation(v) for k, v in named.items() if s3_naming_violation(v)} == {}
