-- go/platform/host/darwin/major-version:{20,21,22,23,24,25,26,27,28} (cmd/go): distinct reports per bucket.
SELECT bucket, reports, installations
FROM go_partitions
WHERE program = 'cmd/go' AND chart = 'go/platform/host/darwin/major-version'
ORDER BY position
