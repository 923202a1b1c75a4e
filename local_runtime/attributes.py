"""Fn::GetAtt as the local runtime resolves it once the stack is deployed: moto's CloudFormation
resolves it while deploying, but not for the resource types it skips (the runtime creates those
afterwards, local_runtime.emulated).

Only the attributes known here are resolved exactly. deploy refuses a template that reads any
other attribute of a resource moto skips: it could never be resolved.
"""

from typing import Final

from local_runtime.intrinsics import ACCOUNT_ID, UnresolvableError

# The Arn of each kind, from its physical id (what Ref returns): ``{name}`` is the physical id's
# last path segment (of a queue's URL); a QuickSight physical id is "<account>|<id>".
_ARNS: Final = {
    "AWS::IAM::Role": "arn:aws:iam::{account}:role/{physical}",
    "AWS::SQS::Queue": "arn:aws:sqs:{region}:{account}:{name}",
    "AWS::Lambda::Function": "arn:aws:lambda:{region}:{account}:function:{physical}",
    "AWS::DynamoDB::Table": "arn:aws:dynamodb:{region}:{account}:table/{physical}",
    "AWS::S3::Bucket": "arn:aws:s3:::{physical}",
    "AWS::Scheduler::ScheduleGroup": (
        "arn:aws:scheduler:{region}:{account}:schedule-group/{physical}"
    ),
    "AWS::QuickSight::DataSource": "{quicksight}:datasource/{quicksight_id}",
    "AWS::QuickSight::DataSet": "{quicksight}:dataset/{quicksight_id}",
    "AWS::QuickSight::Dashboard": "{quicksight}:dashboard/{quicksight_id}",
    "AWS::SecretsManager::Secret": "{physical}",  # Ref of a secret is its ARN
}


def resolvable(kind: str, attribute: str) -> bool:
    """Whether the attribute of a resource of this kind is resolved exactly (not guessed)."""
    return (attribute == "Arn" and kind in _ARNS) or (
        attribute == "QueueName" and kind == "AWS::SQS::Queue"
    )


def attribute_value(kind: str, physical: str, attribute: str, region: str) -> str:
    """Fn::GetAtt of a created resource, given its kind and physical id."""
    if attribute == "Arn":
        arn = _ARNS.get(kind, "{physical}")  # state machines, topics: the physical id is the ARN
        return arn.format(
            account=ACCOUNT_ID,
            region=region,
            physical=physical,
            name=physical.rsplit("/", 1)[-1],
            quicksight=f"arn:aws:quicksight:{region}:{ACCOUNT_ID}",
            quicksight_id=physical.rsplit("|", 1)[-1],
        )
    if resolvable(kind, attribute):  # QueueName: the last segment of the queue's URL
        return physical.rsplit("/", 1)[-1]
    raise UnresolvableError(f"Fn::GetAtt {attribute} of a {kind or 'resource'}")
