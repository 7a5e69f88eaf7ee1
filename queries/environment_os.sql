-- Sessions by Operating system; the 12 most common.
SELECT coalesce(attributes.osName, '(none)') AS os, count(*) AS sessions, count(DISTINCT user_id) AS installations
FROM sessions
GROUP BY 1
ORDER BY sessions DESC, os
LIMIT 12
