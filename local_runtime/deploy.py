"""Deploys the translated template into moto's CloudFormation, then applies what moto skips.

moto creates the resources but leaves out a few properties our wiring depends on (measured on
moto 5.2.x): S3 bucket versioning and the bucket's EventBridge notification switch. We read
those properties from the same translated template and apply them with the S3 API, so the
template stays the only description of the wiring.

moto refuses a whole template when a resource or an output reads an attribute (Fn::GetAtt,
``${Name.Attribute}``) of a resource type its CloudFormation does not create (the runtime
creates those afterwards, local_runtime.emulated). moto is given the template with such an
attribute in a resource replaced by a placeholder (``unresolved-by-moto:<Name>.<Attribute>``),
and without such outputs; an attribute the runtime cannot resolve itself (local_runtime.attributes)
is refused here instead. Function environments, outputs and event patterns are resolved again
once the emulated resources exist, and a placeholder left in one is an error there. One left in
an IAM policy stays: moto does not enforce IAM, so nothing local reads it.
"""

import contextlib
import io
import json
import logging
import re
import time
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import boto3

from local_runtime.attributes import resolvable
from local_runtime.bridges.eventbridge import string_event_patterns
from local_runtime.kept_logs import keep_log
from local_runtime.moto_adapter.services import cloudformation_creates
from local_runtime.template import ARTIFACT_BUCKET, TranslatedTemplate

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_s3 import S3Client

