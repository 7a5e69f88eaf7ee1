-- Share of wrapped runs per week that a signal ended (exit_status < 0 from Python's
-- subprocess, or 128 + signal from the shell); almost all are Ctrl-C (SIGINT).
SELECT CAST(date_trunc('week', start_time) AS DATE) AS week,
       avg(CASE WHEN signal IS NOT NULL THEN 1.0 ELSE 0.0 END) AS interrupted_share,
       avg(CASE WHEN signal = 2 THEN 1.0 ELSE 0.0 END) AS ctrl_c_share,
       count(*) AS runs,
       count(DISTINCT user) AS installations
FROM devstack_runs
WHERE exit_status IS NOT NULL AND is_test = 'no'
GROUP BY 1
ORDER BY 1
