"""The merge job's SparkEngine in a process of its own, on local Spark 3.5 + Iceberg 1.10.

pyspark 3.5 runs on Glue 5's Python (3.11), not on the 3.13 of the tests and the local runtime,
so this script runs under the Spark venv's python (local_runtime/real_engines.spark_python) and
serves SparkEngine over JSON lines; spark_engine.py (beside it) is the client, which starts it
with the project's code folders as its PYTHONPATH (dev/paths.py). It imports only the standard
library, pyspark and cdc_merge (with what cdc_merge imports), and its codec functions are
imported by the client too, so pyspark is imported only where a session is built.

Protocol, one JSON object per line, UTF-8: requests ``{"id": n, "method": m, "params": {...}}``;
answers ``{"id": n, "result": ...}`` or ``{"id": n, "error": {"type", "text", "traceback",
"summary"}}``; the first line is ``{"ready": true, ...}`` once the session runs. Answers go to the
process's original stdout only: at start fd 1 is pointed at stderr, so whatever the JVM, py4j or
Spark print lands in the log, never inside the protocol.
"""

import argparse
import base64
import dataclasses
import json
import logging
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import IO, Any, Final

from cdc_merge.engine import SparkEngine, StagingFile
from cdc_merge.errors import summarize
from cdc_merge.table_spec import Column, TableSpec, quote_identifier, validate_catalog

logger = logging.getLogger("spark_worker")

READY: Final = "ready"
SHUTDOWN: Final = "shutdown"
_EXTENSIONS: Final = "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)

# --- values and specs on the wire (shared with the client) --------------------------------------


def encode_value(value: object) -> object:
    """A result value as JSON, types kept: Decimal, date, datetime and bytes are tagged objects.

    Spark hands timestamps over as naive datetimes in the process's zone, which the worker sets
    to UTC: they are sent as UTC instants (DuckDB's TIMESTAMPTZ comes back the same way).
    """
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [encode_value(item) for item in value]
    if isinstance(value, Mapping):
        return {"$map": [[encode_value(k), encode_value(v)] for k, v in value.items()]}
    return _tagged(value)


def _tagged(value: object) -> dict[str, str]:
    if isinstance(value, Decimal):
        tag, text = "$decimal", str(value)
    elif isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        tag, text = "$datetime", moment.astimezone(UTC).isoformat()
    elif isinstance(value, date):
        tag, text = "$date", value.isoformat()
    elif isinstance(value, bytes | bytearray):
        tag, text = "$bytes", base64.b64encode(value).decode("ascii")
    else:
        raise TypeError(f"cannot send a {type(value).__name__}")
    return {tag: text}


_DECODERS: Final[dict[str, Callable[[Any], object]]] = {
    "$decimal": Decimal,
    "$datetime": datetime.fromisoformat,
    "$date": date.fromisoformat,
    "$bytes": base64.b64decode,
}


def decode_value(data: object) -> object:
    """The inverse of encode_value."""
    if isinstance(data, list):
        return tuple(decode_value(item) for item in data)
    if isinstance(data, dict):
        if "$map" in data:
            return {decode_value(k): decode_value(v) for k, v in data["$map"]}
        [(tag, payload)] = data.items()
        return _DECODERS[tag](payload)
    return data


def encode_rows(rows: Sequence[Sequence[object]]) -> list[object]:
    return [[encode_value(value) for value in row] for row in rows]


def decode_rows(data: object) -> list[tuple[Any, ...]]:
    if not isinstance(data, list):
        raise TypeError("rows must be a list")
    return [tuple(decode_value(value) for value in row) for row in data]


def encode_spec(spec: TableSpec) -> dict[str, Any]:
    return dataclasses.asdict(spec)


def decode_spec(data: Mapping[str, Any]) -> TableSpec:
    fields = dict(data)
    fields["columns"] = tuple(Column(**column) for column in fields["columns"])
    fields["primary_key"] = tuple(fields["primary_key"])
    fields["partition_by"] = tuple(fields["partition_by"])
    return TableSpec(**fields)


def encode_files(files: Sequence[StagingFile]) -> list[dict[str, Any]]:
    return [dataclasses.asdict(file) for file in files]


def decode_files(data: Sequence[Mapping[str, Any]]) -> list[StagingFile]:
    return [StagingFile(**file) for file in data]


# --- the worker ----------------------------------------------------------------------------------


def session_config(jars: Sequence[str], warehouse_dir: str) -> dict[str, str]:
    """A local Spark with Iceberg's extensions; catalogs are added per test (add_catalog)."""
    return {
        "spark.master": "local[2]",
        "spark.app.name": "datalake-events-spark-worker",
        "spark.jars": ",".join(jars),
        "spark.sql.extensions": _EXTENSIONS,
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.warehouse.dir": warehouse_dir,
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        # Local only, for speed (results do not depend on them): a few rows need no 200 shuffle
        # partitions, and adaptive execution's re-planning doubled the time of each statement.
        # Override with --conf (SparkWorkerEngine(spark_conf=...)) to run with Glue's defaults.
        "spark.sql.shuffle.partitions": "1",
        "spark.sql.adaptive.enabled": "false",
    }


