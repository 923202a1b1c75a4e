"""Config loading: an uploaded config file is applied whole, or rejected whole with a report.

Pure Python: the S3 objects, the config store and the event publisher are protocols, so the
rules are tested with in-memory fakes and the AWS adapters stay small.

A rejected file changes nothing: every problem is listed in ``<key>.rejected.txt`` beside it
(and in the logs), and the loader returns normally, because Lambda's asynchronous retries cannot
fix a bad file. Errors of AWS itself are raised, so those retries happen.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final, Protocol

from datalake_shared.cdc_tables import sources_outside
from datalake_shared.config_documents import JSON_SUFFIXES, YAML_SUFFIXES
from datalake_shared.config_problems import PipelineConfigError
from datalake_shared.config_reconcile import (
    ConfigReconciler,
    Reconciliation,
    problems_of_all,
    reconcile_all,
)
from datalake_shared.config_store import ApplyPlan
from datalake_shared.event_publisher import EventSink
from datalake_shared.pipeline_config import (
    PipelineConfig,
    parse_pipeline_config,
    unwritable_targets,
)
from datalake_shared.s3_keys import bounded_key
from datalake_shared.s3_objects import ObjectMissingError, ObjectTooLargeError, S3Object

MAX_CONFIG_BYTES: Final = 1024 * 1024
CONFIG_SUFFIXES: Final = (*YAML_SUFFIXES, *JSON_SUFFIXES)
REJECTION_SUFFIX: Final = ".rejected.txt"
COMPONENT: Final = "config-loader"
CONFIG_APPLIED: Final = "Pipeline Config Applied"
CONFIG_REJECTED: Final = "Pipeline Config Rejected"
# EventBridge events are at most 256 KB: the report object has the full list.
MAX_PROBLEMS_IN_EVENT: Final = 50


class _RejectedError(Exception):
    """The file cannot be applied; ``problems`` says why."""

    def __init__(self, version_id: str | None, problems: Sequence[str]) -> None:
        super().__init__(f"{len(problems)} problems")
        self.version_id = version_id
        self.problems = problems


class ConfigObjects(Protocol):
    def read(self, bucket: str, key: str, max_bytes: int) -> S3Object:
        """The object's current content; raises ObjectTooLargeError past ``max_bytes`` and
        ObjectMissingError when it no longer exists."""
        ...

    def put_text(self, bucket: str, key: str, text: str) -> None: ...

    def delete_if_exists(self, bucket: str, key: str) -> bool:
        """Deletes the object if it exists; says whether it did."""
        ...


class ConfigApplier(Protocol):
    def apply(self, config: PipelineConfig) -> ApplyPlan: ...


class LoadOutcome(StrEnum):
    APPLIED = "applied"
    REJECTED = "rejected"
    IGNORED = "ignored"


@dataclass(frozen=True, slots=True)
class LoadResult:
    outcome: LoadOutcome
    bucket: str
    key: str
    version_id: str | None = None
    problems: tuple[str, ...] = ()
    report_key: str | None = None
    plan: ApplyPlan | None = None
    reason: str = ""
    reconciled: dict[str, Reconciliation] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        summary: dict[str, Any] = {
            "outcome": self.outcome.value,
            "bucket": self.bucket,
            "key": self.key,
            "version_id": self.version_id,
        }
        if self.plan is not None:
            summary["applied"] = self.plan.summary()
        if self.reconciled:
            summary["reconciled"] = {name: r.summary() for name, r in self.reconciled.items()}
        if self.outcome is LoadOutcome.REJECTED:
            summary["problems"] = list(self.problems)
            summary["report_key"] = self.report_key
        if self.reason:
            summary["reason"] = self.reason
        return summary


def is_config_key(key: str) -> bool:
    """Config files only: never our own reports (which would otherwise reject themselves)."""
    return key.lower().endswith(CONFIG_SUFFIXES) and not key.endswith("/")


def rejection_report_key(key: str) -> str:
    """Beside the upload; an upload key near S3's 1,024-byte limit gets a shortened, hashed name
    (the same upload always gives the same report key)."""
    return bounded_key("", key, REJECTION_SUFFIX)


def rejection_report(
    bucket: str, key: str, version_id: str | None, problems: Sequence[str], checked_at: str
) -> str:
    version = f" (version {version_id})" if version_id else ""
    count = len(problems)
    return "\n".join(
        [
            f"Rejected: s3://{bucket}/{key}{version}",
            f"Checked at: {checked_at}",
            f"Nothing was applied. Fix the {count} problem{'s' if count != 1 else ''} below "
            "and upload the file again; the pipeline keeps its current configuration until then.",
            "",
            *problems,
            "",
        ]
    )


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class ConfigLoader:
    """Applies an uploaded config file to the store, or rejects it with every problem listed.

    It reads the object's current content, not the version the event names: when two uploads'
    events arrive out of order, both read the newest file, so the store ends with the latest.
    """

    def __init__(
        self,
        objects: ConfigObjects,
        store: ConfigApplier,
        events: EventSink,
        writable_databases: frozenset[str],
        now: Callable[[], str] = _now_iso,
        *,
        reconcilers: Sequence[ConfigReconciler] = (),
        cdc_source_pattern: str = "*",
    ) -> None:
        self.objects = objects
        self.store = store
        self.events = events
        self.writable_databases = writable_databases
        self._now = now
        self.reconcilers = tuple(reconcilers)
        # CdcSourceTablePattern: the DynamoDB tables whose streams iceberg_cdc may read.
        self.cdc_source_pattern = cdc_source_pattern

    def load(self, bucket: str, key: str, size: int) -> LoadResult:
        if not is_config_key(key):
            supported = ", ".join(CONFIG_SUFFIXES)
            return LoadResult(
                LoadOutcome.IGNORED, bucket, key, reason=f"not a config file ({supported})"
            )
        try:
            config, version_id = self._read_config(bucket, key, size)
        except ObjectMissingError:
            return LoadResult(
                LoadOutcome.IGNORED, bucket, key, reason="deleted before it could be read"
            )
        except _RejectedError as rejected:
            return self._reject(bucket, key, rejected.version_id, rejected.problems)

        # A report about an earlier upload of this key no longer describes the file. Removed
        # first: should applying fail, the retry still finds a valid file and no stale report.
        self.objects.delete_if_exists(bucket, rejection_report_key(key))
        plan = self.store.apply(config)
        # After the store: reconcilers read the stored configuration, the file's and the rest.
        reconciled = reconcile_all(self.reconcilers, config)
        detail: dict[str, Any] = {"bucket": bucket, "key": key, "version_id": version_id}
        detail.update(plan.summary())
        if reconciled:
            detail["reconciled"] = {name: r.summary() for name, r in reconciled.items()}
        self.events.publish(CONFIG_APPLIED, [detail], [_object_arn(bucket, key)])
        return LoadResult(
            LoadOutcome.APPLIED, bucket, key, version_id, plan=plan, reconciled=reconciled
        )

    def _read_config(self, bucket: str, key: str, size: int) -> tuple[PipelineConfig, str | None]:
        """The validated config and the version read; _RejectedError lists what is wrong."""
        if size > MAX_CONFIG_BYTES:
            raise _RejectedError(None, [_too_large(size)])
        try:
            obj = self.objects.read(bucket, key, MAX_CONFIG_BYTES)
        except ObjectTooLargeError as error:
            raise _RejectedError(None, [_too_large(error.size)]) from error
        try:
            text = obj.body.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            problem = f"not UTF-8 text (byte {error.start}: {error.reason})"
            raise _RejectedError(obj.version_id, [problem]) from error
        try:
            config = parse_pipeline_config(text, key)
        except PipelineConfigError as error:
            problems = [str(problem) for problem in error.problems]
            raise _RejectedError(obj.version_id, problems) from error
        unwritable = unwritable_targets(config, self.writable_databases)
        unwritable += sources_outside(config.cdc_tables, self.cdc_source_pattern)
        if unwritable:
            raise _RejectedError(obj.version_id, [str(problem) for problem in unwritable])
        # What AWS says about the file's resources (a source table without a stream, say) is
        # checked before anything is written, so such a file is rejected whole.
        unappliable = problems_of_all(self.reconcilers, config)
        if unappliable:
            raise _RejectedError(obj.version_id, unappliable)
        return config, obj.version_id

    def _reject(
        self, bucket: str, key: str, version_id: str | None, problems: Sequence[str]
    ) -> LoadResult:
        report_key = rejection_report_key(key)
        report = rejection_report(bucket, key, version_id, problems, self._now())
        self.objects.put_text(bucket, report_key, report)
        self.events.publish(
            CONFIG_REJECTED,
            [
                {
                    "bucket": bucket,
                    "key": key,
                    "version_id": version_id,
                    "report_key": report_key,
                    "problem_count": len(problems),
                    "problems": list(problems[:MAX_PROBLEMS_IN_EVENT]),
                }
            ],
            [_object_arn(bucket, key)],
        )
        return LoadResult(
            LoadOutcome.REJECTED,
            bucket,
            key,
            version_id,
            problems=tuple(problems),
            report_key=report_key,
        )


def _too_large(size: int) -> str:
    return f"file is {size} bytes; config files are limited to {MAX_CONFIG_BYTES} bytes (1 MiB)"


def _object_arn(bucket: str, key: str) -> str:
    return f"arn:aws:s3:::{bucket}/{key}"
