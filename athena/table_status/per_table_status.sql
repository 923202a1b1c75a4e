-- Per-table status of the batch merge over the last 30 days (change the window below), failing
-- tables first: each table's last run (when, Glue job run id, dispatch run, outcome, files), its
-- last success, its last failure with the error, and how many runs failed. One row per table that
-- ran: a table that never ran, and the files still pending, are in the file tracker only
-- (make table-status STACK=<stack> shows both).
SELECT
    source_table,
    max(finished_at) AS last_run_at,
    max_by(job_run_id, finished_at) AS last_job_run_id,
    max_by(run_id, finished_at) AS last_run_id,
    max_by(status, finished_at) AS last_outcome,
    max_by(files, finished_at) AS last_files,
    max(CASE WHEN status = 'succeeded' THEN finished_at END) AS last_succeeded_at,
    max(CASE WHEN status = 'failed' THEN finished_at END) AS last_failed_at,
    max_by(error, CASE WHEN status = 'failed' THEN finished_at END) AS last_error,
    count(*) AS runs,
    count_if(status = 'failed') AS failed_runs
FROM table_runs
WHERE dt >= CAST(current_date - INTERVAL '30' DAY AS varchar)
GROUP BY source_table
ORDER BY max_by(status, finished_at) = 'failed' DESC, source_table
