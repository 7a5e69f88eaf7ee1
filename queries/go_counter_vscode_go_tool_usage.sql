-- vscode-go/tool/usage:{gotests,gomodifytags,goplay} (github.com/golang/vscode-go/vscgo): distinct reports per bucket.
SELECT bucket, reports, installations
FROM go_partitions
WHERE program = 'github.com/golang/vscode-go/vscgo' AND chart = 'vscode-go/tool/usage'
ORDER BY position
