-- 0004: reviewers' claims and the review queue's filters (PostgreSQL).
--
-- claim_by and claim_until copy Request.Claim (NULL when there is none; a
-- claim whose claim_until has passed holds nothing); account_kind copies
-- Request.AccountKind, filled here from the data of existing rows, which
-- carry no claims yet. data is text holding JSON that PostgreSQL's json
-- functions may refuse (a \u0000 escape anywhere in it), so the kind is
-- read with a pattern: json.Marshal writes the fields of a request in
-- order, id, account, account_kind first, so the first "account_kind"
-- key is the request's own.
ALTER TABLE cancellation_requests ADD COLUMN account_kind text NOT NULL DEFAULT '';
ALTER TABLE cancellation_requests ADD COLUMN claim_by text COLLATE "C";
ALTER TABLE cancellation_requests ADD COLUMN claim_until bigint;

UPDATE cancellation_requests SET account_kind = coalesce(substring(data from '"account_kind":"([a-z]*)"'), '');

-- The queue filtered by account kind, and one reviewer's claims ("mine"),
-- each in the queue's order (due_at, id). Unclaimed and overdue pages walk
-- cancellation_requests_state_due.
CREATE INDEX cancellation_requests_kind_due ON cancellation_requests (state, account_kind, due_at NULLS FIRST, id);
CREATE INDEX cancellation_requests_claim_due ON cancellation_requests (claim_by, due_at NULLS FIRST, id) WHERE claim_by IS NOT NULL;

INSERT INTO cancellation_schema_version (version) VALUES (4);
