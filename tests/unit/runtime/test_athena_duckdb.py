"""The local Athena stand-in's engine: Glue types, Trino → DuckDB fixes, Iceberg tables as DuckDB
tables, external CSV / JSON tables over S3 objects, maintenance and DDL statements, failures in
Athena's terms; and the bridge's patches of moto. Glue and S3 are moto's, in-process."""

import csv
import datetime
import decimal
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import duckdb
import pytest
import sqlglot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from local_runtime.engines.athena import (
    AthenaOnDuckDB,
    GlueType,
    GlueTypeError,
    QueryOutcome,
    ResultColumn,
    glue_type_from_sqlglot,
    parse_glue_type,
    trino_to_duckdb,
)
from local_runtime.template import glue_table_columns

if TYPE_CHECKING:
    from mypy_boto3_glue import GlueClient
    from mypy_boto3_s3 import S3Client

DB = "lake"
BUCKET = "lake-bucket"
OPEN_CSV = "org.apache.hadoop.hive.serde2.OpenCSVSerde"
LAZY = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
OPENX_JSON = "org.openx.data.jsonserde.JsonSerDe"
ROOT = Path(__file__).resolve().parents[3]
ORDERS = list(glue_table_columns(ROOT / "template.yaml", "CdcOrdersTable"))


@pytest.fixture(scope="module")
def moto_aws() -> Iterator[tuple["GlueClient", "S3Client"]]:
    """One moto for the module (starting it per test costs more than every test here)."""
    with mock_aws():
        glue = boto3.client("glue", region_name="us-east-1")
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        yield glue, s3


@pytest.fixture
def aws(moto_aws: tuple["GlueClient", "S3Client"]) -> Iterator[tuple["GlueClient", "S3Client"]]:
    """An empty Glue database and bucket for each test."""
    glue, s3 = moto_aws
    glue.create_database(DatabaseInput={"Name": DB})
    yield glue, s3
    glue.delete_database(Name=DB)  # its tables with it
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=BUCKET, Key=item["Key"])


@pytest.fixture
def glue(aws: tuple["GlueClient", "S3Client"]) -> "GlueClient":
    return aws[0]


@pytest.fixture
def s3(aws: tuple["GlueClient", "S3Client"]) -> "S3Client":
    return aws[1]


@pytest.fixture
def engine(aws: tuple["GlueClient", "S3Client"], tmp_path: Path) -> Iterator[Any]:
    with AthenaOnDuckDB(tmp_path / "athena.duckdb", aws[0], aws[1]) as athena:
        yield athena


def iceberg_table(glue: "GlueClient", name: str, columns: list[tuple[str, str]]) -> None:
    glue.create_table(
        DatabaseName=DB,
        TableInput={
            "Name": name,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": {"table_type": "iceberg"},
            "StorageDescriptor": {
                "Location": f"s3://{BUCKET}/{name}/",
                "Columns": [{"Name": n, "Type": t} for n, t in columns],
            },
        },
    )


def external_table(
    glue: "GlueClient",
    name: str,
    columns: list[tuple[str, str]],
    *,
    serde: str = OPEN_CSV,
    parameters: dict[str, str] | None = None,
    serde_parameters: dict[str, str] | None = None,
    partition_keys: list[tuple[str, str]] | None = None,
) -> None:
    glue.create_table(
        DatabaseName=DB,
        TableInput={
            "Name": name,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": parameters or {},
            "PartitionKeys": [{"Name": n, "Type": t} for n, t in partition_keys or []],
            "StorageDescriptor": {
                "Location": f"s3://{BUCKET}/{name}/",
                "Columns": [{"Name": n, "Type": t} for n, t in columns],
                "SerdeInfo": {"SerializationLibrary": serde, "Parameters": serde_parameters or {}},
            },
        },
    )


def rows(outcome: QueryOutcome) -> list[list[str | None]]:
    assert outcome.state == "SUCCEEDED", outcome.error
    return [list(row) for row in outcome.rows]


def failure(outcome: QueryOutcome) -> str:
    assert outcome.state == "FAILED"
    assert outcome.error is not None
    return outcome.error.message


