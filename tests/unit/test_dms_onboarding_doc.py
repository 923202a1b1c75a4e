"""docs/dms-onboarding.md: the endpoint settings and the config entry it shows agree, and the
entry is a valid pipeline config (a page a team copies from must not teach a rejected file)."""

import json
import re
from pathlib import Path

from datalake_shared.pipeline_config import parse_pipeline_config

PAGE = Path(__file__).resolve().parents[2] / "docs" / "dms-onboarding.md"
BLOCK = re.compile(r"```(json|yaml)\n(.*?)```", re.DOTALL)
BATCHES = "batches:\n  - {cadence: hourly, batch_size: 5, max_parallel_batches: 1}\n"


def _blocks(kind: str) -> list[str]:
    return [body for found, body in BLOCK.findall(PAGE.read_text()) if found == kind]


def test_the_config_entry_is_a_valid_pipeline_config() -> None:
    # Given the page's table entry, with a batch config for its cadence
    [entry] = _blocks("yaml")
    # When it is parsed as the loader parses an upload / Then it is accepted
    config = parse_pipeline_config(BATCHES + entry, "pipeline.yaml")
    [table] = config.tables
    assert table.source_table == "sales.orders"


def test_the_entry_matches_the_csv_endpoint_settings() -> None:
    # Given the CSV endpoint settings and the entry
    [csv_settings] = [json.loads(b) for b in _blocks("json")]
    [table] = parse_pipeline_config(BATCHES + _blocks("yaml")[0], "pipeline.yaml").tables
    # Then the sequence column is DMS's timestamp column, and full loads carry Op and it
    assert table.sequence_column == csv_settings["TimestampColumnName"]
    assert csv_settings["IncludeOpForFullLoad"] is True
    assert table.full_load_layout == "op_sequence"
    assert table.file_format == csv_settings["DataFormat"]
    # and files are what the merge job reads: headerless, comma-separated, LF rows, deletes kept
    assert csv_settings["AddColumnName"] is False
    assert (csv_settings["CsvDelimiter"], csv_settings["CsvRowDelimiter"]) == (",", "\n")
    assert csv_settings["CdcInsertsOnly"] is csv_settings["CdcInsertsAndUpdates"] is False
