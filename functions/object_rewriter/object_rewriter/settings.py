"""object_rewriter settings: validated once from the environment the template sets.

POWERTOOLS_SERVICE_NAME (and the metrics namespace) are read by Powertools itself
(datalake_shared.observability).
"""

from datetime import timedelta
from functools import cache
from typing import Final

from pydantic import Field

from datalake_shared.settings import EnvSettings, load_settings

DEFAULT_MAX_OBJECT_BYTES: Final = 2 * 1024**3
# PutObject takes at most 5 GiB in one request.
MAX_PUT_BYTES: Final = 5 * 1024**3


class ObjectRewriterSettings(EnvSettings):
    object_task_table: str = Field(alias="OBJECT_TASK_TABLE", min_length=1)
    task_queue_url: str = Field(alias="TASK_QUEUE_URL", min_length=1)
    """Where the TTL fallback requeues an expired task's message (ObjectTaskQueue)."""
    done_retention_days: int = Field(default=30, alias="DONE_RETENTION_DAYS", gt=0, le=3650)
    """How long a finished task's item is kept (for audit) before its TTL removes it."""
    max_object_bytes: int = Field(
        default=DEFAULT_MAX_OBJECT_BYTES, alias="MAX_OBJECT_BYTES", gt=0, le=MAX_PUT_BYTES
    )
    """Larger objects are not rewritten (the task fails): the rewrite is spooled to /tmp."""

    @property
    def done_retention(self) -> timedelta:
        return timedelta(days=self.done_retention_days)


@cache
def get_settings() -> ObjectRewriterSettings:
    return load_settings(ObjectRewriterSettings)
