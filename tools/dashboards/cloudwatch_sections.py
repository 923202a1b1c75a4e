"""The operations dashboard's sections: one per capability, and the resources each one shows.

A resource belongs to the section one of whose prefixes starts its logical id (the template
names its resources after their capability); ``tools.dashboards.cloudwatch`` raises when a
function, queue, alarm, state machine, Glue job or event source mapping fits no section or two.
``charts`` are the functions' own EMF metrics worth a graph, by the names their code emits
(the generator refuses a name the function's code does not spell).
"""

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class EmfChart:
    """Metrics a function emits with Powertools (dimensions: service, stage)."""

    title: str
    function: str  # logical id of the emitting function: its namespace and service name
    metrics: tuple[str, ...]
    per: str | None = None  # a dimension the code adds per value: charted across its values


@dataclass(frozen=True)
class Section:
    title: str
    summary: str
    prefixes: tuple[str, ...]  # the logical ids of its resources start with one of these
    charts: tuple[EmfChart, ...] = ()


SECTIONS: Final = (
    Section(
        "File tracking",
        "S3 → EventBridge → SQS → file_tracker → DynamoDB",
        ("FileTracker", "StagingEvents"),
        (
            EmfChart(
                "Files tracked",
                "FileTrackerFunction",
                ("FilesTracked", "DuplicatesSkipped", "UnmatchedKeys", "RecordsFailed"),
            ),
        ),
    ),
    Section(
        "Config loader",
        "Config files uploaded to S3 → config_loader → tables, schedules, mappings",
        ("ConfigLoader",),
        (EmfChart("Config files", "ConfigLoaderFunction", ("ConfigApplied", "ConfigRejected")),),
    ),
    Section(
        "Batch dispatch and Glue merge",
        "Cadence schedules → Step Functions → batch_planner → Glue cdc-merge runs",
        ("BatchPlanner", "BatchDispatch", "CadenceSchedule", "CdcMerge"),
        (
            EmfChart(
                "Tables and batches planned",
                "BatchPlannerFunction",
                ("TablesPlanned", "BatchesPlanned"),
                per="cadence",
            ),
        ),
    ),
    Section(
        "CDC to Iceberg",
        "DynamoDB Streams → iceberg_cdc → Athena MERGE into Iceberg",
        ("IcebergCdc", "CdcFailures", "CdcIterator"),
        (
            EmfChart(
                "Records and statements",
                "IcebergCdcFunction",
                ("RecordsApplied", "StatementsRun", "RecordsFailed", "RecordsUnrouted"),
            ),
            EmfChart(
                "Retried conflicts and throttles",
                "IcebergCdcFunction",
                ("CommitConflictsRetried", "ThrottlesRetried"),
            ),
        ),
    ),
    Section(
        "Table maintenance",
        "Schedules → Step Functions → Athena OPTIMIZE and VACUUM per Iceberg table",
        ("IcebergMaintenance",),
        (
            EmfChart(
                "Tables due for maintenance",
                "BatchPlannerFunction",
                ("TablesDueForMaintenance", "TablesRefusedForMaintenance"),
            ),
        ),
    ),
    Section(
        "Excel cleaning and SPICE",
        "Workbook uploads → excel_cleaner → clean CSVs → SPICE ingestion",
        ("ExcelCleaner", "SpiceTarget", "SpiceIngestion"),
        (
            EmfChart(
                "Workbooks",
                "ExcelCleanerFunction",
                ("WorkbooksCleaned", "WorkbooksFailed", "DuplicatesSkipped"),
            ),
            EmfChart(
                "Sheets and rows written", "ExcelCleanerFunction", ("SheetsWritten", "RowsWritten")
            ),
        ),
    ),
    Section(
        "Pipeline metrics",
        "CodePipeline events → SQS → pipeline_metrics → CSV rows in S3",
        ("PipelineMetrics",),
        (
            EmfChart(
                "Rows and objects written",
                "PipelineMetricsFunction",
                ("RowsWritten", "ObjectsWritten", "DuplicateEventsSkipped", "RecordsFailed"),
            ),
        ),
    ),
    Section(
        "Monitoring and Slack alerts",
        "Glue, Step Functions, alarms, failed invocations → pipeline_monitor → S3 and Slack",
        ("PipelineMonitor", "MonitorEvents", "FailedInvocations"),
        (
            EmfChart(
                "Events recorded and posts to Slack",
                "PipelineMonitorFunction",
                ("EventsRecorded", "AlertsPosted", "AlertsSuppressed", "SlackPostFailed"),
            ),
        ),
    ),
    Section(
        "Redshift audit",
        "Redshift user-activity logs → redshift_audit → S3 and Slack",
        ("RedshiftAudit",),
        (
            EmfChart(
                "Sensitive statements and posts to Slack",
                "RedshiftAuditFunction",
                ("SensitiveStatements", "AlertsPosted", "SlackPostDeferred", "SlackPostFailed"),
            ),
        ),
    ),
    Section(
        "Scheduled object rewrites",
        "Dataset uploads → object_task_scheduler → due tasks → object_rewriter",
        ("ObjectTask", "ObjectUploads", "ObjectRewriter"),
        (
            EmfChart(
                "Tasks scheduled",
                "ObjectTaskSchedulerFunction",
                ("TasksScheduled", "TasksSentNow", "RecordsFailed"),
            ),
            EmfChart(
                "Tasks run",
                "ObjectRewriterFunction",
                ("TasksApplied", "TasksFailed", "TasksAbandoned"),
            ),
        ),
    ),
    Section(
        "Catalog type fixer",
        "Glue catalog table changes → SQS → catalog_type_fixer",
        ("CatalogTypeFixer", "CatalogChanges"),
        (
            EmfChart(
                "Tables fixed",
                "CatalogTypeFixerFunction",
                ("TablesFixed", "ColumnsFixed", "TablesRefused", "RecordsFailed"),
            ),
        ),
    ),
)
