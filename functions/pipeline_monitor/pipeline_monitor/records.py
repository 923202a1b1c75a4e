"""One normalized record per monitored event, whatever service it comes from. Pure Python.

``normalize`` reads an SNS message (EventBridge event, Lambda destination record or alarm
notification) into a ``MonitorRecord``: service, resource, run id, state, severity, error,
time, console link. Anything it cannot read becomes an "unknown" record (severity warning) with
the text it got, so nothing is dropped: the record is stored and someone can look.
"""

import contextlib
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final
from urllib.parse import quote

from pydantic import BaseModel, ValidationError

from datalake_shared.event_shapes import decodes_to_lone_surrogate, without_lone_surrogates
from datalake_shared.validation import describe_validation_error
from pipeline_monitor.models import (
    AlarmNotification,
    CloudWatchAlarmEvent,
    EventBridgeEnvelope,
    GlueCrawlerEvent,
    GlueJobEvent,
    LambdaDestinationRecord,
    StepFunctionsExecutionEvent,
)


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Service(StrEnum):
    GLUE_JOB = "glue-job"
    GLUE_CRAWLER = "glue-crawler"
    STEP_FUNCTIONS = "stepfunctions"
    CLOUDWATCH_ALARM = "cloudwatch-alarm"
    LAMBDA = "lambda"
    UNKNOWN = "unknown"


MAX_ERROR_CHARS: Final = 4000
MAX_UNKNOWN_RAW_CHARS: Final = 2000
# EventBridge's own limits on a source and a detail-type are 256 and 128 characters; longer is
# not an AWS event, and is cut so the record and its announcement stay small.
MAX_NAME_CHARS: Final = 256
LAMBDA_DESTINATION: Final = "Lambda Destination Record"
ALARM_NOTIFICATION: Final = "CloudWatch Alarm Notification"
UNREADABLE: Final = "Unreadable Message"
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")

# State -> severity per service; states not listed are info.
_GLUE_JOB_SEVERITY: Final = {
    "FAILED": Severity.ERROR,
    "TIMEOUT": Severity.ERROR,
    "ERROR": Severity.ERROR,
    "STOPPED": Severity.WARNING,
}
_CRAWLER_SEVERITY: Final = {"FAILED": Severity.ERROR, "ERROR": Severity.ERROR}
_EXECUTION_SEVERITY: Final = {
    "FAILED": Severity.ERROR,
    "TIMED_OUT": Severity.ERROR,
    "ABORTED": Severity.WARNING,
}
_ALARM_SEVERITY: Final = {"ALARM": Severity.ERROR, "INSUFFICIENT_DATA": Severity.WARNING}


@dataclass(frozen=True, slots=True, kw_only=True)
class MonitorRecord:
    """The row stored for Athena (one JSON line) and the content of the Slack alert."""

    event_id: str
    service: Service
    resource: str
    run_id: str | None
    state: str
    severity: Severity
    error_message: str | None
    event_time: str
    """UTC, "2026-11-20T10:15:30Z"."""
    console_url: str | None
    account: str | None
    region: str | None
    detail_type: str
    source: str | None

    @property
    def event_date(self) -> str:
        return self.event_time[:10]

    def as_json(self) -> dict[str, Any]:
        values = ((name, getattr(self, name)) for name in _RECORD_FIELDS)
        return {name: str(value) if isinstance(value, StrEnum) else value for name, value in values}


_RECORD_FIELDS: Final = tuple(field.name for field in fields(MonitorRecord))


# ------------------------------------------------------------------------------ helpers


