"""Reconciler: one CloudWatch Logs subscription filter per Redshift log group of the config.

Each group listed in ``redshift_log_groups`` gets this stack's filter (named
``<stack>-redshift-audit``, pattern ``"LOG:"``, destination the redshift_audit function); a
filter that differs is put again; a group that is no longer listed loses it. Only filters with
this stack's name are ever changed or deleted, so other subscriptions (another stack's, a
log shipper's) are left alone.

State lives in CloudWatch Logs itself, nothing is stored: the filters of this name found on the
Redshift groups (``/aws/redshift/*/useractivitylog``) are what was subscribed before. A file
without ``redshift_log_groups`` leaves every subscription as it is (as a file leaves the stored
tables it does not mention); a file with the key, even empty, holds the whole list.

A listed group that cannot be subscribed now is skipped and reported, never a failed load:
- it does not exist yet (Redshift creates it with the first log line once audit logging to
  CloudWatch is on): the next load of the config subscribes it;
- it already sends to the function through another filter (the template's single-group
  parameter RedshiftUserActivityLogGroup): a second filter would deliver every line twice;
- it has the two subscription filters CloudWatch Logs allows, neither of them ours.
Any other AWS error is raised, so the load is retried.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Final

import boto3
from botocore.exceptions import ClientError
from pydantic import Field

from datalake_shared.config_reconcile import Reconciliation
from datalake_shared.observability import logger
from datalake_shared.pipeline_config import PipelineConfig
from datalake_shared.redshift_log_groups import (
    LOG_GROUP_PREFIX,
    SUBSCRIPTION_FILTER_PATTERN,
    USER_ACTIVITY_LOG,
)
from datalake_shared.settings import EnvSettings

if TYPE_CHECKING:
    from mypy_boto3_logs import CloudWatchLogsClient

RECONCILER_NAME: Final = "redshift_log_groups"
MAX_FILTERS_PER_GROUP: Final = 2
_NOT_FOUND: Final = "ResourceNotFoundException"
_LIMIT_EXCEEDED: Final = "LimitExceededException"


class RedshiftSubscriptionSettings(EnvSettings):
    """What the filters send to, and their name (the template sets these on the loader)."""

    redshift_audit_function_arn: str = Field(
        alias="REDSHIFT_AUDIT_FUNCTION_ARN", pattern=r"^arn:[^:]+:lambda:"
    )
    # subscription_filter_name(<stack>), as the template's !Sub spells it.
    redshift_subscription_filter: str = Field(
        alias="REDSHIFT_SUBSCRIPTION_FILTER", min_length=1, max_length=512
    )


@dataclass(frozen=True, slots=True)
class SubscriptionFilter:
    """A subscription filter as CloudWatch Logs describes it."""

    name: str
    pattern: str
    destination_arn: str


@dataclass(frozen=True, slots=True)
class SubscriptionChanges(Reconciliation):
    """What was changed, plus the listed groups left for a later load, each with why."""

    skipped: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    def summary(self) -> dict[str, list[str] | int]:
        # Reconciliation.summary, not super(): slots dataclasses break zero-argument super().
        summary = Reconciliation.summary(self)
        if self.skipped:
            summary["skipped"] = list(self.problems)
        return summary


class GroupMissingError(LookupError):
    """The log group does not exist (yet)."""


class FilterLimitError(RuntimeError):
    """The group already has as many subscription filters as CloudWatch Logs allows."""


class CloudWatchLogsSubscriptions:
    """The subscription filters of log groups (the boto3 client is made on first use)."""

    def __init__(self, client: "CloudWatchLogsClient | None" = None) -> None:
        if client is not None:
            self.client = client

    @cached_property
    def client(self) -> "CloudWatchLogsClient":
        return boto3.client("logs")

    def user_activity_groups(self) -> list[str]:
        """Every Redshift user activity log group of the account and region."""
        groups: list[str] = []
        paginator = self.client.get_paginator("describe_log_groups")
        for page in paginator.paginate(logGroupNamePrefix=LOG_GROUP_PREFIX):
            groups += [
                group["logGroupName"]
                for group in page.get("logGroups", [])
                if group["logGroupName"].endswith(f"/{USER_ACTIVITY_LOG}")
            ]
        return groups

    def filters(self, log_group: str) -> list[SubscriptionFilter]:
        """The group's subscription filters; GroupMissingError when there is no such group."""
        found: list[SubscriptionFilter] = []
        paginator = self.client.get_paginator("describe_subscription_filters")
        try:
            for page in paginator.paginate(logGroupName=log_group):
                found += [
                    SubscriptionFilter(
                        item["filterName"],
                        item.get("filterPattern", ""),
                        item.get("destinationArn", ""),
                    )
                    for item in page.get("subscriptionFilters", [])
                ]
        except ClientError as error:
            if _code(error) == _NOT_FOUND:
                raise GroupMissingError(log_group) from None
            raise
        return found

    def put(self, log_group: str, wanted: SubscriptionFilter) -> None:
        try:
            self.client.put_subscription_filter(
                logGroupName=log_group,
                filterName=wanted.name,
                filterPattern=wanted.pattern,
                destinationArn=wanted.destination_arn,
            )
        except ClientError as error:
            if _code(error) == _NOT_FOUND:
                raise GroupMissingError(log_group) from None
            if _code(error) == _LIMIT_EXCEEDED:
                raise FilterLimitError(log_group) from None
            raise

    def delete(self, log_group: str, filter_name: str) -> None:
        """Deletes the filter; one already gone (or its group) is not an error."""
        try:
            self.client.delete_subscription_filter(logGroupName=log_group, filterName=filter_name)
        except ClientError as error:
            if _code(error) != _NOT_FOUND:
                raise


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class RedshiftSubscriptions:
    """Keeps this stack's subscription filter on exactly the config's Redshift log groups."""

    name = RECONCILER_NAME

    def __init__(
        self,
        filter_name: str,
        destination_arn: str,
        logs: CloudWatchLogsSubscriptions | None = None,
    ) -> None:
        self.wanted = SubscriptionFilter(filter_name, SUBSCRIPTION_FILTER_PATTERN, destination_arn)
        self.logs = logs or CloudWatchLogsSubscriptions()

    def problems(self, config: PipelineConfig) -> list[str]:
        """None: a group that cannot be subscribed yet is skipped and reported, not refused
        (the cluster may start logging later)."""
        return []

    def reconcile(self, config: PipelineConfig) -> SubscriptionChanges:
        listed = config.redshift_log_groups
        if listed is None:  # the file does not mention them: left as they are
            return SubscriptionChanges()
        changes = _Changes()
        for group in listed:
            self._subscribe(group, changes)
        for group in self._subscribed_groups(unless_in=listed):
            self.logs.delete(group, self.wanted.name)
            changes.removed.append(group)
        for problem in changes.problems:
            logger.warning("Redshift log group not subscribed", extra={"problem": problem})
        return changes.frozen()

    def _subscribed_groups(self, unless_in: Sequence[str]) -> list[str]:
        """The groups carrying this stack's filter now, but those of ``unless_in``."""
        subscribed: list[str] = []
        for group in self.logs.user_activity_groups():
            if group in unless_in:
                continue
            try:
                filters = self.logs.filters(group)
            except GroupMissingError:  # deleted since it was listed
                continue
            if any(found.name == self.wanted.name for found in filters):
                subscribed.append(group)
        return subscribed

    def _subscribe(self, group: str, changes: "_Changes") -> None:
        try:
            filters = self.logs.filters(group)
        except GroupMissingError:
            changes.skip(group, _MISSING_GROUP)
            return
        ours = next((found for found in filters if found.name == self.wanted.name), None)
        others = [found.name for found in filters if found.name != self.wanted.name]
        # Another filter already sending to the function (the single-group parameter's).
        twins = [
            found.name
            for found in filters
            if found != ours and found.destination_arn == self.wanted.destination_arn
        ]
        if twins:
            changes.skip(group, _already_delivered(twins))
            if ours is not None:  # both would deliver every line: ours goes
                self.logs.delete(group, self.wanted.name)
                changes.removed.append(group)
            return
        if ours == self.wanted:
            changes.unchanged.append(group)
            return
        if ours is None and len(others) >= MAX_FILTERS_PER_GROUP:
            changes.skip(group, _full(others))
            return
        try:
            self.logs.put(group, self.wanted)
        except GroupMissingError:  # deleted since it was described
            changes.skip(group, _MISSING_GROUP)
            return
        except FilterLimitError:  # another filter was added meanwhile
            changes.skip(group, _full(others))
            return
        (changes.created if ours is None else changes.updated).append(group)


