-- Projects by how they include other configuration: files, Git repositories, both, neither.
SELECT
  CASE
    WHEN file_includes > 0 AND git_includes > 0 THEN 'files and Git'
    WHEN file_includes > 0 THEN 'files only'
    WHEN git_includes > 0 THEN 'Git only'
    ELSE 'no includes'
  END AS includes,
  count(*) AS projects,
  count(DISTINCT installation) AS installations
FROM projects
GROUP BY 1
ORDER BY projects DESC, includes
