-- Objects the pulls quarantined, by the rule they broke.
SELECT rule, count(*) AS objects
FROM objects
WHERE status = 'quarantined'
GROUP BY 1
ORDER BY objects DESC, rule
