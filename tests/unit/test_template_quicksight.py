"""QuickSight as code: template.yaml's generated QuickSight block is what the definitions say,
every visual reads a column its dataset declares, and none of it exists without a principal."""

import re
from collections.abc import Iterator
from typing import Any

import pytest
import sqlglot
from cfn_intrinsics import Stack
from sqlglot import exp
from template_support import ROOT, Template, resources

from local_runtime.intrinsics import evaluate_conditions
from tools.dashboards import quicksight, template_regions
from tools.dashboards.definitions import DASHBOARDS, ColumnType, all_datasets, slug

TEMPLATE_TEXT = (ROOT / "template.yaml").read_text(encoding="utf-8")
QUICKSIGHT_TYPES = ("AWS::QuickSight::DataSource", "AWS::QuickSight::DataSet")
DASHBOARD = "AWS::QuickSight::Dashboard"
PRINCIPAL_ARNS = (
    "arn:aws:quicksight:us-east-1:123456789012:user/default/analyst",
    "arn:aws:quicksight:eu-west-1:123456789012:group/default/bi-team",
    "arn:aws:quicksight:us-east-1:123456789012:user/default/Admin/jane@example.com",
)


def _quicksight_resources(template: Template) -> dict[str, dict[str, Any]]:
    return {
        logical: resource
        for logical, resource in template["Resources"].items()
        if resource["Type"].startswith("AWS::QuickSight::")
    }


def _by_id(template: Template, kind: str, id_property: str) -> dict[str, dict[str, Any]]:
    """Resources of a kind by their QuickSight id's text after ``${AWS::StackName}-``."""
    found = {}
    for resource in resources(template, kind).values():
        text = resource["Properties"][id_property]["Fn::Sub"]
        found[text.removeprefix("${AWS::StackName}-")] = resource
    return found


def _columns(template: Template, logical_id: str) -> dict[str, str]:
    """A generated dataset's declared columns, name -> QuickSight type."""
    [table] = template["Resources"][logical_id]["Properties"]["PhysicalTableMap"].values()
    return {column["Name"]: column["Type"] for column in table["CustomSql"]["Columns"]}


def _column_references(value: Any) -> Iterator[dict[str, Any]]:
    """Every field of a dashboard definition (a dict holding its Column), wherever it sits."""
    if isinstance(value, dict):
        if isinstance(value.get("Column"), dict) and "ColumnName" in value["Column"]:
            yield value
        for item in value.values():
            yield from _column_references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _column_references(item)


