"""Every statement the project sends to Athena, parsed strictly (sqlglot's ``trino`` dialect,
ErrorLevel.RAISE) and held to Athena's 262,144-byte query string limit.

What goes to StartQueryExecution: iceberg_cdc's MERGE and ALTER TABLE ... ADD COLUMNS, the
maintenance state machine's ALTER TABLE ... SET TBLPROPERTIES, OPTIMIZE and VACUUM
(``athena:startQueryExecution.sync``, statements built by the maintenance planner), and the
template's named queries (athena/**/*.sql). The project creates no table through Athena (its
tables are AWS::Glue::Table resources), so there is no CREATE TABLE to check.

sqlglot knows OPTIMIZE and VACUUM only as a generic ``exp.Command`` (which anything parses as):
those are not counted as parsed but matched against a strict pattern of Athena's documented
grammar (athena_strict.ATHENA_GRAMMAR). A MERGE is also read back value by value: every value of
the stream must come out of the parsed statement exactly, and nothing else may.
"""

import base64
import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlglot import exp
from sqlglot.dialects.trino import Trino

from datalake_shared.athena_names import UnsafeIdentifierError
from datalake_shared.table_maintenance import TableMaintenance, maintenance_statements
from iceberg_cdc.athena import RunResult, RunStatus
from iceberg_cdc.attribute_values import decode_value
from iceberg_cdc.catalog import TableSchema
from iceberg_cdc.column_types import (
    INFERRED_GLUE_TYPES,
    ArrayType,
    ColumnType,
    MapType,
    ScalarType,
    StructType,
    parse_glue_type,
)
from iceberg_cdc.conversion import INTEGER_RANGES, ColumnValue, convert
from iceberg_cdc.service import ApplyOptions, CdcApplier, UnknownAttributePolicy
from iceberg_cdc.sql import (
    ATHENA_MAX_QUERY_BYTES as BUILDER_LIMIT,
)
from iceberg_cdc.sql import (
    DDL_RESERVED,
    Column,
    MergeBuilder,
    RowChange,
    TargetTable,
    add_columns_sql,
    is_plain_name,
    op_column_name,
)
from local_runtime.template import glue_table_columns
from tests.hostile_values import HOSTILE
from tests.integration.engines.asl_definitions import (
    ROOT,
    deployed_properties,
    evaluate_format,
    state_machine_definitions,
)
from tests.integration.engines.athena_strict import (
    ATHENA_MAX_QUERY_BYTES,
    TRINO_RESERVED,
    GrammarMatch,
    check_statement,
    decode_merge,
    parse_one,
    utf8_size,
)

DATABASE = "datalake_events"
TABLE = "orders"
ATHENA_TASK = "arn:aws:states:::athena:startQueryExecution"

# ------------------------------------------------------------------------------ named queries


def _named_queries() -> dict[str, str]:
    queries = deployed_properties("AWS::Athena::NamedQuery")
    named = {logical: str(query["QueryString"]) for logical, query in queries.items()}
    for path in sorted((ROOT / "athena").rglob("*.sql")):
        named[str(path.relative_to(ROOT))] = path.read_text()
    return named


NAMED_QUERIES = _named_queries()


@pytest.mark.parametrize("name", sorted(NAMED_QUERIES))
def test_named_query_parses_as_one_query(name: str) -> None:
    # Given a named query of template.yaml or a query file of athena/
    sql = NAMED_QUERIES[name]
    # When parsed strictly / Then it is exactly one query (SELECT / WITH / set operation)
    parse_one(sql, exp.Query)
    # And it fits Athena's query string
    assert utf8_size(sql) <= ATHENA_MAX_QUERY_BYTES


# ------------------------------------------------------------------------------ state machines


