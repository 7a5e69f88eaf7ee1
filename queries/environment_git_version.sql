-- Sessions by Git version; the 12 most common.
SELECT coalesce(attributes.gitVersion, '(none)') AS git_version, count(*) AS sessions, count(DISTINCT user_id) AS installations
FROM sessions
GROUP BY 1
ORDER BY sessions DESC, git_version
LIMIT 12
