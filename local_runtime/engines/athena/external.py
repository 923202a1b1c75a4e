# ruff: noqa: S608 - statements are built from quoted identifiers and escaped literals only.
"""External tables (CSV with OpenCSVSerde / LazySimpleSerDe, JSON lines, Parquet): each is a
DuckDB view over local copies of the objects under its S3 location, refreshed at every query
that reads it; partitions come from partition projection, or else from the Glue partitions."""

import calendar
import datetime
import gzip
import json
import re
import shutil
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from local_runtime.engines.athena.catalog import CatalogTable
from local_runtime.engines.athena.glue_types import quote_identifier, quote_literal
from local_runtime.engines.athena.outcomes import AthenaQueryError
from local_runtime.engines.athena.tables import LakeTables

_HIDDEN_PREFIXES: Final = ("_", ".")
_HIVE_NULL_PARTITION: Final = "__HIVE_DEFAULT_PARTITION__"


_JAVA_DATE_FIELDS: Final = {
    "yyyy": "%Y",
    "yy": "%y",
    "MM": "%m",
    "dd": "%d",
    "HH": "%H",
    "mm": "%M",
    "ss": "%S",
}
_RELATIVE_UNITS: Final = {
    "SECOND": datetime.timedelta(seconds=1),
    "MINUTE": datetime.timedelta(minutes=1),
    "HOUR": datetime.timedelta(hours=1),
    "DAY": datetime.timedelta(days=1),
    "WEEK": datetime.timedelta(weeks=1),
}


def _strptime_format(java_format: str) -> str:
    """A Java DateTimeFormatter pattern (yyyy-MM-dd, yyyy/MM/dd/HH...) as a strptime format."""
    out: list[str] = []
    position = 0
    while position < len(java_format):
        for pattern, directive in _JAVA_DATE_FIELDS.items():
            if java_format.startswith(pattern, position):
                out.append(directive)
                position += len(pattern)
                break
        else:
            char = java_format[position]
            if char.isalpha():
                raise ValueError(f"date pattern letter {char!r} is not supported locally")
            out.append("%%" if char == "%" else char)
            position += 1
    return "".join(out)


def _add_months(moment: datetime.datetime, months: int) -> datetime.datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def _range_bound(text: str, date_format: str, now: datetime.datetime) -> datetime.datetime:
    """A date projection range bound: a date in the format, NOW, or NOW[+-]<n><UNIT>S."""
    bound = text.strip()
    if not bound.upper().startswith("NOW"):
        return datetime.datetime.strptime(bound, date_format).replace(tzinfo=datetime.UTC)
    offset = bound[3:].strip().upper()
    if not offset:
        return now
    sign = -1 if offset[0] == "-" else 1
    amount_text = "".join(c for c in offset[1:] if c.isdigit())
    unit = "".join(c for c in offset[1:] if c.isalpha()).removesuffix("S")
    amount = sign * int(amount_text or "0")
    if unit == "YEAR":
        return _add_months(now, 12 * amount)
    if unit == "MONTH":
        return _add_months(now, amount)
    if unit not in _RELATIVE_UNITS:
        raise ValueError(f"range bound {text!r} is not understood")
    return now + amount * _RELATIVE_UNITS[unit]


@dataclass(frozen=True)
class _Projection:
    """Partition projection of one column: is a value one of the projected partitions?"""

    column: str
    kind: str
    parameters: Mapping[str, str]

    def accepts(self, value: str, now: datetime.datetime) -> bool:  # noqa: PLR0911
        p = self.parameters
        if self.kind == "enum":
            return value in [v.strip() for v in p.get("values", "").split(",")]
        if self.kind == "integer":
            if not value.lstrip("-").isdigit():
                return False
            low, _, high = p.get("range", "").partition(",")
            return not low or int(low) <= int(value) <= int(high)
        if self.kind == "date":
            date_format = _strptime_format(p.get("format", "yyyy-MM-dd"))
            try:
                moment = datetime.datetime.strptime(value, date_format).replace(tzinfo=datetime.UTC)
            except ValueError:
                return False
            low, _, high = p.get("range", "").partition(",")
            if not low:
                return True
            return (
                _range_bound(low, date_format, now)
                <= moment
                <= _range_bound(high, date_format, now)
            )
        return True  # injected: any value the query gives


def _template_matcher(
    template: str, columns: Sequence[str]
) -> Callable[[str], dict[str, str] | None]:
    """Matches an object URI against storage.location.template (``.../dt=${dt}/``)."""
    pattern = "^"
    rest = template if template.endswith("/") else template + "/"
    while "${" in rest:
        literal, _, after = rest.partition("${")
        name, _, rest = after.partition("}")
        pattern += re.escape(literal) + f"(?P<p{columns.index(name.lower())}>[^/]+)"
    pattern += re.escape(rest)
    compiled = re.compile(pattern)

    def match(uri: str) -> dict[str, str] | None:
        found = compiled.match(uri)
        if found is None:
            return None
        return {columns[int(group[1:])]: value for group, value in found.groupdict().items()}

    return match


