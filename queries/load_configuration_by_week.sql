-- LoadConfiguration span durations: how many fall in each duration bucket, per week.
SELECT
  CAST(date_trunc('week', p.date) AS DATE) AS week,
  CASE
    WHEN p.duration_ms < 100 THEN '< 100 ms'
    WHEN p.duration_ms < 200 THEN '100–200 ms'
    WHEN p.duration_ms < 400 THEN '200–400 ms'
    WHEN p.duration_ms < 800 THEN '400–800 ms'
    ELSE '≥ 800 ms'
  END AS duration,
  count(*) AS spans,
  count(DISTINCT s.user_id) AS installations
FROM spans p
JOIN sessions s ON s.session_id = p.session_id AND s.date = p.date
WHERE p.type = 'LoadConfiguration'
GROUP BY 1, 2
ORDER BY 1, 2
