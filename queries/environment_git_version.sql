-- Sessions by Git version; the 12 most common.
SELECT coalesce(attributes.gitVersion, '(none)') AS git_version, count(*) AS sessions
FROM sessions
GROUP BY 1
ORDER BY sessions DESC, git_version
LIMIT 12
