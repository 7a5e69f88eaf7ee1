-- Sessions by the UTC day the server stored them (ingestionTime). Objects as the client
-- uploads them carry no ingestionTime and are not counted here.
SELECT CAST(ingestion_time AS DATE) AS day, count(*) AS sessions
FROM sessions
WHERE ingestion_time IS NOT NULL
GROUP BY 1
ORDER BY 1
