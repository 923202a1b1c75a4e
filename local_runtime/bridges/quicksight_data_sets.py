"""QuickSight datasets: moto answers CreateDataSet (keeping the id and name only) and has no
other dataset call, nor a route for their URLs. While installed, these answer the dataset API
in moto's QuickSight responses, keeping each dataset as it was created or last updated:

- CreateDataSet: recorded whole, with its permissions (moto's own record is made too);
  an existing id is ResourceExistsException (HTTP 409), as on AWS.
- DescribeDataSet: the dataset as recorded; one created before the bridge was installed (the
  template's, created while deploying) is described from moto's record (id and name).
- UpdateDataSet, DeleteDataSet: replace or forget it.
- DescribeDataSetPermissions, UpdateDataSetPermissions: its permissions; granted actions are
  merged into the principal's, revoked ones removed.

An unknown dataset is ResourceNotFoundException (HTTP 404). Nothing is imported into SPICE:
ingestions are the QuickSight bridge's (``quicksight.py``), which asks ``exists`` first.
"""

import json
import threading
import uuid
from typing import Any, Final

from local_runtime.moto_adapter.hooks import (
    QUICKSIGHT_CREATE_DATA_SET,
    QUICKSIGHT_DELETE_DATA_SET,
    QUICKSIGHT_DESCRIBE_DATA_SET,
    QUICKSIGHT_DESCRIBE_DATA_SET_PERMISSIONS,
    QUICKSIGHT_DISPATCH,
    QUICKSIGHT_UPDATE_DATA_SET,
    QUICKSIGHT_UPDATE_DATA_SET_PERMISSIONS,
    QUICKSIGHT_URL_PATHS,
    Patches,
)
from local_runtime.moto_adapter.services import ApiError

_DATA_SET: Final = r"{0}/accounts/(?P<account_id>[\d]+)/data-sets/(?P<datasetid>[^/.]+)$"
_PERMISSIONS: Final = (
    r"{0}/accounts/(?P<account_id>[\d]+)/data-sets/(?P<datasetid>[^/.]+)/permissions$"
)
# What a CreateDataSet / UpdateDataSet request holds besides the ids (kept, described back).
_DEFINITION: Final = (
    "Name",
    "PhysicalTableMap",
    "LogicalTableMap",
    "ImportMode",
    "ColumnGroups",
    "FieldFolders",
    "DataSetUsageConfiguration",
)


class DataSetNotFoundError(ApiError):
    def __init__(self, data_set_id: str) -> None:
        super().__init__("ResourceNotFoundException", f"DataSet {data_set_id} not found", 404)


class DataSetExistsError(ApiError):
    def __init__(self, data_set_id: str) -> None:
        super().__init__("ResourceExistsException", f"DataSet {data_set_id} already exists", 409)


