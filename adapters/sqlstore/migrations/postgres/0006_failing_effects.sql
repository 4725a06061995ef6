-- 0006: the effects that keep failing (PostgreSQL), for stuck effects
-- (cancellation.Query.FailingBefore, OrderByFailing).
--
-- failing_since copies Request.FailingSince: when the longest current run
-- of failures of an effect still to be carried out began, as Unix
-- nanoseconds; NULL when no effect is failing. The backfill reads it from
-- the data of the rows written before: the failing_since of each effect
-- neither done nor given up (times are RFC 3339 in UTC, "Z", with up to
-- nine fraction digits, parsed as text so that no nanosecond is lost).
ALTER TABLE cancellation_requests ADD COLUMN failing_since bigint;

UPDATE cancellation_requests AS r SET failing_since = (
	SELECT MIN(
		extract(epoch FROM (substr(e->>'failing_since', 1, 19) || 'Z')::timestamptz)::bigint * 1000000000
		+ COALESCE(rpad(substring(e->>'failing_since' FROM '^.{19}\.([0-9]+)'), 9, '0')::bigint, 0))
	FROM jsonb_array_elements(COALESCE(r.data::jsonb->'effects', '[]'::jsonb)) AS e
	WHERE e->>'failing_since' IS NOT NULL
		AND e->>'done_at' IS NULL
		AND e->>'given_up_at' IS NULL)
WHERE r.wake_at IS NOT NULL;

-- Stuck effects page through (failing_since, id); only failing rows are
-- in the index.
CREATE INDEX cancellation_requests_failing ON cancellation_requests (failing_since, id) WHERE failing_since IS NOT NULL;

INSERT INTO cancellation_schema_version (version) VALUES (6);
