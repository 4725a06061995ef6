-- 0008: identifiers kept from reuse and the organisation closure quota
-- (SQLite); see cancellation.IdentifierStore and
-- cancellation.ClosureQuotaStore.
--
-- cancellation_identifiers holds keyed hashes (HMAC-SHA256, hex) of the
-- login identifiers of cancelled accounts, never the identifiers, until
-- expires_at (Unix nanoseconds). key_id names the key that made the hash.
CREATE TABLE cancellation_identifiers (
	hash       TEXT    NOT NULL PRIMARY KEY,
	key_id     TEXT    NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT;

CREATE INDEX cancellation_identifiers_expires ON cancellation_identifiers (expires_at);

-- cancellation_closure_admissions counts the member closures an
-- organisation's admins started, at admitted_at (Unix nanoseconds).
CREATE TABLE cancellation_closure_admissions (
	organization TEXT    NOT NULL,
	account      TEXT    NOT NULL,
	admitted_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX cancellation_closure_admissions_org ON cancellation_closure_admissions (organization, admitted_at);
CREATE INDEX cancellation_closure_admissions_at ON cancellation_closure_admissions (admitted_at);

INSERT INTO cancellation_schema_version (version, applied_at) VALUES (8, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
