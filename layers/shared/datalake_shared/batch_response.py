"""The partial-batch response of an SQS consumer that fails messages in two passes."""

from collections.abc import Sequence

from aws_lambda_powertools.utilities.batch.types import PartialItemFailures


def with_failures(
    reported: Sequence[PartialItemFailures], message_ids: Sequence[str]
) -> list[PartialItemFailures]:
    """``reported`` (Powertools' per-record failures) followed by the other message ids that
    failed in a later, per-batch step, each message listed once."""
    failures = list(reported)
    seen = {failure["itemIdentifier"] for failure in failures}
    for message_id in message_ids:
        if message_id not in seen:
            seen.add(message_id)
            failures.append({"itemIdentifier": message_id})
    return failures
