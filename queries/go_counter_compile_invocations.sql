-- compile/invocations (cmd/compile): distinct reports per bucket.
SELECT bucket, reports, installations
FROM go_partitions
WHERE program = 'cmd/compile' AND chart = 'compile/invocations'
ORDER BY position
