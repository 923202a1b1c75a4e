"""redshift_audit test support: the auditor wired to moto and the local Slack sink."""

from functools import partial

from alert_fakes import AlertAws, Sleeps, idempotent_poster
from eventbridge_fake import FakeEventsClient
from lambda_support import load_handler_module, load_sample_event

from datalake_shared.event_publisher import EventPublisher
from datalake_shared.slack import RetryPolicy
from redshift_audit.alerts import render_batch_alert
from redshift_audit.announcer import EventBridgeAuditAnnouncer
from redshift_audit.service import RedshiftAuditor, time_needed_to_post
from redshift_audit.store import S3AuditStore

BUCKET = "datalake-events-audit-example"
PREFIX = "redshift-audit/"

app = load_handler_module("redshift_audit")
load_event = partial(load_sample_event, "redshift_audit")


def auditor_with(
    aws: AlertAws,
    sleeps: Sleeps,
    events: FakeEventsClient | None = None,
    ignore_users: frozenset[str] = frozenset({"rdsdb"}),
) -> RedshiftAuditor:
    """The production pieces over moto and the sink; only sleeping is recorded, not done."""
    policy = RetryPolicy(max_attempts=3)
    poster = idempotent_poster(aws, sleeps, "redshift-audit-slack", policy)
    publisher = EventPublisher("redshift-audit", "bus", client=events or FakeEventsClient())  # type: ignore[arg-type]
    return RedshiftAuditor(
        store=S3AuditStore(BUCKET, PREFIX, client=aws.s3),
        poster=poster,
        announcer=EventBridgeAuditAnnouncer(publisher, BUCKET),
        render=render_batch_alert,
        post_time_needed_s=time_needed_to_post(policy, app.POST_MARGIN_S),
        ignore_users=ignore_users,
    )
