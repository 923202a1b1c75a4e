"""SNS subscriptions: moto's CloudFormation does not create AWS::SNS::Subscription resources,
and moto's delivery to Lambda is a canned event sent through Docker.

We create every subscription of the template in moto (after resolving TopicArn and Endpoint),
so moto applies its own filter-policy matcher (FilterPolicy, FilterPolicyScope) and delivers
to SQS (RawMessageDelivery included) as SNS does. We then wrap moto's per-subscription delivery
(``Subscription.publish``), which every publish goes through — boto3 ``Publish`` and
``PublishBatch``, S3 notifications, our EventBridge SNS target route, OnFailure destinations,
Step Functions ``sns:publish`` tasks:

- ``lambda``: the function is invoked asynchronously (``async_invoker.submit``, so Lambda's
  async retries and OnFailure apply) with the exact SNS event Lambda receives;
- ``sqs``: moto delivers; loopback ``http``/``https`` endpoints: moto POSTs;
- ``email``, ``email-json``, ``sms`` and non-local ``http``/``https``: nothing leaves this
  machine: the message is kept in ``SnsBridge.outbox``.

Every delivery is recorded in the activity log ("topic <TopicLogicalId>" → endpoint); a
message the filter policy rejects is recorded in ``filtered_out``.
"""

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from local_runtime.bridges import RuntimeServices
from local_runtime.emulated import resolver_for
from local_runtime.intrinsics import Resolver, UnresolvableError
from local_runtime.moto_adapter.hooks import SNS_SUBSCRIPTION_PUBLISH, Patches
from local_runtime.moto_adapter.services import parse_arn, publish_to_topic, send_to_queue

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}
_KEPT_PROTOCOLS = {"email", "email-json", "sms"}
_SUBSCRIPTION_ATTRIBUTES = (
    "FilterPolicyScope",
    "FilterPolicy",
    "RawMessageDelivery",
    "RedrivePolicy",
    "DeliveryPolicy",
)


# ---------------------------------------------------------------------- shared helpers
def template_resolver(services: RuntimeServices) -> Resolver:
    """Resolves template properties against the deployed stack (its parameter values too)."""
    cloudformation = services.session.client("cloudformation")
    stack = cloudformation.describe_stacks(StackName=services.stack.name)["Stacks"][0]
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack.get("Parameters", [])}
    return resolver_for(services.template, services.stack, parameters, services.session.region_name)


def send_to_destination(
    services: RuntimeServices, destination: str, record: dict[str, Any], via: str
) -> None:
    """Delivers a Lambda destination record (async OnFailure/OnSuccess, a stream mapping's
    OnFailure) to an SQS queue, an SNS topic or a function, as Lambda does."""
    arn = parse_arn(destination)
    body = json.dumps(record, default=str)
    if arn.service == "sqs":
        send_to_queue(destination, body)
    elif arn.service == "sns":
        publish_to_topic(destination, body)
    elif arn.service == "lambda":
        services.async_invoker.submit(destination, record, trigger=via)
    else:
        services.activity.cannot_route(via, destination, record, "no local destination route")
        return
    services.activity.route(via, destination, record)


def route_to_sns(services: RuntimeServices, target: dict[str, Any], payload: Any, via: str) -> None:
    """EventBridge target route for SNS topics (moto raises NotImplementedError for them): the
    rendered input (the event, or what Input/InputPath/InputTransformer made of it) is the
    message, JSON unless the transformer produced a string.

    Wire it with ``runtime.eventbridge_bridge.add_route("sns", route_to_sns)``."""
    message = payload if isinstance(payload, str) else json.dumps(payload)
    publish_to_topic(target["Arn"], message)


# ---------------------------------------------------------------------- the Lambda event (pure)
def _sns_timestamp(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def lambda_sns_event(
    *,
    subscription_arn: str,
    topic_arn: str,
    message_id: str,
    message: str,
    subject: str | None,
    message_attributes: Mapping[str, Mapping[str, Any]] | None,
    published: datetime,
) -> dict[str, Any]:
    """The event Lambda receives for one SNS notification.

    The signature is a stand-in (a digest of the signed fields): nothing local can sign as SNS,
    and functions must not verify Lambda-delivered notifications anyway."""
    region = topic_arn.split(":")[3]
    timestamp = _sns_timestamp(published)
    fields = {
        "Message": message,
        "MessageId": message_id,
        "Subject": subject or "",
        "Timestamp": timestamp,
        "TopicArn": topic_arn,
        "Type": "Notification",
    }
    signed = "".join(f"{name}\n{value}\n" for name, value in fields.items())
    attributes = {
        name: {"Type": str(value.get("Type")), "Value": value.get("Value")}
        for name, value in (message_attributes or {}).items()
    }
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription_arn,
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id,
                    "TopicArn": topic_arn,
                    "Subject": subject,
                    "Message": message,
                    "Timestamp": timestamp,
                    "SignatureVersion": "1",
                    "Signature": base64.b64encode(
                        hashlib.sha256(signed.encode()).digest()
                    ).decode(),
                    "SigningCertUrl": (
                        f"https://sns.{region}.amazonaws.com/SimpleNotificationService-local.pem"
                    ),
                    "UnsubscribeUrl": (
                        f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe"
                        f"&SubscriptionArn={subscription_arn}"
                    ),
                    "MessageAttributes": attributes,
                },
            }
        ]
    }