def iso_utc(moment: datetime) -> str:
    """Fixed-width UTC ISO-8601 with seconds; a naive time is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    with contextlib.suppress(OverflowError):  # year 1 with a positive offset: keep wall time
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None, microsecond=0).isoformat() + "Z"


def safe_event_id(raw: str) -> str:
    """``raw`` when it is safe in an S3 key and an idempotency key, else a hash of it."""
    if _SAFE_ID.fullmatch(raw):
        return raw
    return "h-" + hashlib.sha256(raw.encode()).hexdigest()[:32]


def clip(text: str | None, limit: int = MAX_ERROR_CHARS) -> str | None:
    if text is None:
        return None
    text = text.strip()
    if not text:
        return None
    return text if len(text) <= limit else text[: limit - 1] + "…"


def console_domain(region: str) -> str:
    if region.startswith("cn-"):
        return "console.amazonaws.cn"
    if region.startswith("us-gov-"):
        return "console.amazonaws-us-gov.com"
    return "console.aws.amazon.com"


def console_url(region: str | None, service_path: str, fragment: str) -> str | None:
    """``https://<region>.<console domain>/<service_path>?region=<region>#<fragment>``."""
    if not region:
        return None
    region = quote(region, safe="")
    return f"https://{region}.{console_domain(region)}/{service_path}?region={region}#{fragment}"


def _segment(value: str) -> str:
    return quote(value, safe="")


def arn_parts(arn: str) -> list[str]:
    """["arn", partition, service, region, account, resource...] (resource split on ":")."""
    return arn.split(":")


# ------------------------------------------------------------------------------ per source


def _envelope(event: EventBridgeEnvelope) -> dict[str, Any]:
    """The record fields every EventBridge event fills the same way."""
    return {
        "event_id": safe_event_id(event.id),
        "event_time": iso_utc(event.time),
        "account": event.account,
        "region": event.region,
        "detail_type": event.detail_type,
        "source": event.source,
    }


def _glue_job(event: GlueJobEvent) -> MonitorRecord:
    detail = event.detail
    state = detail.state.upper()
    run_status = event.detail_type == "Glue Job Run Status"
    severity = Severity.WARNING if run_status else _GLUE_JOB_SEVERITY.get(state, Severity.INFO)
    fragment = f"/job/{_segment(detail.jobName)}"
    if detail.jobRunId:
        fragment += f"/run/{_segment(detail.jobRunId)}"
    return MonitorRecord(
        **_envelope(event),
        service=Service.GLUE_JOB,
        resource=detail.jobName,
        run_id=detail.jobRunId,
        state=state,
        severity=severity,
        error_message=clip(detail.message) if severity is not Severity.INFO else None,
        console_url=console_url(event.region, "gluestudio/home", fragment),
    )


def _glue_crawler(event: GlueCrawlerEvent) -> MonitorRecord:
    detail = event.detail
    state = detail.state.upper()
    severity = _CRAWLER_SEVERITY.get(state, Severity.INFO)
    error = detail.errorMessage or (detail.message if severity is not Severity.INFO else None)
    return MonitorRecord(
        **_envelope(event),
        service=Service.GLUE_CRAWLER,
        resource=detail.crawlerName,
        run_id=None,
        state=state,
        severity=severity,
        error_message=clip(error),
        console_url=console_url(
            event.region,
            "glue/home",
            f"/v2/data-catalog/crawlers/view/{_segment(detail.crawlerName)}",
        ),
    )


def _execution(event: StepFunctionsExecutionEvent) -> MonitorRecord:
    detail = event.detail
    state = detail.status.upper()
    severity = _EXECUTION_SEVERITY.get(state, Severity.INFO)
    error = ": ".join(part for part in (detail.error, detail.cause) if part) or None
    return MonitorRecord(
        **_envelope(event),
        service=Service.STEP_FUNCTIONS,
        resource=arn_parts(detail.stateMachineArn)[-1],
        run_id=detail.name,
        state=state,
        severity=severity,
        error_message=clip(error),
        console_url=console_url(
            event.region, "states/home", f"/v2/executions/details/{_segment(detail.executionArn)}"
        ),
    )


def _alarm(event: CloudWatchAlarmEvent) -> MonitorRecord:
    detail = event.detail
    state = detail.state.value.upper()
    severity = _ALARM_SEVERITY.get(state, Severity.INFO)
    return MonitorRecord(
        **_envelope(event),
        service=Service.CLOUDWATCH_ALARM,
        resource=detail.alarmName,
        run_id=None,
        state=state,
        severity=severity,
        error_message=clip(detail.state.reason),
        console_url=console_url(
            event.region, "cloudwatch/home", f"alarmsV2:alarm/{_segment(detail.alarmName)}"
        ),
    )


