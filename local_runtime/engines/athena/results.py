"""Result sets as Athena prints them: each value's text (Trino's spelling of doubles, decimals,
timestamps, arrays, maps and rows) and each column's type in GetQueryResults' ColumnInfo."""

import datetime
import decimal
import math
import struct
from typing import Any, Final

from local_runtime.engines.athena.outcomes import ResultColumn


def _java_double(value: float) -> str:
    """A double as Trino prints it (Java's Double.toString)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign = "-" if value < 0 else ""
    _, digit_tuple, exponent = decimal.Decimal(repr(abs(value))).as_tuple()
    digits = "".join(str(d) for d in digit_tuple)
    assert isinstance(exponent, int)
    stripped = digits.rstrip("0")
    exponent += len(digits) - len(stripped)
    digits = stripped.lstrip("0") or "0"
    magnitude = len(digits) - 1 + exponent  # position of the first digit
    if -3 <= magnitude < 7:
        text = format(decimal.Decimal(f"{digits}E{exponent}"), "f")
        return sign + (text if "." in text else text + ".0")
    mantissa = digits[0] + "." + (digits[1:] or "0")
    return f"{sign}{mantissa}E{magnitude}"


def _java_float(value: float) -> str:
    """A REAL: the shortest decimal that reads back as the same 32-bit float."""
    if math.isnan(value) or math.isinf(value):
        return _java_double(value)
    for digits in range(1, 10):
        candidate = float(f"{value:.{digits}g}")
        if struct.unpack("f", struct.pack("f", candidate))[0] == value:
            return _java_double(candidate)
    return _java_double(value)


_INTEGER_TYPES: Final = {
    "tinyint": "tinyint",
    "smallint": "smallint",
    "integer": "integer",
    "bigint": "bigint",
    "utinyint": "smallint",
    "usmallint": "integer",
    "uinteger": "bigint",
    "ubigint": "decimal",
    "hugeint": "decimal",
    "uhugeint": "decimal",
}
_TIMESTAMP_DIGITS: Final = {"timestamp_s": 0, "timestamp_ms": 3, "timestamp": 6, "timestamp_ns": 6}
_ATHENA_TYPES: Final = {
    "varchar": "varchar",
    "boolean": "boolean",
    "double": "double",
    "float": "float",
    "decimal": "decimal",
    "date": "date",
    "time": "time",
    "timestamp with time zone": "timestamp with time zone",
    "blob": "varbinary",
    "uuid": "uuid",
    "interval": "interval day to second",
    "list": "array",
    "array": "array",
    "map": "map",
    "struct": "row",
    "tuple": "row",
    **{name: "timestamp" for name in _TIMESTAMP_DIGITS},
    **_INTEGER_TYPES,
}


def _children(duck_type: Any) -> list[tuple[str, Any]]:
    return list(duck_type.children)


def column_info(name: str, duck_type: Any) -> ResultColumn:
    kind = str(duck_type.id)
    athena = "json" if str(duck_type) == "JSON" else _ATHENA_TYPES.get(kind, "varchar")
    precision, scale = 0, 0
    if kind == "decimal":
        parts = dict(_children(duck_type))
        precision, scale = int(parts["precision"]), int(parts["scale"])
    elif kind in _INTEGER_TYPES and athena == "decimal":
        precision = 38
    elif athena == "varchar":
        precision = 2147483647
    elif athena == "timestamp":
        precision = _TIMESTAMP_DIGITS.get(kind, 3)
    return ResultColumn(name=name, type=athena, precision=precision, scale=scale)


def _timestamp_text(value: datetime.datetime, digits: int) -> str:
    text = value.strftime("%Y-%m-%d %H:%M:%S")
    if digits:
        text += "." + f"{value.microsecond:06d}"[:digits]
    return text


def _value_text(value: Any, duck_type: Any) -> str:  # noqa: PLR0911 - one return per type
    """A non-NULL value as Athena's console and GetQueryResults print it."""
    kind = str(duck_type.id)
    if kind in ("list", "array"):
        element = dict(_children(duck_type))["child"]
        return "[" + ", ".join(_nested_text(item, element) for item in value) + "]"
    if kind == "map":
        parts = dict(_children(duck_type))
        return (
            "{"
            + ", ".join(
                f"{_nested_text(k, parts['key'])}={_nested_text(v, parts['value'])}"
                for k, v in value.items()
            )
            + "}"
        )
    if kind in ("struct", "tuple"):  # a tuple is an anonymous ROW(...): printed field0=...
        fields = _children(duck_type)
        items = value.values() if isinstance(value, dict) else value
        return (
            "{"
            + ", ".join(
                f"{name or f'field{index}'}={_nested_text(item, child)}"
                for index, ((name, child), item) in enumerate(zip(fields, items, strict=True))
            )
            + "}"
        )
    if isinstance(value, bool):
        return "true" if value else "false"
    if kind == "double":
        return _java_double(float(value))
    if kind == "float":
        return _java_float(float(value))
    if isinstance(value, decimal.Decimal):
        return format(value, "f")
    if kind == "timestamp with time zone" and isinstance(value, datetime.datetime):
        return _timestamp_text(value.astimezone(datetime.UTC), 3) + " UTC"
    if kind in _TIMESTAMP_DIGITS and isinstance(value, datetime.datetime):
        return _timestamp_text(value, _TIMESTAMP_DIGITS[kind])
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return " ".join(f"{byte:02x}" for byte in bytes(value))
    return str(value)


def _nested_text(value: Any, duck_type: Any) -> str:
    return "null" if value is None else _value_text(value, duck_type)


def athena_text(value: Any, duck_type: Any) -> str | None:
    """A result value as GetQueryResults' VarCharValue (None: the field has no value: NULL)."""
    return None if value is None else _value_text(value, duck_type)
