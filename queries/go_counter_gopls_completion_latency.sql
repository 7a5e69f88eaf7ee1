-- gopls/completion/latency:{<10ms,<50ms,<100ms,<200ms,<500ms,<1s,<5s,<24h} (golang.org/x/tools/gopls): distinct reports per bucket.
SELECT bucket, reports, installations
FROM go_partitions
WHERE program = 'golang.org/x/tools/gopls' AND chart = 'gopls/completion/latency'
ORDER BY position
