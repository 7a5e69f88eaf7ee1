-- Share of sessions per day that ended with a non-zero exit code.
SELECT
  date,
  avg(CASE WHEN attributes.exitCode <> 0 THEN 1.0 ELSE 0.0 END) AS failed_share,
  count(*) AS sessions,
  count(DISTINCT user_id) AS installations
FROM sessions
GROUP BY date
ORDER BY date
