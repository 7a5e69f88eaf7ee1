-- gopls/interactive/command:{modify_tags,implement_interface} (golang.org/x/tools/gopls): distinct reports per bucket.
SELECT bucket, reports, installations
FROM go_partitions
WHERE program = 'golang.org/x/tools/gopls' AND chart = 'gopls/interactive/command'
ORDER BY position