# ---------------------------------------------------------------------------------- Glue types
@pytest.mark.parametrize(
    ("glue_type", "duckdb_type"),
    [
        ("string", "VARCHAR"),
        ("decimal(12,2)", "DECIMAL(12,2)"),
        ("bigint", "BIGINT"),
        ("int", "INTEGER"),
        ("double", "DOUBLE"),
        ("float", "REAL"),
        ("boolean", "BOOLEAN"),
        ("array<string>", "VARCHAR[]"),
        ("map<string,string>", "MAP(VARCHAR, VARCHAR)"),
        (
            "struct<street:string,city:string,postcode:string>",
            'STRUCT("street" VARCHAR, "city" VARCHAR, "postcode" VARCHAR)',
        ),
        ("binary", "BLOB"),
        ("date", "DATE"),
        ("timestamp", "TIMESTAMP"),
        ("ARRAY< map<string, array<decimal(5,1)>> >", "MAP(VARCHAR, DECIMAL(5,1)[])[]"),
        (
            "struct<`from`:int,b:struct<c:varchar(10)>>",
            'STRUCT("from" INTEGER, "b" STRUCT("c" VARCHAR))',
        ),
    ],
)
def test_glue_types_map_to_the_contract_duckdb_types(glue_type: str, duckdb_type: str) -> None:
    assert parse_glue_type(glue_type).duckdb() == duckdb_type


@pytest.mark.parametrize(
    "bad", ["strin", "array<string", "map<string>", "struct<a string>", "decimal(40,2)", "int(3)"]
)
def test_unknown_or_malformed_glue_types_are_refused(bad: str) -> None:
    with pytest.raises(GlueTypeError):
        parse_glue_type(bad)


_SCALARS = st.sampled_from(
    [GlueType(n) for n in ("string", "bigint", "int", "double", "boolean", "date", "binary")]
    + [GlueType("decimal", params=(12, 2)), GlueType("timestamp")]
)
_NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)
_GLUE_TYPES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        inner.map(lambda t: GlueType("array", children=(t,))),
        st.tuples(_SCALARS, inner).map(lambda kv: GlueType("map", children=kv)),
        st.lists(st.tuples(_NAMES, inner), min_size=1, max_size=3, unique_by=lambda f: f[0]).map(
            lambda fields: GlueType(
                "struct",
                children=tuple(t for _, t in fields),
                field_names=tuple(n for n, _ in fields),
            )
        ),
    ),
    max_leaves=6,
)


@settings(max_examples=40, deadline=None)
@given(glue_type=_GLUE_TYPES)
def test_any_glue_type_round_trips_and_is_a_duckdb_type(glue_type: GlueType) -> None:
    # Given a Glue type, When it is printed and parsed again, Then it is the same type
    assert parse_glue_type(glue_type.glue()) == glue_type
    # and DuckDB accepts its mapped type
    with duckdb.connect() as connection:
        cast = f"SELECT CAST(NULL AS {glue_type.duckdb()}) AS v"
        assert connection.execute(cast).fetchall() == [(None,)]


def test_athena_ddl_column_types_become_glue_type_names() -> None:
    tree = sqlglot.parse_one(
        "ALTER TABLE t ADD COLUMNS (a string, b map<string,array<int>>, "
        "c struct<x:decimal(10,2),y:binary>, d timestamp)",
        read="hive",
    )
    definitions = list(tree.find_all(sqlglot.exp.ColumnDef))
    assert [glue_type_from_sqlglot(d.args["kind"]).glue() for d in definitions[:4]] == [
        "string",
        "map<string,array<int>>",
        "struct<x:decimal(10,2),y:binary>",
        "timestamp",
    ]


# ---------------------------------------------------------------------------------- transpiling
def duck(sql: str) -> str:
    return trino_to_duckdb(sqlglot.parse_one(sql, read="trino"))


def test_unnamed_row_is_assigned_to_a_struct_column_by_position() -> None:
    connection = duckdb.connect()
    connection.execute("CREATE TABLE t (a STRUCT(street VARCHAR, city VARCHAR))")
    connection.execute(duck("INSERT INTO t VALUES (ROW('1 Main', 'Paris'))"))
    assert connection.execute("SELECT a FROM t").fetchall() == [
        ({"street": "1 Main", "city": "Paris"},)
    ]


def test_decimal_literal_keeps_its_digits_and_bare_decimal_is_trinos() -> None:
    with duckdb.connect() as connection:
        got = connection.execute(
            duck("SELECT DECIMAL '123456789012345678.0123456789' AS a, CAST(2.6 AS DECIMAL) AS b")
        ).fetchall()
    assert [str(v) for v in got[0]] == ["123456789012345678.0123456789", "3"]


def test_timestamp_literal_with_an_offset_is_read_as_that_offset() -> None:
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    sql = duck("SELECT CAST(TIMESTAMP '2026-11-20 10:15:30.5 +02:00' AS timestamp(6)) AS t")
    assert connection.execute(sql).fetchall() == [
        (datetime.datetime(2026, 11, 20, 8, 15, 30, 500000),)
    ]


