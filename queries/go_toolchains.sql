-- Go toolchains (GoVersion normalised to MAJOR.MINOR, as telemetry.go.dev merges them):
-- distinct reports per version, any program.
SELECT regexp_replace(go_version, '^go([0-9]+\.[0-9]+).*$', '${1}') AS go_version,
       count(DISTINCT x) AS reports,
       count(DISTINCT x) AS installations
FROM reports
GROUP BY 1
ORDER BY 1
