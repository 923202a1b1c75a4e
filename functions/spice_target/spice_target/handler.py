"""spice_target: first step of the SPICE ingestion state machine.

Input (from the state machine, built from the clean bucket's "Object Created" event):
{"bucket", "object": <the event's detail.object: key, etag, sequencer...>}.
Output: {"dataset_id" (null when no dataset is mapped to the key's prefix), "ingestion_id",
"prefix", "bucket", "key"}. A lookup (``spice_target.service.find_target``): SPICE_DATASETS
first, then (QuickSight on) the datasets of the workbook tables, read from the Glue catalog
(``spice_target.workbook_datasets``). The state machine does CreateIngestion/DescribeIngestion
itself, so no Lambda waits.
"""

from collections.abc import Mapping
from functools import cache
from typing import Any, Final

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from datalake_shared.event_shapes import NameText, Utf8Text, validated_event
from datalake_shared.observability import logger, metrics
from spice_target.service import CleanObject, PrefixDatasets, find_target
from spice_target.settings import get_settings
from spice_target.workbook_datasets import WorkbookDatasets


class ObjectDetail(BaseModel):
    """``detail.object`` of an S3 "Object Created" event (AWS spells it "etag")."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    key: NameText
    etag: Utf8Text = Field(default="", validation_alias=AliasChoices("etag", "eTag"))
    sequencer: Utf8Text = ""


STATE_MACHINE_INPUT: Final = 'the SPICE state machine\'s input ({"bucket", "object": {"key", ...}})'


class CleanCsv(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    bucket: NameText
    object: ObjectDetail


@cache
def default_workbook_datasets() -> WorkbookDatasets | None:
    """The workbook tables' datasets (None: QuickSight off), made on first use and reused."""
    settings = get_settings()
    if not settings.workbook_datasets:
        return None
    return WorkbookDatasets(settings.workbook_glue_tables())


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(
    event: dict[str, Any],
    context: LambdaContext,
    mapping: Mapping[str, str] | None = None,
    workbook_datasets: PrefixDatasets | None = None,
) -> dict[str, Any]:
    """``mapping`` and ``workbook_datasets`` let tests pass the prefix -> dataset map and the
    workbook tables' datasets; Lambda reads SPICE_DATASETS and the catalog."""
    csv = validated_event(CleanCsv, event, STATE_MACHINE_INPUT)
    if mapping is None:  # Lambda: both from the environment
        mapping, workbook_datasets = get_settings().mapping, default_workbook_datasets()
    obj = csv.object
    clean = CleanObject(csv.bucket, obj.key, obj.etag, obj.sequencer)
    target = find_target(clean, mapping, workbook_datasets)
    logger.info(
        "CSV mapped" if target.dataset_id else "No dataset mapped to this CSV",
        extra={
            "key": obj.key,
            "dataset_id": target.dataset_id,
            "prefix": target.prefix,
            "mapped_by": target.mapped_by,
        },
    )
    return {
        "dataset_id": target.dataset_id,
        "ingestion_id": target.ingestion_id,
        "prefix": target.prefix,
        "bucket": csv.bucket,
        "key": obj.key,
    }