# ---------------------------------------------------------------------------------- Iceberg tables
def merge_order(order_id: str, op: str, status: str = "NEW") -> str:
    columns = ", ".join(n for n, _ in ORDERS)
    values = ", ".join(f"s.{n}" for n, _ in ORDERS)
    return (
        f'MERGE INTO "{DB}"."orders" AS t USING (VALUES ('  # noqa: S608 - test constants
        f"'{order_id}', NULL, '{status}', DECIMAL '12.50', CAST(3 AS bigint), false, "
        "ARRAY['a', 'b''c'], MAP(ARRAY['k'], ARRAY['v']), ROW('1 Main', 'Paris', '75001'), "
        "'[{\"sku\":\"x\"}]', X'000102', DATE '2026-11-20', "
        "from_iso8601_timestamp('2026-11-20T10:15:30.123456Z'), CAST(1795000000 AS bigint), "
        f"'{op}')) AS s({columns}, op) ON t.order_id = s.order_id "
        "WHEN MATCHED AND s.op = 'REMOVE' THEN DELETE "
        "WHEN MATCHED THEN UPDATE SET status = s.status "
        f"WHEN NOT MATCHED AND s.op <> 'REMOVE' THEN INSERT ({columns}) VALUES ({values})"
    )


def test_an_iceberg_table_becomes_a_duckdb_table_with_the_mapped_types(
    engine: AthenaOnDuckDB, glue: "GlueClient"
) -> None:
    # Given the Glue Iceberg table of the contract
    iceberg_table(glue, "orders", ORDERS)

    # When a query reads it
    rows(engine.execute("SELECT count(*) FROM orders", DB))

    # Then DuckDB holds "lake"."orders" with the contract's column types
    types = engine.connection.execute(
        "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = 'lake' "
        "AND table_name = 'orders' ORDER BY column_index"
    ).fetchall()
    assert types == [(n, parse_glue_type(t).duckdb().replace('"', "")) for n, t in ORDERS]


def test_merge_inserts_updates_and_deletes_rows(engine: AthenaOnDuckDB, glue: "GlueClient") -> None:
    iceberg_table(glue, "orders", ORDERS)

    inserted = engine.execute(merge_order("o1", "INSERT"), DB)
    updated = engine.execute(merge_order("o1", "MODIFY", status="SHIPPED"), DB)
    engine.execute(merge_order("o2", "INSERT"), DB)
    deleted = engine.execute(merge_order("o2", "REMOVE"), DB)

    assert [o.update_count for o in (inserted, updated, deleted)] == [1, 1, 1]
    [row] = engine.table_rows(DB, "orders")
    assert row[0:4] == ("o1", None, "SHIPPED", decimal.Decimal("12.50"))
    assert row[6:13] == (
        ["a", "b'c"],
        {"k": "v"},
        {"street": "1 Main", "city": "Paris", "postcode": "75001"},
        '[{"sku":"x"}]',
        b"\x00\x01\x02",
        datetime.date(2026, 11, 20),
        datetime.datetime(2026, 11, 20, 10, 15, 30, 123456),
    )


def test_the_duckdb_file_is_the_lake_between_engines(
    aws: tuple["GlueClient", "S3Client"], tmp_path: Path
) -> None:
    glue, s3 = aws
    iceberg_table(glue, "orders", ORDERS)
    with AthenaOnDuckDB(tmp_path / "a.duckdb", glue, s3) as first:
        first.execute(merge_order("o1", "INSERT"), DB)
    with AthenaOnDuckDB(tmp_path / "a.duckdb", glue, s3) as second:
        assert rows(second.execute("SELECT order_id FROM orders", DB)) == [["o1"]]


def test_columns_the_glue_table_gains_are_added_to_the_duckdb_table(
    engine: AthenaOnDuckDB, glue: "GlueClient"
) -> None:
    iceberg_table(glue, "t", [("id", "string")])
    engine.execute("INSERT INTO t VALUES ('a')", DB)
    table = glue.get_table(DatabaseName=DB, Name="t")["Table"]
    glue.update_table(
        DatabaseName=DB,
        TableInput={
            "Name": "t",
            "Parameters": table["Parameters"],
            "StorageDescriptor": {
                **table["StorageDescriptor"],
                "Columns": [*table["StorageDescriptor"]["Columns"], {"Name": "n", "Type": "int"}],
            },
        },
    )

    assert rows(engine.execute("SELECT id, n FROM t", DB)) == [["a", None]]


