-- "Task not found"-style failures. Batect records no failure reason, so we define them from
-- what it does record: a RunTaskCommand session that exited non-zero before any RunTask span
-- started (the task named on the command line never ran).
SELECT s.session_id, s.user_id, s.date
FROM sessions s
WHERE s.attributes.commandType = 'RunTaskCommand'
  AND s.attributes.exitCode <> 0
  AND NOT EXISTS (
    SELECT 1 FROM spans p
    WHERE p.session_id = s.session_id AND p.date = s.date AND p.type = 'RunTask'
  )