def _s3_uri(location: str) -> str:
    for scheme in ("s3a://", "s3n://"):
        if location.startswith(scheme):
            location = "s3://" + location[len(scheme) :]
    return location if location.endswith("/") else location + "/"


def _split_uri(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


def _visible(key: str) -> bool:
    name = key.rsplit("/", 1)[-1]
    return bool(name) and not name.startswith(_HIDDEN_PREFIXES) and not key.endswith("$folder$")


def _local_name(index: int, key: str) -> str:
    name = key.rsplit("/", 1)[-1]
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
    return f"{index:06d}-{safe}"


def _sql_char(char: str) -> str:
    """A one-character option (delimiter, quote...) as a DuckDB constant expression."""
    if not char:
        return "''"
    return quote_literal(char) if char.isprintable() else f"chr({ord(char)})"


def _lower_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k).lower(): _lower_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lower_keys(v) for v in value]
    return value


def _normalised_json_lines(table: CatalogTable, text: str, uri: str) -> str:
    """JSON lines as the OpenX SerDe reads them: keys case-insensitive, ``mapping.*`` applied."""
    mapping = {
        json_key.lower(): name.removeprefix("mapping.").lower()
        for name, json_key in table.serde_parameters.items()
        if name.startswith("mapping.")
    }
    ignore = table.serde_parameters.get("ignore.malformed.json", "").lower() == "true"
    lines: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            if not isinstance(record, dict):
                raise ValueError("not a JSON object")
        except ValueError as error:
            if ignore:
                lines.append("{}")
                continue
            raise AthenaQueryError(
                "HIVE_BAD_DATA",
                f"Error parsing field value of {uri} line {number}: {error}",
                error_type=1001,
            ) from error
        lowered = _lower_keys(record)
        lines.append(json.dumps({mapping.get(k, k): v for k, v in lowered.items()}))
    return "".join(line + "\n" for line in lines)


def _csv_source(table: CatalogTable, files: Sequence[Path]) -> str:
    serde = table.serde_parameters
    skip = int(table.parameters.get("skip.header.line.count", "0") or 0)
    if table.format == "opencsv":
        delimiter = serde.get("separatorChar", ",")
        quote = serde.get("quoteChar", '"')
        escape = serde.get("escapeChar", quote)
        null = "chr(0)"  # OpenCSVSerde has no NULL text: an empty field is ''
    else:
        delimiter = serde.get("field.delim") or serde.get("serialization.format") or "\x01"
        quote = ""  # LazySimpleSerDe does not quote
        escape = serde.get("escape.delim", "")
        null = quote_literal(serde.get("serialization.null.format", "\\N"))
    columns = ", ".join(f"{quote_literal(f'c{i}')}: 'VARCHAR'" for i in range(len(table.columns)))
    paths = ", ".join(quote_literal(str(path)) for path in files)
    return (
        f"read_csv([{paths}], header = false, skip = {skip}, auto_detect = false, "
        f"delim = {_sql_char(delimiter)}, quote = {_sql_char(quote)}, "
        f"escape = {_sql_char(escape)}, nullstr = {null}, columns = {{{columns}}}, "
        "null_padding = true, strict_mode = false, parallel = false)"
    )


def _null_for_invalid_data(table: CatalogTable) -> bool:
    return table.parameters.get("use.null.for.invalid.data", "").lower() == "true"


def _external_select(
    table: CatalogTable, groups: Sequence[tuple[tuple[str | None, ...], list[Path]]]
) -> str:
    """The view's SELECT: one branch per partition, or typed NULLs and no rows when empty."""
    selects: list[str] = []
    for values, files in groups:
        fields: list[str] = []
        if table.format in ("opencsv", "lazy"):
            source = _csv_source(table, files)
            # LazySimpleSerDe reads a value not of its column's type as NULL, and so does
            # OpenCSVSerDe with use.null.for.invalid.data; otherwise the query fails.
            lenient = table.format == "lazy" or _null_for_invalid_data(table)
            cast = "TRY_CAST" if lenient else "CAST"
            for index, (name, glue_type) in enumerate(table.columns):
                raw = quote_identifier(f"c{index}")
                value = (
                    raw
                    if glue_type.is_string
                    else (f"{cast}(NULLIF({raw}, '') AS {glue_type.duckdb()})")
                )
                fields.append(f"{value} AS {quote_identifier(name)}")
        elif table.format == "json":
            columns = ", ".join(
                f"{quote_literal(name)}: {quote_literal(glue_type.duckdb())}"
                for name, glue_type in table.columns
            )
            paths = ", ".join(quote_literal(str(path)) for path in files)
            source = f"read_json([{paths}], format = 'newline_delimited', columns = {{{columns}}})"
            fields = [quote_identifier(name) for name, _ in table.columns]
        else:  # parquet
            paths = ", ".join(quote_literal(str(path)) for path in files)
            source = f"read_parquet([{paths}], union_by_name = true)"
            fields = [
                f"CAST({column} AS {glue_type.duckdb()}) AS {column}"
                for column, glue_type in ((quote_identifier(n), t) for n, t in table.columns)
            ]
        for (name, glue_type), partition in zip(table.partition_keys, values, strict=True):
            literal = "NULL" if partition is None else quote_literal(partition)
            fields.append(f"CAST({literal} AS {glue_type.duckdb()}) AS {quote_identifier(name)}")
        selects.append(f"SELECT {', '.join(fields)} FROM {source}")
    if selects:
        return " UNION ALL ".join(selects)
    empty = ", ".join(
        f"CAST(NULL AS {glue_type.duckdb()}) AS {quote_identifier(name)}"
        for name, glue_type in (*table.columns, *table.partition_keys)
    )
    return f"SELECT {empty} WHERE false"


