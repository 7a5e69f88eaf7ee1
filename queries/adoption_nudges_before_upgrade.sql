-- How many update nudges (UpdateAvailableNotificationShown events) a user saw before each
-- upgrade: the nudges in the sessions between one version change and the next. One row per
-- upgrade; user ids stay inside the query.
WITH per_session AS (
  SELECT s.user_id, s.start_time, s.application_version AS version, count(e.session_id) AS nudges
  FROM sessions s
  LEFT JOIN events e
    ON e.session_id = s.session_id AND e.date = s.date AND e.type = 'UpdateAvailableNotificationShown'
  GROUP BY 1, 2, 3
),
ordered AS (
  SELECT *, lag(version) OVER (PARTITION BY user_id ORDER BY start_time, version) AS previous
  FROM per_session
),
stints AS (
  SELECT *,
    sum(CASE WHEN previous IS NOT NULL AND previous <> version THEN 1 ELSE 0 END)
      OVER (PARTITION BY user_id ORDER BY start_time, version ROWS UNBOUNDED PRECEDING) AS stint
  FROM ordered
),
per_stint AS (
  SELECT user_id, stint, sum(nudges) AS nudges FROM stints GROUP BY 1, 2
),
last_stint AS (SELECT user_id, max(stint) AS last FROM per_stint GROUP BY 1)
-- A stint that is not the user's last ended with an upgrade.
SELECT p.nudges, p.user_id AS installation
FROM per_stint p
JOIN last_stint l ON l.user_id = p.user_id
WHERE p.stint < l.last
ORDER BY p.nudges, installation
