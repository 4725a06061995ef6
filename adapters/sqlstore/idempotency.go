package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/accountkit/cancellation"
)

var _ cancellation.IdempotencyStore = (*Store)(nil)

// idemQueries are the statements on cancellation_idempotency_keys
// (migration 0002).
type idemQueries struct {
	reserve, get, complete, release, purge string
}

// idemQ holds each dialect's statements.
var idemQ = map[Dialect]idemQueries{
	SQLite:   newIdemQueries(queries{dialect: SQLite}),
	Postgres: newIdemQueries(queries{dialect: Postgres}),
}

func newIdemQueries(q queries) idemQueries {
	return idemQueries{
		// One statement: a new key inserts, an expired one is taken over,
		// a live one is left alone (no row affected). PostgreSQL and SQLite
		// both read ON CONFLICT ... DO UPDATE ... WHERE.
		reserve: q.bind(`INSERT INTO cancellation_idempotency_keys (scope, idem_key, fingerprint, owner, response, expires_at) VALUES (?, ?, ?, ?, NULL, ?)
ON CONFLICT (scope, idem_key) DO UPDATE SET fingerprint = excluded.fingerprint, owner = excluded.owner, response = NULL, expires_at = excluded.expires_at
WHERE cancellation_idempotency_keys.expires_at <= ?`),
		get:      q.bind(`SELECT fingerprint, owner, response, expires_at FROM cancellation_idempotency_keys WHERE scope = ? AND idem_key = ?`),
		complete: q.bind(`UPDATE cancellation_idempotency_keys SET fingerprint = ?, response = ?, expires_at = ? WHERE scope = ? AND idem_key = ? AND owner = ? AND response IS NULL`),
		release:  q.bind(`DELETE FROM cancellation_idempotency_keys WHERE scope = ? AND idem_key = ? AND owner = ? AND response IS NULL`),
		purge:    q.bind(`DELETE FROM cancellation_idempotency_keys WHERE expires_at <= ?`),
	}
}

// ReserveIdempotency reserves a key; see cancellation.IdempotencyStore.
func (s *Store) ReserveIdempotency(ctx context.Context, rec cancellation.IdempotencyRecord, now time.Time) (cancellation.IdempotencyRecord, bool, error) {
	rec.Response = nil
	// A record seen live by the INSERT may expire and be purged before
	// the SELECT reads it: then try again.
	for range 3 {
		if err := s.acquire(ctx); err != nil {
			return cancellation.IdempotencyRecord{}, false, err
		}
		res, err := s.exec(ctx, idemQ[s.dialect].reserve, rec.Scope, rec.Key, rec.Fingerprint, rec.Owner, unixNanos(rec.ExpiresAt), unixNanos(now))
		s.release()
		if err != nil {
			return cancellation.IdempotencyRecord{}, false, fmt.Errorf("sqlstore: reserving idempotency key: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return cancellation.IdempotencyRecord{}, false, fmt.Errorf("sqlstore: reserving idempotency key: %w", err)
		} else if n == 1 {
			return rec, true, nil
		}
		cur := cancellation.IdempotencyRecord{Scope: rec.Scope, Key: rec.Key}
		var expires int64
		err = s.scanRow(ctx, idemQ[s.dialect].get, []any{rec.Scope, rec.Key}, &cur.Fingerprint, &cur.Owner, &cur.Response, &expires)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			continue
		case err != nil:
			return cancellation.IdempotencyRecord{}, false, fmt.Errorf("sqlstore: reading idempotency key: %w", err)
		}
		cur.ExpiresAt = time.Unix(0, expires).UTC()
		return cur, false, nil
	}
	return cancellation.IdempotencyRecord{}, false, fmt.Errorf("sqlstore: reserving idempotency key: %w: the record kept changing", cancellation.ErrConflict)
}

// CompleteIdempotency stores a reservation's response; see
// cancellation.IdempotencyStore.
func (s *Store) CompleteIdempotency(ctx context.Context, rec cancellation.IdempotencyRecord) error {
	if len(rec.Response) == 0 {
		return fmt.Errorf("%w: sqlstore: completing idempotency key %q with an empty response", cancellation.ErrInvalidInput, rec.Key)
	}
	n, err := s.write(ctx, idemQ[s.dialect].complete, rec.Fingerprint, rec.Response, unixNanos(rec.ExpiresAt), rec.Scope, rec.Key, rec.Owner)
	if err != nil {
		return fmt.Errorf("sqlstore: completing idempotency key: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("sqlstore: idempotency key %q: %w: no reservation held by this request", rec.Key, cancellation.ErrNotFound)
	}
	return nil
}

// ReleaseIdempotency drops an unfinished reservation; see
// cancellation.IdempotencyStore.
func (s *Store) ReleaseIdempotency(ctx context.Context, scope, key, owner string) error {
	if _, err := s.write(ctx, idemQ[s.dialect].release, scope, key, owner); err != nil {
		return fmt.Errorf("sqlstore: releasing idempotency key: %w", err)
	}
	return nil
}

// PurgeIdempotency deletes expired records; see
// cancellation.IdempotencyStore.
func (s *Store) PurgeIdempotency(ctx context.Context, before time.Time) (int, error) {
	n, err := s.write(ctx, idemQ[s.dialect].purge, unixNanos(before))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: purging idempotency keys: %w", err)
	}
	return int(n), nil
}

// write runs one statement in this Store's turn to write and returns the
// rows it affected.
func (s *Store) write(ctx context.Context, query string, args ...any) (int64, error) {
	if err := s.acquire(ctx); err != nil {
		return 0, err
	}
	defer s.release()
	res, err := s.exec(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
