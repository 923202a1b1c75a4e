"""Glue (Hive) column types: parsed from the catalog's text, written back as Trino types.

Glue keeps Athena tables' columns in Hive's notation (``decimal(12,2)``, ``array<string>``,
``map<string,bigint>``, ``struct<street:string,city:string>``); Athena's DML engine (Trino)
names the same types differently (``decimal(12,2)``, ``array(varchar)``,
``map(varchar, bigint)``, ``row("street" varchar, "city" varchar)``). A parsed ``ColumnType``
renders both.

Shared by iceberg_cdc (typing every value it writes) and the pipeline config (validating the
columns of a CDC table before its Iceberg table is created), so both read types alike.

Iceberg timestamps hold microseconds, so ``timestamp`` becomes Trino's ``timestamp(6)`` (bare
``timestamp`` is millisecond precision in Trino and would round values on the way in).
"""

import re
from dataclasses import dataclass
from typing import Final

from datalake_shared.athena_names import quote_identifier

# Hive name -> Trino name, for types without parameters.
_SIMPLE: Final = {
    "string": "varchar",
    "tinyint": "tinyint",
    "smallint": "smallint",
    "int": "integer",
    "bigint": "bigint",
    "float": "real",
    "double": "double",
    "boolean": "boolean",
    "date": "date",
    "timestamp": "timestamp(6)",
    "binary": "varbinary",
}
_ALIASES: Final = {"integer": "int"}
MAX_DECIMAL_PRECISION: Final = 38
MAX_VARCHAR_LENGTH: Final = 65535
MAX_CHAR_LENGTH: Final = 255
_PUNCTUATION: Final = frozenset("<>(),:")
_TOKEN: Final = re.compile(r"\s*(?:(`(?:[^`]|``)*`)|([A-Za-z_][A-Za-z0-9_$]*)|(\d+)|([<>(),:]))")


class TypeParseError(ValueError):
    """A Glue type text this function does not understand."""


@dataclass(frozen=True, slots=True)
class ScalarType:
    name: str
    """Hive name: string, varchar, char, tinyint, smallint, int, bigint, float, double,
    decimal, boolean, date, timestamp or binary."""
    precision: int | None = None
    """decimal precision, or varchar/char length."""
    scale: int | None = None

    @property
    def glue(self) -> str:
        if self.name == "decimal":
            return f"decimal({self.precision},{self.scale})"
        if self.name in ("varchar", "char"):
            return f"{self.name}({self.precision})"
        return self.name

    @property
    def trino(self) -> str:
        if self.name == "decimal":
            return f"decimal({self.precision},{self.scale})"
        if self.name in ("varchar", "char"):
            return f"{self.name}({self.precision})"
        return _SIMPLE[self.name]


@dataclass(frozen=True, slots=True)
class ArrayType:
    element: "ColumnType"

    @property
    def glue(self) -> str:
        return f"array<{self.element.glue}>"

    @property
    def trino(self) -> str:
        return f"array({self.element.trino})"


@dataclass(frozen=True, slots=True)
class MapType:
    key: "ColumnType"
    value: "ColumnType"

    @property
    def glue(self) -> str:
        return f"map<{self.key.glue},{self.value.glue}>"

    @property
    def trino(self) -> str:
        return f"map({self.key.trino},{self.value.trino})"


@dataclass(frozen=True, slots=True)
class StructField:
    name: str
    type: "ColumnType"


@dataclass(frozen=True, slots=True)
class StructType:
    fields: tuple[StructField, ...]

    @property
    def glue(self) -> str:
        return "struct<" + ",".join(f"{f.name}:{f.type.glue}" for f in self.fields) + ">"

    @property
    def trino(self) -> str:
        return (
            "row("
            + ",".join(f"{quote_identifier(f.name)} {f.type.trino}" for f in self.fields)
            + ")"
        )


