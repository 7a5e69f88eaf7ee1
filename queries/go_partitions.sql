-- telemetry.go.dev partition semantics: per configured bucket, the number of distinct reports
-- (by X) whose program sent that counter, whatever its value; buckets no report has are 0.
WITH counted AS (
  SELECT program, chart, coalesce(bucket, chart) AS bucket, count(DISTINCT x) AS reports
  FROM counters
  GROUP BY 1, 2, 3
)
SELECT c.program, c.chart, c.bucket, c.position, coalesce(n.reports, 0) AS reports,
       coalesce(n.reports, 0) AS installations
FROM go_counter_config c
LEFT JOIN counted n ON n.program = c.program AND n.chart = c.chart AND n.bucket = c.bucket
