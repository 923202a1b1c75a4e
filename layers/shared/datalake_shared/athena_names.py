"""Athena identifiers: how a name is written into the SQL this project sends to Athena.

Two forms, one per grammar. Athena's DML (Trino: SELECT, MERGE, OPTIMIZE) takes any name
double-quoted with ``"`` doubled (``quote_identifier``). Its DDL (Hive: ALTER TABLE, and VACUUM,
which takes neither double quotes nor, for a leading underscore, a bare name) has no such
escape that both Athena and a strict parser read alike, so only plain names are written there,
bare, and anything else is refused (``ddl_name``). Shared by iceberg_cdc (MERGE, ADD COLUMNS)
and the maintenance planner (ALTER TABLE SET TBLPROPERTIES, OPTIMIZE, VACUUM).
"""

import re
from typing import Final

_PLAIN_NAME: Final = re.compile(r"[a-z_][a-z0-9_]*")
# Athena's DDL (Hive) reserved words: a bare identifier must not be one of them.
DDL_RESERVED: Final = frozenset(
    """all alter and array as authorization between bigint binary boolean both by case cache cast
    char column conf constraint commit create cross cube current current_date current_timestamp
    cursor database date dayofweek decimal delete describe distinct div double drop else end
    exchange exists extended external extract false fetch float floor following for foreign from
    full function grant group grouping having if import in inner insert int integer intersect
    interval into is join lateral left less like local macro map more none not null numeric of
    on only or order out outer over partialscan partition percent preceding precision preserve
    primary procedure range reads reduce regexp references revoke right rlike rollback rollup row
    rows select set smallint start table tablesample then time timestamp to transform trigger
    true truncate unbounded union uniquejoin update user using utc_timestamp values varchar views
    when where window with""".split()  # noqa: SIM905 - the documented list, as written
)
# Athena's SQL (Trino) reserved words, plus ANSI's ANY and UNIQUE: Hive DDL would take them
# bare, but a strict Trino parser reads them as SQL there (ADD COLUMNS (current_user string) is
# the CURRENT_USER function, (any string) an ANY quantifier), and every query of the table
# would have to quote them. A new column with such a name is not added (it stays reported).
SQL_RESERVED: Final = frozenset(
    """alter and any as between by case cast constraint create cross cube current_catalog
    current_date current_path current_role current_schema current_time current_timestamp
    current_user deallocate delete describe distinct drop else end escape except execute exists
    extract false for from full group grouping having in inner insert intersect into is join
    json_array json_exists json_object json_query json_table json_value left like listagg
    localtime localtimestamp natural normalize not null on or order outer prepare recursive
    right rollup select skip table then trim true uescape union unique unnest using values when
    where with""".split()  # noqa: SIM905 - the documented list, as written
)


class UnsafeIdentifierError(ValueError):
    """A name that cannot be written bare in Athena DDL."""


def quote_identifier(name: str) -> str:
    """A Trino (and DuckDB) quoted identifier: any text, ``"`` doubled."""
    return '"' + name.replace('"', '""') + '"'


def ddl_name(name: str) -> str:
    """A bare identifier for Athena DDL (Hive), which takes backticks, not double quotes, for
    quoting: so only plain lowercase names reserved neither in DDL nor in SQL are written, and
    anything else is refused."""
    reserved = name in DDL_RESERVED or name in SQL_RESERVED
    if not _PLAIN_NAME.fullmatch(name) or reserved or len(name) > 255:
        raise UnsafeIdentifierError(f"{name!r} is not a plain, unreserved lowercase identifier")
    return name


def is_plain_name(name: str) -> bool:
    try:
        ddl_name(name)
    except UnsafeIdentifierError:
        return False
    return True
