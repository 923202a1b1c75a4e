"""QuickSight SPICE ingestions: moto answers CreateIngestion (and forgets it) and has no
DescribeIngestion. We answer the ingestion API ourselves, in moto's QuickSight responses, so
boto3 clients and Step Functions ``aws-sdk:quicksight:*`` tasks (moto runs those with an
in-process boto3 client) see the same ingestions:

- CreateIngestion records the ingestion as INITIALIZED; the same IngestionId on the same
  dataset again is ResourceExistsException (HTTP 409), as on AWS, so a state machine can catch
  it and watch the ingestion already started. A dataset that does not exist is
  ResourceNotFoundException (HTTP 404), as on AWS: it exists once created (CreateDataSet, or
  the template's), or declared with ``add_dataset`` (one made in QuickSight, outside the stack:
  the ``SpiceDatasets`` parameter's), ``fail_dataset`` or ``set_row_counts``.
- DescribeIngestion advances it one step per call: QUEUED → RUNNING → COMPLETED (or FAILED with
  ErrorInfo for a dataset set up with ``fail_dataset``), so a Wait/Describe/Choice loop runs a
  few rounds. Unknown ingestions are ResourceNotFoundException.
- CancelIngestion ends a running ingestion CANCELLED.

Datasets themselves (CreateDataSet, DescribeDataSet, UpdateDataSet, DeleteDataSet and their
permissions) are answered by ``quicksight_data_sets``, installed with this bridge.

For ``aws-sdk:quicksight`` tasks two more differences of moto's interpreter are fixed: errors
are named as Step Functions names them (``QuickSight.ResourceExistsException``; moto says
``quicksight.ResourceExistsException``, which no Catch of ours matches), and timestamps in the
output are ISO-8601 strings (moto keeps datetime objects, which then break DescribeExecution).
"""

import base64
import json
import re
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from local_runtime.bridges import RuntimeServices
from local_runtime.bridges.quicksight_data_sets import DataSetNotFoundError, QuickSightDataSets
from local_runtime.moto_adapter.hooks import (
    QUICKSIGHT_CANCEL_INGESTION,
    QUICKSIGHT_CREATE_INGESTION,
    QUICKSIGHT_DESCRIBE_INGESTION,
    Patches,
)
from local_runtime.moto_adapter.services import ApiError
from local_runtime.moto_adapter.stepfunctions import convert_sdk_output, name_sdk_errors

PROGRESSION = ("INITIALIZED", "QUEUED", "RUNNING", "COMPLETED")
TERMINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED"})
_API_NAME = "quicksight"  # how moto's interpreter names the service of aws-sdk:quicksight tasks
_SFN_SERVICE = "QuickSight"  # how Step Functions prefixes QuickSight errors
_INGESTION_ID = re.compile(r"[a-zA-Z0-9_-]{1,128}")


