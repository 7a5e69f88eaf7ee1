-- The ten most used shells (basename of $SHELL; none on Windows).
SELECT coalesce(attributes.shell, '(none)') AS shell, count(*) AS sessions, count(DISTINCT user_id) AS installations
FROM sessions
GROUP BY 1
ORDER BY sessions DESC, shell
LIMIT 10
