SELECT service, count(*) AS failures
FROM monitoring_events
WHERE severity = 'error'
  AND dt >= CAST(current_date - INTERVAL '7' DAY AS varchar)
GROUP BY service
ORDER BY failures DESC, service
