-- Sessions by operating system.
SELECT coalesce(attributes.osName, '(unknown)') AS os, count(*) AS sessions, count(DISTINCT user_id) AS installations
FROM sessions
GROUP BY 1
ORDER BY sessions DESC, os
