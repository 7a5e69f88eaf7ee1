-- govulncheck/show:{none,traces,color,verbose,version} (golang.org/x/vuln/cmd/govulncheck): distinct reports per bucket.
SELECT bucket, reports, installations
FROM go_partitions
WHERE program = 'golang.org/x/vuln/cmd/govulncheck' AND chart = 'govulncheck/show'
ORDER BY position
