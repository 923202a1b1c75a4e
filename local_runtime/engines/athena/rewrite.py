"""Trino → DuckDB: a parsed Athena statement as DuckDB SQL (sqlglot's transpilation), fixed
where DuckDB would read it differently than Trino means it."""

from sqlglot import exp
from sqlglot.errors import ErrorLevel, UnsupportedError

from local_runtime.engines.athena.outcomes import AthenaQueryError


def _decimal_literal_type(text: str) -> tuple[int, int] | None:
    """DECIMAL '12.50' is decimal(4,2) in Trino: precision and scale of the literal."""
    body = text.strip().lstrip("+-")
    whole, _, fraction = body.partition(".")
    if not (whole or fraction) or not (whole + fraction).isdigit():
        return None
    whole = whole.lstrip("0")
    scale = len(fraction)
    precision = max(len(whole) + scale, 1)
    return (precision, scale) if precision <= 38 else None


def _is_string_literal(node: exp.Expr) -> bool:
    return isinstance(node, exp.Literal) and node.is_string


def _fix_for_duckdb(tree: exp.Expr) -> exp.Expr:
    """Where DuckDB reads the transpiled Trino differently, say what Trino means.

    - ``ROW(a, b)`` (no field names) becomes DuckDB ``{'_0': a, '_1': b}``, which DuckDB will not
      cast to a named STRUCT column ("STRUCT to STRUCT cast must have at least one matching
      member"); Trino assigns rows by position: keep it an unnamed ``ROW(a, b)``.
    - ``DECIMAL '12.50'`` / ``CAST(x AS DECIMAL)`` become a bare DECIMAL, which is DECIMAL(18,3) in
      DuckDB (digits lost, values over 15 integer digits rejected); in Trino a literal has its
      own precision/scale and a bare DECIMAL is DECIMAL(38,0).
    - ``TIMESTAMP '2026-11-20 10:15:30 +02:00'`` becomes a TIMESTAMPTZ cast that DuckDB reads
      as time zone "+02:00" (unknown): write the offset the way DuckDB parses it.
    """
    for node in reversed(list(tree.find_all(exp.Struct, bfs=False))):
        if node.expressions and not any(
            isinstance(e, exp.PropertyEQ | exp.Alias | exp.Slice) for e in node.expressions
        ):
            node.replace(exp.Anonymous(this="ROW", expressions=list(node.expressions)))
    for cast in tree.find_all(exp.Cast):
        target = cast.to
        if target.this == exp.DataType.Type.DECIMAL and not target.expressions:
            literal = (
                _decimal_literal_type(cast.this.name) if _is_string_literal(cast.this) else None
            )
            precision, scale = literal or (38, 0)
            cast.set("to", exp.DataType.build(f"DECIMAL({precision}, {scale})"))
        elif target.this == exp.DataType.Type.TIMESTAMPTZ and _is_string_literal(cast.this):
            text = cast.this.name
            if len(text) > 7 and text[-7] == " " and text[-6] in "+-" and text[-3] == ":":
                cast.set("this", exp.Literal.string(text[:-7] + text[-6:]))
    return tree


def trino_to_duckdb(tree: exp.Expr) -> str:
    """One parsed Trino statement as DuckDB SQL (what ``sqlglot.transpile`` gives, fixed)."""
    try:
        return _fix_for_duckdb(tree.copy()).sql(
            dialect="duckdb", unsupported_level=ErrorLevel.RAISE
        )
    except UnsupportedError as error:
        raise AthenaQueryError("NOT_SUPPORTED", f"{error} (not translatable to DuckDB)") from error
