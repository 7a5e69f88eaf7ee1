-- gopls/gotoolchain:{auto,path,local,other} (golang.org/x/tools/gopls): distinct reports per bucket.
SELECT bucket, reports, installations
FROM go_partitions
WHERE program = 'golang.org/x/tools/gopls' AND chart = 'gopls/gotoolchain'
ORDER BY position
