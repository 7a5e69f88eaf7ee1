-- The latest snapshot of every PACE install (its counts are cumulative: the newest holds them
-- all). Every PACE query starts here or from deltas between snapshots, never from a sum of uploads.
SELECT id, cli_version, operating_system, command, exit_code, cumulative_count, written_at
FROM (
  SELECT *, rank() OVER (PARTITION BY id ORDER BY total_count DESC, written_at DESC) AS r
  FROM pace_snapshots
) AS ranked
WHERE r = 1
