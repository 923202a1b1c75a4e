"""local_runtime/spark_worker's wire format and output discipline, without Spark: values, specs
and files cross the process boundary unchanged, and only answers reach the protocol stream."""

import ast
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

from glue_merge_fakes import table_config

from cdc_merge.engine import StagingFile
from cdc_merge.table_spec import TableSpec
from dev.glue_merge.spark_worker import (
    decode_files,
    decode_rows,
    decode_spec,
    encode_files,
    encode_rows,
    encode_spec,
)

ROOT = Path(__file__).resolve().parents[3]


def test_the_worker_is_python_3_11_code() -> None:
    # Given the worker, linted for 3.13 with local_runtime but run by the Spark venv's 3.11
    source = (ROOT / "dev" / "glue_merge" / "spark_worker.py").read_text()
    # Then Python 3.11's grammar accepts it
    ast.parse(source, feature_version=(3, 11))


def test_values_keep_their_types_across_the_wire() -> None:
    # Given a row of every type a table holds
    row = (
        1,
        2**63 - 1,
        1.5,
        True,
        None,
        'é\r\n"',
        Decimal("-12.30"),
        date(1, 1, 1),
        datetime(2026, 11, 23, 10, 0, 0, 5, tzinfo=UTC),
        b"\x00\xff",
    )
    # When encoded and decoded / Then it is the same row
    assert decode_rows(encode_rows([row])) == [row]


def test_naive_spark_timestamps_are_utc_and_zoned_ones_become_utc() -> None:
    # Given Spark's naive timestamp (the worker's zone is UTC) and a zoned one
    naive = datetime(2026, 11, 23, 10, 0)
    zoned = datetime(2026, 11, 23, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    # When sent / Then both arrive as the same UTC instant
    assert decode_rows(encode_rows([(naive, zoned)])) == [
        (datetime(2026, 11, 23, 10, 0, tzinfo=UTC),) * 2
    ]


def test_a_table_spec_and_its_files_arrive_unchanged() -> None:
    spec = TableSpec.from_dict(table_config("sales.orders", partition_by=["order_id"]))
    files = [StagingFile("s3://b/k.csv", "cdc", 3)]
    assert decode_spec(encode_spec(spec)) == spec
    assert decode_files(encode_files(files)) == files


def test_only_answers_reach_the_protocol_stream(tmp_path: Path) -> None:
    # Given the worker's stream set up, then noise written to fd 1 as the JVM would
    code = (
        "import os, sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from dev.paths import put_project_on_path\n"
        "put_project_on_path()\n"
        "from dev.glue_merge.spark_worker import _protocol_stream, _send\n"
        "protocol = _protocol_stream()\n"
        "os.write(1, b'log4j noise\\n')\n"
        "print('a stray print')\n"
        "_send(protocol, {'id': 1, 'result': None})\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    # Then stdout holds the answer alone and the noise went to stderr
    assert result.returncode == 0, result.stderr
    assert result.stdout == '{"id": 1, "result": null}\n'
    assert "log4j noise" in result.stderr
    assert "a stray print" in result.stderr
