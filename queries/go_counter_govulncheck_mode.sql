-- govulncheck/mode:{source,binary,extract,query,convert} (golang.org/x/vuln/cmd/govulncheck): distinct reports per bucket.
SELECT bucket, reports, installations
FROM go_partitions
WHERE program = 'golang.org/x/vuln/cmd/govulncheck' AND chart = 'govulncheck/mode'
ORDER BY position
