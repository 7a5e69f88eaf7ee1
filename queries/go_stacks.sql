-- Stack counters: distinct reports and total count per stack counter and program.
SELECT program, chart AS counter, count(DISTINCT x) AS reports, sum(value) AS total, count(DISTINCT x) AS installations
FROM stacks
GROUP BY 1, 2
ORDER BY reports DESC, program, counter
