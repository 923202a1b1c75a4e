"""DynamoDB tables exactly as template.yaml declares them, created on any endpoint.

moto's CloudFormation creates the tables of the local stack; the engine tier and the runtime's
DynamoDB Local switch create them on AWS's DynamoDB Local from the same declaration (keys,
indexes with their projections, stream, TTL), so no test keeps a copy of a table's schema.
"""

from collections.abc import Mapping
from typing import Any

# Properties of AWS::DynamoDB::Table that CreateTable takes as they are.
_CREATE_TABLE_PROPERTIES = (
    "AttributeDefinitions",
    "KeySchema",
    "GlobalSecondaryIndexes",
    "LocalSecondaryIndexes",
    "StreamSpecification",
)


def table_properties(template: Mapping[str, Any], logical_id: str) -> Mapping[str, Any]:
    resource = template["Resources"][logical_id]
    if resource.get("Type") != "AWS::DynamoDB::Table":
        raise ValueError(f"{logical_id} is not an AWS::DynamoDB::Table")
    properties: Mapping[str, Any] = resource["Properties"]
    return properties


def create_table_from_template(
    client: Any, template: Mapping[str, Any], logical_id: str, name: str
) -> None:
    """Creates table ``name`` as the template declares ``logical_id`` (streams and TTL too) and
    waits until it is active."""
    properties = table_properties(template, logical_id)
    request: dict[str, Any] = {
        key: properties[key] for key in _CREATE_TABLE_PROPERTIES if key in properties
    }
    stream = request.get("StreamSpecification")
    if stream is not None:
        request["StreamSpecification"] = {"StreamEnabled": True, **stream}
    client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST", **request)
    client.get_waiter("table_exists").wait(
        TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100}
    )
    ttl = properties.get("TimeToLiveSpecification")
    if ttl and ttl.get("Enabled"):
        client.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["AttributeName"]},
        )


def template_table_ids(template: Mapping[str, Any]) -> list[str]:
    """Logical ids of every DynamoDB table the template declares."""
    return sorted(
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource.get("Type") == "AWS::DynamoDB::Table"
    )
