"""Glue (Hive DDL) column types: reading them, their canonical Glue spelling and the DuckDB
column type each stands for; from Athena DDL too (as sqlglot parses it)."""

from dataclasses import dataclass
from typing import Final

from sqlglot import exp
from sqlglot.expressions.datatypes import DType


class GlueTypeError(ValueError):
    """A Glue/Hive column type this stand-in cannot read."""


_GLUE_SCALARS: Final[dict[str, str]] = {
    "string": "VARCHAR",
    "varchar": "VARCHAR",
    "char": "VARCHAR",
    "bigint": "BIGINT",
    "int": "INTEGER",
    "integer": "INTEGER",
    "smallint": "SMALLINT",
    "tinyint": "TINYINT",
    "double": "DOUBLE",
    "float": "REAL",
    "boolean": "BOOLEAN",
    "binary": "BLOB",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "decimal": "DECIMAL",
}
_PARAMETERISED: Final = frozenset({"decimal", "varchar", "char"})
_DEFAULT_DECIMAL: Final = (10, 0)  # Hive's DECIMAL without precision


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


@dataclass(frozen=True)
class GlueType:
    """A Glue (Hive DDL) column type: ``name``, its parameters, element/field types."""

    name: str
    params: tuple[int, ...] = ()
    children: tuple["GlueType", ...] = ()  # array: (element,), map: (key, value), struct: fields
    field_names: tuple[str, ...] = ()  # struct field names, in order

    @property
    def is_string(self) -> bool:
        return self.name in ("string", "varchar", "char")

    def glue(self) -> str:
        """The canonical Glue spelling, e.g. ``struct<a:string,b:decimal(12,2)>``."""
        if self.name == "array":
            return f"array<{self.children[0].glue()}>"
        if self.name == "map":
            return f"map<{self.children[0].glue()},{self.children[1].glue()}>"
        if self.name == "struct":
            fields = ",".join(
                f"{name}:{child.glue()}"
                for name, child in zip(self.field_names, self.children, strict=True)
            )
            return f"struct<{fields}>"
        if self.params:
            return f"{self.name}({','.join(str(p) for p in self.params)})"
        return self.name

    def duckdb(self) -> str:
        """The DuckDB column type (ICEBERG_TABLE.md's mapping)."""
        if self.name == "array":
            return f"{self.children[0].duckdb()}[]"
        if self.name == "map":
            return f"MAP({self.children[0].duckdb()}, {self.children[1].duckdb()})"
        if self.name == "struct":
            fields = ", ".join(
                f"{quote_identifier(name)} {child.duckdb()}"
                for name, child in zip(self.field_names, self.children, strict=True)
            )
            return f"STRUCT({fields})"
        if self.name == "decimal":
            precision, scale = (*self.params, *_DEFAULT_DECIMAL[len(self.params) :])[:2]
            return f"DECIMAL({precision},{scale})"
        return _GLUE_SCALARS[self.name]


