-- Reports per week (the report's Week), each X counted once however often it was uploaded.
SELECT date AS week, count(DISTINCT x) AS reports,
       count(DISTINCT x) AS installations
FROM reports
GROUP BY 1
ORDER BY 1
