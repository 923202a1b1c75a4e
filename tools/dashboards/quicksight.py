"""The stack's QuickSight resources, generated from the definitions (``make dashboards``).

Nothing here exists unless the ``QuickSightPrincipalArn`` parameter names a QuickSight user or
group (condition ``QuickSightEnabled``): QuickSight is a per-account subscription, and a stack
must deploy in an account without one. With it, the stack gets an Athena data source on the
workgroup its named queries run in, one dataset per definition (the named query's SQL file, run
by QuickSight as custom SQL, DIRECT_QUERY so a dashboard shows what the lake holds now) and one
dashboard per definition, each visual drawn from its dataset's declared columns. The principal
owns all of them.

QuickSight's custom SQL has no database setting (a named query has one): the generator names the
named query's database before each table the SQL reads, ``"${Database}".pipeline_metrics``, in
an Fn::Sub, and leaves every other byte of the file as it is.
"""

from collections.abc import Iterator, Mapping
from typing import Any, Final

import sqlglot
from sqlglot import exp
from sqlglot.tokenizer_core import TokenType

from datalake_shared.workbook_datasets import OWNER_ACTIONS as DATA_SET_OWNER_ACTIONS
from tools.dashboards.definitions import (
    DASHBOARDS,
    Chart,
    ColumnType,
    Dashboard,
    Dataset,
    Visual,
    all_datasets,
    slug,
)

CONDITION: Final = "QuickSightEnabled"
PRINCIPAL: Final = "QuickSightPrincipalArn"
DATA_SOURCE: Final = "QuickSightAthenaDataSource"
DATABASE_VARIABLE: Final = "Database"  # the Fn::Sub variable naming the SQL's database
TAGS: Final = ({"Key": "app", "Value": "datalake-events"},)

# The owner actions QuickSight documents for each kind of asset (what the console grants the
# creator): the principal may use, share, update and delete what the stack created.
DATA_SOURCE_OWNER_ACTIONS: Final = (
    "quicksight:DescribeDataSource",
    "quicksight:DescribeDataSourcePermissions",
    "quicksight:PassDataSource",
    "quicksight:UpdateDataSource",
    "quicksight:DeleteDataSource",
    "quicksight:UpdateDataSourcePermissions",
)
DASHBOARD_OWNER_ACTIONS: Final = (
    "quicksight:DescribeDashboard",
    "quicksight:ListDashboardVersions",
    "quicksight:UpdateDashboardPermissions",
    "quicksight:QueryDashboard",
    "quicksight:UpdateDashboard",
    "quicksight:DeleteDashboard",
    "quicksight:DescribeDashboardPermissions",
    "quicksight:UpdateDashboardPublishedVersion",
)

GRID_COLUMNS: Final = 36  # a grid layout's width
VISUAL_ROWS: Final = 12  # the height of every visual
_TABLE_NAME_FOLLOWS: Final = frozenset({TokenType.FROM, TokenType.JOIN})


class GenerationError(Exception):
    """The definitions or the template cannot be turned into QuickSight resources."""


# ------------------------------------------------------------------ names


def _camel(key: str) -> str:
    return "".join(part.capitalize() for part in key.split("_"))


def dataset_logical_id(dataset: Dataset) -> str:
    return f"QuickSightDataSet{_camel(dataset.key)}"


def dashboard_logical_id(dashboard: Dashboard) -> str:
    return f"QuickSightDashboard{_camel(dashboard.key)}"


def quicksight_id(key: str) -> dict[str, str]:
    """The asset's QuickSight id: ``<stack>-<key with dashes>``, unique per stack."""
    return {"Fn::Sub": f"${{AWS::StackName}}-{slug(key)}"}


def _stack_name(text: str) -> dict[str, str]:
    """A display name telling the stacks of one account apart."""
    return {"Fn::Sub": f"{text} (${{AWS::StackName}})"}


def _owned_by_principal(actions: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{"Principal": {"Ref": PRINCIPAL}, "Actions": list(actions)}]


# ------------------------------------------------------------------ the SQL of a dataset


def _query_text(query_string: Any) -> tuple[str | None, bool]:
    """A named query's QueryString as written (None for a form no SQL file holds), and whether
    it is an Fn::Sub text."""
    if isinstance(query_string, dict) and isinstance(query_string.get("Fn::Sub"), str):
        return query_string["Fn::Sub"], True
    return (query_string, False) if isinstance(query_string, str) else (None, False)


