"""iceberg_cdc settings: validated once from the environment the template sets."""

import re
from functools import cache
from typing import Any

from pydantic import Field, field_validator

from datalake_shared.settings import EventBusSettings, load_settings
from iceberg_cdc.changes import TtlPolicy
from iceberg_cdc.service import DEFAULT_MAX_STATEMENTS, ApplyOptions, UnknownAttributePolicy
from iceberg_cdc.sql import ATHENA_MAX_QUERY_BYTES

# The smallest limit that still holds a MERGE of a wide table and a row or two: smaller values
# are only useful to tests, which build ApplyOptions themselves.
MIN_QUERY_BYTES = 4096


class IcebergCdcSettings(EventBusSettings):
    athena_workgroup: str = Field(alias="ATHENA_WORKGROUP", min_length=1)
    target_database: str = Field(alias="TARGET_DATABASE", min_length=1)
    # The stack's own source stream (the template's mapping) goes to TARGET_TABLE with these
    # settings, unless the pipeline config has an entry for it; every other stream is routed by
    # its cdc_tables entry (datalake_shared.cdc_tables), read from CDC_TABLE_CONFIG_TABLE.
    target_table: str = Field(alias="TARGET_TABLE", min_length=1)
    key_columns: tuple[str, ...] = Field(default=(), alias="KEY_COLUMNS")
    ttl_deletes: TtlPolicy = Field(default=TtlPolicy.APPLY, alias="TTL_DELETES")
    unknown_attributes: UnknownAttributePolicy = Field(
        default=UnknownAttributePolicy.IGNORE, alias="UNKNOWN_ATTRIBUTES"
    )
    athena_max_query_bytes: int = Field(
        default=ATHENA_MAX_QUERY_BYTES,
        alias="ATHENA_MAX_QUERY_BYTES",
        ge=MIN_QUERY_BYTES,
        le=ATHENA_MAX_QUERY_BYTES,
    )
    schema_cache_seconds: float = Field(default=300.0, alias="SCHEMA_CACHE_SECONDS", ge=0, le=86400)
    athena_output_location: str = Field(default="", alias="ATHENA_OUTPUT_LOCATION")
    athena_max_attempts: int = Field(default=5, alias="ATHENA_MAX_ATTEMPTS", ge=1, le=10)
    max_statements_per_batch: int = Field(
        default=DEFAULT_MAX_STATEMENTS, alias="MAX_STATEMENTS_PER_BATCH", ge=1, le=500
    )

    cdc_table_config_table: str = Field(default="", alias="CDC_TABLE_CONFIG_TABLE")
    stack_source_stream_arn: str = Field(default="", alias="STACK_SOURCE_STREAM_ARN")
    cdc_config_cache_seconds: float = Field(
        default=60.0, alias="CDC_CONFIG_CACHE_SECONDS", ge=0, le=3600
    )
    lake_bucket: str = Field(default="", alias="LAKE_BUCKET")

    @field_validator("key_columns", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        names = tuple(name.strip() for name in value.split(",") if name.strip())
        if len(set(names)) != len(names):
            raise ValueError(f"names a column twice: {value!r}")
        return names

    @field_validator("ttl_deletes", "unknown_attributes", mode="before")
    @classmethod
    def _lowercase(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("athena_output_location")
    @classmethod
    def _s3_uri(cls, value: str) -> str:
        if value and not re.fullmatch(r"s3://[a-z0-9.\-]{3,63}(/.*)?", value):
            raise ValueError("must be an s3://bucket/prefix/ URI (or empty: the workgroup's)")
        return value

    def apply_options(self) -> ApplyOptions:
        return ApplyOptions(
            database=self.target_database,
            table=self.target_table,
            key_columns=self.key_columns,
            ttl_policy=self.ttl_deletes,
            unknown_attributes=self.unknown_attributes,
            max_query_bytes=self.athena_max_query_bytes,
            max_statements=self.max_statements_per_batch,
        )


@cache
def get_settings() -> IcebergCdcSettings:
    return load_settings(IcebergCdcSettings)
