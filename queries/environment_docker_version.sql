-- Sessions by Docker version; the 12 most common.
SELECT coalesce(attributes.dockerVersion, '(none)') AS docker_version, count(*) AS sessions, count(DISTINCT user_id) AS installations
FROM sessions
GROUP BY 1
ORDER BY sessions DESC, docker_version
LIMIT 12
