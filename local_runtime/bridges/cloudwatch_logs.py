"""CloudWatch Logs subscription filters → Lambda, as CloudWatch Logs delivers them.

moto keeps log groups, their events and their subscription filters, and on PutLogEvents hands
each Lambda-subscribed batch to its Lambda backend, which would run the function in Docker
without applying the filter pattern. We take that delivery over (``send_log_event``): the batch
is queued, and ``pump`` delivers it the way CloudWatch Logs does:

- only the log events the filter's pattern matches (``matches_filter_pattern``: the empty
  pattern, terms and quoted terms, all of which must appear; any other pattern syntax raises
  NotImplementedError naming it), none when it matches nothing;
- as the real payload, ``{"awslogs": {"data": base64(gzip(JSON))}}`` whose JSON holds
  messageType DATA_MESSAGE, owner, logGroup, logStream, subscriptionFilters and logEvents
  ``[{id, timestamp, message}]`` (``subscription_event``);
- invoking the function asynchronously (``async_invoker.submit``): Lambda's async retries and
  OnFailure destination apply, as for CloudWatch Logs' Event invocations.

The filter is read when the batch is delivered (DescribeSubscriptionFilters): one deleted in
between delivers nothing, and the runtime notes it. Delivery to Kinesis, Firehose or another log
group stays moto's.
"""

import base64
import gzip
import json
import re
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from local_runtime.bridges import RuntimeServices
from local_runtime.moto_adapter.hooks import LAMBDA_SEND_LOG_EVENT, Patches

if TYPE_CHECKING:
    from mypy_boto3_logs import CloudWatchLogsClient

DATA_MESSAGE: Final = "DATA_MESSAGE"
# One term of a filter pattern: "a quoted term" or a bare word of letters, digits and _.
_TERM: Final = re.compile(r'\s*(?:"(?P<quoted>[^"\\]*)"|(?P<bare>[A-Za-z0-9_]+))(?=\s|$)')
_SUPPORTED: Final = (
    'the empty pattern, terms (ERROR) and quoted terms ("LOG:"), all of which must appear'
)


# ---------------------------------------------------------------------- filter patterns (pure)
def filter_pattern_terms(pattern: str) -> list[str]:
    """The terms a log event must all contain; [] for the empty pattern (every event).

    Raises NotImplementedError for the syntax CloudWatch Logs has beyond that (?OR terms,
    -exclusions, JSON ``{ }``, space-delimited ``[ ]``, ``%regex%``), so a template or config
    using it fails loudly here instead of delivering the wrong events."""
    terms: list[str] = []
    position = 0
    text = pattern.rstrip()
    while position < len(text):
        term = _TERM.match(text, position)
        if term is None:
            raise NotImplementedError(
                f"filter pattern {pattern!r}: the local runtime matches {_SUPPORTED} only "
                f"(unsupported from {text[position:].strip()!r})"
            )
        terms.append(term["quoted"] if term["quoted"] is not None else term["bare"])
        position = term.end()
    return terms


def matches_filter_pattern(pattern: str, message: str) -> bool:
    """Whether a log event's message passes the filter (case-sensitive, as CloudWatch's)."""
    return all(term in message for term in filter_pattern_terms(pattern))


def subscription_event(
    *,
    owner: str,
    log_group: str,
    log_stream: str,
    filter_name: str,
    log_events: list[dict[str, Any]],
) -> dict[str, Any]:
    """The event a subscribed function receives for a batch of log events."""
    data = {
        "messageType": DATA_MESSAGE,
        "owner": owner,
        "logGroup": log_group,
        "logStream": log_stream,
        "subscriptionFilters": [filter_name],
        "logEvents": [
            {"id": str(event["id"]), "timestamp": event["timestamp"], "message": event["message"]}
            for event in log_events
        ],
    }
    compressed = gzip.compress(json.dumps(data, separators=(",", ":")).encode())
    return {"awslogs": {"data": base64.b64encode(compressed).decode()}}


# ---------------------------------------------------------------------- the bridge
@dataclass(frozen=True)
class LogBatch:
    """One PutLogEvents batch moto handed to a subscribed function."""

    function_arn: str
    filter_name: str
    log_group: str
    log_stream: str
    log_events: list[dict[str, Any]]


class CloudWatchLogsBridge:
    def __init__(self) -> None:
        self._services: RuntimeServices | None = None
        self._patches = Patches()
        self._pending: deque[LogBatch] = deque()
        # Every batch delivered (after filtering), for tests and the demo.
        self.delivered: list[LogBatch] = []

    # ------------------------------------------------------------------ Bridge
    def install(self, services: RuntimeServices) -> None:
        self._services = services
        bridge = self

        def send_log_event(  # noqa: PLR0917 - moto calls it positionally
            backend: Any,
            function_arn: str,
            filter_name: str,
            log_group_name: str,
            log_stream_name: str,
            log_events: Any,
        ) -> None:
            bridge._pending.append(
                LogBatch(function_arn, filter_name, log_group_name, log_stream_name, log_events)
            )

        self._patches.replace(LAMBDA_SEND_LOG_EVENT, send_log_event)

    def uninstall(self) -> None:
        self._patches.restore()
        self._pending.clear()

    def pump(self) -> int:
        done = 0
        while self._pending:
            self._deliver(self._pending.popleft())
            done += 1
        return done

    # ------------------------------------------------------------------ delivery
    def _deliver(self, batch: LogBatch) -> None:
        assert self._services is not None, "CloudWatchLogsBridge used before install()"
        services = self._services
        via = f"log group {batch.log_group} (filter {batch.filter_name})"
        pattern = self._pattern(batch)
        if pattern is None:
            services.activity.notes.append(f"{via}: filter or group deleted before delivery")
            return
        matching = [e for e in batch.log_events if matches_filter_pattern(pattern, e["message"])]
        if not matching:
            return
        event = subscription_event(
            owner=batch.function_arn.split(":")[4],
            log_group=batch.log_group,
            log_stream=batch.log_stream,
            filter_name=batch.filter_name,
            log_events=matching,
        )
        self.delivered.append(
            LogBatch(
                batch.function_arn, batch.filter_name, batch.log_group, batch.log_stream, matching
            )
        )
        services.async_invoker.submit(batch.function_arn, event, trigger=via)
        services.activity.route(via, batch.function_arn, event)

    def _pattern(self, batch: LogBatch) -> str | None:
        assert self._services is not None
        logs: CloudWatchLogsClient = self._services.session.client("logs")
        try:
            filters = logs.describe_subscription_filters(
                logGroupName=batch.log_group, filterNamePrefix=batch.filter_name
            )["subscriptionFilters"]
        except logs.exceptions.ResourceNotFoundException:  # the group is gone
            return None
        return next(
            (f.get("filterPattern", "") for f in filters if f["filterName"] == batch.filter_name),
            None,
        )
