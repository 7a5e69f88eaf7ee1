-- gopls/setting/staticcheck:{true,false} (golang.org/x/tools/gopls): distinct reports per bucket.
SELECT bucket, reports, installations
FROM go_partitions
WHERE program = 'golang.org/x/tools/gopls' AND chart = 'gopls/setting/staticcheck'
ORDER BY position
