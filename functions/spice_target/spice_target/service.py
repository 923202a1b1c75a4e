"""Which QuickSight dataset a clean CSV refreshes, and the ingestion id it refreshes it under.

The mapping is "clean-bucket key prefix -> dataset id"; the longest matching prefix wins, so
"sales/emea/" can point somewhere else than "sales/". The ingestion id is derived from the
object (bucket, key and the S3 sequencer or ETag of this write): a redelivered "Object Created"
event yields the same id, CreateIngestion answers ResourceExistsException, and the state
machine watches the ingestion already running instead of starting a second one. A new write
of the same key has a new sequencer, hence a new ingestion.
"""

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Final

# QuickSight: IngestionId matches [\w\-]+, at most 128 characters; DataSetId likewise.
_DATASET_ID: Final = re.compile(r"^[\w\-]{1,128}$")
_INGESTION_PREFIX: Final = "csv-"


class MappingError(ValueError):
    """The SPICE_DATASETS setting is not a JSON object of prefix -> dataset id."""


@dataclass(frozen=True, slots=True)
class CleanObject:
    bucket: str
    key: str
    etag: str = ""
    sequencer: str = ""


@dataclass(frozen=True, slots=True)
class SpiceTarget:
    dataset_id: str | None
    ingestion_id: str
    prefix: str | None


def parse_mapping(text: str) -> dict[str, str]:
    """SPICE_DATASETS as a dict; rejects anything but string prefixes to valid dataset ids."""
    try:
        mapping = json.loads(text or "{}")
    except json.JSONDecodeError as error:
        raise MappingError(f"SPICE_DATASETS is not JSON ({error.msg})") from error
    if not isinstance(mapping, dict):
        raise MappingError("SPICE_DATASETS must be a JSON object of prefix -> dataset id")
    for prefix, dataset_id in mapping.items():
        if not isinstance(dataset_id, str) or not _DATASET_ID.match(dataset_id):
            raise MappingError(f"dataset id for prefix {prefix!r} is not a QuickSight id")
    return dict(mapping)


def ingestion_id(obj: CleanObject) -> str:
    """Deterministic per write of the object (see module docstring)."""
    version = obj.sequencer or obj.etag
    digest = hashlib.sha256(f"{obj.bucket}\n{obj.key}\n{version}".encode()).hexdigest()
    return f"{_INGESTION_PREFIX}{digest[:60]}"


def resolve(obj: CleanObject, mapping: dict[str, str]) -> SpiceTarget:
    matches = [prefix for prefix in mapping if obj.key.startswith(prefix)]
    if not matches:
        return SpiceTarget(dataset_id=None, ingestion_id=ingestion_id(obj), prefix=None)
    prefix = max(matches, key=len)
    return SpiceTarget(dataset_id=mapping[prefix], ingestion_id=ingestion_id(obj), prefix=prefix)
