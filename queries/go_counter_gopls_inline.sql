-- gopls/inline:{call,variable} (golang.org/x/tools/gopls): distinct reports per bucket.
SELECT bucket, reports, installations
FROM go_partitions
WHERE program = 'golang.org/x/tools/gopls' AND chart = 'gopls/inline'
ORDER BY position
