-- Sessions per week on CI and interactive.
SELECT
  CAST(date_trunc('week', date) AS DATE) AS week,
  CASE WHEN attributes.suspectRunningOnCI THEN 'CI' ELSE 'interactive' END AS kind,
  count(*) AS sessions, count(DISTINCT user_id) AS installations
FROM sessions
GROUP BY 1, 2
ORDER BY 1, 2
