-- go/build/flag/buildmode:{archive,c-archive,c-shared,default,exe,pie,shared,plugin} (cmd/go): distinct reports per bucket.
SELECT bucket, reports, installations
FROM go_partitions
WHERE program = 'cmd/go' AND chart = 'go/build/flag/buildmode'
ORDER BY position
