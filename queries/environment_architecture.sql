-- Sessions by CPU architecture; the 12 most common.
SELECT coalesce(attributes.osArchitecture, '(none)') AS architecture, count(*) AS sessions, count(DISTINCT user_id) AS installations
FROM sessions
GROUP BY 1
ORDER BY sessions DESC, architecture
LIMIT 12
