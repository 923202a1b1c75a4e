"""Demo section: the nightly Iceberg maintenance of the tables the stack writes. The CDC section
fired the schedule once the merge had run: the planner picked every due table (the merged ones
of config/pipeline.yaml and the CDC table), and each got its retention (ALTER TABLE SET
TBLPROPERTIES), OPTIMIZE if compacted, and VACUUM, then its success logged. A second run the
same night finds nothing due."""

from typing import TYPE_CHECKING, Any

from local_runtime.report import table

if TYPE_CHECKING:
    from local_runtime.engines.athena import AthenaOnDuckDB
    from local_runtime.runtime import LocalRuntime

NIGHTLY = "IcebergMaintenanceStateMachineNightly"
_DAY_S = 86_400


def _logged(runtime: "LocalRuntime") -> dict[str, str]:
    names = runtime.dynamodb.list_tables()["TableNames"]
    log = next(name for name in names if "TableMaintenanceTable" in name)
    items = runtime.dynamodb.scan(TableName=log)["Items"]
    return {item["table_key"]["S"]: item["last_maintained_at"]["S"] for item in items}


def _engine(runtime: "LocalRuntime") -> "AthenaOnDuckDB":
    engine = runtime.athena_bridge.engine
    if engine is None:
        raise RuntimeError("the runtime's Athena stand-in is not running")
    return engine


def _rows(runtime: "LocalRuntime") -> list[list[Any]]:
    engine = _engine(runtime)
    logged = _logged(runtime)
    rows: list[list[Any]] = []
    for (database, name), properties in sorted(engine.table_properties.items()):
        ran = [m.statement for m in engine.maintenance if (m.database, m.table) == (database, name)]
        age = int(properties.get("vacuum_max_snapshot_age_seconds", "0"))
        rows.append(
            [
                f"{database}.{name}",
                f"{age // _DAY_S} d",
                properties.get("vacuum_min_snapshots_to_keep", ""),
                " + ".join(["SET TBLPROPERTIES", *ran]),
                logged.get(f"{database}.{name}", "-")[:19],
            ]
        )
    return rows


def run(runtime: "LocalRuntime") -> None:
    print("\n3b. Iceberg maintenance (the nightly run the CDC section fired), per table:")
    print(
        table(
            ["table", "snapshot retention", "min snapshots", "statements", "last maintained"],
            _rows(runtime),
        )
    )
    before = len(_engine(runtime).maintenance)
    arn = runtime.fire_schedule(NIGHTLY)
    runtime.settle()
    execution = runtime.stepfunctions_bridge.describe(arn)
    again = len(_engine(runtime).maintenance) - before
    print(
        f"   Fired again the same night ({execution['status']}): {again} statement(s): "
        "no table is due before its interval_days have passed."
    )
