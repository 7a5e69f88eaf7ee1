-- Sessions in the data's last 7 days and in the 7 days before (relative to the newest
-- session, not to the clock, so the page is the same on every build).
WITH last AS (SELECT max(date) AS d FROM sessions)
SELECT
  sum(CASE WHEN s.date > l.d - INTERVAL '7 days' THEN 1 ELSE 0 END) AS sessions,
  sum(CASE WHEN s.date <= l.d - INTERVAL '7 days' AND s.date > l.d - INTERVAL '14 days' THEN 1 ELSE 0 END) AS previous
FROM sessions s CROSS JOIN last l
