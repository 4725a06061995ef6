-- 0005: the states of issue 10 (PostgreSQL). A request returned to the
-- customer for more (returned) and a staff closure awaiting its second
-- approval (awaiting_approval) are the account's active request: the
-- partial unique index that allows one per account names them too
-- (cancellation.Active). The index keeps its name, which the Store maps to
-- cancellation.ErrActiveRequestExists.
DROP INDEX cancellation_requests_one_active;
CREATE UNIQUE INDEX cancellation_requests_one_active ON cancellation_requests (account)
	WHERE state IN ('started', 'confirmed', 'phone_verified', 'documents_uploaded', 'in_review', 'approved', 'scheduled', 'returned', 'awaiting_approval');

INSERT INTO cancellation_schema_version (version) VALUES (5);
