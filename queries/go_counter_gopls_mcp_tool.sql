-- gopls/mcp-tool:{go_context,go_diagnostics,go_file_context,go_file_diagnostics,go_file_metadata,go_package_api,go_references,go_rename_symbol,go_search,go_symbol_references,go_workspace,go_vulncheck} (golang.org/x/tools/gopls): distinct reports per bucket.
SELECT bucket, reports, installations
FROM go_partitions
WHERE program = 'golang.org/x/tools/gopls' AND chart = 'gopls/mcp-tool'
ORDER BY position
