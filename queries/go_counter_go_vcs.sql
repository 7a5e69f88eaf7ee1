-- go/vcs:{mod,git,hg,svn,fossil} (cmd/go): distinct reports per bucket.
SELECT bucket, reports, installations
FROM go_partitions
WHERE program = 'cmd/go' AND chart = 'go/vcs'
ORDER BY position
