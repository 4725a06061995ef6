-- 0002: a request's history as rows of its own (PostgreSQL).
--
-- Each change appends its new events here in the same statement as the
-- request's row, so that a change costs the same at the first event and
-- at the last: the request's data holds only its newest event. data holds
-- the event exactly as Event.MarshalBinary wrote it (text, as for the
-- requests). Requests written before this migration keep their whole
-- history inline in their data, where it is read and verified as before;
-- their next write moves it here.
CREATE TABLE cancellation_events (
	request_id text COLLATE "C" NOT NULL,
	seq        bigint NOT NULL CHECK (seq >= 1),
	data       text   NOT NULL,
	CONSTRAINT cancellation_events_pkey PRIMARY KEY (request_id, seq)
);

-- Maintenance pages through the due requests by (wake_at, id).
DROP INDEX cancellation_requests_wake;
CREATE INDEX cancellation_requests_wake ON cancellation_requests (wake_at, id) WHERE wake_at IS NOT NULL;

INSERT INTO cancellation_schema_version (version) VALUES (2);