def test_select_values_are_printed_as_athena_prints_them(engine: AthenaOnDuckDB) -> None:
    outcome = engine.execute(
        "SELECT 1.5e10 AS d, 0.1 + 0.2 AS e, REAL '1.1' AS r, DECIMAL '-0.50' AS m, X'00ff' AS b, "
        "ARRAY[1, NULL] AS a, MAP(ARRAY['k'], ARRAY[ROW(1, 'x')]) AS mp, "
        "CAST(ROW(1, 'a') AS ROW(x int, y varchar)) AS rw, TIMESTAMP '2026-01-01 00:00:00.123' "
        "AS ts, from_iso8601_timestamp('2026-01-01T01:00:00+01:00') AS tz, true AS t, NULL AS n"
    )

    assert rows(outcome) == [
        [
            "1.5E10",
            "0.3",
            "1.1",
            "-0.50",
            "00 ff",
            "[1, null]",
            "{k={field0=1, field1=x}}",
            "{x=1, y=a}",
            "2026-01-01 00:00:00.123",
            "2026-01-01 00:00:00.000 UTC",
            "true",
            None,
        ]
    ]
    assert outcome.columns[3] == ResultColumn("m", "decimal", 2, 2)  # as Trino types it
    assert [c.type for c in outcome.columns[4:9]] == [
        "varbinary",
        "array",
        "map",
        "row",
        "timestamp",
    ]


def test_results_csv_quotes_every_value_and_leaves_null_empty() -> None:
    outcome = QueryOutcome(
        "SUCCEEDED",
        "DML",
        columns=(ResultColumn("a", "varchar"), ResultColumn("b", "varchar")),
        rows=(('say "hi"', None), ("x,\ny", "")),
    )
    assert outcome.to_csv() == '"a","b"\n"say ""hi""",\n"x,\ny",""\n'


def test_with_clause_names_are_not_tables(engine: AthenaOnDuckDB, glue: "GlueClient") -> None:
    iceberg_table(glue, "t", [("id", "string")])
    outcome = engine.execute("WITH x AS (SELECT 'a' AS id) SELECT x.id FROM x JOIN t ON true", DB)
    assert rows(outcome) == []


def test_execution_parameters_fill_the_placeholders(engine: AthenaOnDuckDB) -> None:
    outcome = engine.execute("SELECT ? AS a, ? + 1 AS b", None, ["'it''s'", "41"])
    assert rows(outcome) == [["it's", "42"]]


# ---------------------------------------------------------------------------------- external
def put_csv(s3: "S3Client", key: str, records: list[list[str]], header: bool = True) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(["h"] * len(records[0]) if records else ["h"])
    writer.writerows(records)
    s3.put_object(Bucket=BUCKET, Key=key, Body=buffer.getvalue().encode())


_HOSTILE = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"),
    max_size=12,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(records=st.lists(st.tuples(_HOSTILE, _HOSTILE), min_size=1, max_size=4))
def test_csv_table_reads_back_any_string_a_csv_writer_wrote(
    engine: AthenaOnDuckDB, glue: "GlueClient", s3: "S3Client", records: list[tuple[str, str]]
) -> None:
    # Given an OpenCSVSerde table with a header line, and a file of hostile strings
    if not any(t["Name"] == "hostile" for t in glue.get_tables(DatabaseName=DB)["TableList"]):
        external_table(
            glue,
            "hostile",
            [("a", "string"), ("b", "string")],
            parameters={"skip.header.line.count": "1"},
        )
    put_csv(s3, "hostile/data.csv", [list(r) for r in records])

    # When the table is selected, Then every string comes back as written (commas, quotes,
    # newlines, spaces, empty strings, unicode)
    outcome = engine.execute("SELECT a, b FROM hostile", DB)
    assert sorted(map(tuple, rows(outcome))) == sorted(records)


def test_csv_columns_take_their_declared_types(
    engine: AthenaOnDuckDB, glue: "GlueClient", s3: "S3Client"
) -> None:
    external_table(
        glue,
        "typed",
        [("n", "bigint"), ("d", "date"), ("ok", "boolean"), ("x", "decimal(5,2)"), ("s", "string")],
        parameters={"skip.header.line.count": "1"},
    )
    put_csv(s3, "typed/a.csv", [["7", "2026-11-20", "true", "1.25", ""], ["", "", "", "", "x"]])

    outcome = engine.execute("SELECT * FROM typed ORDER BY n NULLS LAST", DB)

    assert rows(outcome) == [["7", "2026-11-20", "true", "1.25", ""], [None, None, None, None, "x"]]
    assert [c.type for c in outcome.columns] == ["bigint", "date", "boolean", "decimal", "varchar"]


