SELECT service, resource, count(*) AS failures,
       max(event_time) AS last_failure,
       max_by(error_message, event_time) AS last_error
FROM monitoring_events
WHERE severity = 'error'
  AND dt >= CAST(current_date - INTERVAL '7' DAY AS varchar)
GROUP BY service, resource
ORDER BY failures DESC, service, resource
