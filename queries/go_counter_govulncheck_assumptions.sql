-- govulncheck/assumptions:{multi-patterns,no-binary-platform,no-relative-path,no-go-root,local-replace,unknown-pkg-mod-path} (golang.org/x/vuln/cmd/govulncheck): distinct reports per bucket.
SELECT bucket, reports, installations
FROM go_partitions
WHERE program = 'golang.org/x/vuln/cmd/govulncheck' AND chart = 'govulncheck/assumptions'
ORDER BY position
