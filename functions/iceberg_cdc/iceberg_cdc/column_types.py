"""Glue (Hive) column types for iceberg_cdc: the parser and renderers are datalake_shared's
(``glue_types``, shared with the pipeline config's CDC tables); here, what a new column gets
from a DynamoDB value (UNKNOWN_ATTRIBUTES=add).
"""

from typing import Final

from datalake_shared.athena_names import quote_identifier
from datalake_shared.glue_types import (
    MAX_CHAR_LENGTH,
    MAX_DECIMAL_PRECISION,
    MAX_VARCHAR_LENGTH,
    ArrayType,
    ColumnType,
    MapType,
    ScalarType,
    StructField,
    StructType,
    TypeParseError,
    contains_struct,
    parse_glue_type,
)
from iceberg_cdc.attribute_values import DynamoValue, type_tag

__all__ = [
    "INFERRED_GLUE_TYPES",
    "MAX_CHAR_LENGTH",
    "MAX_DECIMAL_PRECISION",
    "MAX_VARCHAR_LENGTH",
    "ArrayType",
    "ColumnType",
    "MapType",
    "ScalarType",
    "StructField",
    "StructType",
    "TypeParseError",
    "contains_struct",
    "infer_glue_type",
    "parse_glue_type",
    "quote_identifier",
]


# What a new column gets (UNKNOWN_ATTRIBUTES=add) from the DynamoDB type of its first value.
# Numbers: decimal(38,9) holds money, counts and epoch times exactly whatever the first value
# looks like (a column inferred "bigint" from 5 would reject 5.5 later). Maps and lists are
# heterogeneous in DynamoDB, so they land as JSON text.
INFERRED_GLUE_TYPES: Final = {
    "S": "string",
    "N": "decimal(38,9)",
    "B": "binary",
    "BOOL": "boolean",
    "SS": "array<string>",
    "NS": "array<decimal(38,9)>",
    "BS": "array<binary>",
    "M": "string",
    "L": "string",
}


def infer_glue_type(value: DynamoValue) -> str | None:
    """The Glue type a new column gets for this value; None for NULL (nothing to infer from)."""
    return INFERRED_GLUE_TYPES.get(type_tag(value))