# ---------------------------------------------------------------------- the bridge
@dataclass(frozen=True)
class SnsSubscription:
    """A subscription of the template, as created in moto."""

    logical_id: str
    topic_arn: str
    protocol: str
    endpoint: str
    arn: str
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class OutboundMessage:
    """A notification for an endpoint outside this machine (email, SMS, remote HTTPS)."""

    protocol: str
    endpoint: str
    topic_arn: str
    subject: str | None
    message: str


@dataclass(frozen=True)
class FilteredOut:
    via: str
    endpoint: str
    message_id: str


def _attribute_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


class SnsBridge:
    def __init__(self) -> None:
        self.subscriptions: list[SnsSubscription] = []
        self.outbox: list[OutboundMessage] = []
        self.filtered_out: list[FilteredOut] = []
        self._services: RuntimeServices | None = None
        self._original_publish: Any = None
        self._patches = Patches()

    # ------------------------------------------------------------------ Bridge
    def install(self, services: RuntimeServices) -> None:
        self._services = services
        self._create_subscriptions()
        bridge = self

        def publish(  # noqa: PLR0917 - moto calls it positionally
            subscription: Any,
            message: str,
            message_id: str,
            subject: str | None = None,
            message_attributes: dict[str, Any] | None = None,
            group_id: str | None = None,
            deduplication_id: str | None = None,
            message_structure: str | None = None,
        ) -> None:
            bridge._deliver(
                subscription,
                message,
                message_id,
                subject,
                message_attributes,
                {
                    "group_id": group_id,
                    "deduplication_id": deduplication_id,
                    "message_structure": message_structure,
                },
            )

        self._original_publish = self._patches.replace(SNS_SUBSCRIPTION_PUBLISH, publish)

    def uninstall(self) -> None:
        self._patches.restore()
        self._original_publish = None
        self.subscriptions.clear()

    def pump(self) -> int:
        return 0  # deliveries happen as messages are published

    # ------------------------------------------------------------------ subscriptions
    def _create_subscriptions(self) -> None:
        assert self._services is not None
        services = self._services
        resources = services.template.resources_of_type("AWS::SNS::Subscription")
        if not resources:
            return
        resolver = template_resolver(services)
        sns: SNSClient = services.session.client("sns")
        for logical, resource in resources.items():
            condition = resource.get("Condition")
            if condition and not resolver.conditions.get(condition, False):
                continue
            try:
                props: dict[str, Any] = resolver.resolve(resource.get("Properties", {}))
            except UnresolvableError as error:
                services.activity.notes.append(f"subscription {logical} not created: {error}")
                continue
            attributes = {
                name: _attribute_text(props[name])
                for name in _SUBSCRIPTION_ATTRIBUTES
                if name in props
                and not (name == "RawMessageDelivery" and props["Protocol"] == "lambda")
            }
            arn = sns.subscribe(
                TopicArn=props["TopicArn"],
                Protocol=props["Protocol"],
                Endpoint=props["Endpoint"],
                Attributes=attributes,
                ReturnSubscriptionArn=True,
            )["SubscriptionArn"]
            self.subscriptions.append(
                SnsSubscription(
                    logical_id=logical,
                    topic_arn=props["TopicArn"],
                    protocol=props["Protocol"],
                    endpoint=props["Endpoint"],
                    arn=arn,
                    attributes=attributes,
                )
            )

    # ------------------------------------------------------------------ delivery
    def _deliver(  # noqa: PLR0917 - moto's delivery arguments, passed on
        self,
        subscription: Any,
        message: str,
        message_id: str,
        subject: str | None,
        message_attributes: dict[str, Any] | None,
        options: dict[str, Any],
    ) -> None:
        assert self._services is not None
        services = self._services
        via = f"topic {services.logical_id(subscription.topic.arn)}"
        protocol, endpoint = subscription.protocol, subscription.endpoint
        matcher = subscription._filter_policy_matcher
        if matcher is not None and not matcher.matches(message_attributes, message):
            self.filtered_out.append(FilteredOut(via, endpoint, message_id))
            return
        if protocol == "lambda":
            if options.get("message_structure") == "json":
                message = subscription._parse_message_structure(message, protocol)
            event = lambda_sns_event(
                subscription_arn=subscription.arn,
                topic_arn=subscription.topic.arn,
                message_id=message_id,
                message=message,
                subject=subject,
                message_attributes=message_attributes,
                published=datetime.now(UTC),
            )
            services.async_invoker.submit(endpoint, event, trigger=via)
            services.activity.route(via, endpoint, event)
            return
        notification = {"MessageId": message_id, "Subject": subject, "Message": message}
        if protocol == "sqs" or (
            protocol in {"http", "https"} and urlparse(endpoint).hostname in _LOOPBACK
        ):
            self._original_publish(
                subscription, message, message_id, subject, message_attributes, **options
            )
            services.activity.route(via, endpoint, notification)
            return
        self.outbox.append(
            OutboundMessage(protocol, endpoint, subscription.topic.arn, subject, message)
        )
        if protocol in _KEPT_PROTOCOLS:
            services.activity.route(via, f"{protocol}:{endpoint}", notification)
        else:
            services.activity.cannot_route(
                via, f"{protocol}:{endpoint}", notification, "kept in the outbox, not sent"
            )
