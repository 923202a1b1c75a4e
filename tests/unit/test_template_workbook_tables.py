"""template.yaml's side of the workbook tables: the config loader and spice_target are told the
stack's database, bucket and owner, and may touch the workbook tables and datasets only."""

from typing import Any

from datalake_shared.workbook_tables import DATASET_ID_INFIX, GLUE_NAME_PREFIX
from tests.unit.template_support import Template, policy_statements, refs


def _function(template: Template, logical: str) -> dict[str, Any]:
    function: dict[str, Any] = template["Resources"][logical]["Properties"]
    return function


def _statements(template: Template, logical: str) -> list[tuple[dict[str, Any], bool]]:
    """The function's statements, each with whether it holds under a condition only."""
    found: list[tuple[dict[str, Any], bool]] = []
    for policy in _function(template, logical).get("Policies", []):
        if isinstance(policy, dict):
            listed = policy.get("Statement", [])
            plain = [s for s in listed if "Fn::If" not in s]
            found += [(s, False) for s in plain]
            found += [(s, True) for s in policy_statements(listed) if s not in plain]
    return found


def _writing(template: Template, logical: str, prefix: str) -> list[tuple[dict[str, Any], bool]]:
    return [
        (statement, conditional)
        for statement, conditional in _statements(template, logical)
        if any(
            action.startswith(prefix) and not action.startswith(f"{prefix}Get")
            for action in (
                statement["Action"]
                if isinstance(statement["Action"], list)
                else [statement["Action"]]
            )
        )
    ]


def test_the_loader_is_told_the_stacks_database_bucket_prefix_and_name(
    sam_template: Template,
) -> None:
    variables = _function(sam_template, "ConfigLoaderFunction")["Environment"]["Variables"]
    assert variables["WORKBOOK_TABLE_DATABASE"] == {"Ref": "LakeDatabase"}
    assert variables["CLEAN_BUCKET"] == {"Ref": "CleanBucket"}
    assert variables["WORKBOOK_UPLOAD_PREFIX"] == {"Ref": "WorkbookUploadPrefix"}
    assert variables["WORKBOOK_TABLE_OWNER"] == {"Ref": "AWS::StackName"}
    # And the data source only with QuickSight on
    source = variables["QUICKSIGHT_DATA_SOURCE_ARN"]["Fn::If"]
    assert source[0] == "QuickSightEnabled"
    assert refs(source[1]) == {"QuickSightAthenaDataSource"}


def test_the_loader_writes_workbook_tables_of_the_lake_database_only(
    sam_template: Template,
) -> None:
    # Given the loader's statements that change Glue
    [(statement, conditional)] = _writing(sam_template, "ConfigLoaderFunction", "glue:")
    # Then they reach only tables named as workbook tables are, in the stack's database
    tables = [r["Fn::Sub"] for r in statement["Resource"] if ":table/" in r["Fn::Sub"]]
    assert tables == [
        "arn:${AWS::Partition}:glue:${AWS::Region}:${AWS::AccountId}:table/${LakeDatabase}/"
        f"{GLUE_NAME_PREFIX}*"
    ]
    assert not conditional


def test_the_loader_changes_the_stacks_workbook_datasets_only_with_quicksight_on(
    sam_template: Template,
) -> None:
    # Given the loader's statements that change QuickSight
    written = _writing(sam_template, "ConfigLoaderFunction", "quicksight:")
    # Then each holds only with QuickSight on, on the stack's workbook datasets or data source
    assert written
    assert all(conditional for _, conditional in written)
    datasets = [s["Resource"]["Fn::Sub"] for s, _ in written if "Fn::Sub" in s["Resource"]]
    assert datasets == [
        "arn:${AWS::Partition}:quicksight:${AWS::Region}:${AWS::AccountId}:"
        f"dataset/${{AWS::StackName}}{DATASET_ID_INFIX}*"
    ]
    sources = [refs(s["Resource"]) for s, _ in written if "Fn::Sub" not in s["Resource"]]
    assert sources == [{"QuickSightAthenaDataSource"}]


def test_spice_target_only_reads_the_lake_databases_tables(sam_template: Template) -> None:
    variables = _function(sam_template, "SpiceTargetFunction")["Environment"]["Variables"]
    assert variables["WORKBOOK_TABLE_DATABASE"] == {"Ref": "LakeDatabase"}
    assert variables["WORKBOOK_TABLE_OWNER"] == {"Ref": "AWS::StackName"}
    assert variables["WORKBOOK_DATASETS"]["Fn::If"][0] == "QuickSightEnabled"
    [(statement, _)] = _statements(sam_template, "SpiceTargetFunction")
    assert statement["Action"] == "glue:GetTables"
    assert all(
        "${LakeDatabase}" in r["Fn::Sub"] or r["Fn::Sub"].endswith(":catalog")
        for r in statement["Resource"]
    )