@pytest.mark.parametrize(("lenient", "fails"), [("true", False), ("", True)])
def test_a_value_not_of_its_column_type_is_null_only_with_use_null_for_invalid_data(
    engine: AthenaOnDuckDB, glue: "GlueClient", s3: "S3Client", lenient: str, fails: bool
) -> None:
    # Given a CSV table whose bigint column holds a word, with or without the property
    parameters = {"skip.header.line.count": "1", "use.null.for.invalid.data": lenient}
    external_table(glue, "invalid", [("n", "bigint"), ("s", "string")], parameters=parameters)
    put_csv(s3, "invalid/a.csv", [["7", "a"], ["seven", "b"]])
    # When it is selected
    outcome = engine.execute("SELECT n, s FROM invalid ORDER BY s", DB)
    # Then the word is NULL with the property, and fails the query without it
    if fails:
        assert "seven" in failure(outcome)
    else:
        assert rows(outcome) == [["7", "a"], [None, "b"]]


def metrics_table(glue: "GlueClient", template: str, range_: str = "2026-11-01,NOW") -> None:
    external_table(
        glue,
        "metrics",
        [("pipeline", "string"), ("n", "int")],
        parameters={
            "skip.header.line.count": "1",
            "projection.enabled": "true",
            "projection.dt.type": "date",
            "projection.dt.format": "yyyy-MM-dd",
            "projection.dt.range": range_,
            "storage.location.template": template,
        },
        partition_keys=[("dt", "string")],
    )


def test_projected_partitions_come_from_the_template_and_stay_in_range(
    engine: AthenaOnDuckDB, glue: "GlueClient", s3: "S3Client"
) -> None:
    # Given a date-projected table and objects inside, outside and beside the projection
    metrics_table(glue, f"s3://{BUCKET}/metrics/dt=${{dt}}/")
    engine.now = lambda: datetime.datetime(2026, 11, 21, tzinfo=datetime.UTC)
    put_csv(s3, "metrics/dt=2026-11-20/a.csv", [["p1", "1"]])
    put_csv(s3, "metrics/dt=2026-11-21/b.csv", [["p2", "2"], ["p3", "3"]])
    put_csv(s3, "metrics/dt=2026-10-01/old.csv", [["too-old", "0"]])
    put_csv(s3, "metrics/dt=2026-11-22/future.csv", [["future", "0"]])
    put_csv(s3, "metrics/dt=not-a-date/x.csv", [["bad", "0"]])
    put_csv(s3, "metrics/dt=2026-11-20/_SUCCESS", [["hidden", "0"]])

    outcome = engine.execute(
        "SELECT dt, pipeline, n FROM metrics WHERE dt >= '2026-11-20' ORDER BY pipeline", DB
    )

    assert rows(outcome) == [
        ["2026-11-20", "p1", "1"],
        ["2026-11-21", "p2", "2"],
        ["2026-11-21", "p3", "3"],
    ]


def test_projection_template_need_not_be_hive_style(
    engine: AthenaOnDuckDB, glue: "GlueClient", s3: "S3Client"
) -> None:
    metrics_table(glue, f"s3://{BUCKET}/m/${{dt}}/", range_="NOW-7DAYS,NOW")
    engine.now = lambda: datetime.datetime(2026, 11, 21, tzinfo=datetime.UTC)
    put_csv(s3, "m/2026-11-20/a.csv", [["p1", "1"]])
    put_csv(s3, "m/2026-11-01/a.csv", [["old", "1"]])

    assert rows(engine.execute("SELECT dt, pipeline FROM metrics", DB)) == [["2026-11-20", "p1"]]


def test_unprojected_partitions_are_the_glue_partitions(
    engine: AthenaOnDuckDB, glue: "GlueClient", s3: "S3Client"
) -> None:
    external_table(
        glue,
        "parts",
        [("v", "string")],
        partition_keys=[("region", "string")],
        parameters={"skip.header.line.count": "1"},
    )
    glue.create_partition(
        DatabaseName=DB,
        TableName="parts",
        PartitionInput={
            "Values": ["eu"],
            "StorageDescriptor": {"Location": f"s3://{BUCKET}/parts/region=eu/"},
        },
    )
    put_csv(s3, "parts/region=eu/a.csv", [["in-eu"]])
    put_csv(s3, "parts/region=us/a.csv", [["unregistered"]])

    assert rows(engine.execute("SELECT v, region FROM parts", DB)) == [["in-eu", "eu"]]