def named_query_of(template: Mapping[str, Any], dataset: Dataset) -> dict[str, Any]:
    """The properties of the named query whose QueryString is the dataset's SQL file."""
    sql = dataset.sql  # read once, not once per named query
    found: list[dict[str, Any]] = [
        resource["Properties"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Athena::NamedQuery"
        and _query_text(resource["Properties"]["QueryString"])[0] == sql
    ]
    if len(found) != 1:
        raise GenerationError(
            f"{dataset.key}: {len(found)} named queries hold {dataset.sql_file} "
            "(exactly one must; run make named-queries)"
        )
    return found[0]


def _tables_read(sql: str) -> set[str]:
    """Names of the catalog tables the query reads without naming a database."""
    tree = sqlglot.parse_one(sql, read="trino")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    return {
        table.name for table in tree.find_all(exp.Table) if not table.db and table.name not in ctes
    }


def qualified_sql(sql: str, *, escape_placeholders: bool) -> str:
    """The query with ``"${Database}".`` before each table it reads, for an Fn::Sub.

    Only the table names right after FROM or JOIN are prefixed; the result is parsed again to
    prove no table was missed. ``escape_placeholders`` writes a literal ``${`` of a plain query
    as ``${!``, Fn::Sub's escape (a query that already was an Fn::Sub text keeps its variables).
    """
    tables = _tables_read(sql)
    pieces: list[str] = []
    done = 0
    tokens = sqlglot.Dialect.get_or_raise("trino").tokenize(sql)
    for before, token, after in zip([None, *tokens], tokens, [*tokens[1:], None], strict=False):
        if (
            token.text in tables
            and before is not None
            and before.token_type in _TABLE_NAME_FOLLOWS
            and (after is None or after.token_type != TokenType.DOT)
        ):
            pieces += [sql[done : token.start], f'"${{{DATABASE_VARIABLE}}}".']
            done = token.start
    pieces.append(sql[done:])
    escaped = [
        piece.replace("${", "${!") if escape_placeholders and index % 2 == 0 else piece
        for index, piece in enumerate(pieces)
    ]
    text = "".join(escaped)
    unqualified = _tables_read(text.replace("${!", "${"))
    if unqualified:
        raise GenerationError(f"cannot name the database of {sorted(unqualified)} in:\n{sql}")
    return text


def dataset_sql(template: Mapping[str, Any], dataset: Dataset) -> dict[str, Any]:
    """The dataset's SqlQuery: its file's text, tables in the named query's database."""
    query = named_query_of(template, dataset)
    _, is_sub = _query_text(query["QueryString"])
    text = qualified_sql(dataset.sql, escape_placeholders=not is_sub)
    return {"Fn::Sub": [text, {DATABASE_VARIABLE: query["Database"]}]}


def workgroup_of_datasets(template: Mapping[str, Any]) -> Any:
    """The workgroup every dataset's named query runs in (the data source's)."""
    workgroups = [named_query_of(template, dataset).get("WorkGroup") for dataset in all_datasets()]
    if workgroups[0] is None or any(workgroup != workgroups[0] for workgroup in workgroups):
        raise GenerationError(f"the datasets' named queries must share one WorkGroup: {workgroups}")
    return workgroups[0]


# ------------------------------------------------------------------ fields of a visual


def _field_id(visual: Visual, column: str) -> str:
    return f"{visual.key}.{column}"


def _column(visual: Visual, column: str) -> dict[str, str]:
    return {"DataSetIdentifier": visual.dataset.key, "ColumnName": column}


def dimension(visual: Visual, column: str) -> dict[str, Any]:
    """A category or group field: a date by day, a number, or a category."""
    field: dict[str, Any] = {
        "FieldId": _field_id(visual, column),
        "Column": _column(visual, column),
    }
    kind = visual.dataset.column(column).type
    if kind == ColumnType.DATETIME:
        return {"DateDimensionField": {**field, "DateGranularity": "DAY"}}
    if kind.numeric:
        return {"NumericalDimensionField": field}
    return {"CategoricalDimensionField": field}


def measure(visual: Visual, column: str) -> dict[str, Any]:
    """A value field: a number (Visual checks), aggregated as the visual says."""
    field: dict[str, Any] = {
        "FieldId": _field_id(visual, column),
        "Column": _column(visual, column),
        "AggregationFunction": {"SimpleNumericalAggregation": visual.aggregation.value},
    }
    return {"NumericalMeasureField": field}


def _date_order(visual: Visual) -> dict[str, Any]:
    """Days in calendar order (QuickSight's default sorts bars by value); the preview too."""
    category = visual.date_category
    if category is None:
        return {}
    field_sort = {"FieldId": _field_id(visual, category), "Direction": "ASC"}
    return {"SortConfiguration": {"CategorySort": [{"FieldSort": field_sort}]}}


def _aggregated_wells(visual: Visual, *, with_colors: bool) -> dict[str, Any]:
    if visual.category is None or not visual.values:
        raise GenerationError(f"{visual.key}: a {visual.chart} needs a category and values")
    wells: dict[str, Any] = {
        "Category": [dimension(visual, visual.category)],
        "Values": [measure(visual, column) for column in visual.values],
    }
    if with_colors and visual.group is not None:
        wells["Colors"] = [dimension(visual, visual.group)]
    return wells


def _labels(visual: Visual) -> dict[str, Any]:
    return {
        "VisualId": visual.key,
        "Title": {"Visibility": "VISIBLE", "FormatText": {"PlainText": visual.title}},
        "Subtitle": {"Visibility": "VISIBLE", "FormatText": {"PlainText": visual.subtitle}},
    }


def visual_definition(visual: Visual) -> dict[str, Any]:
    """One entry of a sheet's Visuals."""
    if visual.chart in {Chart.BAR, Chart.STACKED_BAR}:
        arrangement = "STACKED" if visual.chart == Chart.STACKED_BAR else "CLUSTERED"
        configuration = {
            "FieldWells": {
                "BarChartAggregatedFieldWells": _aggregated_wells(visual, with_colors=True)
            },
            "Orientation": "VERTICAL",
            "BarsArrangement": arrangement,
            **_date_order(visual),
        }
        return {"BarChartVisual": {**_labels(visual), "ChartConfiguration": configuration}}
    if visual.chart == Chart.LINE:
        configuration = {
            "FieldWells": {
                "LineChartAggregatedFieldWells": _aggregated_wells(visual, with_colors=True)
            },
            "Type": "LINE",
            **_date_order(visual),
        }
        return {"LineChartVisual": {**_labels(visual), "ChartConfiguration": configuration}}
    if visual.chart == Chart.PIE:
        wells = _aggregated_wells(visual, with_colors=False)
        configuration = {"FieldWells": {"PieChartAggregatedFieldWells": wells}}
        return {"PieChartVisual": {**_labels(visual), "ChartConfiguration": configuration}}
    fields = [
        {"FieldId": _field_id(visual, column), "Column": _column(visual, column)}
        for column in visual.values
    ]
    configuration = {"FieldWells": {"TableUnaggregatedFieldWells": {"Values": fields}}}
    return {"TableVisual": {**_labels(visual), "ChartConfiguration": configuration}}


def _grid(visuals: tuple[Visual, ...]) -> Iterator[dict[str, Any]]:
    """Two charts a row; a table takes a row of its own."""
    row, column = 0, 0
    for visual in visuals:
        span = GRID_COLUMNS if visual.chart == Chart.TABLE else GRID_COLUMNS // 2
        if column + span > GRID_COLUMNS:
            row, column = row + VISUAL_ROWS, 0
        yield {
            "ElementId": visual.key,
            "ElementType": "VISUAL",
            "ColumnIndex": column,
            "ColumnSpan": span,
            "RowIndex": row,
            "RowSpan": VISUAL_ROWS,
        }
        column += span


def dashboard_definition(dashboard: Dashboard) -> dict[str, Any]:
    declarations = [
        {
            "Identifier": dataset.key,
            "DataSetArn": {"Fn::GetAtt": [dataset_logical_id(dataset), "Arn"]},
        }
        for dataset in dashboard.datasets
    ]
    elements = list(_grid(dashboard.visuals))
    sheet = {
        "SheetId": slug(dashboard.key),
        "Name": dashboard.title,
        "Title": dashboard.title,
        "Description": dashboard.description,
        "Visuals": [visual_definition(visual) for visual in dashboard.visuals],
        "Layouts": [{"Configuration": {"GridLayout": {"Elements": elements}}}],
    }
    definition: dict[str, Any] = {"DataSetIdentifierDeclarations": declarations, "Sheets": [sheet]}
    filter_groups = [
        _only_filter(dashboard, visual, *visual.only)
        for visual in dashboard.visuals
        if visual.only is not None
    ]
    if filter_groups:
        definition["FilterGroups"] = filter_groups
    return definition


def _only_filter(dashboard: Dashboard, visual: Visual, column: str, value: str) -> dict[str, Any]:
    """A filter group keeping the visual's ``only`` rows, scoped to that visual alone."""
    return {
        "FilterGroupId": f"{slug(visual.key)}-only",
        "CrossDataset": "SINGLE_DATASET",
        "Status": "ENABLED",
        "Filters": [
            {
                "CategoryFilter": {
                    "FilterId": f"{slug(visual.key)}-only-{slug(column)}",
                    "Column": _column(visual, column),
                    "Configuration": {
                        "FilterListConfiguration": {
                            "MatchOperator": "CONTAINS",
                            "CategoryValues": [value],
                        }
                    },
                }
            }
        ],
        "ScopeConfiguration": {
            "SelectedSheets": {
                "SheetVisualScopingConfigurations": [
                    {
                        "SheetId": slug(dashboard.key),
                        "Scope": "SELECTED_VISUALS",
                        "VisualIds": [visual.key],
                    }
                ]
            }
        },
    }


# ------------------------------------------------------------------ the resources


def _data_source(template: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "Type": "AWS::QuickSight::DataSource",
        "Condition": CONDITION,
        "Properties": {
            "AwsAccountId": {"Ref": "AWS::AccountId"},
            "DataSourceId": quicksight_id("athena"),
            "Name": _stack_name("Athena"),
            "Type": "ATHENA",
            "DataSourceParameters": {
                "AthenaParameters": {"WorkGroup": workgroup_of_datasets(template)}
            },
            "Permissions": _owned_by_principal(DATA_SOURCE_OWNER_ACTIONS),
            "Tags": list(TAGS),
        },
    }


def _data_set(template: Mapping[str, Any], dataset: Dataset) -> dict[str, Any]:
    custom_sql = {
        "DataSourceArn": {"Fn::GetAtt": [DATA_SOURCE, "Arn"]},
        "Name": dataset.name,
        "SqlQuery": dataset_sql(template, dataset),
        "Columns": [{"Name": column.name, "Type": column.type.value} for column in dataset.columns],
    }
    return {
        "Type": "AWS::QuickSight::DataSet",
        "Condition": CONDITION,
        "Properties": {
            "AwsAccountId": {"Ref": "AWS::AccountId"},
            "DataSetId": quicksight_id(dataset.key),
            "Name": _stack_name(dataset.name),
            "ImportMode": "DIRECT_QUERY",
            "PhysicalTableMap": {slug(dataset.key): {"CustomSql": custom_sql}},
            "Permissions": _owned_by_principal(DATA_SET_OWNER_ACTIONS),
            "Tags": list(TAGS),
        },
    }


def _dashboard(dashboard: Dashboard) -> dict[str, Any]:
    return {
        "Type": "AWS::QuickSight::Dashboard",
        "Condition": CONDITION,
        "Properties": {
            "AwsAccountId": {"Ref": "AWS::AccountId"},
            "DashboardId": quicksight_id(dashboard.key),
            "Name": _stack_name(dashboard.title),
            "Definition": dashboard_definition(dashboard),
            "Permissions": _owned_by_principal(DASHBOARD_OWNER_ACTIONS),
            "Tags": list(TAGS),
        },
    }


def resources(template: Mapping[str, Any]) -> dict[str, Any]:
    """Logical id -> resource: the data source, every dataset, every dashboard."""
    generated: dict[str, Any] = {DATA_SOURCE: _data_source(template)}
    for dataset in all_datasets():
        generated[dataset_logical_id(dataset)] = _data_set(template, dataset)
    for dashboard in DASHBOARDS:
        generated[dashboard_logical_id(dashboard)] = _dashboard(dashboard)
    return generated