_EVENTBRIDGE: Final[
    Mapping[tuple[str, str], tuple[type[BaseModel], Callable[[Any], MonitorRecord]]]
] = {
    ("aws.glue", "Glue Job State Change"): (GlueJobEvent, _glue_job),
    ("aws.glue", "Glue Job Run Status"): (GlueJobEvent, _glue_job),
    ("aws.glue", "Glue Crawler State Change"): (GlueCrawlerEvent, _glue_crawler),
    ("aws.states", "Step Functions Execution Status Change"): (
        StepFunctionsExecutionEvent,
        _execution,
    ),
    ("aws.cloudwatch", "CloudWatch Alarm State Change"): (CloudWatchAlarmEvent, _alarm),
}


def _response_error(payload: Any) -> str | None:
    if isinstance(payload, Mapping):
        kind, message = payload.get("errorType"), payload.get("errorMessage")
        text = ": ".join(str(part) for part in (kind, message) if part)
        return text or json.dumps(payload, default=str)
    if payload is None:
        return None
    return str(payload)


def function_name_of(function_arn: str) -> str:
    """ "my-fn" from "arn:aws:lambda:us-east-1:123:function:my-fn:$LATEST"."""
    parts = arn_parts(function_arn)
    return parts[6] if len(parts) > 6 else function_arn


def _destination(record: LambdaDestinationRecord) -> MonitorRecord:
    context = record.requestContext
    parts = arn_parts(context.functionArn)
    region = parts[3] if len(parts) > 4 else None
    account = parts[4] if len(parts) > 4 else None
    name = function_name_of(context.functionArn)
    function_error = record.responseContext.functionError if record.responseContext else None
    failed = context.condition != "Success" or function_error is not None
    return MonitorRecord(
        event_id=safe_event_id(context.requestId),
        service=Service.LAMBDA,
        resource=name,
        run_id=context.requestId,
        state=context.condition,
        severity=Severity.ERROR if failed else Severity.INFO,
        error_message=clip(_response_error(record.responsePayload)) if failed else None,
        event_time=iso_utc(record.timestamp),
        console_url=console_url(
            region, "lambda/home", f"/functions/{_segment(name)}?tab=monitoring"
        ),
        account=account,
        region=region,
        detail_type=LAMBDA_DESTINATION,
        source="aws.lambda",
    )


def _alarm_notification(notification: AlarmNotification) -> MonitorRecord:
    state = notification.NewStateValue.upper()
    parts = arn_parts(notification.AlarmArn or "")
    region = parts[3] if len(parts) > 4 else None
    # No event id in this format: the alarm, its new state and when it changed identify it.
    changed = notification.StateChangeTime.isoformat()
    identity = f"{notification.AlarmArn or notification.AlarmName}|{state}|{changed}"
    return MonitorRecord(
        event_id="alarm-" + hashlib.sha256(identity.encode()).hexdigest()[:32],
        service=Service.CLOUDWATCH_ALARM,
        resource=notification.AlarmName,
        run_id=None,
        state=state,
        severity=_ALARM_SEVERITY.get(state, Severity.INFO),
        error_message=clip(notification.NewStateReason),
        event_time=iso_utc(notification.StateChangeTime),
        console_url=console_url(
            region, "cloudwatch/home", f"alarmsV2:alarm/{_segment(notification.AlarmName)}"
        ),
        account=notification.AWSAccountId or (parts[4] if len(parts) > 4 else None),
        region=region,
        detail_type=ALARM_NOTIFICATION,
        source="aws.cloudwatch",
    )


def _problems(error: ValidationError) -> str:
    return describe_validation_error(error)[:500]


def unknown_record(
    *,
    event_id: str,
    event_time: datetime,
    reason: str,
    raw: str | None = None,
    detail_type: str = UNREADABLE,
    source: str | None = None,
    account: str | None = None,
    region: str | None = None,
    resource: str | None = None,
) -> MonitorRecord:
    message = reason if raw is None else f"{reason}\n{clip(raw, MAX_UNKNOWN_RAW_CHARS)}"
    return MonitorRecord(
        event_id=safe_event_id(event_id),
        service=Service.UNKNOWN,
        resource=resource or detail_type,
        run_id=None,
        state="UNKNOWN",
        severity=Severity.WARNING,
        error_message=clip(message),
        event_time=iso_utc(event_time),
        console_url=None,
        account=account,
        region=region,
        detail_type=detail_type,
        source=source,
    )


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _event_time(value: object, fallback: datetime) -> datetime:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return fallback
    return fallback


