"""Typed S3 object events as EventBridge delivers them (also inside SQS bodies).

S3 sends "Object Created", "Object Deleted" (a lifecycle expiration too, with its reason),
"Object Restore Completed" and more, all with the same bucket and object. A rule that routes
only "Object Created" is the first filter, not the only one: the functions act on created
objects (``S3ObjectEvent.created``) and skip any other type, saying so.
"""

from typing import Final, Literal

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel, SqsRecordModel
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, Json

from datalake_shared.event_shapes import NameText

OBJECT_CREATED: Final = "Object Created"
S3_OBJECT_EVENT: Final = (
    "an EventBridge S3 object event (source 'aws.s3', detail.bucket.name, detail.object.key)"
)


class S3Bucket(BaseModel):
    # S3's naming rules: 3 to 63 lowercase letters, digits, dots and hyphens.
    name: NameText = Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class S3Object(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    key: NameText
    size: int = Field(default=0, ge=0)
    # S3 sends "etag"; moto's emulation sends "eTag". Accept both, emit "etag".
    etag: str | None = Field(default=None, validation_alias=AliasChoices("etag", "eTag"))
    version_id: str | None = Field(
        default=None, validation_alias=AliasChoices("version-id", "version_id")
    )
    sequencer: str | None = None


class S3ObjectDetail(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    version: str = "0"
    bucket: S3Bucket
    object: S3Object
    request_id: str | None = Field(
        default=None, validation_alias=AliasChoices("request-id", "request_id")
    )
    requester: str | None = None
    reason: str | None = None


class S3ObjectEvent(EventBridgeModel):
    """An EventBridge event of source "aws.s3" about one object (any detail-type)."""

    source: Literal["aws.s3"]
    detail: S3ObjectDetail

    @property
    def created(self) -> bool:
        return self.detail_type == OBJECT_CREATED

    @property
    def not_created_reason(self) -> str:
        """Why a function that acts on new objects skips this one ("" when it does not)."""
        if self.created:
            return ""
        cause = f" ({self.detail.reason})" if self.detail.reason else ""
        return f"an {self.detail_type!r} event{cause}, not {OBJECT_CREATED!r}"


class S3ObjectEventSqsRecord(SqsRecordModel):
    """An SQS message whose body is an EventBridge S3 object event (rule → queue)."""

    body: Json[S3ObjectEvent]
