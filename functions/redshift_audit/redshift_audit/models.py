"""Redshift user-activity log lines, as a CloudWatch Logs subscription delivers them.

The Lambda event is ``{"awslogs": {"data": base64(gzip(JSON))}}``; the JSON is either a
``CONTROL_MESSAGE`` (CloudWatch checking the destination) or a ``DATA_MESSAGE`` whose
``logEvents`` each hold one log record of the ``useractivitylog`` group::

    '2026-11-20T10:15:30Z UTC [ db=dev user=alice pid=1234 userid=100 xid=5678 ]' LOG: <sql>

The SQL may span several lines. One message may also hold several records (a line starting
with the quoted header begins the next one), so every record of a message is returned.
"""

import base64
import binascii
import json
import re
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Final

from pydantic import BaseModel, BeforeValidator, ValidationError

from datalake_shared.event_shapes import EventShapeError
from datalake_shared.redshift_log_groups import warehouse_of
from datalake_shared.validation import MAX_REPORTED_PROBLEMS, describe_validation_error

CONTROL_MESSAGE: Final = "CONTROL_MESSAGE"
DATA_MESSAGE: Final = "DATA_MESSAGE"

# The record header Redshift writes (this matches the log format, not the SQL).
_HEADER: Final = re.compile(
    r"^'(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) UTC \[ (?P<fields>[^\]\n]*?) ?\]' LOG: ?",
    re.MULTILINE,
)


CLOUDWATCH_LOGS_SUBSCRIPTION: Final = (
    "a CloudWatch Logs subscription event (awslogs.data: base64 gzip JSON)"
)


class InvalidPayloadError(EventShapeError):
    """The event is not a CloudWatch Logs subscription payload."""


# The payload's models are ours, shaped like Powertools' CloudWatchLogsModel: importing that one
# loads every Powertools parser model, ~65 ms of each cold start for one envelope.
class SubscribedLogEvent(BaseModel):
    id: str
    timestamp: datetime
    message: str


class SubscriptionPayload(BaseModel):
    """The ``awslogs.data`` of a subscription event, base64-decoded, gunzipped and parsed."""

    # CloudWatch's own field names.
    messageType: str
    owner: str
    logGroup: str
    logStream: str
    subscriptionFilters: list[str]
    logEvents: list[SubscribedLogEvent]
    policyLevel: str | None = None


def _decompressed(value: Any) -> Any:
    try:
        return json.loads(zlib.decompress(base64.b64decode(value), zlib.MAX_WBITS | 32))
    except (binascii.Error, zlib.error, TypeError, ValueError):
        raise ValueError("unable to decompress data") from None


class _AwsLogs(BaseModel):
    data: Annotated[SubscriptionPayload, BeforeValidator(_decompressed)]


class _SubscriptionEvent(BaseModel):
    awslogs: _AwsLogs


@dataclass(frozen=True, slots=True)
class UserActivity:
    query_time: str
    """UTC, "2026-11-20T10:15:30Z"."""
    database: str | None
    user: str | None
    pid: str | None
    userid: str | None
    xid: str | None
    sql: str


def decode_payload(event: Any) -> SubscriptionPayload:
    """The decoded subscription payload."""
    try:
        return _SubscriptionEvent.model_validate(event).awslogs.data
    except ValidationError as error:
        problems = describe_validation_error(error, most=MAX_REPORTED_PROBLEMS)
        raise InvalidPayloadError(CLOUDWATCH_LOGS_SUBSCRIPTION, event, problems) from None


def _fields(text: str) -> dict[str, str]:
    pairs = (item.split("=", 1) for item in text.split() if "=" in item)
    return {key: value for key, value in pairs}


def parse_user_activity(message: str) -> list[UserActivity]:
    """Every record in one log event's message; [] when it holds none."""
    headers = list(_HEADER.finditer(message))
    records: list[UserActivity] = []
    for position, header in enumerate(headers):
        end = headers[position + 1].start() if position + 1 < len(headers) else len(message)
        fields = _fields(header.group("fields"))
        records.append(
            UserActivity(
                query_time=header.group("time"),
                database=fields.get("db"),
                user=fields.get("user"),
                pid=fields.get("pid"),
                userid=fields.get("userid"),
                xid=fields.get("xid"),
                sql=message[header.end() : end].strip(),
            )
        )
    return records


def cluster_of(log_group: str) -> str:
    """ "demo" from "/aws/redshift/cluster/demo/useractivitylog", "finance" from a serverless
    namespace's "/aws/redshift/finance/useractivitylog" (the names the config accepts:
    redshift_log_groups); for another group (the RedshiftUserActivityLogGroup parameter takes
    any), the name after a "cluster" or "workgroup" part, else the group itself."""
    warehouse = warehouse_of(log_group)
    if warehouse is not None:
        return warehouse.name
    parts = [part for part in log_group.split("/") if part]
    for marker in ("cluster", "workgroup", "serverless"):
        if marker in parts:
            at = parts.index(marker)
            if at + 1 < len(parts) and parts[at + 1] not in ("workgroup",):
                return parts[at + 1]
    return log_group


def iso_utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(tzinfo=None, microsecond=0).isoformat() + "Z"
