"""Typed CodePipeline state-change events as EventBridge delivers them (rule → SQS → Lambda).

CodePipeline emits three shapes, told apart by ``detail-type``:

- "CodePipeline Pipeline Execution State Change": pipeline, execution-id, state, version,
  optionally execution-trigger {trigger-type, trigger-detail} and pipeline-execution-attempt;
- "CodePipeline Stage Execution State Change": the same plus stage;
- "CodePipeline Action Execution State Change": the same plus action, type {owner, category,
  provider, version}, and for finished actions execution-result {external-execution-id,
  external-execution-summary, external-execution-url, error-code (failures only)}, plus
  region, input-artifacts and output-artifacts.

A failure may also carry ``additionalAttributes`` beside ``detail`` (failureSummary,
additionalInformation, failedActions [{action, additionalInformation}]): AWS's notification
events do, and its rule events have been reported to. Its text is read when it is there; a value
of any other type is read as absent, never a reason to refuse the row.

Any other detail-type (an "All Events" rule also forwards "AWS API Call via CloudTrail"), a
source other than aws.codepipeline, or a missing required field fails validation: the record
is reported, never silently dropped. Fields not modelled here are ignored, and ``state`` is any
non-empty text, so a state AWS adds later is recorded instead of rejected.
"""

from typing import Annotated, Literal

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel, SqsRecordModel
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Json


def _version_text(value: object) -> object:
    """Versions arrive as "1", 1 or 1.0 depending on the event: kept as text, "1" for all three."""
    if isinstance(value, bool):
        return value  # left for str validation to reject
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return str(value)
    return value


VersionText = Annotated[str, BeforeValidator(_version_text)]
NonEmpty = Annotated[str, Field(min_length=1)]


class _Model(BaseModel):
    model_config = ConfigDict(populate_by_name=True, frozen=True, extra="ignore")


class ExecutionTrigger(_Model):
    trigger_type: str | None = Field(default=None, alias="trigger-type")
    trigger_detail: str | None = Field(default=None, alias="trigger-detail")


class ActionType(_Model):
    owner: str | None = None
    category: NonEmpty
    provider: NonEmpty
    version: VersionText | None = None


class ExecutionResult(_Model):
    external_execution_id: str | None = Field(default=None, alias="external-execution-id")
    external_execution_summary: str | None = Field(default=None, alias="external-execution-summary")
    external_execution_url: str | None = Field(default=None, alias="external-execution-url")
    error_code: str | None = Field(default=None, alias="error-code")


def _text_or_none(value: object) -> object:
    return value if isinstance(value, str) and value else None


def _list_or_empty(value: object) -> object:
    return value if isinstance(value, list) else []


def _object_or_empty(value: object) -> object:
    return value if isinstance(value, dict) else {}


# Extra context, never a reason to refuse a row: anything not text (or not a list of objects)
# is read as absent.
OptionalText = Annotated[str | None, BeforeValidator(_text_or_none)]


class FailedAction(_Model):
    action: OptionalText = None
    additional_information: OptionalText = Field(default=None, alias="additionalInformation")


class AdditionalAttributes(_Model):
    failure_summary: OptionalText = Field(default=None, alias="failureSummary")
    additional_information: OptionalText = Field(default=None, alias="additionalInformation")
    failed_actions: Annotated[
        tuple[Annotated[FailedAction, BeforeValidator(_object_or_empty)], ...],
        BeforeValidator(_list_or_empty),
    ] = Field(default=(), alias="failedActions")

    def failure_texts(self) -> list[str]:
        """Every failure text here, in the order CodePipeline gives them."""
        texts = [self.failure_summary, self.additional_information]
        texts += [
            f"{failed.action}: {failed.additional_information}"
            if failed.action and failed.additional_information
            else failed.additional_information
            for failed in self.failed_actions
        ]
        return [text for text in texts if text]


class PipelineExecutionDetail(_Model):
    pipeline: NonEmpty
    execution_id: NonEmpty = Field(alias="execution-id")
    state: NonEmpty
    version: VersionText | None = None
    execution_trigger: ExecutionTrigger | None = Field(default=None, alias="execution-trigger")


class StageExecutionDetail(_Model):
    pipeline: NonEmpty
    execution_id: NonEmpty = Field(alias="execution-id")
    stage: NonEmpty
    state: NonEmpty
    version: VersionText | None = None


class ActionExecutionDetail(_Model):
    pipeline: NonEmpty
    execution_id: NonEmpty = Field(alias="execution-id")
    stage: NonEmpty
    action: NonEmpty
    state: NonEmpty
    version: VersionText | None = None
    type: ActionType
    execution_result: ExecutionResult | None = Field(default=None, alias="execution-result")
    region: str | None = None
    """Where the action ran: differs from the event's region for cross-region actions."""


class _CodePipelineEvent(EventBridgeModel):
    model_config = ConfigDict(populate_by_name=True, frozen=True)

    source: Literal["aws.codepipeline"]
    additional_attributes: Annotated[AdditionalAttributes, BeforeValidator(_object_or_empty)] = (
        Field(default_factory=AdditionalAttributes, alias="additionalAttributes")
    )


class PipelineExecutionEvent(_CodePipelineEvent):
    detail_type: Literal["CodePipeline Pipeline Execution State Change"] = Field(
        alias="detail-type"
    )
    detail: PipelineExecutionDetail


class StageExecutionEvent(_CodePipelineEvent):
    detail_type: Literal["CodePipeline Stage Execution State Change"] = Field(alias="detail-type")
    detail: StageExecutionDetail


class ActionExecutionEvent(_CodePipelineEvent):
    detail_type: Literal["CodePipeline Action Execution State Change"] = Field(alias="detail-type")
    detail: ActionExecutionDetail


CodePipelineEvent = Annotated[
    PipelineExecutionEvent | StageExecutionEvent | ActionExecutionEvent,
    Field(discriminator="detail_type"),
]


class CodePipelineSqsRecord(SqsRecordModel):
    """An SQS message whose body is a CodePipeline state-change event (EventBridge rule → queue)."""

    body: Json[CodePipelineEvent]
