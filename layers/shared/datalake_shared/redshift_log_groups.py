"""The Redshift log groups whose user activity redshift_audit watches: the config's
``redshift_log_groups`` section, and what a group's name says about its source.

Redshift writes its user activity log (every statement, before it runs) to CloudWatch Logs when
audit logging to CloudWatch is on, in a group named after the warehouse::

    redshift_log_groups:
      - /aws/redshift/cluster/analytics/useractivitylog   # provisioned cluster "analytics"
      - /aws/redshift/finance/useractivitylog             # serverless namespace "finance"

Only ``useractivitylog`` groups hold statements (``connectionlog`` and ``userlog`` do not), and
only groups under ``/aws/redshift/`` are accepted: the config loader may subscribe those and no
others (template: ConfigLoaderFunction's ManageRedshiftSubscriptions, and the invoke permission
RedshiftLogGroupsInvokePermission), so any other name would fail at AWS, not at upload.
"""

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Final

from pydantic import AfterValidator, Field

LOG_GROUP_PREFIX: Final = "/aws/redshift/"
"""Every Redshift log group starts with it; the loader's IAM is scoped to it."""
USER_ACTIVITY_LOG: Final = "useractivitylog"
SUBSCRIPTION_FILTER_PATTERN: Final = '"LOG:"'
"""Statement lines only: connection and other lines never reach the function."""
SUBSCRIPTION_FILTER_SUFFIX: Final = "-redshift-audit"

# Provisioned: a cluster identifier is 1-63 lowercase letters, digits and hyphens, starting
# with a letter, no "--", no trailing hyphen.
_CLUSTER: Final = re.compile(
    rf"^{LOG_GROUP_PREFIX}cluster/(?P<name>[a-z](?:-?[a-z0-9])*)/{USER_ACTIVITY_LOG}$"
)
_MAX_CLUSTER_LENGTH: Final = 63
# Serverless: /aws/redshift/<namespace>/<log type>, a namespace of 3-64 lowercase letters,
# digits and hyphens (AWS docs, "Audit logging for Amazon Redshift Serverless").
_NAMESPACE: Final = re.compile(
    rf"^{LOG_GROUP_PREFIX}(?P<name>[a-z0-9-]{{3,64}})/{USER_ACTIVITY_LOG}$"
)


class WarehouseKind(StrEnum):
    CLUSTER = "cluster"
    SERVERLESS = "serverless"


@dataclass(frozen=True, slots=True)
class Warehouse:
    """Where a user activity log comes from: a provisioned cluster or a serverless namespace."""

    kind: WarehouseKind
    name: str


def warehouse_of(log_group: str) -> Warehouse | None:
    """The cluster or serverless namespace a user activity log group belongs to; None when the
    name is not one Redshift gives its user activity log."""
    cluster = _CLUSTER.match(log_group)
    if cluster and len(cluster["name"]) <= _MAX_CLUSTER_LENGTH:
        return Warehouse(WarehouseKind.CLUSTER, cluster["name"])
    namespace = _NAMESPACE.match(log_group)
    if namespace:
        return Warehouse(WarehouseKind.SERVERLESS, namespace["name"])
    return None


def subscription_filter_name(stack_name: str) -> str:
    """The name of this stack's subscription filter on every watched group: the reconciler
    touches filters of this name only (the template passes the same to the config loader)."""
    return f"{stack_name}{SUBSCRIPTION_FILTER_SUFFIX}"


def _user_activity_log_group(name: str) -> str:
    if warehouse_of(name) is not None:
        return name
    if not name.startswith(LOG_GROUP_PREFIX):
        raise ValueError(
            f"{name!r} is not a Redshift log group: the stack may subscribe groups under "
            f"{LOG_GROUP_PREFIX} only"
        )
    if not name.endswith(f"/{USER_ACTIVITY_LOG}"):
        raise ValueError(
            f"{name!r}: only the {USER_ACTIVITY_LOG} group holds statements (turn it on in the "
            "warehouse's audit logging to CloudWatch)"
        )
    raise ValueError(
        f"{name!r}: use {LOG_GROUP_PREFIX}cluster/<cluster>/{USER_ACTIVITY_LOG} (provisioned) or "
        f"{LOG_GROUP_PREFIX}<namespace>/{USER_ACTIVITY_LOG} (serverless), the name in "
        "lower-case letters, digits and single hyphens"
    )


def _distinct(groups: list[str]) -> list[str]:
    repeated = sorted({group for group in groups if groups.count(group) > 1})
    if repeated:
        raise ValueError(f"listed more than once: {', '.join(repeated)}")
    return groups


RedshiftLogGroup = Annotated[str, AfterValidator(_user_activity_log_group)]
RedshiftLogGroups = Annotated[
    list[RedshiftLogGroup],
    # A group takes at most two subscription filters; far more groups than any account has
    # clusters would make one config load slow.
    Field(max_length=100),
    AfterValidator(_distinct),
]
"""The config's ``redshift_log_groups``: absent, the file leaves the subscriptions as they are;
present (even empty), it is the whole list: a group no longer listed loses the subscription."""