class ResourceExistsError(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__("ResourceExistsException", message, status=409)


class InvalidParameterValueError(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__("InvalidParameterValueException", message)


class IngestionNotFoundError(ApiError):
    def __init__(self, message: str) -> None:
        super().__init__("ResourceNotFoundException", message, status=404)


@dataclass(frozen=True)
class DatasetFailure:
    error_type: str
    message: str


@dataclass
class Ingestion:
    account_id: str
    region: str
    data_set_id: str
    ingestion_id: str
    request_type: str
    created: datetime
    status: str = "INITIALIZED"
    describes: int = 0
    error: DatasetFailure | None = None
    finished: datetime | None = None
    rows_ingested: int = 0
    rows_dropped: int = 0

    @property
    def arn(self) -> str:
        return (
            f"arn:aws:quicksight:{self.region}:{self.account_id}:dataset/{self.data_set_id}"
            f"/ingestion/{self.ingestion_id}"
        )

    def advance(self, failure: DatasetFailure | None, now: datetime) -> None:
        """One step of the lifecycle, as a describe observes it."""
        self.describes += 1
        if self.status in TERMINAL:
            return
        following = PROGRESSION[PROGRESSION.index(self.status) + 1]
        if following == "COMPLETED" and failure is not None:
            self.status, self.error = "FAILED", failure
        else:
            self.status = following
        if self.status in TERMINAL:
            self.finished = now

    def cancel(self, now: datetime) -> None:
        if self.status in TERMINAL:
            return
        self.status = "CANCELLED"
        self.error = DatasetFailure("INGESTION_CANCELED", "Ingestion is canceled")
        self.finished = now

    def to_json(self) -> dict[str, Any]:
        """The Ingestion structure of DescribeIngestion (timestamps as epoch seconds, as the
        rest-json protocol carries them)."""
        body: dict[str, Any] = {
            "Arn": self.arn,
            "IngestionId": self.ingestion_id,
            "IngestionStatus": self.status,
            "CreatedTime": self.created.timestamp(),
            "RequestSource": "MANUAL",
            "RequestType": self.request_type,
        }
        if self.error is not None:
            body["ErrorInfo"] = {"Type": self.error.error_type, "Message": self.error.message}
        if self.status in TERMINAL:
            assert self.finished is not None
            body["IngestionTimeInSeconds"] = int((self.finished - self.created).total_seconds())
            body["RowInfo"] = {
                "RowsIngested": self.rows_ingested if self.status == "COMPLETED" else 0,
                "RowsDropped": self.rows_dropped if self.status == "COMPLETED" else 0,
                "TotalRowsInDataset": self.rows_ingested if self.status == "COMPLETED" else 0,
            }
        if self.status == "COMPLETED":
            body["IngestionSizeInBytes"] = 0
        return body


def sfn_output(value: Any) -> Any:
    """An SDK response as Step Functions hands it on: JSON, timestamps as ISO-8601 strings."""
    if isinstance(value, datetime):
        moment = value.astimezone(UTC)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    if isinstance(value, dict):
        return {key: sfn_output(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [sfn_output(item) for item in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


class QuickSightBridge:
    def __init__(self) -> None:
        self.ingestions: dict[tuple[str, str, str], Ingestion] = {}
        self._failures: dict[str, DatasetFailure] = {}
        self._rows: dict[str, tuple[int, int]] = {}
        self._declared: set[str] = set()
        self._lock = threading.Lock()
        self._patches = Patches()
        self._services: RuntimeServices | None = None
        self.data_sets = QuickSightDataSets()

    # ------------------------------------------------------------------ configuration
    def add_dataset(self, data_set_id: str) -> None:
        """A dataset that exists without being created here (made in QuickSight): its
        ingestions are accepted."""
        self._declared.add(data_set_id)

    def fail_dataset(
        self, data_set_id: str, reason: str, error_type: str = "CUSTOMER_ERROR"
    ) -> None:
        """Ingestions of this dataset (which exists) end FAILED with ErrorInfo {Type, Message}."""
        self.add_dataset(data_set_id)
        self._failures[data_set_id] = DatasetFailure(error_type, reason)

    def set_row_counts(self, data_set_id: str, ingested: int, dropped: int = 0) -> None:
        """RowInfo a COMPLETED ingestion of this dataset (which exists) reports (0 and 0
        unless set)."""
        self.add_dataset(data_set_id)
        self._rows[data_set_id] = (ingested, dropped)

    # ------------------------------------------------------------------ Bridge
    def install(self, services: RuntimeServices) -> None:
        self._services = services
        bridge = self

        def create_ingestion(response: Any) -> str:
            return bridge._create(response)

        def describe_ingestion(response: Any) -> str:
            return bridge._describe(response)

        def cancel_ingestion(response: Any) -> str:
            return bridge._cancel(response)

        self._patches.replace(QUICKSIGHT_CREATE_INGESTION, create_ingestion)
        self._patches.replace(QUICKSIGHT_DESCRIBE_INGESTION, describe_ingestion)
        self._patches.replace(QUICKSIGHT_CANCEL_INGESTION, cancel_ingestion)
        convert_sdk_output(self._patches, _API_NAME, sfn_output)
        name_sdk_errors(self._patches, _API_NAME, _SFN_SERVICE)
        self.data_sets.install(self._patches)

    def uninstall(self) -> None:
        self._patches.restore()

    def pump(self) -> int:
        return 0  # ingestions move when they are described

    # ------------------------------------------------------------------ API
    @staticmethod
    def _key(response: Any) -> tuple[str, str, str]:
        return (
            str(response._get_param("AwsAccountId")),
            str(response._get_param("DataSetId")),
            str(response._get_param("IngestionId")),
        )

    def _create(self, response: Any) -> str:
        key = self._key(response)
        account_id, data_set_id, ingestion_id = key
        if not _INGESTION_ID.fullmatch(ingestion_id):
            raise InvalidParameterValueError(
                f"IngestionId {ingestion_id!r} must be 1-128 characters of [a-zA-Z0-9-_]"
            )
        if data_set_id not in self._declared and not self.data_sets.exists(
            response, account_id, data_set_id
        ):
            raise DataSetNotFoundError(data_set_id)
        with self._lock:
            if key in self.ingestions:
                raise ResourceExistsError(
                    f"Ingestion {ingestion_id} already exists for dataset {data_set_id}"
                )
            rows = self._rows.get(data_set_id, (0, 0))
            ingestion = Ingestion(
                account_id=account_id,
                region=response.region,
                data_set_id=data_set_id,
                ingestion_id=ingestion_id,
                request_type=str(response._get_param("IngestionType") or "FULL_REFRESH"),
                created=datetime.now(UTC),
                rows_ingested=rows[0],
                rows_dropped=rows[1],
            )
            self.ingestions[key] = ingestion
        self._note(f"ingestion {ingestion_id} of dataset {data_set_id} created")
        return json.dumps(
            {
                "Arn": ingestion.arn,
                "IngestionId": ingestion_id,
                "IngestionStatus": ingestion.status,
                "RequestId": str(uuid.uuid4()),
            }
        )

    def _find(self, key: tuple[str, str, str]) -> Ingestion:
        if key not in self.ingestions:
            raise IngestionNotFoundError(f"Ingestion {key[2]} of dataset {key[1]} not found")
        return self.ingestions[key]

    def _describe(self, response: Any) -> str:
        key = self._key(response)
        with self._lock:
            ingestion = self._find(key)
            was = ingestion.status
            ingestion.advance(self._failures.get(ingestion.data_set_id), datetime.now(UTC))
            body = ingestion.to_json()
        if ingestion.status != was and ingestion.status in TERMINAL:
            self._note(f"ingestion {key[2]} of dataset {key[1]} {ingestion.status}")
        return json.dumps({"Ingestion": body, "RequestId": str(uuid.uuid4())})

    def _cancel(self, response: Any) -> str:
        key = self._key(response)
        with self._lock:
            ingestion = self._find(key)
            ingestion.cancel(datetime.now(UTC))
        return json.dumps(
            {"Arn": ingestion.arn, "IngestionId": key[2], "RequestId": str(uuid.uuid4())}
        )

    def _note(self, text: str) -> None:
        if self._services is not None:
            self._services.activity.notes.append(f"quicksight: {text}")
