"""DynamoDB values converted to a column's type, exactly or not at all.

A value that cannot become the column's type without changing it (a number with more decimals
than the column's scale, 5.5 into a bigint, text into a date...) raises ``ConversionError``:
that key's change fails and is reported; it never reaches SQL, and it never fails the batch.

Converted values are plain Python: str, int, Decimal, float, bool, date, datetime (naive, UTC),
bytes, list (array), dict (map: converted keys; struct: every field, None when absent), None.
"""

import base64
import json
import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Context, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Final

from iceberg_cdc.attribute_values import (
    DecodeError,
    DynamoValue,
    PathError,
    parse_number,
    sorted_members,
    type_tag,
)
from iceberg_cdc.column_types import ArrayType, ColumnType, MapType, ScalarType, StructType

type ColumnValue = (
    str
    | int
    | Decimal
    | float
    | bool
    | date
    | datetime
    | bytes
    | list[ColumnValue]
    | dict[object, ColumnValue]
    | None
)

INTEGER_RANGES: Final = {
    "tinyint": (-(2**7), 2**7 - 1),
    "smallint": (-(2**15), 2**15 - 1),
    "int": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
}
MAX_REAL: Final = 3.4028234663852886e38
_EPOCH: Final = datetime(1970, 1, 1)
_MICROS_PER_MILLI: Final = 1000


class ConversionError(PathError):
    """A value that cannot be stored in its column as it is."""


def _describe(value: DynamoValue) -> str:
    return f"a DynamoDB {type_tag(value)} value"


# ------------------------------------------------------------------------------ JSON text


# What json.dumps(ensure_ascii=False) leaves as it is: everything but '"', '\\' and controls.
_JSON_PLAIN: Final = re.compile(r'[^"\\\x00-\x1f]*')


def _json_string(text: str) -> str:
    # Printable ASCII without '"' or '\\' (most text) is plain: no need to ask the pattern.
    if (text.isascii() and text.isprintable() and '"' not in text and "\\" not in text) or (
        _JSON_PLAIN.fullmatch(text)
    ):
        return f'"{text}"'
    return json.dumps(text, ensure_ascii=False)


def _json_object(value: dict[str, DynamoValue]) -> str:
    members = [
        f"{_json_string(name)}:{json_text(value[name])}"  # decoded map keys are always text
        for name in sorted(value)
    ]
    return "{" + ",".join(members) + "}"


def _json_array(value: list[DynamoValue]) -> str:
    return "[" + ",".join([json_text(member) for member in value]) + "]"


def _json_set(value: frozenset[str] | frozenset[Decimal] | frozenset[bytes]) -> str:
    return "[" + ",".join([json_text(member) for member in sorted_members(value)]) + "]"


# By the value's type, found once per value (a subclass by the first of its bases listed).
_JSON_WRITERS: Final[dict[type, Callable[[Any], str]]] = {
    str: _json_string,
    dict: _json_object,
    list: _json_array,
    Decimal: str,
    type(None): lambda _: "null",
    bool: lambda value: "true" if value else "false",
    bytes: lambda value: json.dumps(base64.b64encode(value).decode("ascii")),
    frozenset: _json_set,
}


def json_text(value: DynamoValue) -> str:
    """Canonical JSON for a value stored in a string column (maps, lists, sets).

    Keys sorted, compact separators, unicode kept as is; numbers written exactly as DynamoDB
    holds them (never through float); sets become sorted arrays, binaries base64 strings.
    Written by hand because ``json.dumps`` can only emit Decimals through float.
    """
    if type(value) is str:  # the most common member, without the table
        return _json_string(value)
    write = _JSON_WRITERS.get(type(value))
    if write is None:
        write = next((w for base in type(value).__mro__ if (w := _JSON_WRITERS.get(base))), None)
        if write is None:
            raise TypeError(f"not a decoded DynamoDB value: {type(value).__name__}")
    return write(value)


# ------------------------------------------------------------------------------ scalars


