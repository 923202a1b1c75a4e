"""The rules the object task sample events were made with (events/object_task_scheduler/ and
events/object_rewriter/ share one upload), defined once for both functions' tests."""

from typing import Final

from datalake_shared.object_tasks import ObjectTaskRule

# The post's rule: "file_contents" removed a day after the upload.
PURGE: Final = ObjectTaskRule(
    name="purge-file-contents",
    prefix="dataset/",
    after_days=1,
    action="remove",
    fields=("file_contents",),
)
MASK: Final = ObjectTaskRule(
    name="mask-emails",
    prefix="dataset/uploads/",
    after_days=30,
    action="mask",
    fields=("email",),
    mask_with="***",
)
