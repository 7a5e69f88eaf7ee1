-- Hours between a session's end and its ingestion: seconds on CI, days for laptops that
-- upload the queued session on their next run. Negative when the client's clock was ahead
-- of the server's (by minutes, usually); the chart counts those apart from its log bins.
SELECT (CAST(ingestion_time AS BIGINT) - CAST(end_time AS BIGINT)) / 3.6e12 AS delay_hours,
       user_id AS installation
FROM sessions
WHERE ingestion_time IS NOT NULL
ORDER BY delay_hours, installation
