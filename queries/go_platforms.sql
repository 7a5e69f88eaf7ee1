-- GOOS/GOARCH: distinct reports per platform, any program.
SELECT goos || '/' || goarch AS platform, count(DISTINCT x) AS reports,
       count(DISTINCT x) AS installations
FROM reports
GROUP BY 1
ORDER BY reports DESC, platform
