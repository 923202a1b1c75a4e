"""Typed S3 "Object Created" events as EventBridge delivers them (also inside SQS bodies)."""

from aws_lambda_powertools.utilities.parser.models import EventBridgeModel, SqsRecordModel
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, Json


class S3Bucket(BaseModel):
    name: str


class S3Object(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    key: str
    size: int = Field(default=0, ge=0)
    # S3 sends "etag"; moto's emulation sends "eTag". Accept both, emit "etag".
    etag: str | None = Field(default=None, validation_alias=AliasChoices("etag", "eTag"))
    version_id: str | None = Field(
        default=None, validation_alias=AliasChoices("version-id", "version_id")
    )
    sequencer: str | None = None


class S3ObjectCreatedDetail(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    version: str = "0"
    bucket: S3Bucket
    object: S3Object
    request_id: str | None = Field(
        default=None, validation_alias=AliasChoices("request-id", "request_id")
    )
    requester: str | None = None
    reason: str | None = None


class S3ObjectCreatedEvent(EventBridgeModel):
    """EventBridge event with detail-type "Object Created" and source "aws.s3"."""

    detail: S3ObjectCreatedDetail


class S3ObjectCreatedSqsRecord(SqsRecordModel):
    """An SQS message whose body is an EventBridge S3 "Object Created" event (rule → queue)."""

    body: Json[S3ObjectCreatedEvent]