def _number(value: DynamoValue) -> Decimal:
    """N, or S holding a number (numbers are often stored as text)."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, str):
        try:
            return parse_number(value.strip())
        except DecodeError:
            raise ConversionError("", f"text {value!r:.40} is not a number") from None
    raise ConversionError("", f"expected a number, got {_describe(value)}")


def _to_integer(value: DynamoValue, name: str) -> int:
    number = _number(value)
    if number != number.to_integral_value():
        raise ConversionError("", f"{number} is not a whole number ({name} column)")
    low, high = INTEGER_RANGES[name]
    integer = int(number)
    if not low <= integer <= high:
        raise ConversionError("", f"{number} is out of the {name} range")
    return integer


# Exponents are bounded (|e| <= 130): 400 digits hold any quantized value exactly. One context
# for every call (what localcontext() would give, without setting one up per value).
_EXACT: Final = Context(prec=400)


def _to_decimal(value: DynamoValue, precision: int, scale: int, step: Decimal) -> Decimal:
    """``step`` is 1E-scale (the column's quantum)."""
    number = _number(value)
    try:
        quantized = number.quantize(step, context=_EXACT)
    except InvalidOperation:  # pragma: no cover - the precision above makes it exact
        raise ConversionError("", f"{number} does not fit decimal({precision},{scale})") from None
    if quantized != number:
        kind = f"decimal({precision},{scale})"
        raise ConversionError("", f"{number} has more than {scale} decimal places ({kind})")
    if quantized and quantized.adjusted() >= precision - scale:
        raise ConversionError("", f"{number} does not fit decimal({precision},{scale})")
    return quantized


def _to_float(value: DynamoValue, name: str) -> float:
    number = _number(value)
    converted = float(number)
    limit = MAX_REAL if name == "float" else math.inf
    if math.isinf(converted) or abs(converted) > limit:
        raise ConversionError("", f"{number} is out of the {name} range")
    return converted


def _to_boolean(value: DynamoValue) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ConversionError("", f"expected BOOL (or 'true'/'false'), got {_describe(value)}")


def _to_date(value: DynamoValue) -> date:
    if not isinstance(value, str):
        raise ConversionError("", f"expected an ISO date string, got {_describe(value)}")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ConversionError("", f"{value!r:.40} is not an ISO-8601 date") from None


def _to_timestamp(value: DynamoValue) -> datetime:
    """ISO-8601 text (an offset or Z is converted to UTC; none means UTC), or N epoch millis."""
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ConversionError("", f"{value!r:.40} is not an ISO-8601 timestamp") from None
        if moment.tzinfo is not None:
            try:
                moment = moment.astimezone(UTC).replace(tzinfo=None)
            except OverflowError:
                raise ConversionError("", f"{value!r:.40} is out of range") from None
        return moment
    if isinstance(value, Decimal):
        micros = value * _MICROS_PER_MILLI
        if micros != micros.to_integral_value():
            raise ConversionError("", f"{value} epoch millis has sub-microsecond digits")
        try:
            return _EPOCH + timedelta(microseconds=int(micros))
        except OverflowError:
            raise ConversionError("", f"{value} epoch millis is out of range") from None
    raise ConversionError("", f"expected ISO-8601 text or epoch millis, got {_describe(value)}")


def _to_string(value: DynamoValue, limit: int | None) -> str:
    match value:
        case str():
            text = value
        case bool():
            text = "true" if value else "false"
        case Decimal():
            text = str(value)
        case bytes():
            text = base64.b64encode(value).decode("ascii")
        case _:
            text = json_text(value)
    if limit is not None and len(text) > limit:
        raise ConversionError("", f"text longer than {limit} characters")
    try:
        if not text.isascii():
            text.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate ("\\ud800" in the event's JSON): no engine can store it.
        raise ConversionError("", "text holds a lone UTF-16 surrogate") from None
    return text


def _to_binary(value: DynamoValue) -> bytes:
    if isinstance(value, bytes):
        return value
    raise ConversionError("", f"expected B (binary), got {_describe(value)}")


# ------------------------------------------------------------------------------ converters
#
# A converter is built once per column type (per table schema): the type's dispatch is done
# while building it, never per value. It takes a non-NULL value (NULL stays None: the caller's
# check, cheaper than a call) and raises ConversionError with a path below the value.

type Converter = Callable[[DynamoValue], ColumnValue]


# Each converter below first tries the common case, and returns for it exactly what the
# general function it falls back on would: one call per value instead of two or three.


def _string_converter(limit: int | None) -> Converter:
    def to_string(value: DynamoValue) -> ColumnValue:
        if type(value) is str and (limit is None or len(value) <= limit) and value.isascii():
            return value
        return _to_string(value, limit)

    return to_string


def _integer_converter(name: str) -> Converter:
    low, high = INTEGER_RANGES[name]

    def to_integer(value: DynamoValue) -> ColumnValue:
        if type(value) is Decimal and value.is_finite():
            integer = int(value)
            if integer == value and low <= integer <= high:  # a whole number in range
                return integer
        return _to_integer(value, name)

    return to_integer


def _decimal_converter(precision: int, scale: int) -> Converter:
    step = Decimal(1).scaleb(-scale)
    digits = precision - scale  # at most this many before the point

    def to_decimal(value: DynamoValue) -> ColumnValue:
        if type(value) is Decimal:
            try:
                quantized = value.quantize(step, context=_EXACT)
            except InvalidOperation:
                quantized = None  # not a value of the column: the general function says why
            if quantized == value and (not quantized or quantized.adjusted() < digits):
                return quantized
        return _to_decimal(value, precision, scale, step)

    return to_decimal


def _float_converter(name: str) -> Converter:
    return lambda value: _to_float(value, name)


_CONVERTERS: Final[dict[str, Converter]] = {
    "boolean": _to_boolean,
    "date": _to_date,
    "timestamp": _to_timestamp,
    "binary": _to_binary,
}


def _scalar_converter(column_type: ScalarType) -> Converter:
    name = column_type.name
    if name in ("string", "varchar", "char"):
        return _string_converter(column_type.precision)
    if name in INTEGER_RANGES:
        return _integer_converter(name)
    if name == "decimal":
        assert column_type.precision is not None
        assert column_type.scale is not None
        return _decimal_converter(column_type.precision, column_type.scale)
    if name in ("float", "double"):
        return _float_converter(name)
    return _CONVERTERS[name]


def _elements(value: DynamoValue) -> list[DynamoValue]:
    if isinstance(value, list):
        return value
    if isinstance(value, frozenset):
        members: list[DynamoValue] = sorted_members(value)
        return members
    raise ConversionError("", f"expected L, SS, NS or BS for an array, got {_describe(value)}")


def _array_converter(column_type: ArrayType) -> Converter:
    element = converter(column_type.element)

    def to_array(value: DynamoValue) -> list[ColumnValue]:
        converted: list[ColumnValue] = []
        for index, member in enumerate(_elements(value)):
            try:
                converted.append(None if member is None else element(member))
            except ConversionError as error:
                raise error.within(f"[{index}]") from None
        return converted

    return to_array


def _map_converter(column_type: MapType) -> Converter:
    key_converter, value_converter = converter(column_type.key), converter(column_type.value)

    def to_map(value: DynamoValue) -> dict[object, ColumnValue]:
        if not isinstance(value, dict):
            raise ConversionError("", f"expected M for a map, got {_describe(value)}")
        converted: dict[object, ColumnValue] = {}
        for name, member in value.items():
            try:
                key = None if name is None else key_converter(name)
                if key is None or isinstance(key, list | dict):
                    raise ConversionError("", "map keys must be scalar values")
                if key in converted:
                    raise ConversionError("", f"two keys become the same map key {key!r:.30}")
                converted[key] = None if member is None else value_converter(member)
            except ConversionError as error:
                raise error.within(f".{name}") from None
        return converted

    return to_map


def _struct_converter(column_type: StructType) -> Converter:
    """M -> every field of the struct (None when absent); names match exactly, else ignoring
    case (Glue lowercases struct field names). Attributes the struct lacks are left out."""
    fields = [(f.name, f.name.lower(), converter(f.type)) for f in column_type.fields]

    def to_struct(value: DynamoValue) -> dict[object, ColumnValue]:
        if not isinstance(value, dict):
            raise ConversionError("", f"expected M for a struct, got {_describe(value)}")
        by_lower: dict[str, str] | None = None
        converted: dict[object, ColumnValue] = {}
        for field_name, lower_name, field_converter in fields:
            name: str | None = field_name
            if name not in value:
                if by_lower is None:
                    by_lower = {key.lower(): key for key in reversed(list(value))}
                name = by_lower.get(lower_name)
            member = value[name] if name else None
            try:
                converted[field_name] = None if member is None else field_converter(member)
            except ConversionError as error:
                raise error.within(f".{field_name}") from None
        return converted

    return to_struct


def _build_converter(column_type: ColumnType) -> Converter:
    match column_type:
        case ScalarType():
            return _scalar_converter(column_type)
        case ArrayType():
            return _array_converter(column_type)
        case MapType():
            return _map_converter(column_type)
        case StructType():
            return _struct_converter(column_type)


# Column types are frozen (hashable) values: a table's columns share their converters.
converter: Final[Callable[[ColumnType], Converter]] = lru_cache(maxsize=1024)(_build_converter)
"""The converter of a column type (built on first use, then reused)."""


def convert(value: DynamoValue, column_type: ColumnType, path: str) -> ColumnValue:
    """``value`` as a value of ``column_type``; NULL (or absent, None) stays None. A
    ConversionError's path starts with ``path`` (the column)."""
    if value is None:
        return None
    try:
        return converter(column_type)(value)
    except ConversionError as error:
        raise error.within(path) from None
