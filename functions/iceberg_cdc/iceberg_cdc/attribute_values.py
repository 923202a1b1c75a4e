"""DynamoDB attribute values, as a stream record carries them, decoded to exact Python values.

Every DynamoDB type keeps its identity, so later steps know what they were given:

    S    -> str                    N    -> Decimal (exact: built from the text, never rounded)
    B    -> bytes (base64-decoded)  BOOL -> bool
    NULL -> None                   M    -> dict[str, value]
    L    -> list[value]            SS   -> frozenset[str]
    NS   -> frozenset[Decimal]     BS   -> frozenset[bytes]

Powertools' ``TypeDeserializer`` is not used on purpose: it leaves B as base64 text, and numbers
pass through a 38-digit context. Anything malformed raises ``DecodeError`` naming where it is.
"""

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Final, Self

type DynamoValue = (
    str
    | Decimal
    | bytes
    | bool
    | dict[str, DynamoValue]
    | list[DynamoValue]
    | frozenset[str]
    | frozenset[Decimal]
    | frozenset[bytes]
    | None
)
type Item = dict[str, DynamoValue]

# DynamoDB numbers: magnitudes from 1E-130 to 9.99...E+125 (docs, "Number"). Bounding the exponent
# also keeps later integer conversions cheap, whatever text a record carries.
MIN_ADJUSTED_EXPONENT: Final = -130
MAX_ADJUSTED_EXPONENT: Final = 125
# DynamoDB allows 32 levels of nesting; a little slack, never unbounded recursion.
MAX_DEPTH: Final = 40
_NUMBER: Final = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


