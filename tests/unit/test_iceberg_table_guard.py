"""CdcOrdersTable is created by CloudFormation once and never updated by it.

A CloudFormation update of an Iceberg AWS::Glue::Table calls Glue UpdateTable without the
table's table_type and metadata_location, and the table stops working for Athena and Spark
(cloudformation-coverage-roadmap #1919, #2495). So its definition is pinned: any edit that
would make CloudFormation update (or replace) it fails here, before it can reach a stack.
"""

import hashlib
import json
from typing import Any

from template_support import Template, refs

TABLE = "CdcOrdersTable"
# sha256 of the pinned definition below; see HOW_TO_EVOLVE before touching it.
PINNED = "1887a354e90a2839b4b0f63c75a10c401ed3b9fe25f0f034c014f6016c5a5666"
HOW_TO_EVOLVE = f"""{TABLE}'s definition changed, and a stack update would break the Iceberg
table (Glue UpdateTable drops table_type/metadata_location). Evolve it without CloudFormation:
- a column: Athena `ALTER TABLE <db>.orders ADD COLUMNS (...)` (or CdcUnknownAttributes=add);
  leave the template's column list as it was;
- anything else (location, name, format version): create a new table under a NEW logical id
  and name, move the data with Athena (INSERT INTO ... SELECT), point iceberg_cdc at it, and
  only then remove the old resource (it is retained: drop it with Athena `DROP TABLE`).
Re-pin only a definition no deployed stack has (then PINNED = the value shown)."""


def pinned_definition(template: Template) -> dict[str, Any]:
    """What CloudFormation compares on an update: the table's properties and what they refer to
    that could change under them (the database's name; the referenced logical ids)."""
    table = template["Resources"][TABLE]
    database = template["Resources"]["LakeDatabase"]
    return {
        "Type": table["Type"],
        "Properties": table["Properties"],
        "Condition": table.get("Condition"),
        "DatabaseName": database["Properties"]["DatabaseInput"]["Name"],
        "Refers": sorted(refs(table["Properties"])),
    }


def fingerprint(definition: dict[str, Any]) -> str:
    canonical = json.dumps(definition, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def test_the_iceberg_table_definition_is_unchanged(sam_template: Template) -> None:
    # Given the table's definition in template.yaml
    actual = fingerprint(pinned_definition(sam_template))

    # Then it is the definition stacks were created with
    assert actual == PINNED, f"{HOW_TO_EVOLVE}\n(PINNED would be {actual})"


def test_a_new_column_in_the_template_is_refused(sam_template: Template) -> None:
    # Given the definition with one more column, as a well-meaning edit would add it
    edited = json.loads(json.dumps(pinned_definition(sam_template)))
    columns = edited["Properties"]["TableInput"]["StorageDescriptor"]["Columns"]
    columns.append({"Name": "coupon", "Type": "string"})

    # Then its fingerprint is not the pinned one
    assert fingerprint(edited) != PINNED


def test_renaming_the_database_is_refused(sam_template: Template) -> None:
    # Given the database renamed: CloudFormation would replace the table under it
    edited = pinned_definition(sam_template) | {"DatabaseName": "lake"}

    # Then the guard sees it
    assert fingerprint(edited) != PINNED


def test_the_table_is_created_as_iceberg_by_glue(sam_template: Template) -> None:
    # Given the pinned table / Then Glue writes its Iceberg metadata at creation
    properties = sam_template["Resources"][TABLE]["Properties"]
    iceberg = properties["OpenTableFormatInput"]["IcebergInput"]
    assert iceberg == {"MetadataOperation": "CREATE", "Version": "2"}
