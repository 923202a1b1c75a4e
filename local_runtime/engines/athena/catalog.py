"""A Glue table as the engine reads it: its columns, partition keys, storage format, location
and parameters, and why it cannot be read locally when it cannot."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from local_runtime.engines.athena.glue_types import (
    GlueType,
    GlueTypeError,
    parse_glue_type,
    quote_identifier,
)

CATALOG: Final = "awsdatacatalog"  # the DuckDB file is attached under Athena's catalog name
DEFAULT_DATABASE: Final = "default"

_CSV_SERDES: Final = {
    "org.apache.hadoop.hive.serde2.OpenCSVSerde": "opencsv",
    "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe": "lazy",
}
_JSON_SERDES: Final = frozenset(
    {"org.openx.data.jsonserde.JsonSerDe", "org.apache.hive.hcatalog.data.JsonSerDe"}
)
_PARQUET_SERDE: Final = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"


@dataclass(frozen=True)
class CatalogTable:
    """What the engine needs of a Glue table."""

    database: str
    name: str
    columns: tuple[tuple[str, GlueType], ...]
    partition_keys: tuple[tuple[str, GlueType], ...]
    format: str  # iceberg | opencsv | lazy | json | parquet | unsupported
    location: str
    parameters: Mapping[str, str]
    serde_parameters: Mapping[str, str]
    problem: str | None = None  # why it cannot be read locally

    @property
    def is_iceberg(self) -> bool:
        return self.format == "iceberg"

    @property
    def qualified(self) -> str:
        names = (CATALOG, self.database, self.name)
        return ".".join(quote_identifier(name) for name in names)

    @classmethod
    def from_glue(cls, table: Mapping[str, Any]) -> "CatalogTable":
        parameters = {str(k): str(v) for k, v in (table.get("Parameters") or {}).items()}
        storage = table.get("StorageDescriptor") or {}
        serde = storage.get("SerdeInfo") or {}
        library = str(serde.get("SerializationLibrary", ""))
        problem: str | None = None
        columns: list[tuple[str, GlueType]] = []
        keys: list[tuple[str, GlueType]] = []
        for source, target in (
            (storage.get("Columns") or [], columns),
            (table.get("PartitionKeys") or [], keys),
        ):
            for column in source:
                try:
                    target.append((str(column["Name"]).lower(), parse_glue_type(column["Type"])))
                except (GlueTypeError, KeyError) as error:
                    problem = f"column {column.get('Name')!r}: {error}"
        if parameters.get("table_type", "").upper() == "ICEBERG":
            kind = "iceberg"
        elif table.get("TableType") == "VIRTUAL_VIEW":
            kind, problem = "unsupported", problem or "views are not supported locally"
        elif library in _CSV_SERDES:
            kind = _CSV_SERDES[library]
        elif library in _JSON_SERDES:
            kind = "json"
        elif library == _PARQUET_SERDE:
            kind = "parquet"
        else:
            kind, problem = (
                "unsupported",
                problem or f"SerDe {library or '(none)'} is not supported locally",
            )
        return cls(
            database=str(table["DatabaseName"]).lower(),
            name=str(table["Name"]).lower(),
            columns=tuple(columns),
            partition_keys=tuple(keys),
            format=kind,
            location=str(storage.get("Location", "")),
            parameters=parameters,
            serde_parameters={str(k): str(v) for k, v in (serde.get("Parameters") or {}).items()},
            problem=problem,
        )
