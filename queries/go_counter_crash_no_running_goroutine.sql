-- crash/no-running-goroutine (golang.org/x/tools/gopls): distinct reports per bucket.
SELECT bucket, reports, installations
FROM go_partitions
WHERE program = 'golang.org/x/tools/gopls' AND chart = 'crash/no-running-goroutine'
ORDER BY position
