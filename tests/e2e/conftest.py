"""End-to-end tests against a deployed stack: AWS_SAM_STACK_NAME=<stack> make test-e2e.

Skipped when AWS_SAM_STACK_NAME is not set. Resource names come from the stack's outputs, so
the tests follow whatever the template deployed.
"""

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

STACK_ENV = "AWS_SAM_STACK_NAME"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/e2e/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)
            if not os.environ.get(STACK_ENV):
                item.add_marker(pytest.mark.skip(reason=f"{STACK_ENV} is not set"))


@pytest.fixture(scope="session")
def stack() -> dict[str, Any]:
    response = boto3.client("cloudformation").describe_stacks(StackName=os.environ[STACK_ENV])
    stack: dict[str, Any] = response["Stacks"][0]
    return stack


@pytest.fixture(scope="session")
def stack_outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


@pytest.fixture(scope="session")
def staging_prefix(stack: dict[str, Any]) -> str:
    """Keys must start with the deployed StagingPrefix for the rule to route them."""
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack["Parameters"]}
    return str(parameters.get("StagingPrefix", ""))


@pytest.fixture
def landed_keys(stack_outputs: dict[str, str]) -> Iterator[list[str]]:
    """Keys a test lands; deleted afterwards (every version), tracker items included."""
    keys: list[str] = []
    yield keys
    s3 = boto3.client("s3")
    bucket = stack_outputs["StagingBucketName"]
    for key in keys:
        versions = s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", [])
        for version in versions:
            s3.delete_object(Bucket=bucket, Key=key, VersionId=version["VersionId"])


def plain(item: dict[str, Any]) -> dict[str, Any]:
    return {name: next(iter(value.values())) for name, value in item.items()}
