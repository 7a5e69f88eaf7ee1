-- go/invocations (cmd/go): distinct reports per bucket.
SELECT bucket, reports, installations
FROM go_partitions
WHERE program = 'cmd/go' AND chart = 'go/invocations'
ORDER BY position
