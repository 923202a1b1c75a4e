import pytest
from settings_support import set_variables

from datalake_shared.settings import SettingsError, load_settings
from pipeline_metrics.settings import PipelineMetricsSettings


def settings_from(monkeypatch: pytest.MonkeyPatch, **env: str) -> PipelineMetricsSettings:
    for name in ("METRICS_BUCKET", "METRICS_PREFIX", "EVENT_BUS_NAME"):
        monkeypatch.delenv(name, raising=False)
    set_variables(monkeypatch, env)
    return load_settings(PipelineMetricsSettings)


def test_defaults_are_the_pipeline_metrics_folder_and_default_bus(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given only the bucket / When loaded / Then prefix and bus take their defaults
    settings = settings_from(monkeypatch, METRICS_BUCKET="metrics")
    assert (settings.metrics_prefix, settings.event_bus_name) == ("pipeline-metrics/", "default")


def test_missing_bucket_fails_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given no METRICS_BUCKET / When loaded / Then the error names it
    with pytest.raises(SettingsError, match="METRICS_BUCKET"):
        settings_from(monkeypatch)


@pytest.mark.parametrize(
    ("prefix", "folder"),
    [
        ("pipeline-metrics", "pipeline-metrics/"),
        ("/pipeline-metrics/", "pipeline-metrics/"),
        ("cicd/metrics/", "cicd/metrics/"),
        ("", ""),
        ("/", ""),
    ],
)
def test_prefix_is_a_folder_however_it_is_written(
    monkeypatch: pytest.MonkeyPatch, prefix: str, folder: str
) -> None:
    # Given a METRICS_PREFIX with or without slashes / When loaded / Then it is one folder
    settings = settings_from(monkeypatch, METRICS_BUCKET="metrics", METRICS_PREFIX=prefix)
    assert settings.metrics_prefix == folder


def test_prefix_too_long_for_the_keys_under_it_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a METRICS_PREFIX of 600 bytes / When loaded / Then it is refused, naming it
    with pytest.raises(SettingsError, match="METRICS_PREFIX"):
        settings_from(monkeypatch, METRICS_BUCKET="metrics", METRICS_PREFIX="p" * 599 + "/")