_DEPLOY_TIMEOUT_S = 60.0
_DONE = {"CREATE_COMPLETE"}
_FAILED = {"CREATE_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "ROLLBACK_IN_PROGRESS"}
# What moto is given in place of an attribute of a resource it skips (see the module's docstring).
UNRESOLVED_BY_MOTO = "unresolved-by-moto:"


class DeployError(RuntimeError):
    """The template did not deploy into moto."""


@dataclass
class DeployedStack:
    name: str
    outputs: dict[str, str]
    # logical id → physical id (name, URL or ARN, whatever CloudFormation's Ref returns)
    resources: dict[str, str]
    resource_types: dict[str, str]
    skipped_by_moto: list[str] = field(default_factory=list)
    # AWS::StackId (the template derives the raw workbook bucket's name from it)
    stack_id: str = ""

    def logical_id(self, physical_id: str) -> str:
        """The logical id of a resource given its name, URL or ARN (itself if unknown)."""
        for logical, physical in self.resources.items():
            if physical == physical_id or physical.endswith((f"/{physical_id}", f":{physical_id}")):
                return logical
        return physical_id

    def physical_ids(self, resource_type: str) -> dict[str, str]:
        return {
            logical: self.resources[logical]
            for logical, kind in self.resource_types.items()
            if kind == resource_type and logical in self.resources
        }


def _placeholder_zip() -> bytes:
    """Lambda wants a zip at the code location; the code itself runs from the working tree."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "Code runs in-process from the working tree.\n")
    return buffer.getvalue()


def deploy(
    translated: TranslatedTemplate,
    stack_name: str,
    parameters: dict[str, str],
    session: boto3.session.Session,
) -> DeployedStack:
    s3: S3Client = session.client("s3")
    cloudformation: CloudFormationClient = session.client("cloudformation")
    s3.create_bucket(Bucket=ARTIFACT_BUCKET)
    archive = _placeholder_zip()
    for key in translated.placeholder_keys:
        s3.put_object(Bucket=ARTIFACT_BUCKET, Key=key, Body=archive)

    # moto warns once per resource it cannot create (alarms, resource policies); keep those
    # notes for the report instead of the terminal. Rules may spell their pattern as JSON text.
    with _moto_notes() as notes, string_event_patterns():
        cloudformation.create_stack(
            StackName=stack_name,
            TemplateBody=_body_for_moto(translated),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
        )
        stack = _wait_for(cloudformation, stack_name)
        resources: dict[str, str] = {}
        resource_types: dict[str, str] = {}
        paginator = cloudformation.get_paginator("list_stack_resources")
        for page in paginator.paginate(StackName=stack_name):
            for summary in page["StackResourceSummaries"]:
                resource_types[summary["LogicalResourceId"]] = summary["ResourceType"]
                if summary.get("PhysicalResourceId"):
                    resources[summary["LogicalResourceId"]] = summary["PhysicalResourceId"]
    deployed = DeployedStack(
        name=stack_name,
        outputs={o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])},
        resources=resources,
        resource_types=resource_types,
        skipped_by_moto=sorted(set(notes)),
        stack_id=stack["StackId"],
    )
    apply_bucket_settings(translated, deployed, s3)
    return deployed


def _body_for_moto(translated: TranslatedTemplate) -> str:
    """The template as moto's CloudFormation is given it (see the module's docstring)."""
    template = translated.cloudformation
    skipped = {
        logical: resource["Type"]
        for logical, resource in template["Resources"].items()
        if not cloudformation_creates(resource["Type"])
    }
    if not skipped:
        return translated.body
    attribute_text = re.compile(r"\$\{(" + "|".join(map(re.escape, skipped)) + r")\.([\w.]+)\}")

    def placeholder(reader: str, logical: str, attribute: str) -> str:
        if not resolvable(skipped[logical], attribute):
            raise DeployError(
                f"{reader} reads {logical}.{attribute}: moto's CloudFormation does not create a "
                f"{skipped[logical]} and the local runtime cannot resolve its {attribute}"
            )
        return f"{UNRESOLVED_BY_MOTO}{logical}.{attribute}"

    def rewrite(reader: str, value: Any) -> Any:
        if isinstance(value, list):
            return [rewrite(reader, item) for item in value]
        if not isinstance(value, dict):
            return value
        if list(value) == ["Fn::GetAtt"]:
            target = value["Fn::GetAtt"]
            logical, attribute = target.split(".", 1) if isinstance(target, str) else target
            return placeholder(reader, logical, attribute) if logical in skipped else value
        if list(value) == ["Fn::Sub"]:
            text, variables = (value["Fn::Sub"], None)
            if isinstance(text, list):
                text, variables = text
            text = attribute_text.sub(lambda m: placeholder(reader, m[1], m[2]), text)
            return {"Fn::Sub": text if variables is None else [text, rewrite(reader, variables)]}
        return {key: rewrite(reader, item) for key, item in value.items()}

    resources = {
        logical: rewrite(logical, resource) for logical, resource in template["Resources"].items()
    }
    outputs = {
        name: output
        for name, output in template.get("Outputs", {}).items()
        if rewrite(f"output {name}", output["Value"]) == output["Value"]
    }
    body = {**template, "Resources": resources}
    if "Outputs" in template:
        body["Outputs"] = outputs
    return json.dumps(body)


@contextlib.contextmanager
def _moto_notes() -> Iterator[list[str]]:
    notes: list[str] = []
    restore = keep_log("moto", notes, logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            yield notes
    finally:
        restore()


def _wait_for(cloudformation: "CloudFormationClient", stack_name: str) -> Any:
    deadline = time.monotonic() + _DEPLOY_TIMEOUT_S
    while time.monotonic() < deadline:
        stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
        if stack["StackStatus"] in _DONE:
            return stack
        if stack["StackStatus"] in _FAILED:
            events = cloudformation.describe_stack_events(StackName=stack_name)["StackEvents"]
            reasons = [
                f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason')}"
                for e in events
                if e.get("ResourceStatusReason")
            ]
            raise DeployError(f"stack {stack_name} is {stack['StackStatus']}: {reasons}")
        time.sleep(0.05)
    raise DeployError(f"stack {stack_name} did not finish deploying in {_DEPLOY_TIMEOUT_S} s")


def apply_bucket_settings(
    translated: TranslatedTemplate, deployed: DeployedStack, s3: "S3Client"
) -> None:
    """Versioning and EventBridge notifications, as the template declares them."""
    for logical, resource in translated.resources_of_type("AWS::S3::Bucket").items():
        bucket = deployed.resources.get(logical)
        if bucket is None:  # a conditional bucket that was not created
            continue
        props = resource.get("Properties", {})
        versioning = props.get("VersioningConfiguration", {}).get("Status")
        if versioning:
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": versioning})
        notifications = props.get("NotificationConfiguration", {})
        if notifications.get("EventBridgeConfiguration", {}).get("EventBridgeEnabled"):
            s3.put_bucket_notification_configuration(
                Bucket=bucket,
                NotificationConfiguration={"EventBridgeConfiguration": {}},
            )