def _declared_columns(template: Template, dashboard: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Identifier -> columns of each dataset a dashboard declares."""
    declarations = dashboard["Properties"]["Definition"]["DataSetIdentifierDeclarations"]
    return {
        declaration["Identifier"]: _columns(template, declaration["DataSetArn"]["Fn::GetAtt"][0])
        for declaration in declarations
    }


def _sql_of(dataset: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    [table] = dataset["Properties"]["PhysicalTableMap"].values()
    text, variables = table["CustomSql"]["SqlQuery"]["Fn::Sub"]
    return text, variables


def test_the_block_is_what_the_generator_writes_now(sam_template: Template) -> None:
    # Given the template's quicksight block
    written = template_regions.current(TEMPLATE_TEXT, "quicksight")
    # When the generator renders the resources from the definitions and the template
    expected = template_regions.render(quicksight.resources(sam_template))
    # Then they are the same text (else: make dashboards)
    assert written == expected, "template.yaml's quicksight block is stale: run make dashboards"


def test_every_dataset_and_dashboard_of_the_definitions_is_in_the_template(
    sam_template: Template,
) -> None:
    # Given the template's data source, datasets and dashboards by their QuickSight ids
    sources = _by_id(sam_template, "AWS::QuickSight::DataSource", "DataSourceId")
    datasets = _by_id(sam_template, "AWS::QuickSight::DataSet", "DataSetId")
    dashboards = _by_id(sam_template, DASHBOARD, "DashboardId")
    # Then there is one Athena source, and one dataset / dashboard per definition, no more
    assert list(sources) == ["athena"]
    assert sources["athena"] is sam_template["Resources"][quicksight.DATA_SOURCE]
    assert sorted(datasets) == sorted(slug(d.key) for d in all_datasets())
    assert sorted(dashboards) == sorted(slug(d.key) for d in DASHBOARDS)


def test_the_data_source_queries_through_the_stacks_workgroup(sam_template: Template) -> None:
    # Given the data source
    props = sam_template["Resources"][quicksight.DATA_SOURCE]["Properties"]
    # Then it is Athena on the workgroup the named queries run in
    [workgroup] = resources(sam_template, "AWS::Athena::WorkGroup")
    assert props["Type"] == "ATHENA"
    assert props["DataSourceParameters"]["AthenaParameters"] == {"WorkGroup": {"Ref": workgroup}}


@pytest.mark.parametrize("dataset", all_datasets(), ids=lambda d: d.key)
def test_each_dataset_runs_its_sql_file_on_the_lake_database(
    sam_template: Template, dataset: Any
) -> None:
    # Given the generated dataset of a definition
    generated = _by_id(sam_template, "AWS::QuickSight::DataSet", "DataSetId")
    text, variables = _sql_of(generated[slug(dataset.key)])
    # Then its SQL is the file's text with the database named before each table...
    placeholder = f"${{{quicksight.DATABASE_VARIABLE}}}"
    assert text.replace(f'"{placeholder}".', "").replace("${!", "${") == dataset.sql
    assert variables == {quicksight.DATABASE_VARIABLE: {"Ref": "LakeDatabase"}}
    # ...and no table it reads is left without one
    tree = sqlglot.parse_one(text.replace(placeholder, "lake"), read="trino")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    tables = [table for table in tree.find_all(exp.Table) if table.name not in ctes]
    assert tables
    assert all(table.db == "lake" for table in tables)


def test_each_dataset_declares_the_columns_of_its_definition(sam_template: Template) -> None:
    generated = _by_id(sam_template, "AWS::QuickSight::DataSet", "DataSetId")
    for dataset in all_datasets():
        [table] = generated[slug(dataset.key)]["Properties"]["PhysicalTableMap"].values()
        declared = [(c["Name"], c["Type"]) for c in table["CustomSql"]["Columns"]]
        assert declared == [(c.name, c.type.value) for c in dataset.columns], dataset.key


def test_every_field_names_a_declared_column_of_a_declared_dataset(
    sam_template: Template,
) -> None:
    for logical_id, dashboard in resources(sam_template, DASHBOARD).items():
        # Given a dashboard's datasets and the fields of its visuals
        declared = _declared_columns(sam_template, dashboard)
        fields = list(_column_references(dashboard["Properties"]["Definition"]))
        assert fields, logical_id
        # Then each field reads a column of a dataset the dashboard declares
        for field in fields:
            column = field["Column"]
            assert column["DataSetIdentifier"] in declared, (logical_id, column)
            assert column["ColumnName"] in declared[column["DataSetIdentifier"]], (
                logical_id,
                column,
            )


def test_every_field_has_the_kind_its_column_type_asks_for(sam_template: Template) -> None:
    kinds = {
        "DateDimensionField": {ColumnType.DATETIME},
        "NumericalDimensionField": {ColumnType.INTEGER, ColumnType.DECIMAL},
        "CategoricalDimensionField": {ColumnType.STRING},
        "NumericalMeasureField": {ColumnType.INTEGER, ColumnType.DECIMAL},
    }
    for dashboard in resources(sam_template, DASHBOARD).values():
        declared = _declared_columns(sam_template, dashboard)
        visuals = dashboard["Properties"]["Definition"]["Sheets"][0]["Visuals"]
        for visual in visuals:
            for wrapper in _field_wrappers(visual):
                # Given a chart's field (a table's fields are shown as they are)
                ((kind, field),) = wrapper.items()
                column = field["Column"]
                column_type = declared[column["DataSetIdentifier"]][column["ColumnName"]]
                # Then its kind fits the column's type
                assert column_type in kinds[kind], (kind, column)


def _field_wrappers(visual: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The {kind: field} entries of a chart's aggregated field wells."""
    ((_, body),) = visual.items()
    for wells in body["ChartConfiguration"]["FieldWells"].values():
        if isinstance(wells, dict) and "Values" in wells and "Category" in wells:
            for well in ("Category", "Colors", "Values"):
                yield from wells.get(well, [])


def test_bars_are_vertical_stacked_or_clustered_as_defined(sam_template: Template) -> None:
    dashboards = _by_id(sam_template, DASHBOARD, "DashboardId")
    for definition in DASHBOARDS:
        sheet = dashboards[slug(definition.key)]["Properties"]["Definition"]["Sheets"]
        drawn = {next(iter(v.values()))["VisualId"]: v for v in sheet[0]["Visuals"]}
        for visual in definition.visuals:
            if visual.chart.value not in {"bar", "stacked_bar"}:
                continue
            configuration = drawn[visual.key]["BarChartVisual"]["ChartConfiguration"]
            expected = "STACKED" if visual.chart.value == "stacked_bar" else "CLUSTERED"
            assert (configuration["Orientation"], configuration["BarsArrangement"]) == (
                "VERTICAL",
                expected,
            )


def test_a_visual_with_only_is_filtered_to_those_rows_and_nothing_else_is(
    sam_template: Template,
) -> None:
    # Given the definitions' visuals that draw only some rows (e.g. action rows, not stages)
    dashboards = _by_id(sam_template, DASHBOARD, "DashboardId")
    for definition in DASHBOARDS:
        body = dashboards[slug(definition.key)]["Properties"]["Definition"]
        filtered = {}
        for group in body.get("FilterGroups", []):
            (scope,) = group["ScopeConfiguration"]["SelectedSheets"][
                "SheetVisualScopingConfigurations"
            ]
            (only,) = group["Filters"]
            category = only["CategoryFilter"]
            values = category["Configuration"]["FilterListConfiguration"]
            assert (scope["Scope"], values["MatchOperator"]) == ("SELECTED_VISUALS", "CONTAINS")
            for visual_id in scope["VisualIds"]:
                filtered[visual_id] = (
                    category["Column"]["ColumnName"],
                    *values["CategoryValues"],
                )
        # Then each such visual, and only it, keeps exactly its rows
        assert filtered == {v.key: v.only for v in definition.visuals if v.only is not None}


def test_charts_by_a_date_sort_their_days_ascending_and_no_other_chart_is_sorted(
    sam_template: Template,
) -> None:
    dashboards = _by_id(sam_template, DASHBOARD, "DashboardId")
    for definition in DASHBOARDS:
        sheet = dashboards[slug(definition.key)]["Properties"]["Definition"]["Sheets"]
        drawn = {next(iter(v.values()))["VisualId"]: v for v in sheet[0]["Visuals"]}
        for visual in definition.visuals:
            # Given a chart of the definitions, as the template draws it
            configuration = next(iter(drawn[visual.key].values())).get("ChartConfiguration", {})
            sort = configuration.get("SortConfiguration")
            by_date = (
                visual.category is not None
                and visual.dataset.column(visual.category).type is ColumnType.DATETIME
            )
            # Then a chart by date sorts by that field ascending (QuickSight's default for bars
            # is by value); any other chart keeps QuickSight's default
            field_sort = {"FieldId": f"{visual.key}.{visual.category}", "Direction": "ASC"}
            expected = {"CategorySort": [{"FieldSort": field_sort}]} if by_date else None
            assert sort == expected, visual.key


def test_every_quicksight_resource_and_output_exists_only_with_the_condition(
    sam_template: Template,
) -> None:
    generated = _quicksight_resources(sam_template)
    assert {r["Type"] for r in generated.values()} == {*QUICKSIGHT_TYPES, DASHBOARD}
    assert {r.get("Condition") for r in generated.values()} == {quicksight.CONDITION}
    # Outputs naming them (or their dashboards' addresses) carry the condition as well
    outputs = {
        name: output
        for name, output in sam_template["Outputs"].items()
        if "QuickSight" in name or "quicksight" in str(output["Value"])
    }
    assert len(outputs) == 1 + len(DASHBOARDS)
    assert {output.get("Condition") for output in outputs.values()} == {quicksight.CONDITION}


def test_each_dashboard_has_an_output_with_its_address(sam_template: Template) -> None:
    for dashboard in resources(sam_template, DASHBOARD).values():
        dashboard_id = dashboard["Properties"]["DashboardId"]["Fn::Sub"]
        addresses = [
            output["Value"]["Fn::Sub"]
            for output in sam_template["Outputs"].values()
            if isinstance(output["Value"], dict) and "Fn::Sub" in output["Value"]
        ]
        assert f"quicksight.aws.amazon.com/sn/dashboards/{dashboard_id}" in " ".join(addresses)


def test_the_data_source_arn_is_an_output(sam_template: Template) -> None:
    output = sam_template["Outputs"]["QuickSightDataSourceArn"]
    assert output["Value"] == {"Fn::GetAtt": [quicksight.DATA_SOURCE, "Arn"]}


@pytest.mark.parametrize(("principal", "enabled"), [("", False), (PRINCIPAL_ARNS[0], True)])
def test_the_condition_holds_only_with_a_principal(
    sam_template: Template, principal: str, enabled: bool
) -> None:
    # Given a stack deployed with the principal parameter empty or set
    values = {
        name: str(spec.get("Default", "")) for name, spec in sam_template["Parameters"].items()
    }
    values[quicksight.PRINCIPAL] = principal
    stack = Stack("datalake-events", parameters=values)
    # When the template's conditions are decided
    conditions = evaluate_conditions(sam_template["Conditions"], values, stack.resolver)
    # Then QuickSight is enabled exactly when a principal is given
    assert conditions[quicksight.CONDITION] is enabled


@pytest.mark.parametrize("principal", ["", *PRINCIPAL_ARNS])
def test_the_parameter_accepts_empty_or_a_quicksight_user_or_group(
    sam_template: Template, principal: str
) -> None:
    spec = sam_template["Parameters"][quicksight.PRINCIPAL]
    assert re.fullmatch(spec["AllowedPattern"], principal)
    assert len(principal) <= spec["MaxLength"]
    assert spec["Default"] == ""


@pytest.mark.parametrize(
    "principal",
    [
        "analyst",
        "arn:aws:iam::123456789012:user/analyst",
        "arn:aws:quicksight:us-east-1:123456789012:namespace/default",
        "arn:aws:quicksight:us-east-1:1234:user/default/analyst",
        " arn:aws:quicksight:us-east-1:123456789012:user/default/analyst",
    ],
)
def test_the_parameter_refuses_anything_else(sam_template: Template, principal: str) -> None:
    spec = sam_template["Parameters"][quicksight.PRINCIPAL]
    assert not re.fullmatch(spec["AllowedPattern"], principal)


# ------------------------------------------------------------------ naming the database


def test_qualifying_names_tables_not_ctes_and_keeps_every_other_byte() -> None:
    sql = 'WITH recent AS (SELECT * FROM events) -- ${not a variable}\nSELECT "user" FROM recent r '
    sql += 'JOIN "audit" a ON a.id = r.id'
    qualified = quicksight.qualified_sql(sql, escape_placeholders=True)
    assert qualified == (
        'WITH recent AS (SELECT * FROM "${Database}".events) -- ${!not a variable}\n'
        'SELECT "user" FROM recent r JOIN "${Database}"."audit" a ON a.id = r.id'
    )


def test_qualifying_keeps_the_variables_of_an_fn_sub_query() -> None:
    sql = "SELECT * FROM events WHERE dt >= '${Start}'"
    qualified = quicksight.qualified_sql(sql, escape_placeholders=False)
    assert qualified == "SELECT * FROM \"${Database}\".events WHERE dt >= '${Start}'"


def test_a_table_the_qualifier_cannot_name_fails_the_generation() -> None:
    # A comma join's second table does not follow FROM or JOIN: refused, not deployed unqualified
    with pytest.raises(quicksight.GenerationError, match="b"):
        quicksight.qualified_sql("SELECT 1 FROM a, b", escape_placeholders=True)
