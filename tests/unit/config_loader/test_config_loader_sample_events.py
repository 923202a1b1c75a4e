"""The events corpus serves `sam local invoke -e`, `make invoke` and the tests: keep it valid."""

import pytest
from config_loader_fakes import CONFIG_DIR, load_event
from lambda_support import sample_event_names

from datalake_shared.s3_events import S3ObjectEvent

SAMPLES = sample_event_names("config_loader")


def test_corpus_holds_the_documented_cases() -> None:
    assert SAMPLES == ["config_invalid_uploaded.json", "config_uploaded.json"]


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("config_uploaded.json", "config/pipeline.yaml"),
        ("config_invalid_uploaded.json", "config/broken.yaml"),
    ],
)
def test_sample_is_an_eventbridge_s3_object_created_event_for_an_example_file(
    name: str, key: str
) -> None:
    # Given a sample / When parsed with the handler's model
    event = S3ObjectEvent.model_validate(load_event(name))
    # Then it is S3's "Object Created" for the example file of that name
    assert (event.source, event.detail_type) == ("aws.s3", "Object Created")
    assert event.detail.object.key == key
    assert (CONFIG_DIR / key.removeprefix("config/")).is_file()
