"""Table leases in DynamoDB (LeaseTable): at most one run merges a table at a time.

A lease is one item keyed by source_table, taken with a single conditional PutItem (never read
then write): it succeeds when no lease exists, when the existing one has expired (a crashed run
cannot block a table for longer than the lease). Never because the holder has the same run id:
two job runs of one execution (a Step Functions retry after a timeout, with the first run
alive after all) would then merge one table at once. Releasing deletes the item only if it is
still this run's lease.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final

from cdc_merge.dynamo_table import DynamoTable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

DEFAULT_LEASE_SECONDS: Final = 3600
# Expired leases linger for a day (DynamoDB TTL on "ttl"), which helps when reading what happened.
_TTL_GRACE_SECONDS: Final = 86_400
_ACQUIRE_CONDITION: Final = "attribute_not_exists(source_table) OR lease_expires_at < :now"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class DynamoLeases(DynamoTable):
    def __init__(
        self,
        table_name: str,
        lease_seconds: int = DEFAULT_LEASE_SECONDS,
        client: "DynamoDBClient | None" = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        if lease_seconds <= 0:
            raise ValueError("lease_seconds must be positive")
        super().__init__(table_name, client)
        self.lease_seconds = lease_seconds
        self._clock = clock

    def acquire(self, source_table: str, run_id: str) -> bool:
        """Takes the table's lease for this run; False if another run holds a live lease."""
        now = self._clock()
        now_epoch = int(now.timestamp())
        expires_at = now_epoch + self.lease_seconds
        try:
            self.client.put_item(
                TableName=self.table_name,
                Item={
                    "source_table": {"S": source_table},
                    "run_id": {"S": run_id},
                    "acquired_at": {"S": now.isoformat()},
                    "lease_expires_at": {"N": str(expires_at)},
                    "ttl": {"N": str(expires_at + _TTL_GRACE_SECONDS)},
                },
                ConditionExpression=_ACQUIRE_CONDITION,
                # Only values the condition uses: DynamoDB refuses an unused one
                # (ValidationException), which would leave every table unleased.
                ExpressionAttributeValues={":now": {"N": str(now_epoch)}},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def release(self, source_table: str, run_id: str) -> bool:
        """Gives the lease back; False (nothing deleted) if it is not, or no longer, this run's."""
        try:
            self.client.delete_item(
                TableName=self.table_name,
                Key={"source_table": {"S": source_table}},
                ConditionExpression="run_id = :run_id",
                ExpressionAttributeValues={":run_id": {"S": run_id}},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True
