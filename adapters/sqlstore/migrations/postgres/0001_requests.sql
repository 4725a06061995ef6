-- 0001: one row per cancellation request (PostgreSQL).
--
-- data holds the request exactly as json.Marshal wrote it. It is text, not
-- jsonb: jsonb would reorder keys, re-encode strings and refuse \u0000, and
-- nothing queries inside it (the columns below copy what cancellation.Query
-- needs). Times are bigint Unix nanoseconds: timestamptz keeps only
-- microseconds, and the Store must order exactly as time.Time does. due_at
-- and wake_at are NULL when zero. id and account use the "C" collation so
-- that ORDER BY id is byte order, as in the in-memory store, whatever the
-- database's locale.
CREATE TABLE cancellation_requests (
	id         text COLLATE "C" NOT NULL,
	account    text COLLATE "C" NOT NULL,
	state      text   NOT NULL,
	version    bigint NOT NULL CHECK (version >= 1),
	created_at bigint NOT NULL,
	due_at     bigint,
	wake_at    bigint,
	data       text   NOT NULL,
	CONSTRAINT cancellation_requests_pkey PRIMARY KEY (id)
);

-- At most one request per account in a non-terminal state
-- (cancellation.Active): the database refuses a second one, whichever
-- replica writes it. The Store maps its violation to
-- cancellation.ErrActiveRequestExists by this name.
CREATE UNIQUE INDEX cancellation_requests_one_active ON cancellation_requests (account)
	WHERE state IN ('started', 'confirmed', 'phone_verified', 'documents_uploaded', 'in_review', 'approved', 'scheduled');

-- List: the review queue (state, then due date), maintenance (wake_at), one
-- account's requests, and the default order (created_at, id).
CREATE INDEX cancellation_requests_state_due ON cancellation_requests (state, due_at NULLS FIRST, id);
CREATE INDEX cancellation_requests_wake ON cancellation_requests (wake_at) WHERE wake_at IS NOT NULL;
CREATE INDEX cancellation_requests_account ON cancellation_requests (account, created_at, id);
CREATE INDEX cancellation_requests_created ON cancellation_requests (created_at, id);

INSERT INTO cancellation_schema_version (version) VALUES (1);
