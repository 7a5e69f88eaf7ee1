-- Durations of successful runs per target (exact percentiles, so every build gives the same
-- figures). Events from before 2021-06-21 carry no usable duration and are left out.
SELECT regexp_replace(command,
         '^(dev\.(up\.attach|up\.without-deps|pull\.without-deps|up|pull|provision))\..+$',
         '${1}.*') AS target,
       percentile_cont(0.05) WITHIN GROUP (ORDER BY duration_ms) AS p5,
       percentile_cont(0.25) WITHIN GROUP (ORDER BY duration_ms) AS p25,
       percentile_cont(0.50) WITHIN GROUP (ORDER BY duration_ms) AS p50,
       percentile_cont(0.75) WITHIN GROUP (ORDER BY duration_ms) AS p75,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY duration_ms) AS p95,
       count(*) AS runs,
       count(DISTINCT user) AS installations
FROM devstack_runs
WHERE exit_status = 0 AND duration_ms IS NOT NULL AND is_test = 'no'
GROUP BY 1
ORDER BY p50 DESC, target
