SELECT CAST(dt AS date) AS day, severity, count(*) AS events
FROM monitoring_events
WHERE dt >= CAST(current_date - INTERVAL '30' DAY AS varchar)
GROUP BY dt, severity
ORDER BY day, severity
