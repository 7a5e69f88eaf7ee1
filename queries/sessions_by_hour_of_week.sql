-- Sessions by UTC hour of the day and day of the week.
SELECT
  CAST(date_part('hour', start_time) AS BIGINT) AS hour,
  CASE CAST(date_part('dow', start_time) AS BIGINT)
    WHEN 1 THEN 'Mon' WHEN 2 THEN 'Tue' WHEN 3 THEN 'Wed' WHEN 4 THEN 'Thu'
    WHEN 5 THEN 'Fri' WHEN 6 THEN 'Sat' ELSE 'Sun'
  END AS weekday,
  count(*) AS sessions, count(DISTINCT user_id) AS installations
FROM sessions
GROUP BY 1, 2
ORDER BY 1, 2
