"""Cleaning one uploaded object end to end: read, clean, write, announce — or quarantine.

Pure orchestration over three ports (S3 objects, the result topic, EventBridge:
``excel_cleaner.ports``), so it is tested with in-memory fakes; the boto3 adapters are in
``excel_cleaner.adapters``.

Outputs, in the clean bucket (deterministic, so a re-upload or a redelivery overwrites):

- ``<CLEAN_PREFIX><source key without extension>/<sheet_snake_name>.csv`` per cleaned sheet;
- ``<CLEAN_PREFIX><source key without extension>/_manifest.json``: the source (version, etag,
  S3 sequencer) and the CSVs written. A leading underscore, so Athena and Glue skip it.

Every key stays within S3's 1,024 bytes (``datalake_shared.s3_keys.bounded_key``): the folder
is a function of the source key alone (the manifest is looked up before the workbook is read)
and keeps ``LEAF_BYTES`` free for the names under it; a source key too long for that keeps its
readable beginning and gets a hash of the whole (``.../<beginning>-<hash>/``), and a sheet
name too long for the room left is shortened the same way. Ordinary keys are unchanged.

The manifest does two jobs:

1. **Stale sheets**: when a re-upload no longer has a sheet, the CSV that sheet produced last
   time is deleted, so the folder always mirrors the latest upload (a dataset reading it would
   otherwise keep the old rows forever).
2. **Redelivery**: S3 notifications, SNS and Lambda's async retries all deliver at least once.
   The manifest is written last, after the CSVs and the "cleaned" message; an event whose S3
   ``sequencer`` is the manifest's (the same upload) or older (a newer upload of the key was
   already cleaned) is skipped, without reading the workbook, rewriting the CSVs (each rewrite
   would start another SPICE ingestion, a quota-limited operation) or publishing again. A
   crash between the message and the manifest means the retry cleans and publishes once more:
   "cleaned" is at-least-once, like every SNS message; consumers key on source + version.

The source is read as it is *now* (no version id): when two uploads' events arrive out of
order, both read the newest file, so the CSVs always end up describing the latest upload; the
version and etag actually read are reported. It is read into memory (never more than
MAX_OBJECT_BYTES + 1 bytes), not to /tmp: the sheets calamine parses from it take ~15 times
the file's size, so the file's own copy (two with calamine's) is the small part, while /tmp
would add a disk write, a file to clean up between warm invocations and a second limit to size.

Failures: a file that cannot be cleaned is copied to ``<QUARANTINE_PREFIX><original key>`` (the
key shortened the same way, before its extension, when it would pass 1,024 bytes) and
a "failed" message names the reason; nothing raises, so Lambda does not retry what cannot
succeed. The quarantine lives in the clean bucket by default (QUARANTINE_BUCKET can name
another): the function then only ever *reads* the raw bucket (the raw file can never be lost
or changed by it), and a copy into the raw bucket would be a new upload that notifies the
"uploaded" topic (and its email subscribers) again unless the notification is filtered by
prefix. The previous CSVs of that key are left alone: the dataset keeps the last good upload.
AWS errors do raise (the caller decides: Lambda retries them).
"""

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

from datalake_shared.event_publisher import EntryTooLargeError, EventSink
from datalake_shared.s3_keys import MAX_KEY_BYTES, bounded_key
from datalake_shared.s3_objects import ObjectMissingError, ObjectTooLargeError, S3Object
from excel_cleaner.intake import SUPPORTED_SUFFIXES, check_key, check_size, suffix_of
from excel_cleaner.models import MalformedNotice, UploadedObject
from excel_cleaner.ports import (
    ResultTopic,
    WorkbookStore,
)
from excel_cleaner.rejection import Limits, RejectReason, WorkbookRejectedError
from excel_cleaner.specs import CleaningSpec, spec_for
from excel_cleaner.workbook import CleanedWorkbook, clean_workbook

COMPONENT: Final = "excel-cleaner"
WORKBOOK_CLEANED: Final = "Workbook Cleaned"
WORKBOOK_FAILED: Final = "Workbook Failed"
MANIFEST_NAME: Final = "_manifest.json"
CSV_SUFFIX: Final = ".csv"
LEAF_BYTES: Final = 128
"""Kept free after an output folder for the names under it (the manifest's, each CSV's)."""
MANIFEST_VERSION: Final = 1
CSV_CONTENT_TYPE: Final = "text/csv; charset=utf-8"
JSON_CONTENT_TYPE: Final = "application/json"
MALFORMED_NOTIFICATION: Final = "malformed_notification"
# CopyObject copies at most 5 GiB in one request.
MAX_COPY_BYTES: Final = 5 * 1024**3
_MAX_SUBJECT: Final = 99
_MAX_MESSAGE_CHARS: Final = 2000


