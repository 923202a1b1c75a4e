"""The file tracker's item layout (FileTrackerTable in template.yaml): one item per landed file.

The file tracker function writes the items, the batch planner lists the tables with pending
files, and the Glue job reads a table's pending files and marks them processed. Items are keyed
(source_table, file_id). A file still waiting to be merged carries ``pending_status`` (the
landed status) and ``pending_order``, the keys of the sparse pending-files index; marking it
processed sets ``status`` and REMOVEs both, which takes it out of the index while the item stays
as history.
"""

from typing import Final, Literal, get_args

from datalake_contracts.dynamodb_keys import MAX_SORT_KEY_BYTES, bounded_key

# --- keys and attributes ------------------------------------------------------------------------

SOURCE_TABLE: Final = "source_table"  # partition key ("<schema>.<table>")
FILE_ID: Final = "file_id"  # sort key
STATUS: Final = "status"
BUCKET: Final = "bucket"
KEY: Final = "key"
LOAD_TYPE: Final = "load_type"
EVENT_TIME: Final = "event_time"
FILE_NAME: Final = "file_name"
TRACKED_AT: Final = "tracked_at"
# Whether the file's "File Landed" event was published.
ANNOUNCED: Final = "landed_event_published"
PROCESSED_AT: Final = "processed_at"
PROCESSED_BY_RUN: Final = "processed_by_run"
# Why a quarantined key was not tracked (items of UNMATCHED_SOURCE_TABLE only).
REASON: Final = "reason"

# --- statuses -----------------------------------------------------------------------------------

LANDED_STATUS: Final = "raw_file_landed"
PROCESSED_STATUS: Final = "raw_file_processed"
UNMATCHED_STATUS: Final = "unmatched_key"
# Keys the key pattern does not map are quarantined under this partition, never pending.
UNMATCHED_SOURCE_TABLE: Final = "__unmatched__"

LoadType = Literal["full", "cdc"]
LOAD_TYPES: Final[tuple[str, ...]] = get_args(LoadType)

# --- the sparse pending-files index -------------------------------------------------------------

PENDING_INDEX: Final = "pending-files-index"
PENDING_STATUS: Final = "pending_status"  # index partition key: LANDED_STATUS while pending
PENDING_ORDER: Final = "pending_order"  # index sort key: see pending_order()
# The non-key attributes the Glue job reads from the index: template.yaml must project each.
PENDING_INDEX_ATTRIBUTES: Final = (BUCKET, KEY, LOAD_TYPE, EVENT_TIME, FILE_NAME)

# A file id is this many hex characters (a hash of the object version, see the file tracker).
FILE_ID_LENGTH: Final = 32
# Event times are fixed-width UTC ("2026-11-22T10:15:00Z"), so they sort in time order.
EVENT_TIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%SZ"
# pending_order ends in "#<event_time>#<file_id>": a fixed-width UTC time and a fixed-length id.
_ORDER_SUFFIX_BYTES: Final = len("#2026-11-22T10:15:00Z#") + FILE_ID_LENGTH
MAX_ORDER_PREFIX_BYTES: Final = MAX_SORT_KEY_BYTES - _ORDER_SUFFIX_BYTES


def order_prefix(source_table: str) -> str:
    """The table part of ``pending_order``: the name itself when it fits, else its first bytes
    (cut on a character boundary) and a hash of the whole name, so the sort key stays within
    DynamoDB's 1,024 bytes for every S3 key (up to 1,024 bytes, nearly all of it table name with
    a custom pattern). Deterministic: every delivery, and the Glue job, compute the same prefix.
    """
    return bounded_key(source_table, MAX_ORDER_PREFIX_BYTES)


def pending_order(source_table: str, event_time: str, file_id: str) -> str:
    """Sort key of the pending-files index: one table's files in landing order.

    "<table>#<event_time>#<file_id>", where <table> is ``order_prefix(source_table)``: one
    prefix per table, so a table's files sort by event time whatever its name's length.
    """
    return f"{pending_order_prefix(source_table)}{event_time}#{file_id}"


def pending_order_prefix(source_table: str) -> str:
    """What every ``pending_order`` of the table begins with (a Query's ``begins_with``). Other
    tables' names may begin the same way ("sales.orders#2026"): filter on source_table too."""
    return f"{order_prefix(source_table)}#"
