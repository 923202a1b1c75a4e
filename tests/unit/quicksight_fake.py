"""An in-memory QuickSight for the dataset calls the workbook tables make (moto answers
CreateDataSet only): datasets by id with their permissions, and every call recorded (in a list
a test may share with another fake, to see the order of calls across services)."""

from typing import Any

from botocore.exceptions import ClientError


def not_found(operation: str, data_set_id: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": "ResourceNotFoundException", "Message": f"{data_set_id} not found"}},
        operation,
    )


class FakeQuickSight:
    """The boto3 QuickSight client's dataset calls, for one account."""

    def __init__(self, account_id: str, calls: list[tuple[str, str]] | None = None) -> None:
        self.account_id = account_id
        self.data_sets: dict[str, dict[str, Any]] = {}
        self.permissions: dict[str, list[dict[str, Any]]] = {}
        self.calls: list[tuple[str, str]] = calls if calls is not None else []
        self.refuse_create: str | None = None  # an error code CreateDataSet answers with

    def _check(self, operation: str, account: str, data_set_id: str) -> None:
        assert account == self.account_id
        self.calls.append((operation, data_set_id))
        if operation != "CreateDataSet" and data_set_id not in self.data_sets:
            raise not_found(operation, data_set_id)

    def describe_data_set(self, AwsAccountId: str, DataSetId: str) -> dict[str, Any]:
        self._check("DescribeDataSet", AwsAccountId, DataSetId)
        return {"DataSet": dict(self.data_sets[DataSetId]), "Status": 200}

    def create_data_set(
        self, AwsAccountId: str, DataSetId: str, Permissions: list[dict[str, Any]], **request: Any
    ) -> dict[str, Any]:
        self._check("CreateDataSet", AwsAccountId, DataSetId)
        if self.refuse_create is not None:
            raise ClientError({"Error": {"Code": self.refuse_create}}, "CreateDataSet")
        self.data_sets[DataSetId] = {"DataSetId": DataSetId, **request}
        self.permissions[DataSetId] = list(Permissions)
        return {"DataSetId": DataSetId, "Status": 201}

    def update_data_set(self, AwsAccountId: str, DataSetId: str, **request: Any) -> dict[str, Any]:
        self._check("UpdateDataSet", AwsAccountId, DataSetId)
        self.data_sets[DataSetId] = {"DataSetId": DataSetId, **request}
        return {"DataSetId": DataSetId, "Status": 200}

    def delete_data_set(self, AwsAccountId: str, DataSetId: str) -> dict[str, Any]:
        self._check("DeleteDataSet", AwsAccountId, DataSetId)
        del self.data_sets[DataSetId]
        self.permissions.pop(DataSetId, None)
        return {"DataSetId": DataSetId, "Status": 200}

    def describe_data_set_permissions(self, AwsAccountId: str, DataSetId: str) -> dict[str, Any]:
        self._check("DescribeDataSetPermissions", AwsAccountId, DataSetId)
        return {"Permissions": list(self.permissions[DataSetId]), "Status": 200}

    def update_data_set_permissions(
        self, AwsAccountId: str, DataSetId: str, GrantPermissions: list[dict[str, Any]]
    ) -> dict[str, Any]:
        self._check("UpdateDataSetPermissions", AwsAccountId, DataSetId)
        self.permissions[DataSetId] = [*self.permissions[DataSetId], *GrantPermissions]
        return {"DataSetId": DataSetId, "Status": 200}

    def get_paginator(self, operation: str) -> "FakeQuickSight":
        assert operation == "list_data_sets"
        return self

    def paginate(self, AwsAccountId: str) -> list[dict[str, Any]]:
        """ListDataSets' pages: one dataset a page, so a reader must follow every page."""
        assert AwsAccountId == self.account_id
        self.calls.append(("ListDataSets", ""))
        return [
            {"DataSetSummaries": [{"DataSetId": data_set_id, "Name": data_set_id}]}
            for data_set_id in sorted(self.data_sets)
        ]

    def changes(self) -> list[tuple[str, str]]:
        """The calls that changed something (not the Describe* and List* ones)."""
        return [call for call in self.calls if not call[0].startswith(("Describe", "List"))]
