"""EventBridge rules: every delivery is recorded, and targets moto cannot reach get a route.

moto delivers rule matches to SQS, log groups, archives and other buses itself, and raises
NotImplementedError for Lambda, SNS and Step Functions targets. We wrap ``Rule.send_to_targets``:
targets whose service has a route here (Lambda now; later capabilities register ``states`` or
``sns``) are delivered by us, the rest go to moto, and all of them are logged as routed.
"""

import json
from collections.abc import Callable
from typing import Any

from moto.events.models import EventsBackend, Rule
from moto.events.utils import EventTemplateParser
from moto.utilities.arns import parse_arn

from local_runtime.bridges import RuntimeServices

# (services, target ARN, event, via) → None
TargetRoute = Callable[[RuntimeServices, str, dict[str, Any], str], None]
_MOTO_DELIVERS = {"sqs", "logs", "events"}


def _to_lambda(services: RuntimeServices, arn: str, event: dict[str, Any], via: str) -> None:
    # EventBridge invokes Lambda targets asynchronously.
    services.async_invoker.submit(arn, event, trigger=via)


def target_input(target: dict[str, Any], event: dict[str, Any], transform: bool) -> Any:
    """What the target receives: the event, a constant Input, or the InputTransformer result."""
    if not transform:
        return event
    if "Input" in target:
        return json.loads(target["Input"])
    transformer = target.get("InputTransformer")
    if transformer:
        rendered = EventTemplateParser.parse(
            input_template=transformer.get("InputTemplate"),
            input_paths_map=transformer.get("InputPathsMap", {}),
            event=event,  # type: ignore[arg-type]
        )
        return rendered
    return event


class EventBridgeBridge:
    def __init__(self) -> None:
        self.routes: dict[str, TargetRoute] = {"lambda": _to_lambda}
        self._services: RuntimeServices | None = None
        self._original: Any = None
        self._original_put_events: Any = None

    def add_route(self, service: str, route: TargetRoute) -> None:
        self.routes[service] = route

    def install(self, services: RuntimeServices) -> None:
        self._services = services
        self._original = Rule.send_to_targets
        bridge = self

        def send_to_targets(
            rule: Rule, original_event: dict[str, Any], transform_input: bool = True
        ) -> None:
            bridge._deliver(rule, original_event, transform_input)

        Rule.send_to_targets = send_to_targets  # type: ignore[assignment,method-assign]

        self._original_put_events = EventsBackend.put_events
        original_put_events = self._original_put_events

        def put_events(backend: EventsBackend, events: list[dict[str, Any]]) -> Any:
            for entry in events:
                services.activity.publish(
                    str(entry.get("EventBusName") or "default"),
                    str(entry.get("Source")),
                    str(entry.get("DetailType")),
                )
            return original_put_events(backend, events)

        EventsBackend.put_events = put_events  # type: ignore[method-assign,assignment]

    def uninstall(self) -> None:
        if self._original is not None:
            Rule.send_to_targets = self._original  # type: ignore[method-assign]
        if self._original_put_events is not None:
            EventsBackend.put_events = self._original_put_events  # type: ignore[method-assign]
        self._original = None
        self._original_put_events = None

    def pump(self) -> int:
        return 0  # deliveries happen synchronously as events are put

    def _deliver(self, rule: Rule, event: dict[str, Any], transform_input: bool) -> None:
        assert self._services is not None
        if not rule.event_pattern.matches_event(event):  # type: ignore[arg-type]
            return
        services = self._services
        via = f"rule {services.logical_id(rule.name)}"
        for_moto = []
        for target in rule.targets:
            arn = target["Arn"]
            service = parse_arn(arn).service
            payload = target_input(target, event, transform_input)
            if service in self.routes:
                self.routes[service](services, arn, payload, via)
                services.activity.route(via, arn, payload)
            elif service in _MOTO_DELIVERS:
                for_moto.append(target)
                services.activity.route(via, arn, payload)
            else:
                services.activity.cannot_route(via, arn, payload)
        if for_moto:
            all_targets = rule.targets
            rule.targets = for_moto
            try:
                self._original(rule, event, transform_input)
            finally:
                rule.targets = all_targets
