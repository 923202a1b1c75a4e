"""The configs of a batch's tables, read from the TableConfig table.

The state machine's batches name their tables (a plan of thousands of tables must fit the
256 KiB Step Functions passes between states), so the job reads each table's config, as the
config loader stored it (the item layout is datalake_contracts.table_config's: keyed (cadence,
source_table), the TableConfig as JSON in "config"), with BatchGetItem.
"""

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any, Final

from cdc_merge.dynamo_table import DynamoTable
from cdc_merge.job import CONFIG_ERROR_KEY
from datalake_contracts import table_config as contract
from datalake_contracts.dynamodb_keys import MAX_PARTITION_KEY_BYTES, MAX_SORT_KEY_BYTES

_MAX_KEYS_PER_CALL: Final = 100  # BatchGetItem's limit
_MAX_ATTEMPTS: Final = 5


class DynamoTableConfigs(DynamoTable):
    def configs(self, cadence: str, source_tables: Sequence[str]) -> list[dict[str, Any]]:
        """The tables' configs in the order asked. A table without one (removed since the run
        was planned) gets an entry carrying the reason, so it fails alone, on the record."""
        found: dict[str, dict[str, Any]] = {}
        # DynamoDB refuses a whole BatchGetItem when one key is longer than a key can be: such a
        # name (only a batch made by hand can hold one) has no config, and is not asked for.
        cadence_fits = len(cadence.encode()) <= MAX_PARTITION_KEY_BYTES
        # BatchGetItem refuses a request that names one key twice (ValidationException).
        unique = [
            name
            for name in dict.fromkeys(source_tables)
            if cadence_fits and len(name.encode()) <= MAX_SORT_KEY_BYTES
        ]
        for start in range(0, len(unique), _MAX_KEYS_PER_CALL):
            keys = [
                {contract.ITEM_PARTITION_KEY: {"S": cadence}, contract.ITEM_SORT_KEY: {"S": name}}
                for name in unique[start : start + _MAX_KEYS_PER_CALL]
            ]
            for item in self._get_all(keys):
                config = json.loads(item[contract.ITEM_CONFIG_ATTRIBUTE]["S"])
                found[config[contract.SOURCE_TABLE]] = config
        return [
            found.get(name)
            or {
                contract.SOURCE_TABLE: name,
                CONFIG_ERROR_KEY: f"no config for cadence {cadence!r} in {self.table_name}",
            }
            for name in source_tables
        ]

    def _get_all(self, keys: list[Any]) -> list[Any]:
        items: list[Any] = []
        request: Any = {self.table_name: {"Keys": keys, "ConsistentRead": True}}
        for attempt in range(_MAX_ATTEMPTS):
            response = self.client.batch_get_item(RequestItems=request)
            items.extend(response.get("Responses", {}).get(self.table_name, []))
            request = response.get("UnprocessedKeys") or {}
            if not request:
                return items
            if attempt + 1 < _MAX_ATTEMPTS:  # no wait before giving up
                time.sleep(0.05 * 2**attempt)  # throttled keys come back unprocessed
        raise RuntimeError(f"BatchGetItem on {self.table_name} kept keys unprocessed")


def with_table_configs(batch: Mapping[str, Any], configs: DynamoTableConfigs) -> dict[str, Any]:
    """The batch with each named table replaced by its config (configs already inline stay)."""
    tables = batch.get("tables")
    if not isinstance(tables, list) or not all(isinstance(t, str) for t in tables):
        return dict(batch)
    cadence = batch.get(contract.CADENCE)
    if not isinstance(cadence, str) or not cadence:
        raise ValueError("a batch that names its tables needs its cadence")
    return {**batch, "tables": configs.configs(cadence, tables)}
