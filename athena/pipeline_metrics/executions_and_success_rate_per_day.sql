-- Executions and success rate per pipeline per day (last 90 days; change the window below).
-- An execution counts once, on the day of its final state: the latest of SUCCEEDED, FAILED,
-- CANCELED, SUPERSEDED or STOPPED (a failed execution retried to success counts as succeeded).
-- success_rate = succeeded / (succeeded + failed): canceled, superseded and stopped executions
-- reached no verdict. Rows are read once per event_id: a redelivered event may be stored twice.
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
        execution_id,
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
)
SELECT
    CAST(dt AS date) AS day,
    pipeline,
    COUNT(*) AS executions,
    COUNT(*) FILTER (WHERE state = 'SUCCEEDED') AS succeeded,
    COUNT(*) FILTER (WHERE state = 'FAILED') AS failed,
    COUNT(*) FILTER (WHERE state IN ('CANCELED', 'SUPERSEDED', 'STOPPED')) AS without_verdict,
    CAST(COUNT(*) FILTER (WHERE state = 'SUCCEEDED') AS double)
        / NULLIF(COUNT(*) FILTER (WHERE state IN ('SUCCEEDED', 'FAILED')), 0) AS success_rate
FROM final_states
WHERE recency = 1
GROUP BY CAST(dt AS date), pipeline
ORDER BY day, pipeline
