-- 0001: one row per cancellation request (SQLite).
--
-- data holds the request exactly as json.Marshal wrote it; the other columns
-- copy the values that cancellation.Query filters and orders on. Times are
-- INTEGER Unix nanoseconds (UTC by definition), so they keep full precision
-- and order as time.Time does; due_at and wake_at are NULL when zero.
CREATE TABLE cancellation_requests (
	id         TEXT    NOT NULL PRIMARY KEY,
	account    TEXT    NOT NULL,
	state      TEXT    NOT NULL,
	version    INTEGER NOT NULL CHECK (version >= 1),
	created_at INTEGER NOT NULL,
	due_at     INTEGER,
	wake_at    INTEGER,
	data       TEXT    NOT NULL
) STRICT;

-- At most one request per account in a non-terminal state
-- (cancellation.Active): the database refuses a second one, whichever
-- replica writes it.
CREATE UNIQUE INDEX cancellation_requests_one_active ON cancellation_requests (account)
	WHERE state IN ('started', 'confirmed', 'phone_verified', 'documents_uploaded', 'in_review', 'approved', 'scheduled');

-- List: the review queue (state, then due date), maintenance (wake_at), one
-- account's requests, and the default order (created_at, id).
CREATE INDEX cancellation_requests_state_due ON cancellation_requests (state, due_at, id);
CREATE INDEX cancellation_requests_wake ON cancellation_requests (wake_at) WHERE wake_at IS NOT NULL;
CREATE INDEX cancellation_requests_account ON cancellation_requests (account, created_at, id);
CREATE INDEX cancellation_requests_created ON cancellation_requests (created_at, id);

INSERT INTO cancellation_schema_version (version, applied_at) VALUES (1, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
