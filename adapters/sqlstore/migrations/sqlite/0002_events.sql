-- 0002: a request's history as rows of its own (SQLite).
--
-- Each change appends its new events here in the same transaction as the
-- request's row, so that a change costs the same at the first event and
-- at the last: the request's data holds only its newest event. data holds
-- the event exactly as Event.MarshalBinary wrote it. Requests written
-- before this migration keep their whole history inline in their data,
-- where it is read and verified as before; their next write moves it here.
CREATE TABLE cancellation_events (
	request_id TEXT    NOT NULL,
	seq        INTEGER NOT NULL CHECK (seq >= 1),
	data       TEXT    NOT NULL,
	PRIMARY KEY (request_id, seq)
) STRICT, WITHOUT ROWID;

-- Maintenance pages through the due requests by (wake_at, id).
DROP INDEX cancellation_requests_wake;
CREATE INDEX cancellation_requests_wake ON cancellation_requests (wake_at, id) WHERE wake_at IS NOT NULL;

INSERT INTO cancellation_schema_version (version, applied_at) VALUES (2, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
