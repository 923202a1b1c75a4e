-- Failing stages and actions over the last 90 days (change the window below), most failures
-- first: how often each failed and succeeded, in how many executions it failed, and its last
-- failure (time, summary, error code). Stage rows have no action, category or provider.
-- Rows are read once per event_id: a redelivered event may be stored twice.
WITH deduplicated AS (
    SELECT
        *,
        ROW_NUMBER() OVER (PARTITION BY event_id ORDER BY event_time) AS copy_number
    FROM pipeline_metrics
    WHERE dt >= CAST(CAST(current_date - INTERVAL '90' DAY AS date) AS varchar)
),
outcomes AS (
    SELECT
        pipeline,
        level,
        stage,
        action,
        category,
        provider,
        execution_id,
        state,
        failure_summary,
        error_code,
        from_iso8601_timestamp(event_time) AS event_at
    FROM deduplicated
    WHERE copy_number = 1
        AND level IN ('stage', 'action')
        AND state IN ('SUCCEEDED', 'FAILED')
)
SELECT
    pipeline,
    level,
    stage,
    action,
    category,
    provider,
    COUNT(*) FILTER (WHERE state = 'FAILED') AS failures,
    COUNT(*) FILTER (WHERE state = 'SUCCEEDED') AS successes,
    CAST(COUNT(*) FILTER (WHERE state = 'FAILED') AS double) / COUNT(*) AS failure_rate,
    COUNT(DISTINCT CASE WHEN state = 'FAILED' THEN execution_id END) AS failed_executions,
    -- Without the zone (event times are EventBridge's, in UTC): QuickSight reads no
    -- timestamp with time zone.
    CAST(MAX(event_at) FILTER (WHERE state = 'FAILED') AS timestamp) AS last_failed_at,
    MAX_BY(failure_summary, event_at) FILTER (WHERE state = 'FAILED') AS last_failure_summary,
    MAX_BY(error_code, event_at) FILTER (WHERE state = 'FAILED') AS last_error_code
FROM outcomes
GROUP BY pipeline, level, stage, action, category, provider
HAVING COUNT(*) FILTER (WHERE state = 'FAILED') > 0
ORDER BY failures DESC, pipeline, stage, level, action
