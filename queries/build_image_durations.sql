-- Every BuildImage span with the Docker builder its session used.
SELECT s.attributes.dockerBuilderVersionInUse AS builder, p.duration_ms, s.user_id AS installation
FROM spans p
JOIN sessions s ON p.session_id = s.session_id AND p.date = s.date
WHERE p.type = 'BuildImage'
ORDER BY builder, p.duration_ms, installation
