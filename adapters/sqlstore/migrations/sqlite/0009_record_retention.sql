-- 0009: the records of ended requests (SQLite), for their retention
-- (cancellation.RecordPurger, Config.RecordRetention).
--
-- settled_at copies Request.SettledAt: when the request ended (entered its
-- terminal state), as Unix nanoseconds, once no effect is still to be
-- carried out and every document is purged; NULL otherwise (an active
-- request, an ended one with work left). The backfill reads it from the
-- data of the rows written before: the time the request reached its state
-- ("reached"), or its updated_at when that was not kept (times are RFC 3339
-- in UTC, "Z", with up to nine fraction digits).
ALTER TABLE cancellation_requests ADD COLUMN settled_at INTEGER;

UPDATE cancellation_requests SET settled_at =
	CAST(strftime('%s', substr(COALESCE(json_extract(data, '$.reached.' || state), json_extract(data, '$.updated_at')), 1, 19)) AS INTEGER) * 1000000000
	+ CASE WHEN substr(COALESCE(json_extract(data, '$.reached.' || state), json_extract(data, '$.updated_at')), 20, 1) = '.'
		THEN CAST(substr(substr(COALESCE(json_extract(data, '$.reached.' || state), json_extract(data, '$.updated_at')), 21, length(COALESCE(json_extract(data, '$.reached.' || state), json_extract(data, '$.updated_at'))) - 21) || '000000000', 1, 9) AS INTEGER)
		ELSE 0 END
WHERE state IN ('cancelled', 'rejected', 'withdrawn', 'expired')
	AND json_array_length(COALESCE(json_extract(data, '$.reserved_documents'), '[]')) = 0
	AND NOT EXISTS (SELECT 1 FROM json_each(cancellation_requests.data, '$.effects') AS e
		WHERE json_extract(e.value, '$.done_at') IS NULL AND json_extract(e.value, '$.given_up_at') IS NULL)
	AND NOT EXISTS (SELECT 1 FROM json_each(cancellation_requests.data, '$.documents') AS d
		WHERE json_extract(d.value, '$.purged_at') IS NULL);

-- Maintenance deletes the oldest settled requests first, through
-- (settled_at, id); only settled rows are in the index.
CREATE INDEX cancellation_requests_settled ON cancellation_requests (settled_at, id) WHERE settled_at IS NOT NULL;

INSERT INTO cancellation_schema_version (version, applied_at) VALUES (9, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
