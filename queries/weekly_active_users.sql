-- Distinct installations (user ids) per week, counted, never listed.
SELECT CAST(date_trunc('week', date) AS DATE) AS week, count(DISTINCT user_id) AS users,
  count(DISTINCT user_id) AS installations
FROM sessions
GROUP BY 1
ORDER BY 1