def _from_eventbridge(
    data: Mapping[str, Any], fallback_id: str, received: datetime
) -> MonitorRecord:
    source = clip(str(data.get("source")), MAX_NAME_CHARS) or ""
    detail_type = clip(str(data.get("detail-type")), MAX_NAME_CHARS) or ""
    route = _EVENTBRIDGE.get((source, detail_type))
    event_id = _str_or_none(data.get("id")) or fallback_id
    resources = data.get("resources")
    common: dict[str, Any] = {
        "event_id": event_id,
        "event_time": _event_time(data.get("time"), received),
        "detail_type": detail_type,
        "source": source,
        "account": _str_or_none(data.get("account")),
        "region": _str_or_none(data.get("region")),
        "resource": _str_or_none(resources[0])
        if isinstance(resources, list) and resources
        else None,
    }
    if route is None:
        return unknown_record(
            reason=f"no normalizer for {source} {detail_type!r}",
            raw=json.dumps(data.get("detail"), default=str, separators=(",", ":")),
            **common,
        )
    model, normalizer = route
    try:
        event = model.model_validate(data)
    except ValidationError as error:
        return unknown_record(
            reason=f"unreadable {detail_type!r} event: {_problems(error)}", **common
        )
    return normalizer(event)


def _json_object(message: str) -> tuple[dict[str, Any] | None, str]:
    try:
        data = json.loads(message)
        if decodes_to_lone_surrogate(message, data):
            # Stored as UTF-8: an event that cannot be encoded would never be stored.
            data = json.loads(without_lone_surrogates(json.dumps(data, ensure_ascii=False)))
    except json.JSONDecodeError:
        return None, "message is not JSON"
    if not isinstance(data, dict):
        return None, "message is not a JSON object"
    return data, ""


def _read[Model: BaseModel](
    model: type[Model],
    normalizer: Callable[[Model], MonitorRecord],
    data: Mapping[str, Any],
    *,
    unreadable: Mapping[str, Any],
) -> MonitorRecord:
    """``normalizer(model(data))``, or an unknown record saying what did not validate."""
    try:
        parsed = model.model_validate(data)
    except ValidationError as error:
        what = unreadable["detail_type"]
        return unknown_record(reason=f"unreadable {what}: {_problems(error)}", **unreadable)
    return normalizer(parsed)


def normalize(message: str, *, message_id: str, received: datetime) -> MonitorRecord:
    """The record of one SNS message. ``message_id`` and ``received`` stand in for the event's
    id and time when the message has none (an unreadable message)."""
    fallback_id = f"sns-{without_lone_surrogates(message_id)}"
    message = without_lone_surrogates(message)
    data, problem = _json_object(message)
    if data is None:
        return unknown_record(
            event_id=fallback_id, event_time=received, reason=problem, raw=message
        )
    if "detail-type" in data and "source" in data:
        return _from_eventbridge(data, fallback_id, received)
    unreadable: dict[str, Any] = {"event_id": fallback_id, "event_time": received, "raw": message}
    context = data.get("requestContext")
    if isinstance(context, dict) and "functionArn" in context:
        request_id = _str_or_none(context.get("requestId"))
        unreadable |= {"event_id": request_id or fallback_id, "detail_type": LAMBDA_DESTINATION}
        return _read(LambdaDestinationRecord, _destination, data, unreadable=unreadable)
    if "AlarmName" in data and "NewStateValue" in data:
        unreadable |= {"detail_type": ALARM_NOTIFICATION}
        return _read(AlarmNotification, _alarm_notification, data, unreadable=unreadable)
    return unknown_record(
        reason="not an EventBridge event, Lambda destination record or alarm notification",
        **unreadable,
    )
