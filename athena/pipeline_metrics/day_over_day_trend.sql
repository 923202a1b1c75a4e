-- Day-over-day trend per pipeline (last 90 days; change the window below): each day's
-- finished executions, succeeded and failed, next to the previous calendar day's and the
-- change. A day with no finished execution after a day with some shows as zeros, so a drop to
-- nothing is visible. Executions count on the day of their final state, as in
-- executions_and_success_rate_per_day. Rows are read once per event_id.
WITH deduplicated AS (
    SELECT
        *,
        ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY event_time) AS copy_number
    FROM pipeline_metrics
    WHERE dt >= CAST(CAST(current_date - INTERVAL '90' DAY AS date) AS varchar)
),
final_states AS (
    SELECT
        pipeline,
        state,
        dt,
        ROW_NUMBER() OVER (
            PARTITION BY pipeline, execution_id
            ORDER BY from_iso8601_timestamp(event_time) DESC, event_id DESC
        ) AS recency
    FROM deduplicated
    WHERE copy_number = 1
        AND level = 'pipeline'
        AND state IN ('SUCCEEDED', 'FAILED', 'CANCELED', 'SUPERSEDED', 'STOPPED')
),
daily AS (
    SELECT
        CAST(dt AS date) AS day,
        pipeline,
        COUNT(*) AS executions,
        COUNT(*) FILTER (WHERE state = 'SUCCEEDED') AS succeeded,
        COUNT(*) FILTER (WHERE state = 'FAILED') AS failed
    FROM final_states
    WHERE recency = 1
    GROUP BY CAST(dt AS date), pipeline
),
days AS (
    SELECT pipeline, day FROM daily
    UNION
    SELECT pipeline, CAST(day + INTERVAL '1' DAY AS date) AS day
    FROM daily
    WHERE day < current_date
)
SELECT
    days.day,
    days.pipeline,
    COALESCE(today.executions, 0) AS executions,
    COALESCE(today.succeeded, 0) AS succeeded,
    COALESCE(today.failed, 0) AS failed,
    COALESCE(yesterday.executions, 0) AS previous_executions,
    COALESCE(yesterday.succeeded, 0) AS previous_succeeded,
    COALESCE(yesterday.failed, 0) AS previous_failed,
    COALESCE(today.succeeded, 0) - COALESCE(yesterday.succeeded, 0) AS succeeded_change,
    COALESCE(today.failed, 0) - COALESCE(yesterday.failed, 0) AS failed_change
FROM days
LEFT JOIN daily AS today
    ON today.pipeline = days.pipeline AND today.day = days.day
LEFT JOIN daily AS yesterday
    ON yesterday.pipeline = days.pipeline
    AND yesterday.day = CAST(days.day - INTERVAL '1' DAY AS date)
ORDER BY days.day, days.pipeline