class Outcome(StrEnum):
    CLEANED = "cleaned"
    FAILED = "failed"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"


@dataclass(frozen=True, slots=True)
class CleanerConfig:
    clean_bucket: str
    clean_prefix: str = "clean/"
    quarantine_prefix: str = "quarantine/"
    limits: Limits = field(default_factory=Limits)
    specs: tuple[CleaningSpec, ...] = ()
    quarantine_bucket: str | None = None  # None: the clean bucket
    upload_prefix: str = ""  # keys outside it are not uploads to clean

    @property
    def quarantine_target(self) -> str:
        return self.quarantine_bucket or self.clean_bucket


@dataclass(frozen=True, slots=True)
class CleanResult:
    """What became of one notice; ``message`` is what went to the result topic, if anything."""

    outcome: Outcome
    bucket: str | None
    key: str | None
    note: str = ""
    message: Mapping[str, Any] | None = None
    event_error: str | None = None

    def summary(self) -> dict[str, Any]:
        summary: dict[str, Any] = {"outcome": self.outcome.value, "bucket": self.bucket}
        summary["key"] = self.key
        if self.note:
            summary["note"] = self.note
        if self.message is not None:
            if "reason" in self.message:
                summary["reason"] = self.message["reason"]
            if "outputs" in self.message:
                summary["outputs"] = len(self.message["outputs"])
        return summary


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def key_stem(key: str) -> str:
    """The key without its workbook extension (``a/b.xlsx`` → ``a/b``)."""
    suffix = suffix_of(key)
    return key[: -len(suffix)] if suffix in SUPPORTED_SUFFIXES else key


def compare_sequencers(first: str, second: str) -> int:
    """S3's rule: compare as hex after left-padding the shorter with zeros (-1, 0 or 1)."""
    width = max(len(first), len(second))
    a, b = first.upper().rjust(width, "0"), second.upper().rjust(width, "0")
    return (a > b) - (a < b)


def _subject(text: str) -> str:
    """SNS subjects: ASCII, no control characters, under 100 characters."""
    ascii_text = text.encode("ascii", "replace").decode("ascii")
    printable = "".join(ch if ch.isprintable() else " " for ch in ascii_text)
    return printable if len(printable) <= _MAX_SUBJECT else printable[: _MAX_SUBJECT - 3] + "..."


def _object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"


