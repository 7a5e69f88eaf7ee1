-- Sessions per day and Batect version.
SELECT date, application_version AS version, count(*) AS sessions, count(DISTINCT user_id) AS installations
FROM sessions
GROUP BY date, application_version
ORDER BY date, version
