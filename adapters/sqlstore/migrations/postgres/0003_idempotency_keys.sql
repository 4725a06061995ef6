-- 0002: Idempotency-Key records of the HTTP API (PostgreSQL); see
-- cancellation.IdempotencyStore.
--
-- One row per caller (scope) and key. response is NULL while the first
-- request runs; expires_at (Unix nanoseconds) is when a dead reservation
-- may be taken over or a completed record purged.
CREATE TABLE cancellation_idempotency_keys (
	scope       TEXT   NOT NULL,
	idem_key    TEXT   NOT NULL,
	fingerprint TEXT   NOT NULL,
	owner       TEXT   NOT NULL,
	response    BYTEA,
	expires_at  BIGINT NOT NULL,
	PRIMARY KEY (scope, idem_key)
);

CREATE INDEX cancellation_idempotency_keys_expires ON cancellation_idempotency_keys (expires_at);

INSERT INTO cancellation_schema_version (version) VALUES (3);
