"""Typed shapes of what reaches the monitor topic, and of the SNS envelope around them.

The SNS message is one of:

- an EventBridge event a rule sent to the topic: "Glue Job State Change", "Glue Job Run Status",
  "Glue Crawler State Change", "Step Functions Execution Status Change", "CloudWatch Alarm State
  Change" (``detail`` typed per detail-type below);
- a Lambda destination record of an asynchronous invocation (OnFailure / OnSuccess);
- a CloudWatch alarm notification (an alarm whose action publishes to the topic directly).

Models accept extra fields (AWS adds some over time) and require only what the monitor reads.
The EventBridge envelope is declared here rather than taken from Powertools' parser models:
importing those pulls in every event model Powertools has (tens of ms on each cold start).
"""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


# ------------------------------------------------------------------------------ SNS envelope


class SnsNotification(_Lenient):
    Type: str = "Notification"
    MessageId: str = Field(min_length=1)
    TopicArn: str
    Subject: str | None = None
    Message: str
    Timestamp: datetime


class SnsRecord(_Lenient):
    EventSource: Literal["aws:sns"]
    EventSubscriptionArn: str | None = None
    Sns: SnsNotification


class SnsEvent(_Lenient):
    """What Lambda receives from an SNS subscription (one record per invocation in practice)."""

    Records: list[SnsRecord] = Field(min_length=1)


# ------------------------------------------------------------------------------ EventBridge


class GlueJobStateDetail(_Lenient):
    """detail of "Glue Job State Change" (SUCCEEDED/FAILED/TIMEOUT/STOPPED/ERROR) and of
    "Glue Job Run Status" (a run past its notify-delay threshold)."""

    jobName: str = Field(min_length=1)
    state: str
    jobRunId: str | None = None
    severity: str | None = None
    message: str | None = None


class GlueCrawlerStateDetail(_Lenient):
    crawlerName: str = Field(min_length=1)
    state: str
    message: str | None = None
    errorMessage: str | None = None
    cloudWatchLogLink: str | None = None


class StepFunctionsExecutionDetail(_Lenient):
    executionArn: str
    stateMachineArn: str
    name: str
    status: str
    startDate: int | None = None
    """Epoch milliseconds."""
    stopDate: int | None = None
    error: str | None = None
    cause: str | None = None


class AlarmState(_Lenient):
    value: str
    reason: str | None = None
    timestamp: datetime | None = None


class CloudWatchAlarmDetail(_Lenient):
    alarmName: str = Field(min_length=1)
    state: AlarmState
    previousState: AlarmState | None = None
    configuration: dict[str, Any] | None = None


class EventBridgeEnvelope(_Lenient):
    version: str = "0"
    id: str = Field(min_length=1)
    detail_type: str = Field(alias="detail-type")
    source: str
    account: str
    time: datetime
    region: str
    resources: list[str] = Field(default_factory=list)


class GlueJobEvent(EventBridgeEnvelope):
    detail: GlueJobStateDetail


class GlueCrawlerEvent(EventBridgeEnvelope):
    detail: GlueCrawlerStateDetail


class StepFunctionsExecutionEvent(EventBridgeEnvelope):
    detail: StepFunctionsExecutionDetail


class CloudWatchAlarmEvent(EventBridgeEnvelope):
    detail: CloudWatchAlarmDetail


# ------------------------------------------------------------------------------ Lambda destination


class DestinationRequestContext(_Lenient):
    requestId: str = Field(min_length=1)
    functionArn: str
    condition: str
    """"Success", "RetriesExhausted" or "EventAgeExceeded"."""
    approximateInvokeCount: int = 0


class DestinationResponseContext(_Lenient):
    statusCode: int | None = None
    executedVersion: str | None = None
    functionError: str | None = None


class LambdaDestinationRecord(_Lenient):
    """The invocation record Lambda sends to an asynchronous invocation's destination."""

    version: str
    timestamp: datetime
    requestContext: DestinationRequestContext
    requestPayload: Any = None
    responseContext: DestinationResponseContext | None = None
    responsePayload: Any = None


# ------------------------------------------------------------------------------ alarm notification


class AlarmNotification(_Lenient):
    """The message an alarm action publishes to SNS (not the EventBridge event)."""

    AlarmName: str = Field(min_length=1)
    AlarmArn: str | None = None
    AlarmDescription: str | None = None
    AWSAccountId: str | None = None
    NewStateValue: str
    NewStateReason: str | None = None
    OldStateValue: str | None = None
    StateChangeTime: datetime
