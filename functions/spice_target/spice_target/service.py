"""Which QuickSight dataset a clean CSV refreshes, and the ingestion id it refreshes it under.

The mapping is "clean-bucket key prefix -> dataset id"; the longest matching prefix wins, so
"sales/emea/" can point somewhere else than "sales/". SPICE_DATASETS is looked up first; a key
it does not map may belong to a workbook table, whose dataset the config loader made
(``spice_target.workbook_datasets``); ``find_target`` says which mapped it. The ingestion id is
derived from the object (bucket, key and the S3 sequencer or ETag of this write): a redelivered
"Object Created" event yields the same id, CreateIngestion answers ResourceExistsException, and
the state machine watches the ingestion already running instead of starting a second one. A new
write of the same key has a new sequencer, hence a new ingestion.
"""

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Protocol

# QuickSight: IngestionId matches [\w\-]+, at most 128 characters; DataSetId likewise.
_DATASET_ID: Final = re.compile(r"^[\w\-]{1,128}$")
_INGESTION_PREFIX: Final = "csv-"
# What mapped a key to its dataset (the log's mapped_by).
BY_SETTING: Final = "SPICE_DATASETS"
BY_WORKBOOK_TABLES: Final = "workbook_tables"


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
    mapped_by: str | None = None


class PrefixDatasets(Protocol):
    """prefix -> dataset id of the workbook tables, as fresh as ``key`` needs it."""

    def mapping_for(self, key: str) -> Mapping[str, str]: ...


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


def resolve(
    obj: CleanObject, mapping: Mapping[str, str], mapped_by: str | None = None
) -> SpiceTarget:
    """The dataset of the longest prefix of ``mapping`` the key starts with (``mapped_by`` it)."""
    matches = [prefix for prefix in mapping if obj.key.startswith(prefix)]
    if not matches:
        return SpiceTarget(dataset_id=None, ingestion_id=ingestion_id(obj), prefix=None)
    prefix = max(matches, key=len)
    return SpiceTarget(mapping[prefix], ingestion_id(obj), prefix, mapped_by)


def find_target(
    obj: CleanObject, mapping: Mapping[str, str], workbook_datasets: PrefixDatasets | None
) -> SpiceTarget:
    """SPICE_DATASETS' dataset for the key, else (QuickSight on) its workbook table's."""
    target = resolve(obj, mapping, BY_SETTING)
    if target.dataset_id is None and workbook_datasets is not None:
        target = resolve(obj, workbook_datasets.mapping_for(obj.key), BY_WORKBOOK_TABLES)
    return target
