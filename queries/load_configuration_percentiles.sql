-- LoadConfiguration duration percentiles per Batect version (exact, not approximate, so
-- every build gives the same figures).
SELECT
  p.application_version AS version,
  percentile_cont(0.05) WITHIN GROUP (ORDER BY p.duration_ms) AS p5,
  percentile_cont(0.25) WITHIN GROUP (ORDER BY p.duration_ms) AS p25,
  percentile_cont(0.50) WITHIN GROUP (ORDER BY p.duration_ms) AS p50,
  percentile_cont(0.75) WITHIN GROUP (ORDER BY p.duration_ms) AS p75,
  percentile_cont(0.95) WITHIN GROUP (ORDER BY p.duration_ms) AS p95,
  count(*) AS spans,
  count(DISTINCT s.user_id) AS installations
FROM spans p
JOIN sessions s ON s.session_id = p.session_id AND s.date = p.date
WHERE p.type = 'LoadConfiguration'
GROUP BY 1
ORDER BY 1
