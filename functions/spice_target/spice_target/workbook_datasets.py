"""The datasets of the workbook tables, by clean-bucket prefix, read from the Glue catalog.

The config loader makes one Glue table per workbook table of the pipeline config, marked with
the stack's name, and (QuickSight on) its dataset ``<stack>-workbook-<name>``, marking the table
with the dataset's id once the dataset exists (``datalake_shared.workbook_tables``). The catalog
is the one record of them, so a key's dataset is found from the marked tables' locations: a
table without the mark (its dataset not made yet) maps nothing, and its workbooks end "not
mapped" rather than failing on a dataset QuickSight does not have.

A warm function does not list the catalog for every cleaned workbook: what GetTables read is
kept ``MAX_AGE_SECONDS`` for a key it maps, but only ``MISS_AGE_SECONDS`` for a key it does not
(the manifest of the first workbook may arrive right after its table and dataset were made).
When GetTables fails, the copy read before is used, however old; with none, the error is raised
(the state machine retries the task, then fails the run).
"""

import time
from collections.abc import Callable, Mapping
from typing import Final

from botocore.exceptions import BotoCoreError, ClientError

from datalake_shared.observability import logger
from datalake_shared.workbook_tables import GlueWorkbookTables

MAX_AGE_SECONDS: Final = 60.0
MISS_AGE_SECONDS: Final = 5.0


class WorkbookDatasets:
    """prefix -> dataset id of this stack's marked workbook tables, cached (see the module)."""

    def __init__(
        self,
        tables: GlueWorkbookTables,
        clock: Callable[[], float] = time.monotonic,
        max_age_seconds: float = MAX_AGE_SECONDS,
        miss_age_seconds: float = MISS_AGE_SECONDS,
    ) -> None:
        self.tables = tables
        self._clock = clock
        self._max_age = max_age_seconds
        self._miss_age = miss_age_seconds
        self._read_at: float | None = None
        self._by_prefix: dict[str, str] = {}

    def mapping_for(self, key: str) -> Mapping[str, str]:
        """prefix -> dataset id, read again when too old for ``key`` (see the module)."""
        now = self._clock()
        if self._read_at is None:
            self._read(now)
        else:
            age = now - self._read_at
            hit = any(key.startswith(prefix) for prefix in self._by_prefix)
            if age >= self._max_age or (not hit and age >= self._miss_age):
                self._read(now)
        return self._by_prefix

    def _read(self, now: float) -> None:
        try:
            owned = self.tables.owned()
        except (BotoCoreError, ClientError) as error:
            if self._read_at is None:
                raise
            logger.warning(
                "Workbook tables not read (GetTables failed): using the copy read before",
                extra={"error": str(error), "age_seconds": round(now - self._read_at, 1)},
            )
            return
        self._by_prefix = {
            table.prefix: table.dataset_id
            for table, _ in owned.values()
            if table.prefix and table.dataset_id
        }
        self._read_at = now
