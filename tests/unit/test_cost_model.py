"""The cost guide: docs/cost.md shows the model's output, and the model's arithmetic follows the
workload and the template (a line grows with what it bills for, and nothing else)."""

from dataclasses import replace

import pytest

from tools.cost_model import (
    COST_DOC,
    PRICES,
    TABLE_END,
    TABLE_START,
    LineItem,
    TemplateFacts,
    Workload,
    batch_dispatch,
    cdc_to_iceberg,
    estimate,
    render,
    rewrite_doc,
)
from tools.cost_model import file_tracking as file_tracking_cost


def _usd(items: list[LineItem], item_prefix: str) -> float:
    return sum(i.usd for i in items if i.item.startswith(item_prefix))


@pytest.fixture(scope="module")
def facts() -> TemplateFacts:
    return TemplateFacts.read()


def test_the_cost_page_shows_the_models_table(facts: TemplateFacts) -> None:
    # Given the page and the model / Then the page's table is the model's output, unchanged
    doc = COST_DOC.read_text()
    table = render(estimate(Workload(), facts), Workload())
    assert rewrite_doc(doc, table) == doc, "run: python -m tools.cost_model --write"


def test_rewriting_keeps_the_text_around_the_table() -> None:
    doc = f"intro\n{TABLE_START}\nold\n{TABLE_END}\nafter"
    assert rewrite_doc(doc, "new") == f"intro\n{TABLE_START}\nnew\n{TABLE_END}\nafter"


def test_template_facts_come_from_the_template(facts: TemplateFacts) -> None:
    # Then the memory sizes and alarms are the template's, never restated
    assert facts.memory_gb("ExcelCleanerFunction") == 3008 / 1024
    assert facts.memory_gb("FileTrackerFunction") == facts.default_memory_mb / 1024
    assert facts.alarms >= 10


def test_glue_cost_follows_the_number_of_runs_not_the_tables(facts: TemplateFacts) -> None:
    # Given the same 50 tables in runs of 10, then of 50
    small_runs = _usd(batch_dispatch(Workload(tables_per_glue_run=10), facts), "Glue")
    one_run = _usd(batch_dispatch(Workload(tables_per_glue_run=50), facts), "Glue")
    # Then five times fewer runs cost five times less
    assert small_runs == pytest.approx(5 * one_run)


def test_glue_cost_is_dpu_hours_at_the_list_price(facts: TemplateFacts) -> None:
    w = Workload(dms_tables=10, tables_per_glue_run=10, merge_every_hours=24, glue_runs_minutes=6)
    # one run a day for 30 days, 2 DPU for 6 minutes each
    expected = 30 * 2 * 6 / 60 * PRICES.glue_dpu_hour
    assert _usd(batch_dispatch(w, facts), "Glue") == pytest.approx(expected)


def test_athena_bills_the_ten_megabyte_minimum(facts: TemplateFacts) -> None:
    # Given MERGEs that scan 1 MB and MERGEs that scan 10 MB
    tiny = _usd(cdc_to_iceberg(Workload(cdc_mb_scanned_per_merge=1), facts), "Athena")
    ten = _usd(cdc_to_iceberg(Workload(cdc_mb_scanned_per_merge=10), facts), "Athena")
    # Then both are billed 10 MB each
    assert tiny == ten > 0


def test_file_tracking_writes_grow_with_the_files(facts: TemplateFacts) -> None:
    base = Workload()
    double = replace(base, dms_files_per_table_per_hour=2 * base.dms_files_per_table_per_hour)
    writes = _usd(file_tracking_cost(base, facts), "DynamoDB")
    assert _usd(file_tracking_cost(double, facts), "DynamoDB") == pytest.approx(2 * writes)


def test_every_line_is_a_non_negative_amount(facts: TemplateFacts) -> None:
    items = estimate(Workload(), facts)
    assert items
    assert all(item.usd >= 0 for item in items)