class ExcelCleaner:
    def __init__(
        self,
        config: CleanerConfig,
        store: WorkbookStore,
        topic: ResultTopic,
        events: EventSink,
        now: Callable[[], str] = _now_iso,
    ) -> None:
        self.config = config
        self.store = store
        self.topic = topic
        self.events = events
        self._now = now

    # -------------------------------------------------------------- keys

    def output_folder(self, key: str) -> str:
        """``<CLEAN_PREFIX><key without extension>/``, within ``MAX_KEY_BYTES - LEAF_BYTES``
        (the upload prefix is always kept whole: the recursion guard and the SPICE rule match
        on it)."""
        stem = key_stem(key)
        head = self.config.clean_prefix
        if stem.startswith(self.config.upload_prefix):
            head += self.config.upload_prefix
            stem = stem[len(self.config.upload_prefix) :]
        return bounded_key(head, stem, "/", max_bytes=MAX_KEY_BYTES - LEAF_BYTES)

    def manifest_key(self, key: str) -> str:
        return f"{self.output_folder(key)}{MANIFEST_NAME}"

    @staticmethod
    def csv_key(folder: str, file_name: str) -> str:
        return bounded_key(folder, file_name, CSV_SUFFIX)

    def quarantine_key(self, key: str) -> str:
        """``<QUARANTINE_PREFIX><key>``, shortened before its extension when too long."""
        stem = key_stem(key)
        return bounded_key(self.config.quarantine_prefix, stem, key[len(stem) :])

    def _is_own_output(self, obj: UploadedObject) -> bool:
        """A recursion guard, should the buckets' notifications ever reach the cleaner."""
        config = self.config
        quarantined = obj.bucket == config.quarantine_target and obj.key.startswith(
            config.quarantine_prefix
        )
        cleaned = obj.bucket == config.clean_bucket and obj.key.startswith(
            config.clean_prefix + config.upload_prefix
        )
        return quarantined or cleaned

    # -------------------------------------------------------------- the flow

    def handle(self, obj: UploadedObject) -> CleanResult:
        """Cleans one uploaded object; raises only for AWS errors (a retry may succeed)."""
        skip = self._skip_reason(obj)
        if skip:
            return CleanResult(Outcome.IGNORED, obj.bucket, obj.key, note=skip)
        try:
            check_key(obj.key)
            if obj.size is not None:
                check_size(obj.size, self.config.limits)
            manifest = self.store.read_json(self.config.clean_bucket, self.manifest_key(obj.key))
            duplicate = self._already_cleaned(obj, manifest)
            if duplicate:
                return CleanResult(Outcome.DUPLICATE, obj.bucket, obj.key, note=duplicate)
            source = self._read(obj)
        except ObjectMissingError:
            note = "deleted before it could be read"
            return CleanResult(Outcome.IGNORED, obj.bucket, obj.key, note=note)
        except WorkbookRejectedError as rejected:
            return self._fail(obj, rejected, version_id=obj.version_id, etag=obj.etag)

        spec = spec_for(obj.key, self.config.specs)
        try:
            workbook = clean_workbook(source.body, self.config.limits, spec)
        except WorkbookRejectedError as rejected:
            return self._fail(
                obj, rejected, version_id=source.version_id, etag=source.etag, read=source
            )
        return self._publish_cleaned(obj, source, workbook, spec, manifest)

    def _skip_reason(self, obj: UploadedObject) -> str:
        """Why the object is none of the cleaner's business ('' when it is)."""
        if not obj.is_creation:
            return f"not an object creation ({obj.event_name})"
        if obj.key.endswith("/"):
            return "folder marker"
        if self._is_own_output(obj):
            return "the cleaner's own output or quarantine"
        if not obj.key.startswith(self.config.upload_prefix):
            return f"outside the upload prefix {self.config.upload_prefix!r}"
        return ""

    def _read(self, obj: UploadedObject) -> S3Object:
        limit = self.config.limits.max_object_bytes
        try:
            return self.store.read(obj.bucket, obj.key, limit)
        except ObjectTooLargeError as error:
            raise WorkbookRejectedError(
                RejectReason.TOO_LARGE,
                f"the file is {error.size} bytes; the limit is {limit} bytes",
            ) from error

    def _already_cleaned(self, obj: UploadedObject, manifest: Mapping[str, Any] | None) -> str:
        """Why this event needs no work ('' when it does)."""
        if manifest is None or not obj.sequencer:
            return ""
        source = manifest.get("source")
        if not isinstance(source, Mapping) or source.get("key") != obj.key:
            return ""
        cleaned = source.get("sequencer")
        if not isinstance(cleaned, str) or not cleaned:
            return ""
        order = compare_sequencers(cleaned, obj.sequencer)
        if order == 0:
            return "already cleaned (redelivered event)"
        if order > 0:
            return "a newer upload of this key was already cleaned"
        return ""

    def _source(
        self,
        obj: UploadedObject,
        version_id: str | None,
        etag: str | None,
        size: int | None,
    ) -> dict[str, Any]:
        return {
            "bucket": obj.bucket,
            "key": obj.key,
            "version_id": version_id,
            "etag": etag,
            "size": size,
            "sequencer": obj.sequencer,
        }

    def _publish_cleaned(
        self,
        obj: UploadedObject,
        source: S3Object,
        workbook: CleanedWorkbook,
        spec: CleaningSpec | None,
        previous: Mapping[str, Any] | None,
    ) -> CleanResult:
        bucket = self.config.clean_bucket
        folder = self.output_folder(obj.key)
        outputs: list[dict[str, Any]] = []
        for table in workbook.tables:
            sheet = table.sheet
            key = self.csv_key(folder, table.file_name)
            self.store.put(bucket, key, sheet.csv, CSV_CONTENT_TYPE)
            outputs.append(
                {
                    "key": key,
                    "sheet": sheet.sheet,
                    "rows": sheet.rows,
                    "columns": len(sheet.columns),
                    "header_row": sheet.header_row,
                    "footer_rows_dropped": sheet.footer_rows,
                    "error_cells": sheet.error_cells,
                    "invalid_values": sheet.invalid_values,
                    "text_date_columns": list(sheet.text_date_columns),
                    "ambiguous_date_columns": list(sheet.ambiguous_date_columns),
                }
            )
        removed = self._remove_stale(folder, previous, {o["key"] for o in outputs})
        message: dict[str, Any] = {
            "outcome": Outcome.CLEANED.value,
            "source": self._source(obj, source.version_id, source.etag, len(source.body)),
            "format": workbook.format,
            "clean_bucket": bucket,
            "outputs": outputs,
            "skipped_sheets": [{"sheet": s.sheet, "reason": s.reason} for s in workbook.skipped],
            "removed_keys": removed,
            "cleaning_spec": spec.prefix if spec is not None else None,
        }
        sheets = len(outputs)
        self.topic.publish(
            Outcome.CLEANED.value,
            _subject(f"Workbook cleaned: {obj.key} ({sheets} sheet{'s' if sheets != 1 else ''})"),
            message,
        )
        event_error = self._announce(WORKBOOK_CLEANED, message, _object_arn(obj.bucket, obj.key))
        manifest = {
            "manifest_version": MANIFEST_VERSION,
            "cleaned_at": self._now(),
            **message,
            "outputs": [
                {**output, "column_names": list(table.sheet.columns)}
                for output, table in zip(outputs, workbook.tables, strict=True)
            ],
        }
        self.store.put(
            bucket,
            f"{folder}{MANIFEST_NAME}",
            json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8"),
            JSON_CONTENT_TYPE,
        )
        return CleanResult(
            Outcome.CLEANED, obj.bucket, obj.key, message=message, event_error=event_error
        )

    def _remove_stale(
        self, folder: str, previous: Mapping[str, Any] | None, current: set[str]
    ) -> list[str]:
        if previous is None or not isinstance(previous.get("outputs"), list):
            return []
        stale = sorted(
            {
                output["key"]
                for output in previous["outputs"]
                if isinstance(output, Mapping)
                and isinstance(output.get("key"), str)
                # Only CSVs this folder's manifest could have written: never anything else.
                and output["key"].startswith(folder)
                and output["key"].endswith(CSV_SUFFIX)
                and "/" not in output["key"][len(folder) :]
            }
            - current
        )
        if stale:
            self.store.delete(self.config.clean_bucket, stale)
        return stale

    def _fail(
        self,
        obj: UploadedObject,
        rejected: WorkbookRejectedError,
        version_id: str | None,
        etag: str | None,
        read: S3Object | None = None,
    ) -> CleanResult:
        bucket = self.config.quarantine_target
        size = len(read.body) if read is not None else obj.size
        quarantine: dict[str, str] | None = None
        note = ""
        if size is None or size <= MAX_COPY_BYTES:
            key = self.quarantine_key(obj.key)
            self.store.copy(
                obj.bucket,
                obj.key,
                source_version=version_id,
                bucket=bucket,
                key=key,
                metadata={
                    "quarantine-reason": rejected.reason.value,
                    "source-bucket": obj.bucket,
                    "source-version-id": version_id or "",
                },
            )
            quarantine = {"bucket": bucket, "key": key}
        else:
            note = "too large to copy to quarantine; the raw object stays where it is"
        message: dict[str, Any] = {
            "outcome": Outcome.FAILED.value,
            "reason": rejected.reason.value,
            "message": rejected.message[:_MAX_MESSAGE_CHARS],
            "source": self._source(obj, version_id, etag, size),
            "quarantine": quarantine,
        }
        if note:
            message["note"] = note
        self.topic.publish(
            Outcome.FAILED.value,
            _subject(f"Workbook failed: {obj.key} ({rejected.reason.value})"),
            message,
        )
        event_error = self._announce(WORKBOOK_FAILED, message, _object_arn(obj.bucket, obj.key))
        return CleanResult(
            Outcome.FAILED, obj.bucket, obj.key, note=note, message=message, event_error=event_error
        )

    def report_malformed(self, notice: MalformedNotice) -> CleanResult:
        """A record that names no object: nothing to quarantine, but still reported as failed."""
        message: dict[str, Any] = {
            "outcome": Outcome.FAILED.value,
            "reason": MALFORMED_NOTIFICATION,
            "message": notice.error[:_MAX_MESSAGE_CHARS],
            "sns_message_id": notice.message_id,
            "source": None,
            "quarantine": None,
        }
        self.topic.publish(Outcome.FAILED.value, "Workbook notification malformed", message)
        event_error = self._announce(WORKBOOK_FAILED, message, ())
        return CleanResult(Outcome.FAILED, None, None, message=message, event_error=event_error)

    def _announce(
        self, detail_type: str, detail: Mapping[str, Any], resource: str | Sequence[str]
    ) -> str | None:
        """Best effort: the work is done and reported on SNS; EventBridge trouble is returned
        for the caller to log and count, never raised. Except an event too large for
        EventBridge: sending it again can never succeed, so ``EntryTooLargeError`` is raised
        (before the manifest) for the record to be retried and then sent to OnFailure."""
        resources = [resource] if isinstance(resource, str) else list(resource)
        try:
            self.events.publish(detail_type, [detail], resources)
        except EntryTooLargeError:
            raise
        except Exception as error:  # any other failure of a best-effort announcement
            return f"{type(error).__name__}: {error}"
        return None
