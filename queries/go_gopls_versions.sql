-- gopls versions: distinct reports per version over the whole range (the Version partition).
SELECT version, count(DISTINCT x) AS reports,
       count(DISTINCT x) AS installations
FROM reports
WHERE program = 'golang.org/x/tools/gopls'
GROUP BY 1
ORDER BY 1
