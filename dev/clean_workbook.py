"""`make clean-workbook FILE=<path> [SPEC=<json>]`: a local workbook cleaned exactly as the
Excel cleaner function cleans an upload, with no AWS and no local stack.

The function's own ``ExcelCleaner`` runs over an in-memory store that serves the file as the
upload: the same pre-parse guards, limits, header detection, naming and CSV bytes. The CSVs go
to ``.local/cleaned/<name>/``; the outcome per sheet, or the quarantine reason, is printed.
"""

import json
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TextIO

from datalake_shared.s3_objects import ObjectMissingError, ObjectTooLargeError, S3Object
from excel_cleaner.models import UploadedObject
from excel_cleaner.rejection import Limits
from excel_cleaner.service import CleanerConfig, CleanResult, ExcelCleaner, Outcome
from excel_cleaner.specs import CleaningSpec

UPLOAD_BUCKET: Final = "local-upload"
CLEAN_BUCKET: Final = "local-clean"
DEFAULT_OUTPUT: Final = Path(".local") / "cleaned"


@dataclass
class _MemoryStore:
    """The cleaner's store: the local file as the one upload, writes kept in memory."""

    upload: Path
    written: dict[str, bytes] = field(default_factory=dict)

    def read(self, bucket: str, key: str, max_bytes: int) -> S3Object:
        if (bucket, key) != (UPLOAD_BUCKET, self.upload.name):
            raise ObjectMissingError(key)
        with self.upload.open("rb") as source:
            body = source.read(max_bytes + 1)
        if len(body) > max_bytes:
            raise ObjectTooLargeError(self.upload.stat().st_size)
        return S3Object(body=body)

    def read_json(self, bucket: str, key: str) -> Mapping[str, Any] | None:
        return None  # no earlier cleaning: a local run always cleans

    def put(self, bucket: str, key: str, body: bytes, content_type: str) -> None:
        self.written[key] = body

    def copy(
        self,
        source_bucket: str,
        source_key: str,
        *,
        source_version: str | None,
        bucket: str,
        key: str,
        metadata: Mapping[str, str],
    ) -> None:
        """Quarantine: the file stays where it is; the printed reason says why."""

    def delete(self, bucket: str, keys: Sequence[str]) -> None:
        for key in keys:
            self.written.pop(key, None)


class _NoMessages:
    """Stands in for the result topic and EventBridge: the outcome is printed instead."""

    def publish(self, *_args: Any, **_kwargs: Any) -> None:
        return None


def cleaning_spec(text: str | None) -> CleaningSpec | None:
    """SPEC as JSON, inline or in a file; it applies to this workbook whatever its prefix."""
    if not text:
        return None
    path = Path(text)
    document = json.loads(path.read_text() if path.is_file() else text)
    return CleaningSpec.model_validate({**document, "prefix": ""})


def clean_local_workbook(
    workbook: Path, spec: CleaningSpec | None, output_root: Path = DEFAULT_OUTPUT
) -> tuple[CleanResult, Path]:
    """Cleans the file; writes its CSVs to ``output_root/<name>/`` (emptied first)."""
    store = _MemoryStore(workbook)
    silent = _NoMessages()
    config = CleanerConfig(
        clean_bucket=CLEAN_BUCKET, limits=Limits(), specs=(spec,) if spec else ()
    )
    cleaner = ExcelCleaner(config=config, store=store, topic=silent, events=silent)
    upload = UploadedObject(UPLOAD_BUCKET, workbook.name, size=workbook.stat().st_size)
    result = cleaner.handle(upload)
    target = output_root / workbook.stem
    shutil.rmtree(target, ignore_errors=True)
    if result.outcome is Outcome.CLEANED and result.message is not None:
        target.mkdir(parents=True)
        for output in result.message["outputs"]:
            (target / Path(output["key"]).name).write_bytes(store.written[output["key"]])
    return result, target


def print_outcome(result: CleanResult, target: Path, out: TextIO) -> int:
    """One line per sheet written, or the quarantine reason; the exit status (0: cleaned)."""
    message = result.message or {}
    if result.outcome is Outcome.CLEANED:
        for output in message["outputs"]:
            print(
                f"{output['sheet']!r}: {output['rows']} rows x {output['columns']} columns "
                f"(header row {output['header_row']}) -> {target / Path(output['key']).name}",
                file=out,
            )
            if output["text_date_columns"]:
                print(
                    f"  dates typed as text, written as dates: {output['text_date_columns']}",
                    file=out,
                )
            if output["ambiguous_date_columns"]:
                print(
                    f"  dates typed as text left as text, day/month order unknown (set the "
                    f"spec's date_order): {output['ambiguous_date_columns']}",
                    file=out,
                )
        return 0
    if result.outcome is Outcome.FAILED:
        print(f"quarantined: {message['reason']}: {message['message']}", file=out)
        return 1
    print(f"{result.outcome.value}: {result.note}", file=out)
    return 1
