-- Installs by the CLI version and OS of their latest snapshot.
SELECT cli_version, operating_system, count(DISTINCT id) AS installs, count(DISTINCT id) AS installations
FROM pace_latest
GROUP BY 1, 2
ORDER BY 1, 2
