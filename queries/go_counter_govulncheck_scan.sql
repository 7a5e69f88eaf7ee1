-- govulncheck/scan:{symbol,package,module} (golang.org/x/vuln/cmd/govulncheck): distinct reports per bucket.
SELECT bucket, reports, installations
FROM go_partitions
WHERE program = 'golang.org/x/vuln/cmd/govulncheck' AND chart = 'govulncheck/scan'
ORDER BY position