class Worker:
    """SparkEngine's methods plus the catalogs and reads the tests need, by request."""

    def __init__(self, spark: Any) -> None:
        self.spark = spark
        self.engine = SparkEngine(spark)

    def handlers(self) -> dict[str, Callable[..., object]]:
        return {
            "execute": self.execute,
            "create_staging_view": self.create_staging_view,
            "materialize_view": self.engine.materialize_view,
            "drop_view": self.engine.drop_view,
            "add_catalog": self.add_catalog,
            "table_rows": self.table_rows,
        }

    def execute(self, sql: str) -> list[object]:
        return encode_rows(self.engine.execute(sql))

    def create_staging_view(
        self, name: str, files: list[dict[str, Any]], spec: dict[str, Any]
    ) -> None:
        self.engine.create_staging_view(name, decode_files(files), decode_spec(spec))

    def add_catalog(self, name: str, warehouse_dir: str) -> None:
        """An Iceberg catalog on a local directory (a hadoop catalog), usable at once."""
        prefix = f"spark.sql.catalog.{validate_catalog(name)}"
        self.spark.conf.set(prefix, "org.apache.iceberg.spark.SparkCatalog")
        self.spark.conf.set(f"{prefix}.type", "hadoop")
        self.spark.conf.set(f"{prefix}.warehouse", warehouse_dir)

    def table_rows(self, catalog: str, database: str, table: str) -> list[object]:
        """Every row; timestamps read as microseconds since the epoch, on the JVM: pyspark's own
        conversion (datetime.fromtimestamp) fails for the first days of year 1."""
        frame = self.spark.table(".".join(quote_identifier(p) for p in (catalog, database, table)))
        stamps = [field.dataType.typeName() == "timestamp" for field in frame.schema.fields]
        columns = [
            f"unix_micros({quote_identifier(field.name)})"
            if stamp
            else quote_identifier(field.name)
            for field, stamp in zip(frame.schema.fields, stamps, strict=True)
        ]
        rows = [
            [
                _EPOCH + timedelta(microseconds=v) if stamp and v is not None else v
                for v, stamp in zip(row, stamps, strict=True)
            ]
            for row in frame.selectExpr(*columns).collect()
        ]
        return encode_rows(rows)

    def answer(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """The answer to one request; a failure is an answer too (logged here in full)."""
        identifier = request.get("id")
        try:
            handler = self.handlers()[str(request.get("method"))]
            return {"id": identifier, "result": handler(**request.get("params", {}))}
        except Exception as error:
            logger.exception("%s failed", request.get("method"))
            return {
                "id": identifier,
                "error": {
                    "type": type(error).__name__,
                    "text": str(error),
                    "traceback": "".join(traceback.format_exception(error)),
                    "summary": summarize(error).as_json(),
                },
            }


def _protocol_stream() -> IO[str]:
    """The original stdout, kept for answers; fd 1 (inherited by the JVM) becomes stderr."""
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    return protocol


def _send(stream: IO[str], message: Mapping[str, Any]) -> None:
    stream.write(json.dumps(message) + "\n")
    stream.flush()


def serve(jars: Sequence[str], overrides: Mapping[str, str]) -> None:
    protocol = _protocol_stream()
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    # Spark's Python conversion of timestamps uses the process's zone: make it the session's.
    os.environ["TZ"] = "UTC"
    time.tzset()
    from pyspark.sql import SparkSession  # type: ignore[import-not-found]  # noqa: PLC0415

    builder = SparkSession.builder
    with tempfile.TemporaryDirectory(prefix="spark-worker-") as scratch:
        for key, value in {**session_config(jars, scratch), **overrides}.items():
            builder = builder.config(key, value)
        spark = builder.getOrCreate()
        spark.sparkContext.setLogLevel("WARN")
        worker = Worker(spark)
        _send(protocol, {READY: True, "spark": spark.version})
        try:
            for line in sys.stdin:
                request = json.loads(line)
                if request.get("method") == SHUTDOWN:
                    _send(protocol, {"id": request.get("id"), "result": None})
                    break
                _send(protocol, worker.answer(request))
        finally:
            spark.stop()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="spark_worker", description=__doc__)
    parser.add_argument("--jars", required=True, help="comma-separated jars for spark.jars")
    parser.add_argument(
        "--conf", action="append", default=[], metavar="KEY=VALUE", help="a session setting"
    )
    arguments = parser.parse_args(argv)
    overrides = dict(setting.partition("=")[::2] for setting in arguments.conf)
    serve([jar for jar in arguments.jars.split(",") if jar], overrides)


if __name__ == "__main__":
    main()
