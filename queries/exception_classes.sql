-- The most frequent exceptions: the class (the first line of the trace, up to the first ':'
-- — never the trace or a message) and where it was caught. A trace as one client sent it may
-- start with blank lines or a tab (`\tat …`) and hold other control characters: the class is
-- the first line with text, its control characters made spaces, trimmed.
SELECT
  btrim(regexp_replace(
    split_part(split_part(ltrim(e.attributes.exception, ' ' || chr(9) || chr(10) || chr(13)), chr(10), 1), ':', 1),
    '[[:cntrl:]]', ' ', 'g'
  )) AS exception,
  e.attributes.exceptionCaughtAt AS caught_at,
  count(*) AS events,
  sum(CASE WHEN e.attributes.isUserFacingException THEN 1 ELSE 0 END) AS user_facing,
  count(DISTINCT s.user_id) AS installations
FROM events e
JOIN sessions s ON s.session_id = e.session_id AND s.date = e.date
WHERE e.type = 'UnhandledException'
GROUP BY 1, 2
ORDER BY events DESC, exception, caught_at
LIMIT 20