class QuickSightDataSets:
    """The dataset API, answered from what was created (keyed by account, region and id)."""

    def __init__(self) -> None:
        self.data_sets: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.permissions: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def install(self, patches: Patches) -> None:
        patches.set_item(QUICKSIGHT_URL_PATHS, _DATA_SET, QUICKSIGHT_DISPATCH)
        patches.set_item(QUICKSIGHT_URL_PATHS, _PERMISSIONS, QUICKSIGHT_DISPATCH)
        data_sets = self
        create_in_moto = QUICKSIGHT_CREATE_DATA_SET.current()

        def create_data_set(response: Any) -> str:
            return data_sets._create(response, create_in_moto)

        def describe_data_set(response: Any) -> str:
            return data_sets._describe(response)

        def update_data_set(response: Any) -> str:
            return data_sets._update(response)

        def delete_data_set(response: Any) -> str:
            return data_sets._delete(response)

        def describe_data_set_permissions(response: Any) -> str:
            return data_sets._describe_permissions(response)

        def update_data_set_permissions(response: Any) -> str:
            return data_sets._update_permissions(response)

        patches.replace(QUICKSIGHT_CREATE_DATA_SET, create_data_set)
        patches.replace(QUICKSIGHT_DESCRIBE_DATA_SET, describe_data_set)
        patches.replace(QUICKSIGHT_UPDATE_DATA_SET, update_data_set)
        patches.replace(QUICKSIGHT_DELETE_DATA_SET, delete_data_set)
        patches.replace(QUICKSIGHT_DESCRIBE_DATA_SET_PERMISSIONS, describe_data_set_permissions)
        patches.replace(QUICKSIGHT_UPDATE_DATA_SET_PERMISSIONS, update_data_set_permissions)

    def exists(self, response: Any, account_id: str, data_set_id: str) -> bool:
        """Whether the dataset was created (by the API, or by the template while deploying)
        in the account and region ``response`` (a moto QuickSight response) answers for."""
        key = (account_id, str(response.region), data_set_id)
        with self._lock:
            return key in self.data_sets or data_set_id in response.quicksight_backend.data_sets

    # ------------------------------------------------------------------ API
    @staticmethod
    def _key(response: Any) -> tuple[str, str, str]:
        account = str(response._get_param("AwsAccountId"))
        return (account, str(response.region), str(response._get_param("DataSetId")))

    @staticmethod
    def _arn(key: tuple[str, str, str]) -> str:
        account, region, data_set_id = key
        return f"arn:aws:quicksight:{region}:{account}:dataset/{data_set_id}"

    @staticmethod
    def _definition(response: Any) -> dict[str, Any]:
        body = json.loads(response.body or "{}")
        return {name: body[name] for name in _DEFINITION if name in body}

    def _reply(self, key: tuple[str, str, str], status: int, **more: Any) -> str:
        return json.dumps(
            {
                "Arn": self._arn(key),
                "DataSetId": key[2],
                "RequestId": str(uuid.uuid4()),
                "Status": status,
                **more,
            }
        )

    def _known(self, response: Any, key: tuple[str, str, str]) -> dict[str, Any]:
        """The dataset as recorded, else as moto recorded it; DataSetNotFoundError if neither."""
        recorded = self.data_sets.get(key)
        if recorded is not None:
            return recorded
        moto_record = response.quicksight_backend.data_sets.get(key[2])
        if moto_record is None:
            raise DataSetNotFoundError(key[2])
        return {"Name": moto_record.name}

    def _create(self, response: Any, create_in_moto: Any) -> str:
        key = self._key(response)
        with self._lock:
            if key in self.data_sets or key[2] in response.quicksight_backend.data_sets:
                raise DataSetExistsError(key[2])
            created: str = create_in_moto(response)
            self.data_sets[key] = self._definition(response)
            body = json.loads(response.body or "{}")
            self.permissions[key] = list(body.get("Permissions", []))
        return created

    def _describe(self, response: Any) -> str:
        key = self._key(response)
        with self._lock:
            data_set = dict(self._known(response, key))
        data_set.update({"Arn": self._arn(key), "DataSetId": key[2]})
        return json.dumps({"DataSet": data_set, "RequestId": str(uuid.uuid4()), "Status": 200})

    def _update(self, response: Any) -> str:
        key = self._key(response)
        with self._lock:
            self._known(response, key)
            self.data_sets[key] = self._definition(response)
        return self._reply(key, 200)

    def _delete(self, response: Any) -> str:
        key = self._key(response)
        with self._lock:
            self._known(response, key)
            self.data_sets.pop(key, None)
            self.permissions.pop(key, None)
            response.quicksight_backend.data_sets.pop(key[2], None)
        return self._reply(key, 200)

    def _describe_permissions(self, response: Any) -> str:
        key = self._key(response)
        with self._lock:
            self._known(response, key)
            permissions = list(self.permissions.get(key, []))
        return json.dumps(
            {
                "DataSetArn": self._arn(key),
                "DataSetId": key[2],
                "Permissions": permissions,
                "RequestId": str(uuid.uuid4()),
                "Status": 200,
            }
        )

    def _update_permissions(self, response: Any) -> str:
        key = self._key(response)
        body = json.loads(response.body or "{}")
        with self._lock:
            self._known(response, key)
            actions: dict[str, set[str]] = {}
            for permission in self.permissions.get(key, []):
                actions.setdefault(permission["Principal"], set()).update(permission["Actions"])
            for permission in body.get("GrantPermissions", []):
                actions.setdefault(permission["Principal"], set()).update(permission["Actions"])
            for permission in body.get("RevokePermissions", []):
                actions.get(permission["Principal"], set()).difference_update(permission["Actions"])
            self.permissions[key] = [
                {"Principal": principal, "Actions": sorted(held)}
                for principal, held in actions.items()
                if held
            ]
        return json.dumps(
            {
                "DataSetArn": self._arn(key),
                "DataSetId": key[2],
                "RequestId": str(uuid.uuid4()),
                "Status": 200,
            }
        )
