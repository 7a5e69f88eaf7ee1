-- Share of failed runs (non-zero exitCode) per command type, most used commands first.
SELECT
  attributes.commandType AS command,
  avg(CASE WHEN attributes.exitCode <> 0 THEN 1.0 ELSE 0.0 END) AS failed_share,
  count(*) AS sessions,
  count(DISTINCT user_id) AS installations
FROM sessions
GROUP BY 1
ORDER BY sessions DESC, command
