-- Sessions by operating system.
SELECT coalesce(attributes.osName, '(unknown)') AS os, count(*) AS sessions
FROM sessions
GROUP BY 1
ORDER BY sessions DESC, os
