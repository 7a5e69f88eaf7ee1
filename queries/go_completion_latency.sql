-- gopls completion latency, Go's `gopls/completion/latency:<50ms` buckets read as the histogram
-- they are: bucket `<B` holds completions faster than B and not faster than the bucket before.
-- Here the counts are summed (completions), not reports.
SELECT c.bucket, coalesce(sum(n.value), 0) AS completions,
       count(DISTINCT n.x) AS installations
FROM go_counter_config c
LEFT JOIN counters n ON n.program = c.program AND n.chart = c.chart AND n.bucket = c.bucket
WHERE c.program = 'golang.org/x/tools/gopls' AND c.chart = 'gopls/completion/latency'
GROUP BY c.bucket, c.position
ORDER BY c.position
