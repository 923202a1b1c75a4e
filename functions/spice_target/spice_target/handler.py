"""spice_target: first step of the SPICE ingestion state machine.

Input (from the state machine, built from the clean bucket's "Object Created" event):
{"bucket", "object": <the event's detail.object: key, etag, sequencer...>}.
Output: {"dataset_id" (null when no dataset is mapped to the key's prefix), "ingestion_id",
"prefix", "bucket", "key"}. Pure lookup, no AWS calls: the state machine does
CreateIngestion/DescribeIngestion itself, so no Lambda waits.
"""

from typing import Any, Final

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from datalake_shared.event_shapes import NameText, Utf8Text, validated_event
from datalake_shared.observability import logger, metrics
from spice_target.service import CleanObject, resolve
from spice_target.settings import get_settings


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


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(
    event: dict[str, Any], context: LambdaContext, mapping: dict[str, str] | None = None
) -> dict[str, Any]:
    """``mapping`` lets tests pass the prefix -> dataset map; Lambda reads SPICE_DATASETS."""
    csv = validated_event(CleanCsv, event, STATE_MACHINE_INPUT)
    datasets = mapping if mapping is not None else get_settings().mapping
    obj = csv.object
    target = resolve(CleanObject(csv.bucket, obj.key, obj.etag, obj.sequencer), datasets)
    logger.info(
        "CSV mapped" if target.dataset_id else "No dataset mapped to this CSV",
        extra={"key": obj.key, "dataset_id": target.dataset_id, "prefix": target.prefix},
    )
    return {
        "dataset_id": target.dataset_id,
        "ingestion_id": target.ingestion_id,
        "prefix": target.prefix,
        "bucket": csv.bucket,
        "key": obj.key,
    }
