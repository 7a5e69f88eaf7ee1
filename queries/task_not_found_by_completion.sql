-- "Task not found" failures (see task_not_found.sql) per RunTaskCommand session, for users
-- who use shell tab completion (any GeneratedShellTabCompletion* event) and those who do not.
WITH completion_users AS (
  SELECT DISTINCT s.user_id
  FROM events e
  JOIN sessions s ON s.session_id = e.session_id AND s.date = e.date
  WHERE e.type IN ('GeneratedShellTabCompletionScript', 'GeneratedShellTabCompletionTaskInformation')
),
runs AS (
  SELECT
    s.session_id,
    s.user_id,
    CASE WHEN c.user_id IS NULL THEN 'without tab completion' ELSE 'with tab completion' END AS users
  FROM sessions s
  LEFT JOIN completion_users c ON c.user_id = s.user_id
  WHERE s.attributes.commandType = 'RunTaskCommand'
)
SELECT
  r.users,
  count(*) AS runs,
  count(t.session_id) AS task_not_found,
  CAST(count(t.session_id) AS DOUBLE) / count(*) AS task_not_found_share,
  count(DISTINCT r.user_id) AS installations
FROM runs r
LEFT JOIN task_not_found t ON t.session_id = r.session_id
GROUP BY 1
ORDER BY 1 DESC
