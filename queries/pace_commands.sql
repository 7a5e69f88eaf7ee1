-- Commands run by all installs (from each install's latest snapshot) and their failure rate.
SELECT command,
       sum(cumulative_count) AS runs,
       CAST(sum(CASE WHEN exit_code = 1 THEN cumulative_count ELSE 0 END) AS DOUBLE)
         / sum(cumulative_count) AS failed_share,
       count(DISTINCT id) AS installations
FROM pace_latest
WHERE command IS NOT NULL
GROUP BY 1
ORDER BY runs DESC, command
