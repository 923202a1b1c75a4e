-- Duration of each finished pipeline execution started in the last 90 days (change the window
-- below): from its first STARTED event to its final state, the latest of SUCCEEDED, FAILED,
-- CANCELED, SUPERSEDED or STOPPED (a failed execution retried to success ends at the success).
-- Executions still running, or whose STARTED event is older than the window, are left out.
-- Rows are read once per event_id: a redelivered event may be stored twice.
WITH deduplicated AS (
    SELECT
        *,
        ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY event_time) AS copy_number
    FROM pipeline_metrics
    WHERE dt >= CAST(CAST(current_date - INTERVAL '90' DAY AS date) AS varchar)
),
pipeline_events AS (
    SELECT
        pipeline,
        execution_id,
        state,
        event_id,
        dt,
        from_iso8601_timestamp(event_time) AS event_at
    FROM deduplicated
    WHERE copy_number = 1 AND level = 'pipeline'
),
starts AS (
    SELECT
        pipeline,
        execution_id,
        MIN(event_at) AS started_at,
        MIN(dt) AS started_dt
    FROM pipeline_events
    WHERE state = 'STARTED'
    GROUP BY pipeline, execution_id
),
finals AS (
    SELECT
        pipeline,
        execution_id,
        state AS final_state,
        event_at AS finished_at,
        ROW_NUMBER() OVER (
            PARTITION BY pipeline, execution_id
            ORDER BY event_at DESC, event_id DESC
        ) AS recency
    FROM pipeline_events
    WHERE state IN ('SUCCEEDED', 'FAILED', 'CANCELED', 'SUPERSEDED', 'STOPPED')
)
SELECT
    CAST(starts.started_dt AS date) AS day,
    starts.pipeline,
    starts.execution_id,
    -- Without the zone (event times are EventBridge's, in UTC): QuickSight reads no
    -- timestamp with time zone.
    CAST(starts.started_at AS timestamp) AS started_at,
    CAST(finals.finished_at AS timestamp) AS finished_at,
    finals.final_state,
    date_diff('second', starts.started_at, finals.finished_at) AS duration_seconds
FROM starts
JOIN finals
    ON finals.pipeline = starts.pipeline
    AND finals.execution_id = starts.execution_id
    AND finals.recency = 1
ORDER BY starts.started_at, starts.pipeline, starts.execution_id