type ColumnType = ScalarType | ArrayType | MapType | StructType


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = self._tokenize(text)
        self.position = 0

    def _tokenize(self, text: str) -> list[str]:
        tokens: list[str] = []
        index = 0
        while index < len(text):
            if text[index:].strip() == "":
                break
            match = _TOKEN.match(text, index)
            if match is None:
                raise TypeParseError(f"unexpected character at {index} in {text!r}")
            quoted, word, number, punctuation = match.groups()
            if quoted is not None:
                tokens.append("`" + quoted[1:-1].replace("``", "`"))  # marks a quoted name
            else:
                tokens.append(word or number or punctuation)
            index = match.end()
        return tokens

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            wanted = expected or "more"
            raise TypeParseError(f"expected {wanted!r} at token {self.position} of {self.text!r}")
        self.position += 1
        return token

    def number(self) -> int:
        token = self.take()
        if not token.isdigit():
            raise TypeParseError(f"expected a number in {self.text!r}, got {token!r}")
        return int(token)

    def parse(self) -> ColumnType:
        parsed = self.type()
        if self.peek() is not None:
            raise TypeParseError(
                f"unexpected {self.peek()!r} after a complete type in {self.text!r}"
            )
        return parsed

    def field_name(self) -> str:
        token = self.take()
        if token.startswith("`"):
            return token[1:]
        if token in _PUNCTUATION or token.isdigit():
            raise TypeParseError(f"expected a field name in {self.text!r}, got {token!r}")
        return token

    def type(self) -> ColumnType:
        token = self.take()
        name = token.lower()
        name = _ALIASES.get(name, name)
        if name == "array":
            self.take("<")
            element = self.type()
            self.take(">")
            return ArrayType(element)
        if name == "map":
            self.take("<")
            key = self.type()
            self.take(",")
            value = self.type()
            self.take(">")
            return MapType(key, value)
        if name == "struct":
            self.take("<")
            fields: list[StructField] = []
            while True:
                field_name = self.field_name()
                self.take(":")
                fields.append(StructField(field_name, self.type()))
                if self.peek() == ",":
                    self.take(",")
                    continue
                self.take(">")
                break
            if len({f.name.lower() for f in fields}) != len(fields):
                raise TypeParseError(f"duplicate struct field in {self.text!r}")
            return StructType(tuple(fields))
        if name == "decimal":
            return self._decimal()
        if name in ("varchar", "char"):
            self.take("(")
            length = self.number()
            self.take(")")
            limit = MAX_VARCHAR_LENGTH if name == "varchar" else MAX_CHAR_LENGTH
            if not 1 <= length <= limit:
                raise TypeParseError(f"{name} length must be 1..{limit}: {self.text!r}")
            return ScalarType(name, length)
        if name in _SIMPLE:
            return ScalarType(name)
        raise TypeParseError(f"unsupported type {name!r} in {self.text!r}")

    def _decimal(self) -> ScalarType:
        precision, scale = 10, 0  # Hive's default for a bare "decimal"
        if self.peek() == "(":
            self.take("(")
            precision = self.number()
            if self.peek() == ",":
                self.take(",")
                scale = self.number()
            self.take(")")
        if not 1 <= precision <= MAX_DECIMAL_PRECISION or not 0 <= scale <= precision:
            raise TypeParseError(f"invalid decimal precision/scale in {self.text!r}")
        return ScalarType("decimal", precision, scale)


def parse_glue_type(text: str) -> ColumnType:
    """Parses a Glue/Hive type such as ``map<string,array<struct<a:int,b:decimal(5,2)>>>``."""
    if not isinstance(text, str) or not text.strip():
        raise TypeParseError("empty type")
    return _Parser(text).parse()


def contains_struct(column_type: ColumnType) -> bool:
    """Whether a row type appears anywhere in the type (array<struct<...>> included)."""
    match column_type:
        case ScalarType():
            return False
        case ArrayType():
            return contains_struct(column_type.element)
        case MapType():
            return contains_struct(column_type.key) or contains_struct(column_type.value)
        case StructType():
            return True


# The keys of GetTable's Table that UpdateTable's TableInput takes back as they are. The rest is
# read-only (DatabaseName, CreateTime, UpdateTime, CreatedBy, CatalogId, VersionId,
# IsRegisteredWithLakeFormation, IsMultiDialectView, Status...) or of another shape in TableInput
# (ViewDefinition; FederatedTable, which Glue sets itself). Checked against botocore's Glue model
# (tests/unit/catalog_type_fixer/test_catalog_type_fixer_table_input.py).
TABLE_INPUT_KEYS: Final = (
    "Name",
    "Description",
    "Owner",
    "LastAccessTime",
    "LastAnalyzedTime",
    "Retention",
    "StorageDescriptor",
    "PartitionKeys",
    "ViewOriginalText",
    "ViewExpandedText",
    "TableType",
    "Parameters",
    "TargetTable",
)
