-- gopls/mcp-headless:{stdio,sse} (golang.org/x/tools/gopls): distinct reports per bucket.
SELECT bucket, reports, installations
FROM go_partitions
WHERE program = 'golang.org/x/tools/gopls' AND chart = 'gopls/mcp-headless'
ORDER BY position
