-- 0004: reviewers' claims and the review queue's filters (SQLite).
--
-- claim_by and claim_until copy Request.Claim (NULL when there is none; a
-- claim whose claim_until has passed holds nothing); account_kind copies
-- Request.AccountKind, filled here from the data of existing rows, which
-- carry no claims yet.
ALTER TABLE cancellation_requests ADD COLUMN account_kind TEXT NOT NULL DEFAULT '';
ALTER TABLE cancellation_requests ADD COLUMN claim_by TEXT;
ALTER TABLE cancellation_requests ADD COLUMN claim_until INTEGER;

UPDATE cancellation_requests SET account_kind = coalesce(json_extract(data, '$.account_kind'), '');

-- The queue filtered by account kind, and one reviewer's claims ("mine"),
-- each in the queue's order (due_at, id). Unclaimed and overdue pages walk
-- cancellation_requests_state_due.
CREATE INDEX cancellation_requests_kind_due ON cancellation_requests (state, account_kind, due_at, id);
CREATE INDEX cancellation_requests_claim_due ON cancellation_requests (claim_by, due_at, id) WHERE claim_by IS NOT NULL;

INSERT INTO cancellation_schema_version (version, applied_at) VALUES (4, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
