-- LoadConfiguration span durations: how many fall in each duration bucket, per week.
SELECT
  CAST(date_trunc('week', date) AS DATE) AS week,
  CASE
    WHEN duration_ms < 100 THEN '< 100 ms'
    WHEN duration_ms < 200 THEN '100–200 ms'
    WHEN duration_ms < 400 THEN '200–400 ms'
    WHEN duration_ms < 800 THEN '400–800 ms'
    ELSE '≥ 800 ms'
  END AS duration,
  count(*) AS spans
FROM spans
WHERE type = 'LoadConfiguration'
GROUP BY 1, 2
ORDER BY 1, 2
