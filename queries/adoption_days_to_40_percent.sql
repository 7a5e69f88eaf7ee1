-- For each release: the first day it was seen, the first day it had at least 40 % of the
-- sessions of the trailing 7 days, and the days between (null: not reached in the data, or
-- released before the data begins).
WITH daily AS (
  SELECT date, application_version AS version, count(*) AS n
  FROM sessions
  GROUP BY 1, 2
),
days AS (SELECT DISTINCT date FROM daily),
trailing AS (
  SELECT d.date, x.version, sum(x.n) AS n
  FROM days d
  JOIN daily x ON x.date > d.date - INTERVAL '7 days' AND x.date <= d.date
  GROUP BY 1, 2
),
shares AS (
  SELECT t.date, t.version, CAST(t.n AS DOUBLE) / sum(t.n) OVER (PARTITION BY t.date) AS share
  FROM trailing t
),
first_seen AS (SELECT version, min(date) AS first_day FROM daily GROUP BY 1),
installs AS (
  SELECT application_version AS version, count(DISTINCT user_id) AS installations
  FROM sessions
  GROUP BY 1
),
reached AS (SELECT version, min(date) AS day_40 FROM shares WHERE share >= 0.4 GROUP BY 1)
SELECT
  f.version,
  f.first_day,
  r.day_40,
  CASE WHEN f.first_day > (SELECT min(date) FROM sessions)
    THEN CAST(CAST(r.day_40 AS BIGINT) - CAST(f.first_day AS BIGINT) AS DOUBLE)
  END AS days_to_40,
  i.installations
FROM first_seen f
LEFT JOIN reached r ON r.version = f.version
JOIN installs i ON i.version = f.version
ORDER BY f.first_day, f.version
