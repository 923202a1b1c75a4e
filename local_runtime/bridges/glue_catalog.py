"""Glue Data Catalog change events for table writes, which moto never emits.

On AWS, creating or deleting a catalog table puts a "Glue Data Catalog Database State Change"
event (``changedTables`` lists it) on the default bus, and updating one a "Glue Data Catalog
Table State Change" (``tableName``); the catalog type fixer's rule listens for both. While
installed, this bridge records every successful table write moto makes (any caller: a test
playing a crawler, a function's UpdateTable) and ``pump`` puts the events, one per write, in
order, so the same rule sees the same events locally.
"""

import threading
from typing import Any

from local_runtime.bridges import RuntimeServices
from local_runtime.moto_adapter.hooks import (
    GLUE_CREATE_TABLE,
    GLUE_DELETE_TABLE,
    GLUE_UPDATE_TABLE,
    Patches,
)
from local_runtime.service_events import glue_table_state_change


class GlueCatalogEventsBridge:
    def __init__(self) -> None:
        self.emitted: list[tuple[str, str, str]] = []  # (database, table, typeOfChange)
        self._pending: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()
        self._services: RuntimeServices | None = None
        self._patches = Patches()

    def install(self, services: RuntimeServices) -> None:
        self._services = services
        self._record_after(GLUE_CREATE_TABLE, "CreateTable")
        self._record_after(GLUE_UPDATE_TABLE, "UpdateTable")
        self._record_after(GLUE_DELETE_TABLE, "DeleteTable")

    def _record_after(self, hook: Any, change: str) -> None:
        original: Any = hook.current()
        pending, lock = self._pending, self._lock

        def write(backend: Any, database_name: str, table_name: str, *args: Any, **kw: Any) -> Any:
            result = original(backend, database_name, table_name, *args, **kw)
            with lock:  # only a write that succeeded is announced
                pending.append((database_name, table_name, change))
            return result

        self._patches.replace(hook, write)

    def pump(self) -> int:
        with self._lock:
            due, self._pending[:] = list(self._pending), []
        if self._services is None:
            return 0
        for database, table, change in due:
            glue_table_state_change(self._services.session, database, table, change)
            self.emitted.append((database, table, change))
        return len(due)

    def uninstall(self) -> None:
        self._patches.restore()
        self._pending.clear()