def test_each_query_sees_the_objects_as_they_are_now(
    engine: AthenaOnDuckDB, glue: "GlueClient", s3: "S3Client"
) -> None:
    external_table(glue, "live", [("v", "string")], parameters={"skip.header.line.count": "1"})
    put_csv(s3, "live/a.csv", [["first"]])
    assert rows(engine.execute("SELECT v FROM live", DB)) == [["first"]]

    put_csv(s3, "live/a.csv", [["second"]])
    put_csv(s3, "live/b.csv", [["third"]])

    assert sorted(rows(engine.execute("SELECT v FROM live", DB))) == [["second"], ["third"]]


def test_an_empty_location_is_an_empty_table_with_its_columns(
    engine: AthenaOnDuckDB, glue: "GlueClient"
) -> None:
    external_table(
        glue, "empty", [("v", "string"), ("n", "bigint")], partition_keys=[("dt", "date")]
    )

    outcome = engine.execute("SELECT * FROM empty", DB)

    assert rows(outcome) == []
    assert [(c.name, c.type) for c in outcome.columns] == [
        ("v", "varchar"),
        ("n", "bigint"),
        ("dt", "date"),
    ]


def test_lazy_simple_serde_splits_on_the_delimiter_without_quoting(
    engine: AthenaOnDuckDB, glue: "GlueClient", s3: "S3Client"
) -> None:
    external_table(
        glue,
        "lazy",
        [("a", "string"), ("n", "int")],
        serde=LAZY,
        serde_parameters={"field.delim": ","},
    )
    s3.put_object(Bucket=BUCKET, Key="lazy/a.txt", Body=b'"quoted",1\n\\N,oops\n')

    assert rows(engine.execute("SELECT a, n FROM lazy", DB)) == [['"quoted"', "1"], [None, None]]


def test_json_lines_table_reads_keys_case_insensitively_with_nested_types(
    engine: AthenaOnDuckDB, glue: "GlueClient", s3: "S3Client"
) -> None:
    external_table(
        glue,
        "events",
        [
            ("source", "string"),
            ("detail", "struct<state:string,n:int>"),
            ("tags", "array<string>"),
            ("at", "timestamp"),
        ],
        serde=OPENX_JSON,
        serde_parameters={"mapping.at": "time"},
        partition_keys=[("dt", "string")],
        parameters={"projection.enabled": "true", "projection.dt.type": "injected"},
    )
    lines = [
        {
            "Source": "glue",
            "detail": {"State": "FAILED", "n": 2},
            "tags": ["a"],
            "Time": "2026-11-20T10:00:00Z",
        },
        {"source": 'q"uote\nline', "extra": 1},
    ]
    s3.put_object(
        Bucket=BUCKET,
        Key="events/dt=2026-11-20/e.json",
        Body="\n".join(json.dumps(line) for line in lines).encode(),
    )

    outcome = engine.execute("SELECT source, detail.state, tags, at, dt FROM events", DB)

    assert rows(outcome) == [
        ["glue", "FAILED", "[a]", "2026-11-20 10:00:00.000000", "2026-11-20"],
        ['q"uote\nline', None, None, None, "2026-11-20"],
    ]


def test_malformed_json_fails_unless_the_table_ignores_it(
    engine: AthenaOnDuckDB, glue: "GlueClient", s3: "S3Client"
) -> None:
    external_table(glue, "strict", [("a", "string")], serde=OPENX_JSON)
    external_table(
        glue,
        "lenient",
        [("a", "string")],
        serde=OPENX_JSON,
        serde_parameters={"ignore.malformed.json": "true"},
    )
    for table in ("strict", "lenient"):
        s3.put_object(Bucket=BUCKET, Key=f"{table}/e.json", Body=b'{"a": "ok"}\n{not json\n')

    assert failure(engine.execute("SELECT a FROM strict", DB)).startswith("HIVE_BAD_DATA")
    assert rows(engine.execute("SELECT a FROM lenient", DB)) == [["ok"], [None]]


# ---------------------------------------------------------------------------------- statements
def test_optimize_and_vacuum_succeed_and_are_recorded(
    engine: AthenaOnDuckDB, glue: "GlueClient"
) -> None:
    iceberg_table(glue, "orders", ORDERS)

    optimized = engine.execute(f'OPTIMIZE "{DB}"."orders" REWRITE DATA USING BIN_PACK;')
    vacuumed = engine.execute("VACUUM orders", DB)

    assert (optimized.state, vacuumed.state) == ("SUCCEEDED", "SUCCEEDED")
    assert [(m.statement, m.database, m.table) for m in engine.maintenance] == [
        ("OPTIMIZE", DB, "orders"),
        ("VACUUM", DB, "orders"),
    ]


