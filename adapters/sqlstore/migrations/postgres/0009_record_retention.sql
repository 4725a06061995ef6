-- 0009: the records of ended requests (PostgreSQL), for their retention
-- (cancellation.RecordPurger, Config.RecordRetention).
--
-- settled_at copies Request.SettledAt: when the request ended (entered its
-- terminal state), as Unix nanoseconds, once no effect is still to be
-- carried out and every document is purged; NULL otherwise (an active
-- request, an ended one with work left). The backfill reads it from the
-- data of the rows written before: the time the request reached its state
-- ("reached"), or its updated_at when that was not kept (times are RFC 3339
-- in UTC, "Z", with up to nine fraction digits, parsed as text so that no
-- nanosecond is lost).
ALTER TABLE cancellation_requests ADD COLUMN settled_at bigint;

UPDATE cancellation_requests AS r SET settled_at =
	extract(epoch FROM (substr(COALESCE(r.data::jsonb->'reached'->>r.state, r.data::jsonb->>'updated_at'), 1, 19) || 'Z')::timestamptz)::bigint * 1000000000
	+ COALESCE(rpad(substring(COALESCE(r.data::jsonb->'reached'->>r.state, r.data::jsonb->>'updated_at') FROM '^.{19}\.([0-9]+)'), 9, '0')::bigint, 0)
WHERE r.state IN ('cancelled', 'rejected', 'withdrawn', 'expired')
	AND jsonb_array_length(COALESCE(r.data::jsonb->'reserved_documents', '[]'::jsonb)) = 0
	AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(COALESCE(r.data::jsonb->'effects', '[]'::jsonb)) AS e
		WHERE e->>'done_at' IS NULL AND e->>'given_up_at' IS NULL)
	AND NOT EXISTS (SELECT 1 FROM jsonb_array_elements(COALESCE(r.data::jsonb->'documents', '[]'::jsonb)) AS d
		WHERE d->>'purged_at' IS NULL);

-- Maintenance deletes the oldest settled requests first, through
-- (settled_at, id); only settled rows are in the index.
CREATE INDEX cancellation_requests_settled ON cancellation_requests (settled_at, id) WHERE settled_at IS NOT NULL;

INSERT INTO cancellation_schema_version (version) VALUES (9);
