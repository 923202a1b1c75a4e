"""One table of TableConfig cases, valid and invalid, for both validators of the contract: the
shared layer's pydantic model (datalake_shared.pipeline_config.TableConfig, at config upload)
and the Glue job's parser (cdc_merge.table_spec.TableSpec.from_dict, for each table it merges).

Each case is a change to one valid config. Both validators must give it the same verdict, except
the cases marked ``glue_valid``: rules only the layer applies, where the Glue job, which quotes
every name it puts in SQL and ignores keys it does not read, accepts what the layer refuses.
Configs reach the job through the layer (the config loader stores them validated, in canonical
spelling), so these differences matter only for a batch written by hand.
"""

from dataclasses import dataclass, field
from typing import Any, Final

# A key left out of the config.
REMOVED: Final = object()

BASE: Final[dict[str, Any]] = {
    "cadence": "hourly",
    "source_table": "sales.orders",
    "target_database": "sales",
    "target_table": "orders",
    "columns": [
        {"name": "order_id", "type": "bigint"},
        {"name": "customer", "type": "string"},
        {"name": "amount", "type": "decimal(10,2)"},
    ],
    "primary_key": ["order_id"],
    "sequence_column": "change_ts",
}


def _columns(*specs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"name": name, "type": kind} for name, kind in specs]


def _with_column(name: str, kind: str = "string") -> list[dict[str, str]]:
    return [*BASE["columns"], {"name": name, "type": kind}]


@dataclass(frozen=True)
class Case:
    id: str
    valid: bool
    changes: dict[str, Any] = field(default_factory=dict)
    glue_valid: bool | None = None
    """The Glue job's verdict where it differs from the layer's (a rule only the layer applies)."""

    def config(self) -> dict[str, Any]:
        merged = {**BASE, **self.changes}
        return {key: value for key, value in merged.items() if value is not REMOVED}

    @property
    def glue_verdict(self) -> bool:
        return self.valid if self.glue_valid is None else self.glue_valid


def valid(case_id: str, **changes: Any) -> Case:
    return Case(case_id, True, changes)


def invalid(case_id: str, **changes: Any) -> Case:
    return Case(case_id, False, changes)


def layer_only(case_id: str, **changes: Any) -> Case:
    """Refused by the layer, accepted by the Glue job."""
    return Case(case_id, False, changes, glue_valid=True)


