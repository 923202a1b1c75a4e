"""What deleting (or replacing) the stack does to each store: every resource that holds data
or catalog says so explicitly, and nothing retained depends on a key the stack deletes."""

from typing import Any

import pytest
from template_support import Template, refs, resources

# Stores whose fate on stack deletion must be a decision, never CloudFormation's default.
STATEFUL_TYPES = (
    "AWS::S3::Bucket",
    "AWS::DynamoDB::Table",
    "AWS::Glue::Database",
    "AWS::Glue::Table",
    "AWS::KMS::Key",
)
POLICIES = {"Retain", "Delete"}


def _stateful(template: Template) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for kind in STATEFUL_TYPES:
        found |= resources(template, kind)
    return found


@pytest.mark.parametrize("kind", STATEFUL_TYPES)
def test_every_store_states_both_policies(sam_template: Template, kind: str) -> None:
    # Given every resource of a stateful type
    stores = resources(sam_template, kind)

    # Then each names its deletion and replacement policy, and the two agree
    unstated = {
        logical: (store.get("DeletionPolicy"), store.get("UpdateReplacePolicy"))
        for logical, store in stores.items()
        if store.get("DeletionPolicy") not in POLICIES
        or store.get("UpdateReplacePolicy") != store.get("DeletionPolicy")
    }
    assert unstated == {}, "state DeletionPolicy and UpdateReplacePolicy (Retain or Delete)"


def test_nothing_retained_is_encrypted_with_a_key_the_stack_deletes(
    sam_template: Template,
) -> None:
    # Given the stack's keys that go with it
    deleted_keys = {
        logical
        for logical, key in resources(sam_template, "AWS::KMS::Key").items()
        if key["DeletionPolicy"] != "Retain"
    }

    # When a retained store refers to one of them (bucket encryption, table SSE, ...)
    orphaned = {
        logical: refs(store.get("Properties", {})) & deleted_keys
        for logical, store in _stateful(sam_template).items()
        if store.get("DeletionPolicy") == "Retain"
    }

    # Then none does: its data would outlive the only key that can read it
    assert {logical: keys for logical, keys in orphaned.items() if keys} == {}


def test_the_lake_catalog_is_retained_with_the_lake(sam_template: Template) -> None:
    # Given the Glue database and the tables in it
    catalog = resources(sam_template, "AWS::Glue::Database") | resources(
        sam_template, "AWS::Glue::Table"
    )

    # Then deleting the stack keeps them, as it keeps the buckets their data lives in
    assert catalog
    assert {logical: r["DeletionPolicy"] for logical, r in catalog.items()} == dict.fromkeys(
        catalog, "Retain"
    )
