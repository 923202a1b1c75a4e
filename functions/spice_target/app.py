"""spice_target: first step of the SPICE ingestion state machine.

Input (from the state machine, built from the clean bucket's "Object Created" event):
{"bucket", "key", "etag", "sequencer"}. Output: {"dataset_id" (null when no dataset is mapped
to the key's prefix), "ingestion_id", "prefix", "bucket", "key"}. Pure lookup, no AWS calls:
the state machine does CreateIngestion/DescribeIngestion itself, so no Lambda waits.
"""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict
from spice_target_mapping import CleanObject, resolve
from spice_target_settings import get_settings

from datalake_shared.observability import logger


class CleanCsv(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    bucket: str
    key: str
    etag: str = ""
    sequencer: str = ""


@logger.inject_lambda_context
def lambda_handler(
    event: dict[str, Any], context: LambdaContext, mapping: dict[str, str] | None = None
) -> dict[str, Any]:
    """``mapping`` lets tests pass the prefix -> dataset map; Lambda reads SPICE_DATASETS."""
    csv = CleanCsv.model_validate(event)
    datasets = mapping if mapping is not None else get_settings().mapping
    target = resolve(CleanObject(csv.bucket, csv.key, csv.etag, csv.sequencer), datasets)
    logger.info(
        "CSV mapped" if target.dataset_id else "No dataset mapped to this CSV",
        extra={"key": csv.key, "dataset_id": target.dataset_id, "prefix": target.prefix},
    )
    return {
        "dataset_id": target.dataset_id,
        "ingestion_id": target.ingestion_id,
        "prefix": target.prefix,
        "bucket": csv.bucket,
        "key": csv.key,
    }
