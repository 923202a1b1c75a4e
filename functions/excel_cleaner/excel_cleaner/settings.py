"""excel_cleaner settings: validated once from the environment the template sets.

Cleaning specs come from ``CLEANING_SPECS`` (a JSON list, see ``excel_cleaner.specs``) rather
than from an object in S3: they change with the stack (reviewed, versioned, deployed like the
rest of the configuration), are validated once per cold start with every problem named, and
cost no read or extra permission per invocation. Lambda allows 4 KB of environment variables,
room for a few dozen specs.
"""

from functools import cache

from pydantic import Field, Json, field_validator, model_validator

from datalake_shared.s3_keys import check_prefix
from datalake_shared.settings import EventBusSettings, load_settings
from excel_cleaner.rejection import Limits
from excel_cleaner.service import CleanerConfig
from excel_cleaner.specs import CleaningSpec, parse_specs

MIB = 1024 * 1024


class ExcelCleanerSettings(EventBusSettings):
    clean_bucket: str = Field(alias="CLEAN_BUCKET", min_length=1)
    clean_prefix: str = Field(default="clean/", alias="CLEAN_PREFIX")
    quarantine_prefix: str = Field(default="quarantine/", alias="QUARANTINE_PREFIX", min_length=1)
    quarantine_bucket: str | None = Field(default=None, alias="QUARANTINE_BUCKET", min_length=1)
    upload_prefix: str = Field(default="", alias="UPLOAD_PREFIX")
    result_topic_arn: str = Field(alias="RESULT_TOPIC_ARN", min_length=1)
    max_object_bytes: int = Field(default=50 * MIB, alias="MAX_OBJECT_BYTES", gt=0)
    max_uncompressed_bytes: int = Field(default=512 * MIB, alias="MAX_UNCOMPRESSED_BYTES", gt=0)
    max_decompression_ratio: float = Field(default=100.0, alias="MAX_DECOMPRESSION_RATIO", gt=1)
    max_rows: int = Field(default=1_000_000, alias="MAX_ROWS", gt=0)
    # rows x columns calamine may allocate for a sheet (~30 bytes a cell: 20M ~ 600 MB)
    max_cells: int = Field(default=20_000_000, alias="MAX_CELLS", gt=0)
    cleaning_specs: Json[list[CleaningSpec]] = Field(default_factory=list, alias="CLEANING_SPECS")

    @field_validator("cleaning_specs")
    @classmethod
    def _prefixes_are_unique(cls, specs: list[CleaningSpec]) -> list[CleaningSpec]:
        return list(parse_specs(specs))

    @field_validator("quarantine_prefix")
    @classmethod
    def _quarantine_prefix_leaves_room(cls, value: str) -> str:
        return check_prefix(value)

    @model_validator(mode="after")
    def _output_prefix_leaves_room(self) -> "ExcelCleanerSettings":
        """Output keys start with CLEAN_PREFIX + UPLOAD_PREFIX, kept whole in every key."""
        try:
            check_prefix(self.clean_prefix + self.upload_prefix)
        except ValueError as error:
            raise ValueError(f"CLEAN_PREFIX + UPLOAD_PREFIX {error}") from None
        return self

    @model_validator(mode="after")
    def _prefixes_do_not_overlap(self) -> "ExcelCleanerSettings":
        """In one bucket, CSVs (under CLEAN_PREFIX + UPLOAD_PREFIX, as the keys they come from)
        and quarantined files must not share a prefix."""
        if self.quarantine_bucket not in (None, self.clean_bucket):
            return self
        clean, quarantine = self.clean_prefix + self.upload_prefix, self.quarantine_prefix
        if clean.startswith(quarantine) or quarantine.startswith(clean):
            raise ValueError(
                f"clean output prefix {clean!r} (CLEAN_PREFIX + UPLOAD_PREFIX) and "
                f"QUARANTINE_PREFIX {quarantine!r} overlap in the clean bucket; neither may "
                "start with the other"
            )
        return self

    def limits(self) -> Limits:
        return Limits(
            max_object_bytes=self.max_object_bytes,
            max_uncompressed_bytes=self.max_uncompressed_bytes,
            max_decompression_ratio=self.max_decompression_ratio,
            max_rows=self.max_rows,
            max_cells=self.max_cells,
        )

    def cleaner_config(self) -> CleanerConfig:
        return CleanerConfig(
            clean_bucket=self.clean_bucket,
            clean_prefix=self.clean_prefix,
            quarantine_prefix=self.quarantine_prefix,
            limits=self.limits(),
            specs=tuple(self.cleaning_specs),
            quarantine_bucket=self.quarantine_bucket,
            upload_prefix=self.upload_prefix,
        )


@cache
def get_settings() -> ExcelCleanerSettings:
    return load_settings(ExcelCleanerSettings)
