-- Session attributes the attribute schema does not know (or whose type does not fit it),
-- kept in extra_attributes: drift to add to the schema.
SELECT key AS attribute, count(*) AS sessions, count(DISTINCT application_version) AS versions,
       count(DISTINCT user_id) AS installations
FROM (SELECT unnest(map_keys(extra_attributes)) AS key, application_version, user_id FROM sessions)
GROUP BY 1
ORDER BY sessions DESC, attribute
