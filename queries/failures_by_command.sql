-- Failed runs by command type: how many, and their share of that command's sessions.
SELECT
  attributes.commandType AS command,
  count(*) AS sessions,
  sum(CASE WHEN attributes.exitCode <> 0 THEN 1 ELSE 0 END) AS failed,
  round(avg(CASE WHEN attributes.exitCode <> 0 THEN 1.0 ELSE 0.0 END), 4) AS failed_share,
  count(DISTINCT user_id) AS installations
FROM sessions
GROUP BY 1
ORDER BY sessions DESC, command
