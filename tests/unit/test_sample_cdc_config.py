"""config/pipeline.yaml's entry for the stack's own source stream describes the table the
template declares: the same columns, in order, the same key and the same target (the template's
CdcOrdersTable cannot be updated by CloudFormation, so the config may not drift from it)."""

from pathlib import Path

from datalake_shared.cdc_tables import STACK_SOURCE, CdcTableConfig
from datalake_shared.pipeline_config import parse_pipeline_config
from local_runtime.template import glue_table_columns, load_sam_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"


def _stack_source_entry() -> CdcTableConfig:
    config = parse_pipeline_config((ROOT / "config/pipeline.yaml").read_text(), "pipeline.yaml")
    [entry] = [table for table in config.cdc_tables if table.source_table == STACK_SOURCE]
    return entry


def test_the_sample_entry_has_the_template_tables_columns() -> None:
    entry = _stack_source_entry()
    declared = glue_table_columns(TEMPLATE, "CdcOrdersTable")
    assert [(c.name, c.type) for c in entry.columns] == list(declared)


def test_the_sample_entry_targets_the_template_table_with_its_key() -> None:
    entry = _stack_source_entry()
    template = load_sam_template(TEMPLATE)
    table_name = template["Resources"]["CdcOrdersTable"]["Properties"]["TableInput"]["Name"]
    key_default = template["Parameters"]["CdcKeyColumns"]["Default"]
    assert entry.target_table == table_name
    assert entry.key_columns == key_default.split(",")