_MISSING_GROUP: Final = (
    "the log group does not exist yet: turn on the warehouse's audit logging to CloudWatch "
    "with the user activity log (a cluster also needs enable_user_activity_logging in its "
    "parameter group); Redshift creates the group with its first line, and the next load of "
    "this config subscribes it"
)


def _already_delivered(filters: Sequence[str]) -> str:
    return (
        f"already sent to redshift_audit by subscription filter {', '.join(filters)} (the "
        "stack's RedshiftUserActivityLogGroup parameter?); a second filter would deliver every "
        "line twice: clear that parameter, deploy, then load this config again"
    )


def _full(filters: Sequence[str]) -> str:
    return (
        f"the log group already has the {MAX_FILTERS_PER_GROUP} subscription filters CloudWatch "
        f"Logs allows ({', '.join(filters)}): remove one, then load this config again"
    )


@dataclass
class _Changes:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def skip(self, group: str, why: str) -> None:
        self.skipped.append(group)
        self.problems.append(f"{group}: {why}")

    def frozen(self) -> SubscriptionChanges:
        return SubscriptionChanges(
            created=tuple(self.created),
            updated=tuple(self.updated),
            removed=tuple(self.removed),
            unchanged=tuple(self.unchanged),
            skipped=tuple(self.skipped),
            problems=tuple(self.problems),
        )


def redshift_subscription_reconciler(
    settings: RedshiftSubscriptionSettings, client: "CloudWatchLogsClient | None" = None
) -> RedshiftSubscriptions:
    """The reconciler of the settings' filter (its CloudWatch Logs client built on first use)."""
    return RedshiftSubscriptions(
        settings.redshift_subscription_filter,
        settings.redshift_audit_function_arn,
        CloudWatchLogsSubscriptions(client),
    )
