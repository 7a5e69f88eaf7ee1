-- Sessions by CI system (CI sessions only); the 12 most common.
SELECT coalesce(attributes.suspectedCISystem, '(none)') AS ci_system, count(*) AS sessions, count(DISTINCT user_id) AS installations
FROM sessions
WHERE attributes.suspectRunningOnCI
GROUP BY 1
ORDER BY sessions DESC, ci_system
LIMIT 12
