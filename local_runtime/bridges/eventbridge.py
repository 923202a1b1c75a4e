"""EventBridge rules: every delivery is recorded, and targets moto cannot reach get a route.

moto raises NotImplementedError for Lambda, SNS and Step Functions targets, and skips a target's
Input/InputPath/InputTransformer on S3 events. We wrap ``Rule.send_to_targets``: an ENABLED
rule's matching event is rendered for each target as EventBridge would, then delivered by a
route of ours (Lambda and SQS now; later capabilities register ``states`` or ``sns``) or, for
the rest moto handles (log groups, archives, other buses), by moto. Every delivery is logged;
a target without a route, or whose delivery fails, is logged as not routed, never dropped
silently.

Patterns match as EventBridge matches them, by moto's matcher (exact values, prefix, suffix,
wildcard, anything-but, exists, numeric, $or; tests/integration/test_runtime_event_patterns.py
checks exact, prefix and wildcard). moto's CloudFormation takes a rule's EventPattern as an
object only, where CloudFormation also takes the JSON text (the monitoring rules build theirs
from parameters): ``string_event_patterns`` lets the deploy pass it as text.
"""

import contextlib
import copy
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from local_runtime.bridges import RuntimeServices
from local_runtime.moto_adapter.hooks import (
    EVENTS_PUT_EVENTS,
    EVENTS_RULE_FROM_CLOUDFORMATION,
    EVENTS_SEND_TO_TARGETS,
    Patches,
)
from local_runtime.moto_adapter.services import parse_arn, render_input_template, send_to_queue

# (services, target, rendered input, via) → None
TargetRoute = Callable[[RuntimeServices, dict[str, Any], Any, str], None]
_MOTO_DELIVERS = {"logs", "events"}


@contextlib.contextmanager
def string_event_patterns() -> Iterator[None]:
    """While deploying: a rule's EventPattern given as JSON text is read as the object it
    spells, as CloudFormation does; text that is not a JSON object fails the rule's creation."""
    patches = Patches()
    original = EVENTS_RULE_FROM_CLOUDFORMATION.current()

    def create(
        cls: type[Any],
        /,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        properties = cloudformation_json.get("Properties", {})
        pattern = properties.get("EventPattern")
        if isinstance(pattern, str):
            parsed = json.loads(pattern)
            if not isinstance(parsed, dict):
                raise ValueError(f"EventPattern of {resource_name} is not a JSON object")
            properties["EventPattern"] = parsed
        return original(resource_name, cloudformation_json, account_id, region_name, **kwargs)

    patches.replace(EVENTS_RULE_FROM_CLOUDFORMATION, classmethod(create))
    try:
        yield
    finally:
        patches.restore()


def _to_lambda(services: RuntimeServices, target: dict[str, Any], payload: Any, via: str) -> None:
    # EventBridge invokes Lambda targets asynchronously.
    services.async_invoker.submit(target["Arn"], payload, trigger=via)


def _to_sqs(services: RuntimeServices, target: dict[str, Any], payload: Any, via: str) -> None:
    body = payload if isinstance(payload, str) else json.dumps(payload)
    send_to_queue(target["Arn"], body, target.get("SqsParameters", {}).get("MessageGroupId"))


def on_the_wire(event: dict[str, Any]) -> dict[str, Any]:
    """The event as targets receive it: moto keeps "time" as epoch seconds internally."""
    wire = copy.deepcopy(event)
    raw_time = wire.get("time")
    try:
        seconds = float(raw_time)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return wire
    wire["time"] = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return wire


def _json_path(document: Any, path: str) -> Any:
    """The subset of JSONPath EventBridge's InputPath uses: $ and $.dotted.names."""
    value = document
    for part in path.removeprefix("$").strip(".").split("."):
        if part:
            value = value[part]
    return value


def target_input(target: dict[str, Any], event: dict[str, Any]) -> Any:
    """What the target receives: the event, a constant Input, InputPath or InputTransformer."""
    if "Input" in target:
        return json.loads(target["Input"])
    if "InputPath" in target:
        return _json_path(event, target["InputPath"])
    transformer = target.get("InputTransformer")
    if transformer:
        return render_input_template(
            transformer.get("InputTemplate"), transformer.get("InputPathsMap", {}), event
        )
    return event


class EventBridgeBridge:
    def __init__(self) -> None:
        self.routes: dict[str, TargetRoute] = {"lambda": _to_lambda, "sqs": _to_sqs}
        self._services: RuntimeServices | None = None
        self._original: Any = None
        self._patches = Patches()

    def add_route(self, service: str, route: TargetRoute) -> None:
        self.routes[service] = route

    def install(self, services: RuntimeServices) -> None:
        self._services = services
        bridge = self
        original_put_events: Any = EVENTS_PUT_EVENTS.current()

        def send_to_targets(
            rule: Any, original_event: dict[str, Any], transform_input: bool = True
        ) -> None:
            bridge._deliver(rule, original_event, transform_input)

        def put_events(backend: Any, events: list[dict[str, Any]]) -> Any:
            for entry in events:
                services.activity.publish(
                    str(entry.get("EventBusName") or "default"),
                    str(entry.get("Source")),
                    str(entry.get("DetailType")),
                    entry.get("Detail"),
                )
            return original_put_events(backend, events)

        self._original = self._patches.replace(EVENTS_SEND_TO_TARGETS, send_to_targets)
        self._patches.replace(EVENTS_PUT_EVENTS, put_events)

    def uninstall(self) -> None:
        self._patches.restore()
        self._original = None

    def pump(self) -> int:
        return 0  # deliveries happen synchronously as events are put

    def _deliver(self, rule: Any, event: dict[str, Any], transform_input: bool) -> None:
        assert self._services is not None
        if rule.state != "ENABLED" or not rule.event_pattern.matches_event(event):
            return
        services = self._services
        via = f"rule {services.logical_id(rule.name)}"
        wire = on_the_wire(event)
        for target in rule.targets:
            arn = target["Arn"]
            service = parse_arn(arn).service
            try:
                payload = target_input(target, wire)
                if service in self.routes:
                    self.routes[service](services, target, payload, via)
                elif service in _MOTO_DELIVERS:
                    self._moto_delivers(rule, target, event, transform_input)
                else:
                    services.activity.cannot_route(via, arn, wire, "no local route")
                    continue
            except Exception as error:
                services.activity.cannot_route(via, arn, wire, f"{type(error).__name__}: {error}")
                continue
            services.activity.route(via, arn, payload)

    def _moto_delivers(
        self, rule: Any, target: dict[str, Any], event: dict[str, Any], transform_input: bool
    ) -> None:
        all_targets = rule.targets
        rule.targets = [target]
        try:
            self._original(rule, event, transform_input)
        finally:
            rule.targets = all_targets