class ExternalTables(LakeTables):
    """The lake, with the views of external tables refreshed from S3."""

    def _refresh_external(self, table: CatalogTable) -> None:
        """(Re)creates the view of an external table over fresh copies of its objects."""
        directory = self.data_dir / table.database / table.name
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True, exist_ok=True)
        groups: dict[tuple[str | None, ...], list[Path]] = {}
        for index, (uri, values) in enumerate(self._table_objects(table)):
            local = directory / _local_name(index, uri)
            self._download(table, uri, local)
            groups.setdefault(values, []).append(local)
        kind, _ = self._existing(table)
        if kind == "table":
            self._statement(f"DROP TABLE {table.qualified}")
        select = _external_select(
            table, sorted(groups.items(), key=lambda g: [v or "" for v in g[0]])
        )
        self._statement(f"CREATE OR REPLACE VIEW {table.qualified} AS {select}")

    def _download(self, table: CatalogTable, uri: str, local: Path) -> None:
        bucket, key = _split_uri(uri)
        body = self._s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        if table.format != "json":
            local.write_bytes(body)
            return
        if key.endswith(".gz"):
            body = gzip.decompress(body)
        local.write_text(_normalised_json_lines(table, body.decode("utf-8"), uri))

    def _list(self, prefix_uri: str) -> Iterator[str]:
        bucket, prefix = _split_uri(prefix_uri)
        paginator = self._s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                key = item["Key"]
                if item.get("Size", 0) > 0 and _visible(key):
                    yield f"s3://{bucket}/{key}"

    def _table_objects(self, table: CatalogTable) -> Iterator[tuple[str, tuple[str | None, ...]]]:
        """Each object the table reads, with its partition values (in partition key order)."""
        if not table.location.startswith(("s3://", "s3a://", "s3n://")):
            raise AthenaQueryError(
                "NOT_SUPPORTED", f"table {table.database}.{table.name} has no s3:// location"
            )
        location = _s3_uri(table.location)
        keys = [name for name, _ in table.partition_keys]
        if not keys:
            for uri in self._list(location):
                yield uri, ()
            return
        if table.parameters.get("projection.enabled", "").lower() == "true":
            yield from self._projected_objects(table, location, keys)
            return
        for partition in self._glue_partitions(table):
            values = tuple(None if v == _HIVE_NULL_PARTITION else v for v in partition["Values"])
            part_location = (partition.get("StorageDescriptor") or {}).get("Location")
            prefix = (
                _s3_uri(part_location)
                if part_location
                else location
                + "/".join(f"{k}={v}" for k, v in zip(keys, partition["Values"], strict=False))
                + "/"
            )
            for uri in self._list(prefix):
                yield uri, values

    def _glue_partitions(self, table: CatalogTable) -> Iterator[Mapping[str, Any]]:
        paginator = self._glue.get_paginator("get_partitions")
        for page in paginator.paginate(DatabaseName=table.database, TableName=table.name):
            yield from page["Partitions"]

    def _projected_objects(
        self, table: CatalogTable, location: str, keys: Sequence[str]
    ) -> Iterator[tuple[str, tuple[str | None, ...]]]:
        template = _s3_uri(
            table.parameters.get("storage.location.template")
            or location + "/".join(f"{k}=${{{k}}}" for k in keys)
        )
        try:
            match = _template_matcher(template, keys)
            projections = [
                _Projection(
                    column=key,
                    kind=table.parameters.get(f"projection.{key}.type", "injected").lower(),
                    parameters={
                        name.removeprefix(f"projection.{key}.").lower(): value
                        for name, value in table.parameters.items()
                        if name.startswith(f"projection.{key}.")
                    },
                )
                for key in keys
            ]
        except ValueError as error:  # a ${name} that is not a partition key
            raise AthenaQueryError(
                "HIVE_INVALID_METADATA",
                f"partition projection of {table.database}.{table.name}: {error}",
            ) from error
        now = self.now()
        for uri in self._list(template.partition("${")[0]):
            found = match(uri)
            if found is None or len(found) != len(keys):
                continue
            try:
                if all(p.accepts(found[p.column], now) for p in projections):
                    yield uri, tuple(found[key] for key in keys)
            except ValueError as error:
                raise AthenaQueryError(
                    "HIVE_INVALID_METADATA",
                    f"partition projection of {table.database}.{table.name}: {error}",
                ) from error
