SELECT "user", category, statement_type, count(*) AS statements,
       max(query_time) AS last_seen
FROM redshift_audit
WHERE dt >= CAST(current_date - INTERVAL '7' DAY AS varchar)
GROUP BY "user", category, statement_type
ORDER BY statements DESC, "user"
