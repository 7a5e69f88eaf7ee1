-- Wrapped make targets (services folded: dev.up.lms+redis → dev.up.*), not test runs:
-- runs, the share that failed (make exit status ≠ 0) and the share stopped by a signal (Ctrl-C).
WITH runs AS (
  SELECT regexp_replace(command,
           '^(dev\.(up\.attach|up\.without-deps|pull\.without-deps|up|pull|provision))\..+$',
           '${1}.*') AS target,
         exit_status, signal, user
  FROM devstack_runs
  WHERE exit_status IS NOT NULL AND is_test = 'no'
)
SELECT target,
       count(*) AS runs,
       avg(CASE WHEN exit_status <> 0 AND signal IS NULL THEN 1.0 ELSE 0.0 END) AS failed_share,
       avg(CASE WHEN signal IS NOT NULL THEN 1.0 ELSE 0.0 END) AS interrupted_share,
       count(DISTINCT user) AS installations
FROM runs
GROUP BY 1
ORDER BY runs DESC, target
