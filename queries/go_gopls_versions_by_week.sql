-- gopls versions by week: distinct reports per week and version (a timelapse of adoption).
SELECT date AS week, version, count(DISTINCT x) AS reports, count(DISTINCT x) AS installations
FROM reports
WHERE program = 'golang.org/x/tools/gopls'
GROUP BY 1, 2
ORDER BY 1, 2