class PathError(ValueError):
    """A problem at ``path`` inside a nested value."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(path, problem)
        self.path = path
        self.problem = problem

    def __str__(self) -> str:
        return f"{self.path}: {self.problem}"

    def within(self, step: str) -> Self:
        """The same error seen from the container one level up (paths are built on the way out,
        so a valid value never formats one)."""
        return type(self)(step + self.path, self.problem)


class DecodeError(PathError):
    """An attribute value that is not valid DynamoDB JSON."""


def parse_number(text: str, path: str = "") -> Decimal:
    """The exact value of a DynamoDB number (also used for numeric strings)."""
    # ASCII digits with at most one point (most numbers) always match _NUMBER: no regex for them.
    plain = text.isascii() and text.replace(".", "", 1).isdigit()
    if not plain and _NUMBER.fullmatch(text) is None:
        raise DecodeError(path, f"not a number: {text!r:.60}")
    number = Decimal(text)
    if number and not MIN_ADJUSTED_EXPONENT <= number.adjusted() <= MAX_ADJUSTED_EXPONENT:
        raise DecodeError(path, f"number out of DynamoDB's range: {text:.60}")
    return number


def _string(value: object) -> str:
    if type(value) is not str:
        raise DecodeError("", f"expected a string, got {type(value).__name__}")
    return value


def _binary(text: object) -> bytes:
    if type(text) is not str:
        raise DecodeError("", "binary must be base64 text")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as error:
        raise DecodeError("", f"invalid base64 ({error})") from None


def _members(value: object) -> list[object]:
    if type(value) is not list or not value:
        raise DecodeError("", "a set must be a non-empty list")
    return value


_ONLY_STR: Final = frozenset({str})


def _string_set(raw: object) -> frozenset[str]:
    members = _members(raw)
    if _ONLY_STR.issuperset(map(type, members)):  # every member a str, checked at C speed
        return frozenset(members)  # type: ignore[arg-type]
    return frozenset(map(_string, members))  # raises for the first that is not


def _decode_null(raw: object, depth: int) -> None:
    if raw is not True:
        raise DecodeError("", "NULL must be true")


def _decode_bool(raw: object, depth: int) -> bool:
    if type(raw) is not bool:
        raise DecodeError("", "BOOL must be true or false")
    return raw


# Maps and lists decode their S, N and M members inline, exactly as _decode would, without a
# call per value (most values are S, N or M); _decode does the rest and every error.


def _decode_members(raw: Mapping[Any, object], depth: int) -> dict[str, DynamoValue]:
    """The members of a map (or the attributes of an image), each at ``depth``."""
    decoded: dict[str, DynamoValue] = {}
    inline = depth <= MAX_DEPTH
    for name, member in raw.items():
        try:
            if inline and type(member) is dict and type(name) is str and len(member) == 1:
                if type(text := member.get("S")) is str:
                    decoded[name] = text
                    continue
                if type(text := member.get("N")) is str:
                    decoded[name] = parse_number(text)
                    continue
                if type(members := member.get("M")) is dict:
                    decoded[name] = _decode_members(members, depth + 1)
                    continue
            decoded[_string(name)] = _decode(member, depth)
        except DecodeError as error:
            raise error.within(f".{name}") from None
    return decoded


def _decode_elements(raw: list[object], depth: int) -> list[DynamoValue]:
    """The members of a list, each at ``depth``."""
    decoded: list[DynamoValue] = []
    inline = depth <= MAX_DEPTH
    for index, member in enumerate(raw):
        try:
            if inline and type(member) is dict and len(member) == 1:
                if type(text := member.get("S")) is str:
                    decoded.append(text)
                    continue
                if type(text := member.get("N")) is str:
                    decoded.append(parse_number(text))
                    continue
                if type(members := member.get("M")) is dict:
                    decoded.append(_decode_members(members, depth + 1))
                    continue
            decoded.append(_decode(member, depth))
        except DecodeError as error:
            raise error.within(f"[{index}]") from None
    return decoded


def _decode_map(raw: object, depth: int) -> dict[str, DynamoValue]:
    if type(raw) is not dict and not isinstance(raw, Mapping):
        raise DecodeError("", "M must be an object")
    return _decode_members(raw, depth + 1)


def _decode_list(raw: object, depth: int) -> list[DynamoValue]:
    if type(raw) is not list:
        raise DecodeError("", "L must be a list")
    return _decode_elements(raw, depth + 1)


_DECODERS: Final[dict[str, Callable[[object, int], DynamoValue]]] = {
    "B": lambda raw, _: _binary(raw),
    "BOOL": _decode_bool,
    "NULL": _decode_null,
    "M": _decode_map,
    "L": _decode_list,
    "SS": lambda raw, _: _string_set(raw),
    "NS": lambda raw, _: frozenset(parse_number(_string(member)) for member in _members(raw)),
    "BS": lambda raw, _: frozenset(map(_binary, _members(raw))),
}


def _decode(attribute: object, depth: int) -> DynamoValue:
    if depth > MAX_DEPTH:
        raise DecodeError("", f"nested deeper than {MAX_DEPTH} levels")
    # type() first: the event's JSON gives dicts, and an ABC check costs more than the decoding.
    if (type(attribute) is not dict and not isinstance(attribute, Mapping)) or len(attribute) != 1:
        raise DecodeError("", "an attribute value is an object with exactly one type key")
    ((tag, raw),) = attribute.items()
    if tag == "S":  # the common cases first, without a dispatch
        return _string(raw)
    if tag == "N":
        return parse_number(_string(raw))
    if tag == "M" and type(raw) is dict:
        return _decode_members(raw, depth + 1)
    if tag == "L" and type(raw) is list:
        return _decode_elements(raw, depth + 1)
    if tag == "BOOL" and type(raw) is bool:
        return raw
    decoder = _DECODERS.get(tag) if type(tag) is str else None
    if decoder is None:
        raise DecodeError("", f"unknown DynamoDB type {str(tag)[:20]!r}")
    return decoder(raw, depth)


def decode_value(attribute: object, path: str = "$") -> DynamoValue:
    """One attribute value ({"S": "x"}, {"M": {...}}...) as an exact Python value."""
    try:
        return _decode(attribute, 0)
    except DecodeError as error:
        raise error.within(path) from None


def decode_item(image: Mapping[str, Any], path: str = "$") -> Item:
    """A whole image (NewImage, OldImage or Keys)."""
    if type(image) is not dict and not isinstance(image, Mapping):
        raise DecodeError(path, "an image must be an object of attributes")
    try:
        return _decode_members(image, 0)
    except DecodeError as error:
        raise error.within(path) from None


_TAGS: Final[dict[type, str]] = {
    bool: "BOOL",
    str: "S",
    Decimal: "N",
    bytes: "B",
    dict: "M",
    list: "L",
}


def type_tag(value: DynamoValue) -> str:
    """The DynamoDB type a decoded value came from ("S", "N", "SS"...)."""
    if value is None:
        return "NULL"
    if isinstance(value, frozenset):
        member = next(iter(value))
        if isinstance(member, Decimal):
            return "NS"
        return "BS" if isinstance(member, bytes) else "SS"
    return _TAGS[type(value)]


def sorted_members(value: frozenset[str] | frozenset[Decimal] | frozenset[bytes]) -> list[Any]:
    """A set's members in a stable order (DynamoDB sets have none): strings, numbers and bytes
    each sort naturally."""
    return sorted(value)
