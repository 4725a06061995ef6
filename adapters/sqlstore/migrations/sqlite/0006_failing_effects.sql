-- 0006: the effects that keep failing (SQLite), for stuck effects
-- (cancellation.Query.FailingBefore, OrderByFailing).
--
-- failing_since copies Request.FailingSince: when the longest current run
-- of failures of an effect still to be carried out began, as Unix
-- nanoseconds; NULL when no effect is failing. The backfill reads it from
-- the data of the rows written before: the failing_since of each effect
-- neither done nor given up (times are RFC 3339 in UTC, "Z", with up to
-- nine fraction digits).
ALTER TABLE cancellation_requests ADD COLUMN failing_since INTEGER;

UPDATE cancellation_requests SET failing_since = (
	SELECT MIN(
		CAST(strftime('%s', substr(json_extract(e.value, '$.failing_since'), 1, 19)) AS INTEGER) * 1000000000
		+ CASE WHEN substr(json_extract(e.value, '$.failing_since'), 20, 1) = '.'
			THEN CAST(substr(substr(json_extract(e.value, '$.failing_since'), 21, length(json_extract(e.value, '$.failing_since')) - 21) || '000000000', 1, 9) AS INTEGER)
			ELSE 0 END)
	FROM json_each(cancellation_requests.data, '$.effects') AS e
	WHERE json_extract(e.value, '$.failing_since') IS NOT NULL
		AND json_extract(e.value, '$.done_at') IS NULL
		AND json_extract(e.value, '$.given_up_at') IS NULL)
WHERE wake_at IS NOT NULL;

-- Stuck effects page through (failing_since, id); only failing rows are
-- in the index.
CREATE INDEX cancellation_requests_failing ON cancellation_requests (failing_since, id) WHERE failing_since IS NOT NULL;

INSERT INTO cancellation_schema_version (version, applied_at) VALUES (6, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