@pytest.mark.parametrize(
    ("sql", "code"),
    [
        ("VACUUM lake.nope", "TABLE_NOT_FOUND"),
        ("OPTIMIZE orders", "SYNTAX_ERROR"),
        ("OPTIMIZE orders REWRITE DATA USING SORT", "SYNTAX_ERROR"),
        ("VACUUM orders RETAIN 7 DAYS", "SYNTAX_ERROR"),
        ("VACUUM csv_table", "NOT_SUPPORTED"),
    ],
)
def test_maintenance_of_a_missing_or_non_iceberg_table_fails(
    engine: AthenaOnDuckDB, glue: "GlueClient", sql: str, code: str
) -> None:
    iceberg_table(glue, "orders", ORDERS)
    external_table(glue, "csv_table", [("a", "string")])

    assert failure(engine.execute(sql, DB)).startswith(f"{code}:")
    assert engine.maintenance == []


def test_set_tblproperties_keeps_the_iceberg_tables_properties(
    engine: AthenaOnDuckDB, glue: "GlueClient"
) -> None:
    # Given an Iceberg table / When the maintenance planner's retention statement runs twice
    iceberg_table(glue, "orders", ORDERS)
    sql = (
        "ALTER TABLE lake.orders SET TBLPROPERTIES ('vacuum_max_snapshot_age_seconds'='{}', "
        "'vacuum_min_snapshots_to_keep'='2')"
    )
    first, second = engine.execute(sql.format(432000)), engine.execute(sql.format(86400))
    # Then both succeed as DDL and the table holds the latest values
    assert (first.statement_type, second.state) == ("DDL", "SUCCEEDED")
    assert engine.table_properties[(DB, "orders")] == {
        "vacuum_max_snapshot_age_seconds": "86400",
        "vacuum_min_snapshots_to_keep": "2",
    }


@pytest.mark.parametrize(
    ("sql", "code"),
    [
        ("ALTER TABLE lake.orders SET TBLPROPERTIES ('my_own'='1')", "INVALID_TABLE_PROPERTY"),
        ("ALTER TABLE lake.nope SET TBLPROPERTIES ('format'='parquet')", "TABLE_NOT_FOUND"),
        ("ALTER TABLE lake.csv_table SET TBLPROPERTIES ('format'='x')", "NOT_SUPPORTED"),
    ],
)
def test_set_tblproperties_refuses_what_athena_refuses(
    engine: AthenaOnDuckDB, glue: "GlueClient", sql: str, code: str
) -> None:
    # Given an Iceberg and a CSV table / When a key Athena does not let Iceberg tables set, a
    # missing table or a non-Iceberg table is altered / Then it fails so, and nothing is kept
    iceberg_table(glue, "orders", ORDERS)
    external_table(glue, "csv_table", [("a", "string")])
    assert failure(engine.execute(sql)).startswith(f"{code}:")
    assert engine.table_properties == {}


def test_alter_table_add_columns_updates_glue_and_duckdb(
    engine: AthenaOnDuckDB, glue: "GlueClient"
) -> None:
    iceberg_table(glue, "orders", ORDERS)
    engine.execute(merge_order("o1", "INSERT"), DB)

    outcome = engine.execute(
        "ALTER TABLE `lake`.`orders` ADD COLUMNS (coupon string, extra map<string,array<int>>)"
    )

    assert (outcome.state, outcome.statement_type) == ("SUCCEEDED", "DDL")
    columns = glue.get_table(DatabaseName=DB, Name="orders")["Table"]["StorageDescriptor"][
        "Columns"
    ]
    assert columns[-2:] == [
        {"Name": "coupon", "Type": "string"},
        {"Name": "extra", "Type": "map<string,array<int>>"},
    ]
    assert rows(engine.execute("SELECT coupon, extra FROM orders", DB)) == [[None, None]]


