-- Share of all sessions that were a "task not found" failure (see task_not_found.sql).
SELECT
  CAST((SELECT count(*) FROM task_not_found) AS DOUBLE) / count(*) AS share,
  (SELECT count(*) FROM task_not_found) AS sessions
FROM sessions