def _athena_tasks(node: Any) -> list[dict[str, Any]]:
    """Every Task state (nested Map states included) that starts an Athena query."""
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if str(node.get("Resource", "")).startswith(ATHENA_TASK):
            found.append(node)
        for value in node.values():
            found.extend(_athena_tasks(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_athena_tasks(item))
    return found


def _state_machine_statements() -> dict[str, str]:
    """Test id -> the SQL each Athena task sends, per table the definition maintains (its
    ``Tables`` substitution). A task whose QueryString is a path runs a statement the
    maintenance planner built (datalake_shared.table_maintenance): the statements it builds for
    those tables with default settings stand for it (tests/unit/batch_planner holds them to the
    grammar for any settings and name)."""
    statements: dict[str, str] = {}
    for machine in state_machine_definitions():
        tables = [t for t in machine.substitutions.get("Tables", "").split(",") if t]
        for task in _athena_tasks(machine.definition):
            parameters = task["Parameters"]
            if "QueryString" in parameters:
                statements[f"{machine.logical_id}:{parameters['QueryString'][:20]}"] = str(
                    parameters["QueryString"]
                )
                continue
            query = str(parameters["QueryString.$"])
            for table in tables:
                if query.startswith("States.Format("):
                    sql = evaluate_format(query, {"table": table})
                else:
                    planned = maintenance_statements(DATABASE, table, TableMaintenance())
                    sql = {
                        "$.table.retention_sql": planned.retention,
                        "$.table.optimize_sql": planned.optimize or "",
                        "$.table.vacuum_sql": planned.vacuum,
                    }[query]
                statements[f"{machine.logical_id}:{sql.split()[0]}:{table}"] = sql
    return statements


MACHINE_STATEMENTS = _state_machine_statements()


def test_maintenance_sends_retention_optimize_and_vacuum_for_each_table() -> None:
    # Given the statements of every Athena task of every state machine
    # Then the maintenance state machine's ALTER, OPTIMIZE and VACUUM of the orders table are there
    assert sorted(MACHINE_STATEMENTS) == [
        "IcebergMaintenanceStateMachine:ALTER:orders",
        "IcebergMaintenanceStateMachine:OPTIMIZE:orders",
        "IcebergMaintenanceStateMachine:VACUUM:orders",
    ]


def _named_table(checked: exp.Expr | GrammarMatch) -> tuple[str, ...]:
    if isinstance(checked, GrammarMatch):
        return checked.table
    assert isinstance(checked, exp.Alter)
    return (checked.this.db, checked.this.name)


@pytest.mark.parametrize("name", sorted(MACHINE_STATEMENTS))
def test_state_machine_statement_follows_athena_grammar(name: str) -> None:
    """sqlglot reads OPTIMIZE / VACUUM only as a generic Command, so the statement must match
    Athena's documented grammar (``OPTIMIZE [db.]table REWRITE DATA USING BIN_PACK [WHERE p]``,
    ``VACUUM [db.]table``) in full instead; a statement sqlglot parses (ALTER TABLE ... SET
    TBLPROPERTIES) is taken as parsed."""
    # Given a statement a state machine sends to Athena (template substitutions applied)
    sql = MACHINE_STATEMENTS[name]
    # When checked strictly
    checked = check_statement(sql)
    # Then it names the lake database's table, and fits Athena's query string
    assert _named_table(checked) == (DATABASE, name.rsplit(":", 1)[-1])
    assert utf8_size(sql) <= ATHENA_MAX_QUERY_BYTES


def test_maintained_tables_are_iceberg_tables_of_the_template() -> None:
    # Given the tables the maintenance state machine names / Then each is an Iceberg Glue table
    # of the template in the same database (OPTIMIZE and VACUUM work on Iceberg tables only)
    tables = deployed_properties("AWS::Glue::Table").values()
    iceberg = {
        (props["DatabaseName"], props["TableInput"]["Name"])
        for props in tables
        if "IcebergInput" in props.get("OpenTableFormatInput", {})
    }
    named = {_named_table(check_statement(sql)) for sql in MACHINE_STATEMENTS.values()}
    assert named <= iceberg


def test_a_command_outside_athena_grammar_is_not_counted_as_parsed() -> None:
    # Given statements sqlglot only knows as a Command, one of them not Athena's grammar
    good = f'OPTIMIZE "{DATABASE}"."{TABLE}" REWRITE DATA USING BIN_PACK'
    bad = f'OPTIMIZE "{DATABASE}"."{TABLE}" REWRITE DATA USING SORT'
    # When checked / Then only Athena's grammar passes
    assert isinstance(check_statement(good), GrammarMatch)
    with pytest.raises(AssertionError, match="neither parsed nor of Athena's grammar"):
        check_statement(bad)


# ------------------------------------------------------------------------------ ALTER TABLE


def _keyword_names() -> list[str]:
    """Identifier-shaped words the strict parser or an engine treats specially: sqlglot's
    Trino keywords, Trino's reserved words and Athena's DDL reserved words."""
    words = {word.lower() for word in Trino.Tokenizer.KEYWORDS if word.replace("_", "").isalpha()}
    return sorted(words | TRINO_RESERVED | DDL_RESERVED)


def _check_add_columns(sql: str, columns: Sequence[tuple[str, str]]) -> None:
    alter = parse_one(sql, exp.Alter)
    assert (alter.this.db, alter.this.name) == (DATABASE, TABLE)
    (schema,) = alter.args["actions"]
    assert isinstance(schema, exp.Schema)
    parsed = [(d.this, d.args.get("kind")) for d in schema.expressions]
    assert all(isinstance(name, exp.Identifier) for name, _ in parsed), sql
    assert [(name.name, kind) for name, kind in parsed] == [
        (name, exp.DataType.build(glue_type, dialect="hive")) for name, glue_type in columns
    ], sql


plain_names = st.from_regex(r"[a-z_][a-z0-9_]{0,40}", fullmatch=True).filter(is_plain_name)
new_columns = st.lists(
    st.tuples(plain_names, st.sampled_from(sorted(set(INFERRED_GLUE_TYPES.values())))),
    min_size=1,
    max_size=6,
    unique_by=lambda column: column[0],
)


@settings(max_examples=150, deadline=None)
@given(columns=new_columns)
def test_add_columns_parses_as_exactly_those_columns(columns: list[tuple[str, str]]) -> None:
    # Given new columns with any plain name and any type a new column can get
    # When the schema-evolution DDL is built
    sql = add_columns_sql(DATABASE, TABLE, columns)
    # Then it parses strictly as one ALTER TABLE adding exactly those columns and types
    _check_add_columns(sql, columns)


maintenance_settings = st.builds(
    TableMaintenance,
    compact=st.booleans(),
    snapshot_retention_days=st.integers(1, 3650),
    min_snapshots_to_keep=st.integers(1, 10_000),
)


@settings(max_examples=150, deadline=None)
@given(database=plain_names, table=plain_names, maintenance=maintenance_settings)
def test_planned_maintenance_follows_athena_grammar(
    database: str, table: str, maintenance: TableMaintenance
) -> None:
    # Given any table the maintenance planner accepts, with any settings
    try:
        planned = maintenance_statements(database, table, maintenance)
    except UnsafeIdentifierError:
        return  # refused (a leading "_"): never sent
    # When each statement is checked strictly / Then each names exactly that table
    for sql in (planned.retention, planned.optimize, planned.vacuum):
        if sql is None:
            continue
        assert _named_table(check_statement(sql)) == (database, table)
    # ...and the retention sets exactly the two properties, to the configured numbers
    alter = parse_one(planned.retention, exp.Alter)
    properties = {
        str(node.this.this): str(node.args["value"].this) for node in alter.find_all(exp.Property)
    }
    assert properties == {
        "vacuum_max_snapshot_age_seconds": str(maintenance.max_snapshot_age_seconds),
        "vacuum_min_snapshots_to_keep": str(maintenance.min_snapshots_to_keep),
    }


def test_no_keyword_the_ddl_writes_bare_is_misread() -> None:
    # Given every keyword-like name the DDL builder accepts as a bare column name
    accepted = [name for name in _keyword_names() if is_plain_name(name)]
    misread: list[str] = []
    for name in accepted:
        # When written into ALTER TABLE ... ADD COLUMNS
        try:
            _check_add_columns(
                add_columns_sql(DATABASE, TABLE, [(name, "string")]), [(name, "string")]
            )
        except AssertionError:
            misread.append(name)
    # Then the strict parser reads each as that column, none as SQL
    assert misread == []


# ------------------------------------------------------------------------------ MERGE


class CapturingRunner:
    """Athena that accepts every statement and keeps its text."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def run(self, sql: str, remaining: Callable[[], float]) -> RunResult:
        self.statements.append(sql)
        return RunResult(RunStatus.SUCCEEDED, query_execution_id=f"q-{len(self.statements)}")


class FixedCatalog:
    def __init__(self, schema: TableSchema) -> None:
        self.schema = schema

    def table_schema(self, database: str, table: str) -> TableSchema:
        return self.schema

    def invalidate(self, database: str, table: str) -> None:
        pass


# The template's table plus columns of every other type and shape the function writes.
EXTRA_COLUMNS = (
    ("big", "decimal(38,9)"),
    ("score", "double"),
    ("ratio", "float"),
    ("tiny", "tinyint"),
    ("code", "varchar(16)"),
    ("grade", "char(2)"),
    ("weights", "array<decimal(38,9)>"),
    ("counts", "map<string,array<bigint>>"),
    ("lines", "array<struct<sku:string,qty:bigint>>"),
    ("deep", 'map<string,map<string,struct<`odd "f"`:string,`with space`:array<binary>>>>'),
    ('odd "column"', "string"),
)
COLUMNS = tuple(
    Column(name, parse_glue_type(glue_type))
    for name, glue_type in (
        *glue_table_columns(ROOT / "template.yaml", "CdcOrdersTable"),
        *EXTRA_COLUMNS,
    )
)
KEY = "order_id"
short_texts = st.lists(
    st.one_of(st.sampled_from(HOSTILE), st.text(st.characters(codec="utf-8"), max_size=6)),
    max_size=5,
).map("".join)
long_texts = st.tuples(st.sampled_from([*HOSTILE, "x"]), st.integers(1_000, 40_000)).map(
    lambda piece: piece[0] * piece[1]
)
texts = st.one_of(short_texts, short_texts, short_texts, long_texts)
NULL: dict[str, Any] = {"NULL": True}


def _number(value: Decimal | int) -> dict[str, Any]:
    return {"N": str(value)}


def _scalar_values(column_type: ScalarType) -> st.SearchStrategy[dict[str, Any]]:  # noqa: PLR0911
    name = column_type.name
    if name in ("string", "varchar", "char"):
        if column_type.precision is not None:  # varchar(n), char(n): at most n characters
            length: int = column_type.precision
            return short_texts.map(lambda t: {"S": t[:length]})
        # A string column also takes maps and lists (stored as JSON text).
        text = texts
        nested = st.dictionaries(short_texts, short_texts.map(lambda t: {"S": t}), max_size=3)
        return st.one_of(
            text.map(lambda t: {"S": t}),
            nested.map(lambda m: {"M": m}),
            st.lists(short_texts.map(lambda t: {"S": t}), max_size=3).map(lambda v: {"L": v}),
        )
    if name in INTEGER_RANGES:
        low, high = INTEGER_RANGES[name]
        return st.integers(low, high).map(_number)
    if name == "decimal":
        assert column_type.precision is not None
        assert column_type.scale is not None
        bound = 10**column_type.precision - 1
        scale = column_type.scale
        return st.integers(-bound, bound).map(lambda n: _number(Decimal(f"{n}E-{scale}")))
    if name in ("float", "double"):
        magnitude = 3.4e38 if name == "float" else 1e125
        return (
            st.floats(-magnitude, magnitude, allow_nan=False, allow_infinity=False)
            .filter(lambda f: f == 0 or abs(f) > 1e-125)
            .map(lambda f: _number(Decimal(repr(f))))
        )
    if name == "boolean":
        return st.booleans().map(lambda b: {"BOOL": b})
    if name == "date":
        return st.dates().map(lambda d: {"S": d.isoformat()})
    if name == "timestamp":
        return st.datetimes().map(lambda t: {"S": t.isoformat()})
    return st.binary(max_size=12).map(lambda b: {"B": base64.b64encode(b).decode("ascii")})


def dynamo_values(column_type: ColumnType) -> st.SearchStrategy[dict[str, Any]]:
    """DynamoDB JSON the function converts to ``column_type`` (or NULL)."""
    match column_type:
        case ScalarType():
            values = _scalar_values(column_type)
        case ArrayType():
            members = st.lists(dynamo_values(column_type.element), max_size=3)
            values = members.map(lambda m: {"L": m})
            if column_type.element == ScalarType("string"):
                sets = st.lists(short_texts, min_size=1, max_size=3, unique=True)
                values = values | sets.map(lambda s: {"SS": s})
        case MapType():
            entries = st.dictionaries(short_texts, dynamo_values(column_type.value), max_size=3)
            values = entries.map(lambda m: {"M": m})
        case StructType():
            fields = st.fixed_dictionaries(
                {},
                optional={field.name: dynamo_values(field.type) for field in column_type.fields},
            )
            values = fields.map(lambda m: {"M": m})
    return st.one_of(st.just(NULL), values)


items = st.fixed_dictionaries(
    {},
    optional={column.name: dynamo_values(column.type) for column in COLUMNS if column.name != KEY},
)
keys = short_texts.filter(lambda key: 0 < len(key.encode()) <= 2048)
changes = st.lists(
    st.tuples(keys, st.booleans(), items), min_size=1, max_size=6, unique_by=lambda c: c[0]
)
sequence_numbers = itertools.count(1)


def stream_record(key: str, delete: bool, item: Mapping[str, Any]) -> dict[str, Any]:
    image = {**item, KEY: {"S": key}}
    change: dict[str, Any] = {
        "Keys": {KEY: {"S": key}},
        "SequenceNumber": f"{next(sequence_numbers):021d}",
        "StreamViewType": "NEW_AND_OLD_IMAGES",
        "OldImage" if delete else "NewImage": image,
    }
    return {
        "eventID": change["SequenceNumber"],
        "eventName": "REMOVE" if delete else "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": change,
    }


def expected_row(key: str, delete: bool, item: Mapping[str, Any]) -> dict[str, ColumnValue]:
    """The row the MERGE must carry: the function's own conversion of the image (or only the
    key, for a delete)."""
    image = {**item, KEY: {"S": key}}
    return {
        column.name: (
            None
            if delete and column.name != KEY
            else convert(decode_value(image.get(column.name, NULL)), column.type, column.name)
        )
        for column in COLUMNS
    }


def apply(records: Sequence[Mapping[str, Any]]) -> tuple[list[str], dict[str, str]]:
    """The statements iceberg_cdc sends for ``records``, and the records it reported failed."""
    runner = CapturingRunner()
    options = ApplyOptions(DATABASE, TABLE, key_columns=(KEY,))
    applier = CdcApplier(options, FixedCatalog(TableSchema(DATABASE, TABLE, COLUMNS)), runner)
    report = applier.apply(records, remaining=lambda: 900.0)
    return runner.statements, report.failures


TARGET = TargetTable(DATABASE, TABLE, COLUMNS, (KEY,))
OP_COLUMN = op_column_name(column.name for column in COLUMNS)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(batch=changes)
def test_cdc_merges_parse_strictly_and_carry_every_value_exactly(
    batch: list[tuple[str, bool, dict[str, Any]]],
) -> None:
    # Given stream records of hostile keys and values, nested types included
    records = [stream_record(*change) for change in batch]
    # When iceberg_cdc applies them
    statements, failures = apply(records)
    # Then each statement fits Athena's query string and parses strictly as one MERGE, whose
    # rows read back as exactly the converted images, in stream order; only rows too large
    # for any statement are left out (and reported)
    assert all(utf8_size(sql) <= ATHENA_MAX_QUERY_BYTES for sql in statements)
    decoded = [row for sql in statements for row in decode_merge(sql, TARGET, OP_COLUMN)]
    assert all("too large for one statement" in reason for reason in failures.values())
    failed = set(failures)
    expected = [
        (expected_row(*change), "delete" if change[1] else "upsert")
        for change, record in zip(batch, records, strict=True)
        if record["dynamodb"]["SequenceNumber"] not in failed
    ]
    assert [(row.values, row.operation) for row in decoded] == expected


@pytest.mark.parametrize(
    "event_file", sorted((ROOT / "events" / "iceberg_cdc").glob("*.json")), ids=lambda p: p.name
)
def test_sample_events_build_strictly_parsed_statements(event_file: Path) -> None:
    # Given a sample event of events/iceberg_cdc (the corpus of sam local invoke and the demo)
    records = json.loads(event_file.read_text())["Records"]
    # When iceberg_cdc applies it
    statements, _ = apply(records)
    # Then every statement parses strictly as one MERGE of the table, within the limit
    assert statements
    for sql in statements:
        assert utf8_size(sql) <= ATHENA_MAX_QUERY_BYTES
        decode_merge(sql, TARGET, OP_COLUMN)


def test_new_columns_are_added_with_strictly_parsed_ddl() -> None:
    # Given a record with attributes the table lacks, named like SQL keywords and plain words
    attributes = ["gift_note", "unnest", "current_user", "any", "unique", "comment", "select"]
    item = {name: {"S": "x"} for name in attributes}
    runner = CapturingRunner()
    options = ApplyOptions(
        DATABASE, TABLE, key_columns=(KEY,), unknown_attributes=UnknownAttributePolicy.ADD
    )
    applier = CdcApplier(options, FixedCatalog(TableSchema(DATABASE, TABLE, COLUMNS)), runner)
    # When applied with UNKNOWN_ATTRIBUTES=add
    applier.apply([stream_record("k", False, item)], remaining=lambda: 900.0)
    # Then the DDL it sends parses strictly as the columns it adds, every one a column
    alter = next(sql for sql in runner.statements if sql.startswith("ALTER"))
    added = [name for name in attributes if is_plain_name(name)]
    assert {"gift_note", "comment"} <= set(added)
    _check_add_columns(alter, [(name, "string") for name in added])


# ------------------------------------------------------------------------------ size limit

SIZED_COLUMNS = (Column(KEY, parse_glue_type("string")), Column("note", parse_glue_type("string")))
SIZED_TABLE = TargetTable(DATABASE, TABLE, SIZED_COLUMNS, (KEY,))
# Every row holds multi-byte characters and quotes, so characters and bytes differ.
FILLER = "é中😀'\\" * 150


def rows_of_size(count: int, target_bytes: int) -> list[RowChange]:
    """``count`` rows whose MERGE, as one statement, is exactly ``target_bytes`` long."""
    builder = MergeBuilder(SIZED_TABLE)
    rows = [RowChange((f"k{n}",), {KEY: f"k{n}", "note": FILLER}) for n in range(count)]
    size = builder.statement([builder.row_sql(row) for row in rows], rows).size
    assert size <= target_bytes
    last = rows[-1]
    padded = str(last.values["note"]) + "x" * (target_bytes - size)  # one byte per "x"
    rows[-1] = RowChange(last.key, {**last.values, "note": padded})
    return rows


def decoded_rows(sqls: Sequence[str]) -> list[dict[str, ColumnValue]]:
    op = op_column_name(column.name for column in SIZED_COLUMNS)
    return [row.values for sql in sqls for row in decode_merge(sql, SIZED_TABLE, op)]


def test_the_builder_limit_is_athenas() -> None:
    # Given Athena's documented query string limit / Then the builder splits at it by default
    assert BUILDER_LIMIT == ATHENA_MAX_QUERY_BYTES
    assert MergeBuilder(SIZED_TABLE).max_bytes == ATHENA_MAX_QUERY_BYTES


def test_a_batch_of_exactly_the_limit_is_one_statement() -> None:
    # Given rows whose MERGE is exactly 262,144 bytes
    rows = rows_of_size(80, ATHENA_MAX_QUERY_BYTES)
    # When built
    statements, too_large = MergeBuilder(SIZED_TABLE).statements(rows)
    # Then one statement of exactly the limit holds them all and parses strictly
    (statement,) = statements
    assert too_large == []
    assert utf8_size(statement.sql) == ATHENA_MAX_QUERY_BYTES
    assert decoded_rows([statement.sql]) == [dict(row.values) for row in rows]


def test_one_byte_over_the_limit_splits_the_batch() -> None:
    # Given rows whose single MERGE would be 262,145 bytes
    rows = rows_of_size(80, ATHENA_MAX_QUERY_BYTES + 1)
    # When built
    statements, too_large = MergeBuilder(SIZED_TABLE).statements(rows)
    # Then two statements within the limit, each parsing strictly, hold every row in order
    assert len(statements) == 2
    assert too_large == []
    assert all(utf8_size(statement.sql) <= ATHENA_MAX_QUERY_BYTES for statement in statements)
    assert decoded_rows([s.sql for s in statements]) == [dict(row.values) for row in rows]


def test_a_row_that_alone_fills_the_limit_is_sent() -> None:
    # Given one row whose MERGE is exactly 262,144 bytes / When built
    (row,) = rows_of_size(1, ATHENA_MAX_QUERY_BYTES)
    statements, too_large = MergeBuilder(SIZED_TABLE).statements([row])
    # Then it is one statement of exactly the limit that parses strictly
    (statement,) = statements
    assert too_large == []
    assert utf8_size(statement.sql) == ATHENA_MAX_QUERY_BYTES
    assert decoded_rows([statement.sql]) == [dict(row.values)]


def test_a_row_one_byte_over_the_limit_is_set_aside() -> None:
    # Given one row whose MERGE would be 262,145 bytes, between two small rows
    (big,) = rows_of_size(1, ATHENA_MAX_QUERY_BYTES + 1)
    small = [RowChange((key,), {KEY: key, "note": "n"}) for key in ("a", "b")]
    # When built
    statements, too_large = MergeBuilder(SIZED_TABLE).statements([small[0], big, small[1]])
    # Then the big row is set aside and the others go in one strictly parsed statement
    assert [row for row, _ in too_large] == [big]
    assert decoded_rows([s.sql for s in statements]) == [dict(row.values) for row in small]


def test_decoding_catches_a_value_that_became_sql() -> None:
    # Given a MERGE whose text value was spliced in unescaped
    rows = [RowChange(("a",), {KEY: "a", "note": "n"})]
    (statement,), _ = MergeBuilder(SIZED_TABLE).statements(rows)
    tampered = statement.sql.replace("'n'", "upper('n')")
    # When read back / Then the decoder refuses the function call where a literal belongs
    with pytest.raises(AssertionError, match="is not a text literal"):
        decoded_rows([tampered])
