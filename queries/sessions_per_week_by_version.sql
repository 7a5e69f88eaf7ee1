-- Sessions per week (starting Monday, UTC) and Batect version. Weeks rather than days: a day
-- has too few installations per version to publish (see the README's "Privacy").
SELECT CAST(date_trunc('week', date) AS DATE) AS week, application_version AS version,
       count(*) AS sessions, count(DISTINCT user_id) AS installations
FROM sessions
GROUP BY 1, 2
ORDER BY week, version
