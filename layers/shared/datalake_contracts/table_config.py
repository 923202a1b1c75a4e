"""The TableConfig contract: what one table's config may say, and how the TableConfig table
keeps it.

Two validators read a TableConfig: the shared layer's pydantic model (datalake_shared
.pipeline_config, when a config file is loaded) and the Glue job's parser (cdc_merge.table_spec,
for each table of a batch). Both take from here the field names, the choices and their
defaults, the name rules, the column type grammar and the limits.

The pipeline config file's layout (what ``columns`` hold, where the sequence column sits in DMS
files) is described in datalake_shared.pipeline_config.
"""

import re
from typing import Final, Literal, get_args

from datalake_contracts.dynamodb_keys import MAX_SORT_KEY_BYTES

# --- field names: the keys of a TableConfig, in the config file and in the stored JSON ----------

CADENCE: Final = "cadence"
SOURCE_TABLE: Final = "source_table"
TARGET_DATABASE: Final = "target_database"
TARGET_TABLE: Final = "target_table"
COLUMNS: Final = "columns"
PRIMARY_KEY: Final = "primary_key"
SEQUENCE_COLUMN: Final = "sequence_column"
SEQUENCE_COLUMN_TYPE: Final = "sequence_column_type"
FILE_FORMAT: Final = "file_format"
MODE: Final = "mode"
FULL_LOAD_LAYOUT: Final = "full_load_layout"
PARTITION_BY: Final = "partition_by"
ACTIVE: Final = "active"
# Read by the maintenance planner only (datalake_shared.table_maintenance); the Glue job ignores it.
MAINTENANCE: Final = "maintenance"
FIELDS: Final = (
    CADENCE,
    SOURCE_TABLE,
    TARGET_DATABASE,
    TARGET_TABLE,
    COLUMNS,
    PRIMARY_KEY,
    SEQUENCE_COLUMN,
    SEQUENCE_COLUMN_TYPE,
    FILE_FORMAT,
    MODE,
    FULL_LOAD_LAYOUT,
    PARTITION_BY,
    ACTIVE,
    MAINTENANCE,
)
# The keys of one entry of ``columns``.
COLUMN_NAME: Final = "name"
COLUMN_TYPE: Final = "type"
COLUMN_FIELDS: Final = (COLUMN_NAME, COLUMN_TYPE)

# --- choices and defaults -----------------------------------------------------------------------

FileFormat = Literal["csv", "parquet"]
# current: the table holds each key's latest row; history: every change, with its op and sequence.
Mode = Literal["current", "history"]
# What precedes the data columns in full-load files: nothing; the sequence column (DMS
# TimestampColumnName adds it to full loads too); or Op and the sequence column
# (IncludeOpForFullLoad as well).
FullLoadLayout = Literal["columns", "sequence", "op_sequence"]
FILE_FORMATS: Final[tuple[str, ...]] = get_args(FileFormat)
MODES: Final[tuple[str, ...]] = get_args(Mode)
FULL_LOAD_LAYOUTS: Final[tuple[str, ...]] = get_args(FullLoadLayout)
DEFAULT_FILE_FORMAT: Final = "csv"
DEFAULT_MODE: Final = "current"
DEFAULT_FULL_LOAD_LAYOUT: Final = "columns"
DEFAULT_SEQUENCE_COLUMN_TYPE: Final = "timestamp"
DEFAULT_ACTIVE: Final = True

# --- names --------------------------------------------------------------------------------------
# Patterns match a whole value (``matches``): "$" must not let a trailing newline through.

CADENCE_PATTERN: Final = r"^[a-z0-9][a-z0-9_-]{0,39}$"
SOURCE_TABLE_PATTERN: Final = r"^[A-Za-z0-9_$-]+\.[A-Za-z0-9_$-]+$"
# The source table is the sort key of the TableConfig table (the pattern is ASCII, so
# characters are bytes).
MAX_SOURCE_TABLE_LENGTH: Final = MAX_SORT_KEY_BYTES
TARGET_NAME_PATTERN: Final = r"^[a-z0-9_]{1,255}$"
# Letters, digits and underscores only: names are safe to quote in the SQL we generate.
COLUMN_NAME_PATTERN: Final = r"^[A-Za-z_][A-Za-z0-9_]{0,254}$"
# DMS's operation column (I, U or D), first in CDC files: never a data or sequence column.
OPERATION_COLUMN: Final = "Op"
# The merge job stages its bookkeeping columns as _cdc_op, _cdc_seq... (cdc_merge.table_spec):
# no data or sequence column may start so (compared ignoring case).
RESERVED_COLUMN_PREFIX: Final = "_cdc_"


def matches(pattern: str, value: str) -> bool:
    """Whether ``value`` as a whole matches one of the patterns above."""
    return re.fullmatch(pattern, value) is not None


def is_operation_column(name: str) -> bool:
    return name.casefold() == OPERATION_COLUMN.casefold()


def is_reserved_column(name: str) -> bool:
    """A name the merge job keeps for its own staging columns."""
    return name.lower().startswith(RESERVED_COLUMN_PREFIX)


# --- column types -------------------------------------------------------------------------------

SIMPLE_TYPES: Final = ("string", "int", "bigint", "double", "boolean", "date", "timestamp")
MAX_DECIMAL_PRECISION: Final = 38
# decimal(p,s) with 1 <= p <= 38 and 0 <= s <= p, any case, spaces allowed around the numbers.
_DECIMAL = re.compile(r"decimal\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)")
# Types that cannot order changes, so cannot be the sequence column's.
UNORDERED_TYPES: Final = ("boolean",)


def canonical_column_type(value: str) -> str | None:
    """The canonical spelling of a column type (lower case, ``decimal(p,s)`` without spaces),
    or None when ``value`` is not one."""
    spelled = value.strip().lower()
    if spelled in SIMPLE_TYPES:
        return spelled
    decimal = _DECIMAL.fullmatch(spelled)
    if decimal is None:
        return None
    precision, scale = int(decimal[1]), int(decimal[2])
    if not 1 <= precision <= MAX_DECIMAL_PRECISION or scale > precision:
        return None
    return f"decimal({precision},{scale})"


def is_decimal_spelling(value: str) -> bool:
    """Whether ``value`` is spelled as a decimal(p,s), whatever its numbers (to say which rule
    an unknown type breaks)."""
    return _DECIMAL.fullmatch(value.strip().lower()) is not None


# --- the TableConfig table (TableConfigTable in template.yaml) ----------------------------------
# One item per table, keyed (cadence, source_table), holding the validated TableConfig as JSON in
# "config" (written by datalake_shared.config_store, read by the batch planner and the Glue job).

ITEM_PARTITION_KEY: Final = CADENCE
ITEM_SORT_KEY: Final = SOURCE_TABLE
ITEM_ACTIVE_ATTRIBUTE: Final = ACTIVE
ITEM_CONFIG_ATTRIBUTE: Final = "config"
ITEM_UPDATED_AT_ATTRIBUTE: Final = "updated_at"
