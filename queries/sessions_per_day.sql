-- Sessions per day (UTC day of the session's start).
SELECT date, count(*) AS sessions
FROM sessions
GROUP BY date
ORDER BY date
