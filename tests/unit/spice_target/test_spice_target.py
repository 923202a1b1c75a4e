"""spice_target: prefix -> dataset lookup and the ingestion id a redelivery must reproduce."""

import string
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lambda_support import FakeLambdaContext, load_handler_module, load_sample_event
from pydantic import ValidationError

from datalake_shared.event_shapes import EventShapeError
from spice_target.service import CleanObject, MappingError, ingestion_id, parse_mapping, resolve
from spice_target.settings import SpiceTargetSettings

SALES = "incoming/sales/"
MAPPING = {SALES: "sales-dataset", "incoming/sales/emea/": "emea-dataset"}


def invoke(event: dict[str, Any], mapping: dict[str, str]) -> dict[str, Any]:
    handler = load_handler_module("spice_target").lambda_handler
    result: dict[str, Any] = handler(event, FakeLambdaContext(), mapping=mapping)
    return result


def test_a_mapped_csv_gets_its_dataset_and_an_ingestion_id() -> None:
    # Given the sample CSV under the sales prefix
    event = load_sample_event("spice_target", "mapped_csv.json")
    # When it is resolved
    result = invoke(event, MAPPING)
    # Then the sales dataset is refreshed under an id QuickSight accepts
    assert result["dataset_id"] == "sales-dataset"
    assert result["prefix"] == SALES
    assert result["key"] == event["object"]["key"]
    assert result["ingestion_id"].startswith("csv-")
    assert len(result["ingestion_id"]) <= 128
    assert set(result["ingestion_id"]) <= set(string.ascii_lowercase + string.digits + "-")


def test_an_unmapped_csv_has_no_dataset() -> None:
    # Given a CSV under no mapped prefix / When resolved / Then there is nothing to refresh
    result = invoke(load_sample_event("spice_target", "unmapped_csv.json"), MAPPING)
    assert result["dataset_id"] is None
    assert result["prefix"] is None


def test_the_longest_prefix_wins() -> None:
    # Given nested prefixes / When a CSV under the inner one resolves / Then the inner dataset
    target = resolve(CleanObject("b", "incoming/sales/emea/q3/summary.csv"), MAPPING)
    assert target.dataset_id == "emea-dataset"


def test_a_redelivered_event_yields_the_same_ingestion_id() -> None:
    # Given the same write delivered twice / Then both resolve to one ingestion id
    event = load_sample_event("spice_target", "mapped_csv.json")
    assert invoke(event, MAPPING)["ingestion_id"] == invoke(dict(event), MAPPING)["ingestion_id"]


def test_the_etag_spelling_of_either_source_is_read() -> None:
    # Given the same write described with "etag" (AWS) and "eTag" (other emitters)
    event = load_sample_event("spice_target", "mapped_csv.json")
    detail = {k: v for k, v in event["object"].items() if k not in {"etag", "sequencer"}}
    other = {**event, "object": {**detail, "etag": event["object"]["etag"]}}
    spelled = {**event, "object": {**detail, "eTag": event["object"]["etag"]}}
    # Then both give the same ingestion id
    assert invoke(other, MAPPING)["ingestion_id"] == invoke(spelled, MAPPING)["ingestion_id"]


def test_a_new_write_of_the_same_key_is_a_new_ingestion() -> None:
    # Given two writes of one key (different sequencers) / Then two ingestion ids
    first = CleanObject("b", "incoming/sales/x.csv", etag="e", sequencer="01")
    second = CleanObject("b", "incoming/sales/x.csv", etag="e", sequencer="02")
    assert ingestion_id(first) != ingestion_id(second)


@given(key=st.text(min_size=1, max_size=300), sequencer=st.text(max_size=40))
def test_ingestion_ids_are_always_valid_quicksight_ids(key: str, sequencer: str) -> None:
    # Given any key and version / Then the id is [\w-]{1,128}
    value = ingestion_id(CleanObject("bucket", key, sequencer=sequencer))
    assert 1 <= len(value) <= 128
    assert all(ch.isalnum() or ch in "-_" for ch in value)


@pytest.mark.parametrize(
    "text",
    ["not json", "[]", '{"sales/": 5}', '{"sales/": "has space"}', '{"sales/": ""}'],
)
def test_a_bad_mapping_is_rejected(text: str) -> None:
    # Given a malformed SPICE_DATASETS / Then it is refused with a clear error
    with pytest.raises(MappingError):
        parse_mapping(text)


def test_settings_name_the_bad_variable() -> None:
    # Given a malformed SPICE_DATASETS in the environment / Then validation names it
    with pytest.raises(ValidationError, match="SPICE_DATASETS"):
        SpiceTargetSettings.model_validate({"SPICE_DATASETS": "[1]"})


def test_settings_default_to_no_datasets() -> None:
    # Given no SPICE_DATASETS / Then nothing is mapped
    assert SpiceTargetSettings.model_validate({}).mapping == {}


def test_an_input_without_the_object_key_is_rejected_naming_the_expected_input() -> None:
    # Given the clean bucket's raw EventBridge event instead of the state machine's input
    event = {"detail-type": "Object Created", "source": "aws.s3", "detail": {}}
    # When handled / Then rejected, saying what input the state machine should pass
    with pytest.raises(EventShapeError, match=r"^expected the SPICE state machine's input") as err:
        invoke(event, MAPPING)
    assert "bucket: Field required" in err.value.problem
