"""The merge job's per-table run record: the ProcessingHistoryTable item layout and the same
record as a JSON line under the table-runs prefix (TableRunsTable in template.yaml, for Athena).

The Glue job (cdc_merge.history) writes one record per table per run, whatever happened to it;
tools/table_status.py reads the items back, and the named query athena/table_status/*.sql the
JSON lines. Items are keyed (source_table, run_key = "<started_at>#<run_id>"), so a table's
newest run is the last item of its partition. The JSON line has the item's attribute names.
"""

import re
from typing import Final, Literal, get_args

# --- keys and attributes ------------------------------------------------------------------------

SOURCE_TABLE: Final = "source_table"  # partition key
RUN_KEY: Final = "run_key"  # sort key: "<started_at ISO 8601>#<run_id>", sorts in time order
RUN_ID: Final = "run_id"  # the batch dispatch execution's name
BATCH_ID: Final = "batch_id"
# The Glue job run id (jr_...), when the job was started by Glue (absent on older items).
JOB_RUN_ID: Final = "job_run_id"
STATUS: Final = "status"
STARTED_AT: Final = "started_at"
FINISHED_AT: Final = "finished_at"
DURATION_MS: Final = "duration_ms"
FILES: Final = "files"
INSERTED: Final = "inserted"
UPDATED: Final = "updated"
DELETED: Final = "deleted"
FULL_LOAD: Final = "full_load"
ERROR: Final = "error"  # only on a failed run

# --- statuses -----------------------------------------------------------------------------------

Status = Literal["succeeded", "failed", "skipped_locked"]
STATUSES: Final[tuple[str, ...]] = get_args(Status)
FAILED_STATUS: Final = "failed"

# A DynamoDB item is at most 400 KB; a Spark error with its stack can be longer than that.
# 8,000 characters are at most 32,000 bytes of UTF-8, whatever the text.
MAX_ERROR_CHARS: Final = 8_000

# --- the same records in S3, one JSON-lines object per batch run --------------------------------

# Under the job's --table_runs_location: "dt=<finished day>/<batch_id>-<job_run_id>.json"
# (TableRunsTable projects dt, so a new day is queryable at once).
DATE_PARTITION: Final = "dt"


def table_runs_key(prefix: str, day: str, batch_id: str, job_run_id: str) -> str:
    """Where one batch run's records go. One object per Glue run: a retried run of the same
    batch adds its own object (both runs happened), a redelivered write of one run replaces it."""
    base = prefix if not prefix or prefix.endswith("/") else f"{prefix}/"
    name = _UNSAFE_KEY_CHARS.sub("_", f"{batch_id}-{job_run_id or 'local'}")[:_MAX_NAME_CHARS]
    return f"{base}{DATE_PARTITION}={day}/{name}.json"


# A batch passed by hand may name itself anything: no "/" (a sub-folder Athena would not read).
_UNSAFE_KEY_CHARS: Final = re.compile(r"[^A-Za-z0-9._=-]")
_MAX_NAME_CHARS: Final = 512