CASES: Final = (
    # --- valid ----------------------------------------------------------------------------------
    valid("minimal"),
    valid(
        "every option set",
        sequence_column_type="bigint",
        file_format="parquet",
        mode="history",
        full_load_layout="op_sequence",
        partition_by=["customer"],
        active=False,
    ),
    valid("defaults spelled out", file_format="csv", mode="current", full_load_layout="columns"),
    valid("full load with the sequence", full_load_layout="sequence"),
    valid("composite primary key", primary_key=["order_id", "customer"]),
    valid("no partitions", partition_by=[]),
    valid("source table with $ and -", source_table="sales$1.order-items"),
    valid("source table at the sort key's 1,024 bytes", source_table="s." + "t" * 1022),
    valid("target names of 255 characters", target_database="d" * 255, target_table="t" * 255),
    valid("column name of 255 characters", columns=_with_column("c" * 255)),
    valid("column names near the reserved ones", columns=_with_column("op_type")),
    valid("column name cdc_ without the underscore", columns=_with_column("cdc_op")),
    valid("upper-case type", columns=_with_column("note", "BIGINT")),
    valid("type with spaces around", columns=_with_column("note", " string ")),
    valid("decimal with spaces inside", columns=_with_column("note", "decimal( 38 , 0 )")),
    valid("upper-case decimal", columns=_with_column("note", "DECIMAL(10,2)")),
    valid("smallest decimal", columns=_with_column("note", "decimal(1,0)")),
    valid("decimal all scale", columns=_with_column("note", "decimal(38,38)")),
    # The Glue job refused these two spellings before it read the contract's type grammar.
    valid("decimal spaced before its parenthesis", columns=_with_column("note", "decimal (10,2)")),
    valid("decimal with leading zeros", columns=_with_column("note", "decimal(010,02)")),
    valid("string sequence", sequence_column_type="string"),
    valid("decimal sequence", sequence_column_type="decimal(18,0)"),
    valid(
        "every simple type",
        columns=_columns(
            ("order_id", "bigint"),
            ("a", "string"),
            ("b", "int"),
            ("c", "double"),
            ("d", "boolean"),
            ("e", "date"),
            ("f", "timestamp"),
        ),
    ),
    # --- invalid: names -------------------------------------------------------------------------
    *(
        invalid(f"no {key}", **{key: REMOVED})
        for key in (
            "source_table",
            "target_database",
            "target_table",
            "columns",
            "primary_key",
            "sequence_column",
        )
    ),
    invalid("source table without a schema", source_table="orders"),
    invalid("source table of three parts", source_table="sales.orders.x"),
    invalid("source table with a space", source_table="sales orders.x"),
    invalid("empty source table", source_table=""),
    invalid("source table not a string", source_table=7),
    # The Glue job matched "$" before a trailing newline before it used the contract's matches().
    invalid("source table with a trailing newline", source_table="sales.orders\n"),
    invalid("target database in upper case", target_database="Sales"),
    invalid("target table with a dash", target_table="orders-2026"),
    invalid("target table of 256 characters", target_table="t" * 256),
    invalid("target database with a trailing newline", target_database="sales\n"),
    # --- invalid: columns -----------------------------------------------------------------------
    invalid("empty columns", columns=[]),
    invalid("columns not a list", columns="order_id"),
    invalid("column without a type", columns=[*BASE["columns"], {"name": "note"}]),
    invalid("column without a name", columns=[*BASE["columns"], {"type": "string"}]),
    invalid("column type not a string", columns=[*BASE["columns"], {"name": "n", "type": 5}]),
    invalid("empty column name", columns=_with_column("")),
    *(
        invalid(f"column type {kind!r}", columns=_with_column("note", kind))
        for kind in (
            "varchar",
            "decimal(39,2)",
            "decimal(5,6)",
            "decimal(0,0)",
            "decimal(10)",
            "",
            "int; DROP TABLE x",
            "decimal(100,2)",
        )
    ),
    invalid("column names repeating ignoring case", columns=_with_column("Customer")),
    *(invalid(f"column {name!r}", columns=_with_column(name)) for name in ("Op", "op", "OP")),
    *(
        invalid(f"reserved column {name!r}", columns=_with_column(name))
        for name in (
            "_cdc_op",
            "_CDC_seq",
            "_cdc_rank",
            # The Glue job refused only its staging columns by name before it read the contract's
            # reserved prefix; a column named like the full-load Op field broke op_sequence loads.
            "_cdc_full_load_op",
            "_cdc_extra",
        )
    ),
    # --- invalid: column references -------------------------------------------------------------
    invalid("empty primary key", primary_key=[]),
    invalid("primary key not a column", primary_key=["missing"]),
    invalid("primary key in another case", primary_key=["ORDER_ID"]),
    invalid("primary key listing a column twice", primary_key=["order_id", "order_id"]),
    invalid(
        "primary key listing a column twice, ignoring case", primary_key=["order_id", "ORDER_ID"]
    ),
    invalid("primary key not a list", primary_key="order_id"),
    invalid("primary key of a number", primary_key=[1]),
    invalid("partition not a column", partition_by=["missing"]),
    invalid("partition on the sequence column", partition_by=["change_ts"]),
    invalid("partition listed twice", partition_by=["customer", "customer"]),
    invalid("partitions null", partition_by=None),
    invalid("sequence column also a data column", sequence_column="amount"),
    invalid("sequence column a data column ignoring case", sequence_column="AMOUNT"),
    *(
        invalid(f"sequence column {name!r}", sequence_column=name)
        for name in (
            "Op",
            "op",
            "_cdc_seq",
            "_cdc_change_ts",
            "",
        )
    ),
    invalid("sequence column not a string", sequence_column=5),
    # --- invalid: choices -----------------------------------------------------------------------
    invalid("boolean sequence", sequence_column_type="boolean"),
    invalid("upper-case boolean sequence", sequence_column_type="BOOLEAN"),
    invalid("unknown sequence type", sequence_column_type="varchar"),
    invalid("empty sequence type", sequence_column_type=""),
    invalid("unknown file format", file_format="json"),
    invalid("file format in upper case", file_format="CSV"),
    invalid("file format null", file_format=None),
    invalid("unknown mode", mode="upsert"),
    invalid("mode in another case", mode="History"),
    invalid("unknown full-load layout", full_load_layout="both"),
    # --- rules only the layer applies (the Glue job accepts) ------------------------------------
    # Names: the layer wants plain identifiers, safe to quote; the job quotes any name.
    layer_only("column name with a space", columns=_with_column("order note")),
    layer_only("column name starting with a digit", columns=_with_column("1st")),
    layer_only("column name with a dash", columns=_with_column("a-b")),
    layer_only("column name of 256 characters", columns=_with_column("c" * 256)),
    layer_only("sequence column with a space", sequence_column="change ts"),
    # The TableConfig table's sort key takes 1,024 bytes; the job bounds the keys it writes.
    layer_only("source table over 1,024 bytes", source_table="s." + "t" * 1023),
    # The job reads neither cadence nor active, and ignores keys it does not know.
    layer_only("no cadence", cadence=REMOVED),
    layer_only("cadence in upper case", cadence="Hourly"),
    layer_only("active not a boolean", active="no"),
    layer_only("unknown key (a typo)", partiton_by=["customer"]),
    layer_only(
        "unknown column key", columns=[*BASE["columns"], {"name": "n", "type": "int", "x": 1}]
    ),
)
