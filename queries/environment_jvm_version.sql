-- Sessions by JVM version; the 12 most common.
SELECT coalesce(attributes.jvmVersion, '(none)') AS jvm_version, count(*) AS sessions, count(DISTINCT user_id) AS installations
FROM sessions
GROUP BY 1
ORDER BY sessions DESC, jvm_version
LIMIT 12
