"""moto's in-process AWS and its service backends: what bridges do past the public API."""

from typing import Any, Final

from moto import mock_aws
from moto.athena.models import QueryResults
from moto.cloudformation.parsing import get_model_map
from moto.core.exceptions import JsonRESTError
from moto.dynamodb.models import dynamodb_backends
from moto.events.models import EventPattern
from moto.events.utils import EventTemplateParser
from moto.quicksight.models import quicksight_backends
from moto.scheduler.models import scheduler_backends
from moto.sns.models import sns_backends
from moto.sqs.models import sqs_backends
from moto.stepfunctions.models import stepfunctions_backends
from moto.utilities.arns import parse_arn

__all__ = [
    "ApiError",
    "athena_query_results",
    "cloudformation_creates",
    "dynamodb_table",
    "event_pattern_matches",
    "moto_aws",
    "parse_arn",
    "publish_to_topic",
    "quicksight_data_sets",
    "render_input_template",
    "scheduler_schedules",
    "send_to_queue",
    "sqs_queue",
    "state_machine",
]

# Functions run in this process (no Docker); state machines really execute.
_MOTO_CONFIG: Final[Any] = {
    "lambda": {"use_docker": False},
    "stepfunctions": {"execute_state_machine": True},
}


def moto_aws() -> Any:
    """The in-process AWS the runtime starts and stops (moto's ``mock_aws``)."""
    return mock_aws(config=_MOTO_CONFIG)


class ApiError(JsonRESTError):
    """An AWS API error as moto answers it: the error code, its message, the HTTP status."""

    def __init__(self, error_type: str, message: str, status: int = 400) -> None:
        super().__init__(error_type, message)
        self.code = status


def cloudformation_creates(resource_type: str) -> bool:
    """Whether moto's CloudFormation creates resources of this type (it skips the others, and
    refuses a template whose resources or outputs read an attribute of one)."""
    return resource_type.startswith("Custom::") or resource_type in get_model_map()


def quicksight_data_sets(account_id: str, region: str) -> dict[str, Any]:
    """moto's QuickSight datasets by id: moto answers CreateDataSet but neither DescribeDataSet
    nor ListDataSets."""
    return dict(quicksight_backends[account_id][region].data_sets)


def send_to_queue(queue_arn: str, body: str, group_id: str | None = None) -> None:
    """A message straight into an SQS queue's backend (as a service, not a client, sends it)."""
    arn = parse_arn(queue_arn)
    sqs_backends[arn.account][arn.region].send_message(
        queue_name=arn.resource_id, message_body=body, group_id=group_id
    )


def publish_to_topic(topic_arn: str, message: str) -> None:
    """A message published to an SNS topic's backend (its subscriptions deliver it)."""
    arn = parse_arn(topic_arn)
    sns_backends[arn.account][arn.region].publish(message, arn=topic_arn)


def scheduler_schedules(account_id: str, region: str) -> list[Any]:
    """moto's schedules of every group, read in-process: a bridge's pump runs every round of
    settle, and two API calls per schedule each round would dominate it."""
    backend = scheduler_backends[account_id][region]
    return [s for group in backend.schedule_groups.values() for s in group.schedules.values()]


def sqs_queue(account_id: str, region: str, name: str) -> Any:
    """moto's model of a queue (its ``lambda_event_source_mappings`` are moto's own poller)."""
    return sqs_backends[account_id][region].queues[name]


def dynamodb_table(account_id: str, region: str, name: str) -> Any:
    """moto's model of a table (its ``stream_shard`` and ``lambda_event_source_mappings``)."""
    return dynamodb_backends[account_id][region].get_table(name)


def state_machine(account_id: str, region: str, arn: str) -> Any:
    """moto's model of a state machine (``definition``, ``roleArn``)."""
    return stepfunctions_backends[account_id][region].describe_state_machine(arn)


def event_pattern_matches(pattern: str, event: dict[str, Any]) -> bool:
    """Whether an EventBridge pattern (JSON) matches an event, by moto's matcher."""
    return EventPattern.load(pattern).matches_event(event)  # type: ignore[arg-type]


def render_input_template(
    template: str | None, paths: dict[str, Any], event: dict[str, Any]
) -> Any:
    """An EventBridge InputTransformer's output, by moto's renderer."""
    return EventTemplateParser.parse(
        input_template=template,  # type: ignore[arg-type]
        input_paths_map=paths,
        event=event,  # type: ignore[arg-type]
    )


class _QueryResultsWithUpdateCount(QueryResults):
    """moto's QueryResults plus UpdateCount, as GetQueryResults returns it for DML."""

    def __init__(
        self, rows: list[dict[str, Any]], column_info: list[dict[str, Any]], update_count: int
    ) -> None:
        super().__init__(rows=rows, column_info=column_info)
        self.update_count = update_count

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = super().to_dict()
        result["UpdateCount"] = self.update_count
        return result


def athena_query_results(
    rows: list[dict[str, Any]], column_info: list[dict[str, Any]], update_count: int
) -> Any:
    """What moto's GetQueryResults answers with: Rows, ColumnInfo and UpdateCount."""
    return _QueryResultsWithUpdateCount(rows, column_info, update_count)
