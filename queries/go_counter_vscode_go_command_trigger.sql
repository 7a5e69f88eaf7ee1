-- vscode-go/command/trigger:{gotests-command_palette,gotests-context_menu,gomodifytags-command_palette,gomodifytags-context_menu,gopls.add_test-command_palette,gopls.add_test-context_menu,gopls.add_test-code_action,gopls.modify_tags-command_palette,gopls.modify_tags-context_menu,gopls.modify_tags-code_action} (github.com/golang/vscode-go/vscgo): distinct reports per bucket.
SELECT bucket, reports, installations
FROM go_partitions
WHERE program = 'github.com/golang/vscode-go/vscgo' AND chart = 'vscode-go/command/trigger'
ORDER BY position
