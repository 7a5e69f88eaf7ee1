-- Active installs per week: an upload happens only at the start of a command, so an install
-- that uploaded in a week was used that week. Commands per week come from the deltas between
-- an install's consecutive snapshots (its total only grows), never from a sum of uploads.
WITH snaps AS (
  SELECT DISTINCT id, total_count, written_at FROM pace_snapshots
),
deltas AS (
  SELECT id, written_at,
         total_count - coalesce(lag(total_count) OVER (PARTITION BY id ORDER BY total_count), 0)
           AS commands
  FROM snaps
)
SELECT CAST(date_trunc('week', written_at) AS DATE) AS week,
       count(DISTINCT id) AS active_installs,
       sum(commands) AS commands,
       count(DISTINCT id) AS installations
FROM deltas
GROUP BY 1
ORDER BY 1
