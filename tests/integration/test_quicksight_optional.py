"""QuickSight is optional: deployed without QuickSightPrincipalArn the stack has no QuickSight
resource at all; with it, the Athena data source, every dataset and every dashboard exist, and
each dataset's SQL (its tables named with the stack's database) runs on the local Athena.

The deploy with QuickSight serves the tests after the first (one LocalRuntime runs at a time: the
first test deploys the stack without QuickSight, before the module's runtime starts)."""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from dev.demo.pipeline_metrics import codepipeline_events
from dev.demo.support import athena_rows
from dev.runtime import PROJECT_TEMPLATE, project_runtime
from local_runtime.emulated import resolver_for
from local_runtime.intrinsics import ACCOUNT_ID
from local_runtime.moto_adapter.services import quicksight_data_sets
from local_runtime.runtime import LOCAL_REGION, LocalRuntime
from local_runtime.template import load_sam_template, translate
from tests.integration.test_pipeline_metrics_flow import put
from tools.dashboards.definitions import DASHBOARDS, all_datasets
from tools.dashboards.quicksight import CONDITION, PRINCIPAL

pytestmark = pytest.mark.dynamodb_incidental  # no DynamoDB behaviour is looked at

ANALYST = f"arn:aws:quicksight:{LOCAL_REGION}:{ACCOUNT_ID}:user/default/analyst"


@pytest.fixture(scope="module")
def with_quicksight() -> Iterator[LocalRuntime]:
    """The stack deployed with a QuickSight user as the principal."""
    with project_runtime(parameters={PRINCIPAL: ANALYST}) as runtime:
        yield runtime


def _quicksight_id(runtime: LocalRuntime, key: str) -> str:
    return f"{runtime.stack.name}-{key.replace('_', '-')}"


def _quicksight_outputs() -> set[str]:
    """The template's outputs that exist only with QuickSight."""
    outputs = load_sam_template(PROJECT_TEMPLATE)["Outputs"]
    return {name for name, output in outputs.items() if output.get("Condition") == CONDITION}


def _listed_types(runtime: LocalRuntime) -> set[str]:
    """Resource types CloudFormation lists for the stack, and those the runtime emulates."""
    cloudformation: Any = runtime.client("cloudformation")
    listed = {
        summary["ResourceType"]
        for page in cloudformation.get_paginator("list_stack_resources").paginate(
            StackName=runtime.stack.name
        )
        for summary in page["StackResourceSummaries"]
    }
    return listed | set(runtime.stack.resource_types.values())


def test_without_a_principal_nothing_of_quicksight_is_created() -> None:
    # Given the stack deployed with QuickSightPrincipalArn left empty
    with project_runtime() as runtime:
        quicksight: Any = runtime.client("quicksight")

        # Then no QuickSight resource is listed, QuickSight holds nothing, and no output names one
        assert not {kind for kind in _listed_types(runtime) if kind.startswith("AWS::QuickSight")}
        assert quicksight.list_data_sources(AwsAccountId=ACCOUNT_ID)["DataSources"] == []
        assert quicksight_data_sets(ACCOUNT_ID, LOCAL_REGION) == {}
        assert quicksight.list_dashboards(AwsAccountId=ACCOUNT_ID)["DashboardSummaryList"] == []
        assert _quicksight_outputs()
        assert not _quicksight_outputs() & set(runtime.outputs)


def test_with_a_principal_the_data_source_datasets_and_dashboards_exist(
    with_quicksight: LocalRuntime,
) -> None:
    # Given the stack deployed with a QuickSight user as the principal
    runtime = with_quicksight
    quicksight: Any = runtime.client("quicksight")

    # Then the Athena data source queries through the stack's workgroup...
    source = quicksight.describe_data_source(
        AwsAccountId=ACCOUNT_ID, DataSourceId=_quicksight_id(runtime, "athena")
    )["DataSource"]
    assert source["Type"] == "ATHENA"
    assert (
        source["DataSourceParameters"]["AthenaParameters"]["WorkGroup"]
        == (runtime.outputs["AthenaWorkGroupName"])
    )
    assert runtime.outputs["QuickSightDataSourceArn"].endswith(
        f":datasource/{source['DataSourceId']}"
    )

    # ...every dataset exists (a SPICE ingestion can target it)...
    assert sorted(quicksight_data_sets(ACCOUNT_ID, LOCAL_REGION)) == sorted(
        _quicksight_id(runtime, dataset.key) for dataset in all_datasets()
    )

    # ...and every dashboard, drawing its visuals from its datasets' ARNs
    for dashboard in DASHBOARDS:
        dashboard_id = _quicksight_id(runtime, dashboard.key)
        described = quicksight.describe_dashboard(
            AwsAccountId=ACCOUNT_ID, DashboardId=dashboard_id
        )["Dashboard"]
        assert described["Name"].startswith(dashboard.title)
        outputs = [url for url in runtime.outputs.values() if url.endswith(dashboard_id)]
        assert len(outputs) == 1, dashboard.key

    assert _quicksight_outputs() <= set(runtime.outputs)
    listed = runtime.stack.physical_ids("AWS::QuickSight::Dashboard")
    assert len(listed) == len(DASHBOARDS)


def _created_sql(runtime: LocalRuntime) -> dict[str, str]:
    """Each dataset's SqlQuery by dataset id, as the runtime gave it to CreateDataSet: the
    template's, resolved for the deployed stack (moto's record of a dataset keeps its id and
    name only)."""
    translated = translate(PROJECT_TEMPLATE, runtime.parameters)
    resolver = resolver_for(translated, runtime.stack, runtime.parameters, LOCAL_REGION)
    created = {}
    for resource in translated.resources_of_type("AWS::QuickSight::DataSet").values():
        props = resolver.resolve(resource["Properties"])
        (table,) = props["PhysicalTableMap"].values()
        created[props["DataSetId"]] = table["CustomSql"]["SqlQuery"]
    return created


def test_each_datasets_sql_returns_its_declared_columns_on_the_local_athena(
    with_quicksight: LocalRuntime,
) -> None:
    # Given CodePipeline state changes delivered through the stack (rows for the pipeline
    # metrics datasets; the other datasets' tables stay empty) and each dataset's SQL as created
    runtime = with_quicksight
    put(runtime, codepipeline_events(datetime.now(UTC)))
    runtime.settle()
    created = _created_sql(runtime)
    assert sorted(created) == sorted(quicksight_data_sets(ACCOUNT_ID, LOCAL_REGION))
    for dataset in all_datasets():
        # When it runs on the local Athena in a context database that holds none of its tables
        # (only the database its SQL names them with can find them)
        sql = created[_quicksight_id(runtime, dataset.key)]
        header, rows = athena_rows(runtime, sql, database="default")
        # Then it returns exactly the dataset's declared columns, in order, and the pipeline
        # metrics datasets return the delivered executions
        assert header == [column.name for column in dataset.columns], dataset.key
        if dataset.sql_file.startswith("athena/pipeline_metrics/"):
            assert rows, dataset.key