class _GlueTypeReader:
    """Recursive descent over a Glue type string: array<T>, map<K,V>, struct<n:T,...>."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, why: str) -> GlueTypeError:
        return GlueTypeError(f"{why} at position {self.pos} of Glue type {self.text!r}")

    def skip_spaces(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        self.skip_spaces()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise self.fail(f"expected {char!r}")
        self.pos += 1

    def word(self) -> str:
        self.skip_spaces()
        start = self.pos
        while self.pos < len(self.text) and (
            self.text[self.pos].isalnum() or self.text[self.pos] == "_"
        ):
            self.pos += 1
        return self.text[start : self.pos]

    def field_name(self) -> str:
        self.skip_spaces()
        if self.peek() == "`":
            end = self.text.find("`", self.pos + 1)
            if end < 0:
                raise self.fail("unterminated `")
            name = self.text[self.pos + 1 : end]
            self.pos = end + 1
            return name
        end = self.text.find(":", self.pos)
        if end < 0:
            raise self.fail("expected ':' after a struct field name")
        name = self.text[self.pos : end].strip()
        self.pos = end
        if not name:
            raise self.fail("empty struct field name")
        return name

    def read(self) -> GlueType:
        name = self.word().lower()
        if not name:
            raise self.fail("expected a type name")
        if name == "array":
            self.expect("<")
            element = self.read()
            self.expect(">")
            return GlueType("array", children=(element,))
        if name == "map":
            self.expect("<")
            key = self.read()
            self.expect(",")
            value = self.read()
            self.expect(">")
            return GlueType("map", children=(key, value))
        if name == "struct":
            return self.read_struct()
        if name not in _GLUE_SCALARS:
            raise self.fail(f"unknown type {name!r}")
        params: tuple[int, ...] = ()
        if self.peek() == "(":
            if name not in _PARAMETERISED:
                raise self.fail(f"{name} takes no parameters")
            self.pos += 1
            params = self.read_params()
        return GlueType("int" if name == "integer" else name, params=params)

    def read_struct(self) -> GlueType:
        self.expect("<")
        names: list[str] = []
        children: list[GlueType] = []
        if self.peek() != ">":
            while True:
                names.append(self.field_name())
                self.expect(":")
                children.append(self.read())
                if self.peek() != ",":
                    break
                self.pos += 1
        self.expect(">")
        return GlueType("struct", children=tuple(children), field_names=tuple(names))

    def read_params(self) -> tuple[int, ...]:
        params: list[int] = []
        while True:
            digits = self.word()
            if not digits.isdigit():
                raise self.fail("expected a number")
            params.append(int(digits))
            if self.peek() != ",":
                break
            self.pos += 1
        self.expect(")")
        return tuple(params)


def parse_glue_type(text: str) -> GlueType:
    """``decimal(12,2)``, ``array<string>``, ``map<string,array<int>>``, ``struct<a:string>``..."""
    reader = _GlueTypeReader(text)
    parsed = reader.read()
    if reader.peek():
        raise reader.fail("unexpected text after the type")
    if parsed.name == "decimal" and parsed.params:
        precision, scale = (*parsed.params, 0)[:2]
        if len(parsed.params) > 2 or not 1 <= precision <= 38 or scale > precision:
            raise GlueTypeError(f"invalid decimal precision/scale in {text!r}")
    return parsed


_SQLGLOT_SCALARS: Final[dict[DType, str]] = {
    exp.DataType.Type.TEXT: "string",
    exp.DataType.Type.BIGINT: "bigint",
    exp.DataType.Type.INT: "int",
    exp.DataType.Type.SMALLINT: "smallint",
    exp.DataType.Type.TINYINT: "tinyint",
    exp.DataType.Type.DOUBLE: "double",
    exp.DataType.Type.FLOAT: "float",
    exp.DataType.Type.BOOLEAN: "boolean",
    exp.DataType.Type.BINARY: "binary",
    exp.DataType.Type.VARBINARY: "binary",
    exp.DataType.Type.DATE: "date",
    exp.DataType.Type.TIMESTAMP: "timestamp",
    exp.DataType.Type.DECIMAL: "decimal",
    exp.DataType.Type.VARCHAR: "varchar",
    exp.DataType.Type.CHAR: "char",
}


def glue_type_from_sqlglot(data_type: exp.DataType) -> GlueType:
    """The Glue type of a column type in Athena DDL (as sqlglot parsed it, Hive dialect)."""
    kind = data_type.this
    if kind == exp.DataType.Type.ARRAY:
        return GlueType("array", children=(glue_type_from_sqlglot(data_type.expressions[0]),))
    if kind == exp.DataType.Type.MAP:
        key, value = data_type.expressions
        return GlueType(
            "map", children=(glue_type_from_sqlglot(key), glue_type_from_sqlglot(value))
        )
    if kind == exp.DataType.Type.STRUCT:
        fields = [f for f in data_type.expressions if isinstance(f, exp.ColumnDef)]
        return GlueType(
            "struct",
            children=tuple(glue_type_from_sqlglot(f.args["kind"]) for f in fields),
            field_names=tuple(f.name for f in fields),
        )
    name = _SQLGLOT_SCALARS.get(kind) if isinstance(kind, DType) else None
    if name is None:
        raise GlueTypeError(f"type {data_type.sql(dialect='hive')} has no Glue equivalent here")
    params = tuple(int(p.name) for p in data_type.expressions if isinstance(p, exp.DataTypeParam))
    return GlueType(name, params=params)
