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
from decimal import Decimal, InvalidOperation, localcontext
from typing import Final

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
    if _JSON_PLAIN.fullmatch(text):
        return f'"{text}"'
    return json.dumps(text, ensure_ascii=False)


def json_text(value: DynamoValue) -> str:  # noqa: PLR0911 - one return per DynamoDB type
    """Canonical JSON for a value stored in a string column (maps, lists, sets).

    Keys sorted, compact separators, unicode kept as is; numbers written exactly as DynamoDB
    holds them (never through float); sets become sorted arrays, binaries base64 strings.
    Written by hand because ``json.dumps`` can only emit Decimals through float.
    """
    match value:
        case None:
            return "null"
        case bool():
            return "true" if value else "false"
        case str():
            return _json_string(value)
        case Decimal():
            return str(value)
        case bytes():
            return json.dumps(base64.b64encode(value).decode("ascii"))
        case dict():
            members = (f"{json_text(name)}:{json_text(value[name])}" for name in sorted(value))
            return "{" + ",".join(members) + "}"
        case list():
            return "[" + ",".join(json_text(member) for member in value) + "]"
        case frozenset():
            return "[" + ",".join(json_text(member) for member in sorted_members(value)) + "]"
    raise TypeError(f"not a decoded DynamoDB value: {type(value).__name__}")  # pragma: no cover


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


def _to_decimal(value: DynamoValue, precision: int, scale: int) -> Decimal:
    number = _number(value)
    with localcontext() as context:
        # Exponents are bounded (|e| <= 130): 400 digits hold any quantized value exactly.
        context.prec = 400
        try:
            quantized = number.quantize(Decimal(1).scaleb(-scale))
        except InvalidOperation:  # pragma: no cover - the precision above makes it exact
            raise ConversionError(
                "", f"{number} does not fit decimal({precision},{scale})"
            ) from None
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


_CONVERTERS: Final[dict[str, Callable[[DynamoValue], ColumnValue]]] = {
    "boolean": _to_boolean,
    "date": _to_date,
    "timestamp": _to_timestamp,
    "binary": _to_binary,
}


def _scalar(value: DynamoValue, column_type: ScalarType) -> ColumnValue:
    name = column_type.name
    if name in ("string", "varchar", "char"):
        return _to_string(value, column_type.precision)
    if name in INTEGER_RANGES:
        return _to_integer(value, name)
    if name == "decimal":
        assert column_type.precision is not None
        assert column_type.scale is not None
        return _to_decimal(value, column_type.precision, column_type.scale)
    if name in ("float", "double"):
        return _to_float(value, name)
    return _CONVERTERS[name](value)


# ------------------------------------------------------------------------------ nested


def _elements(value: DynamoValue) -> list[DynamoValue]:
    if isinstance(value, list):
        return value
    if isinstance(value, frozenset):
        members: list[DynamoValue] = sorted_members(value)
        return members
    raise ConversionError("", f"expected L, SS, NS or BS for an array, got {_describe(value)}")


def _to_array(value: DynamoValue, column_type: ArrayType) -> list[ColumnValue]:
    element_type = column_type.element
    converted: list[ColumnValue] = []
    for index, member in enumerate(_elements(value)):
        try:
            converted.append(_convert(member, element_type))
        except ConversionError as error:
            raise error.within(f"[{index}]") from None
    return converted


def _to_map(value: DynamoValue, column_type: MapType) -> dict[object, ColumnValue]:
    if not isinstance(value, dict):
        raise ConversionError("", f"expected M for a map, got {_describe(value)}")
    converted: dict[object, ColumnValue] = {}
    for name, member in value.items():
        try:
            key = _convert(name, column_type.key)
            if key is None or isinstance(key, list | dict):
                raise ConversionError("", "map keys must be scalar values")
            if key in converted:
                raise ConversionError("", f"two keys become the same map key {key!r:.30}")
            converted[key] = _convert(member, column_type.value)
        except ConversionError as error:
            raise error.within(f".{name}") from None
    return converted


def _to_struct(value: DynamoValue, column_type: StructType) -> dict[object, ColumnValue]:
    """M -> every field of the struct (None when absent); names match exactly, else ignoring
    case (Glue lowercases struct field names). Attributes the struct lacks are left out."""
    if not isinstance(value, dict):
        raise ConversionError("", f"expected M for a struct, got {_describe(value)}")
    by_lower: dict[str, str] | None = None
    converted: dict[object, ColumnValue] = {}
    for field in column_type.fields:
        name: str | None = field.name
        if name not in value:
            if by_lower is None:
                by_lower = {key.lower(): key for key in reversed(list(value))}
            name = by_lower.get(field.name.lower())
        try:
            converted[field.name] = _convert(value[name] if name else None, field.type)
        except ConversionError as error:
            raise error.within(f".{field.name}") from None
    return converted


def _convert(value: DynamoValue, column_type: ColumnType) -> ColumnValue:
    if value is None:
        return None
    match column_type:
        case ScalarType():
            return _scalar(value, column_type)
        case ArrayType():
            return _to_array(value, column_type)
        case MapType():
            return _to_map(value, column_type)
        case StructType():
            return _to_struct(value, column_type)


def convert(value: DynamoValue, column_type: ColumnType, path: str) -> ColumnValue:
    """``value`` as a value of ``column_type``; NULL (or absent, None) stays None. A
    ConversionError's path starts with ``path`` (the column)."""
    try:
        return _convert(value, column_type)
    except ConversionError as error:
        raise error.within(path) from None