@pytest.mark.parametrize(
    ("sql", "code"),
    [
        ("ALTER TABLE orders ADD COLUMNS (status string)", "COLUMN_ALREADY_EXISTS"),
        ("ALTER TABLE orders ADD COLUMNS (n interval)", "NOT_SUPPORTED"),
        ("ALTER TABLE orders DROP COLUMN status", "NOT_SUPPORTED"),
        ("ALTER TABLE nope ADD COLUMNS (c string)", "TABLE_NOT_FOUND"),
    ],
)
def test_alter_table_refuses_what_it_cannot_apply(
    engine: AthenaOnDuckDB, glue: "GlueClient", sql: str, code: str
) -> None:
    iceberg_table(glue, "orders", ORDERS)

    assert failure(engine.execute(sql, DB)).startswith(f"{code}:")
    columns = glue.get_table(DatabaseName=DB, Name="orders")["Table"]["StorageDescriptor"][
        "Columns"
    ]
    assert len(columns) == len(ORDERS)


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        (
            "SELECT * FROM lake.missing",
            "TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.lake.missing' does not exist",
        ),
        ("SELECT *\nFROM   nodb.t", "SCHEMA_NOT_FOUND: line 2:8: Schema 'nodb' does not exist"),
        (
            "SELECT * FROM other.lake.t",
            "CATALOG_NOT_FOUND: line 1:15: Catalog 'other' does not exist",
        ),
        ("SELECT 1; SELECT 2", "INVALID_INPUT: Only one sql statement is allowed"),
        ("SELEC 1", "SYNTAX_ERROR: line 1:"),
        ("SELECT nope FROM t", "COLUMN_NOT_FOUND:"),
        ("SELECT no_such_function(1)", "FUNCTION_NOT_FOUND:"),
        ("SELECT CAST('x' AS integer)", "INVALID_CAST_ARGUMENT:"),
        ("DROP TABLE t", "NOT_SUPPORTED:"),
        ("SELECT ?", "INVALID_PARAMETER_USAGE:"),
    ],
)
def test_failures_carry_athena_error_names(
    engine: AthenaOnDuckDB, glue: "GlueClient", sql: str, reason: str
) -> None:
    iceberg_table(glue, "t", [("id", "string")])

    outcome = engine.execute(sql, DB)

    assert failure(outcome).startswith(reason)
    assert outcome.error is not None
    assert (outcome.error.category, outcome.error.retryable) == (2, False)


def test_a_merge_matching_a_row_twice_fails_as_in_trino(
    engine: AthenaOnDuckDB, glue: "GlueClient"
) -> None:
    iceberg_table(glue, "t", [("id", "string"), ("v", "int")])
    engine.execute("INSERT INTO t VALUES ('a', 0)", DB)

    outcome = engine.execute(
        "MERGE INTO t USING (VALUES ('a', 1), ('a', 2)) AS s(id, v) ON t.id = s.id "
        "WHEN MATCHED THEN UPDATE SET v = s.v",
        DB,
    )

    assert failure(outcome).startswith("MERGE_TARGET_ROW_MULTIPLE_MATCHES")
    assert engine.table_rows(DB, "t") == [("a", 0)]


@pytest.mark.parametrize(
    "sql",
    ["DELETE FROM ext WHERE a = 'x'", "UPDATE ext SET a = 'y'", "INSERT INTO ext VALUES ('z')"],
)
def test_external_tables_are_read_only(
    engine: AthenaOnDuckDB, glue: "GlueClient", sql: str
) -> None:
    external_table(glue, "ext", [("a", "string")])

    assert failure(engine.execute(sql, DB)).startswith("NOT_SUPPORTED:")


# ---------------------------------------------------------------------------------- the bridge
def test_bridge_restores_moto_when_uninstalled(
    moto_aws: tuple["GlueClient", "S3Client"], tmp_path: Path
) -> None:
    from moto.athena.models import AthenaBackend  # noqa: PLC0415
    from moto.athena.responses import AthenaResponse  # noqa: PLC0415
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import (  # noqa: PLC0415
        state_task_factory,
    )

    from local_runtime.activity import ActivityLog  # noqa: PLC0415
    from local_runtime.bridges import RuntimeServices  # noqa: PLC0415
    from local_runtime.bridges.athena import AthenaBridge  # noqa: PLC0415

    def patched() -> tuple[Any, ...]:
        return (
            AthenaBackend.start_query_execution,
            AthenaBackend.get_query_results,
            AthenaResponse.get_query_execution,
            getattr(state_task_factory, "state_task_service_for"),  # noqa: B009
        )

    before = patched()
    services: Any = RuntimeServices(
        session=boto3.session.Session(region_name="us-east-1"),
        runner=None,  # type: ignore[arg-type]
        activity=ActivityLog(),
        stack=None,  # type: ignore[arg-type]
        template=None,  # type: ignore[arg-type]
        async_invoker=None,  # type: ignore[arg-type]
        workdir=tmp_path,
    )
    bridge = AthenaBridge()
    bridge.install(services)
    installed = patched()
    bridge.uninstall()

    assert all(a is not b for a, b in zip(before, installed, strict=True))
    assert patched() == before
