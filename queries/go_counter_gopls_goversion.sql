-- gopls/goversion:{1.16,1.17,1.18,1.19,1.20,1.21,1.22,1.23,1.24,1.25,1.26,1.27,1.28,1.29,1.30} (golang.org/x/tools/gopls): distinct reports per bucket.
SELECT bucket, reports, installations
FROM go_partitions
WHERE program = 'golang.org/x/tools/gopls' AND chart = 'gopls/goversion'
ORDER BY position
