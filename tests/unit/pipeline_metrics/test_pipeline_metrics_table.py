"""athena/pipeline_metrics/table.md declares what the writer writes, and the template follows it."""

import re
from typing import Any

from pipeline_metrics_fakes import ATHENA_DIR
from samcli.yamlhelper import yaml_parse

from pipeline_metrics.csv_rows import COLUMNS
from pipeline_metrics.settings import DEFAULT_METRICS_PREFIX

TABLE_DOC = (ATHENA_DIR / "table.md").read_text()
PROJECTION = {
    "projection.enabled": "true",
    "projection.dt.type": "date",
    "projection.dt.format": "yyyy-MM-dd",
    "projection.dt.range": "2024-01-01,NOW",
    "projection.dt.interval.unit": "DAYS",
}


def documented_resources() -> dict[str, Any]:
    """The YAML block of table.md (CloudFormation short tags understood)."""
    (block,) = re.findall(r"```yaml\n(.*?)```", TABLE_DOC, flags=re.DOTALL)
    resources: dict[str, Any] = yaml_parse(block)
    return resources


def table_input() -> dict[str, Any]:
    table: dict[str, Any] = documented_resources()["PipelineMetricsTable"]["Properties"]
    return dict(table["TableInput"])


def test_documented_columns_are_the_writers_columns_in_order_all_strings() -> None:
    # Given the Glue table of table.md / Then its columns are MetricRow's, by position, strings
    columns = table_input()["StorageDescriptor"]["Columns"]
    assert [column["Name"] for column in columns] == list(COLUMNS)
    assert {column["Type"] for column in columns} == {"string"}


def test_column_reference_table_lists_the_same_columns() -> None:
    # Given the markdown column table / Then it lists the writer's columns in order
    listed = re.findall(r"^\| \d+ \| (\w+) \| string \|", TABLE_DOC, flags=re.MULTILINE)
    assert listed == list(COLUMNS)


def test_table_is_partitioned_by_dt_with_date_projection() -> None:
    # Given the Glue table / Then dt is a string partition projected by day from 2024 to now
    table = table_input()
    assert table["PartitionKeys"] == [{"Name": "dt", "Type": "string"}]
    assert table["Parameters"].items() >= PROJECTION.items()


def test_projection_template_matches_the_writers_key_layout() -> None:
    # Given the Glue table / Then its location template is <bucket>/<default prefix>dt=${dt}/
    template = table_input()["Parameters"]["storage.location.template"]
    assert template == {"Fn::Sub": f"s3://${{MetricsBucket}}/{DEFAULT_METRICS_PREFIX}dt=${{!dt}}/"}


def test_serde_reads_the_writers_csv() -> None:
    # Given the Glue table / Then OpenCSVSerde reads quoted, backslash-escaped, headed CSV
    table = table_input()
    serde = table["StorageDescriptor"]["SerdeInfo"]
    assert serde["SerializationLibrary"] == "org.apache.hadoop.hive.serde2.OpenCSVSerde"
    assert serde["Parameters"] == {"separatorChar": ",", "quoteChar": '"', "escapeChar": "\\"}
    assert table["Parameters"]["skip.header.line.count"] == "1"


def test_template_table_matches_table_md(sam_template: dict[str, Any]) -> None:
    # Given template.yaml / When it defines the pipeline_metrics Glue table
    tables = [
        resource["Properties"]["TableInput"]
        for resource in sam_template["Resources"].values()
        if resource.get("Type") == "AWS::Glue::Table"
        and resource.get("Properties", {}).get("TableInput", {}).get("Name") == "pipeline_metrics"
    ]
    # Then there is one (a renamed or removed table fails here, never skips), and its columns,
    # SerDe and projection are the documented ones
    (table,) = tables
    documented = table_input()
    assert table["StorageDescriptor"]["Columns"] == documented["StorageDescriptor"]["Columns"]
    assert table["StorageDescriptor"]["SerdeInfo"] == documented["StorageDescriptor"]["SerdeInfo"]
    assert table["Parameters"].items() >= PROJECTION.items()
