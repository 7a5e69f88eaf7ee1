-- Sessions by Terminal ($TERM); the 12 most common.
SELECT coalesce(attributes.terminal, '(none)') AS terminal, count(*) AS sessions, count(DISTINCT user_id) AS installations
FROM sessions
GROUP BY 1
ORDER BY sessions DESC, terminal
LIMIT 12
