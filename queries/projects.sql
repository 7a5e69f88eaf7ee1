-- One row per project, as its newest LoadConfiguration span describes it. Batect sends no
-- project id, so an installation (user id) stands for the project it runs most recently.
WITH latest AS (
  SELECT
    s.user_id,
    p.attributes.taskCount AS tasks,
    p.attributes.containerCount AS containers,
    p.attributes.configVariableCount AS config_variables,
    p.attributes.fileIncludeCount AS file_includes,
    p.attributes.gitIncludeCount AS git_includes,
    row_number() OVER (PARTITION BY s.user_id ORDER BY p.start_time DESC, p.session_id) AS newest
  FROM spans p
  JOIN sessions s ON s.session_id = p.session_id AND s.date = p.date
  WHERE p.type = 'LoadConfiguration'
)
SELECT tasks, containers, config_variables, file_includes, git_includes, user_id AS installation
FROM latest
WHERE newest = 1
ORDER BY tasks, containers, config_variables, file_includes, git_includes, installation
