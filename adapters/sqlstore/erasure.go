package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

var (
	_ cancellation.IdentifierStore   = (*Store)(nil)
	_ cancellation.ClosureQuotaStore = (*Store)(nil)
)

// erasureQueries are the statements on cancellation_identifiers and
// cancellation_closure_admissions (migration 0008).
type erasureQueries struct {
	keepID, purgeIDs                  string
	lockOrg, window, admit, releaseAd string
	purgeAd                           string
	q                                 queries
}

var erasureQ = map[Dialect]erasureQueries{
	SQLite:   newErasureQueries(queries{dialect: SQLite}),
	Postgres: newErasureQueries(queries{dialect: Postgres}),
}

func newErasureQueries(q queries) erasureQueries {
	e := erasureQueries{
		q: q,
		// A hash kept again keeps the later expiry.
		keepID: q.bind(`INSERT INTO cancellation_identifiers (hash, key_id, expires_at) VALUES (?, ?, ?)
ON CONFLICT (hash) DO UPDATE SET key_id = excluded.key_id, expires_at = excluded.expires_at
WHERE cancellation_identifiers.expires_at < excluded.expires_at`),
		purgeIDs:  q.bind(`DELETE FROM cancellation_identifiers WHERE expires_at <= ?`),
		window:    q.bind(`SELECT admitted_at FROM cancellation_closure_admissions WHERE organization = ? AND admitted_at > ? ORDER BY admitted_at`),
		admit:     q.bind(`INSERT INTO cancellation_closure_admissions (organization, account, admitted_at) VALUES (?, ?, ?)`),
		releaseAd: q.bind(`DELETE FROM cancellation_closure_admissions WHERE organization = ? AND account = ? AND admitted_at = ?`),
		purgeAd:   q.bind(`DELETE FROM cancellation_closure_admissions WHERE admitted_at <= ?`),
	}
	if q.dialect == Postgres {
		// Admissions of one organisation are counted one transaction at a
		// time, on every replica.
		e.lockOrg = `SELECT pg_advisory_xact_lock(1667330927, hashtext($1))`
	}
	return e
}

// KeepIdentifiers stores identifier hashes; see
// cancellation.IdentifierStore.
func (s *Store) KeepIdentifiers(ctx context.Context, hashes []cancellation.IdentifierHash) error {
	for i, h := range hashes {
		if h.Hash == "" || h.KeyID == "" {
			return fmt.Errorf("%w: sqlstore: identifier hash %d has no hash or key id", cancellation.ErrInvalidInput, i)
		}
	}
	if err := s.acquire(ctx); err != nil {
		return err
	}
	defer s.release()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, h := range hashes {
			if _, err := s.txExec(ctx, tx, erasureQ[s.dialect].keepID, h.Hash, h.KeyID, unixNanos(h.ExpiresAt)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sqlstore: keeping identifiers: %w", err)
	}
	return nil
}

// IdentifierKept looks identifier hashes up; see
// cancellation.IdentifierStore.
func (s *Store) IdentifierKept(ctx context.Context, hashes []string, now time.Time) (bool, error) {
	if len(hashes) == 0 {
		return false, nil
	}
	args := make([]any, 0, len(hashes)+1)
	for _, h := range hashes {
		args = append(args, h)
	}
	args = append(args, unixNanos(now))
	query := erasureQ[s.dialect].q.bind(`SELECT COUNT(*) FROM cancellation_identifiers WHERE hash IN (?` +
		strings.Repeat(", ?", len(hashes)-1) + `) AND expires_at > ?`)
	var n int
	if err := s.db.QueryRowContext(ctx, query, args...).Scan(&n); err != nil {
		return false, fmt.Errorf("sqlstore: looking up identifiers: %w", err)
	}
	return n > 0, nil
}

// PurgeIdentifiers deletes expired identifier hashes; see
// cancellation.IdentifierStore.
func (s *Store) PurgeIdentifiers(ctx context.Context, before time.Time) (int, error) {
	n, err := s.write(ctx, erasureQ[s.dialect].purgeIDs, unixNanos(before))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: purging identifiers: %w", err)
	}
	return int(n), nil
}

// AdmitClosures counts and records member closures in one transaction:
// on PostgreSQL under an advisory lock per organisation, on SQLite in this
// Store's turn to write (and the file's write lock). See
// cancellation.ClosureQuotaStore.
func (s *Store) AdmitClosures(ctx context.Context, org ports.OrganizationID, accounts []ports.AccountID, since, now time.Time, limit int) (bool, []time.Time, error) {
	if err := s.acquire(ctx); err != nil {
		return false, nil, err
	}
	defer s.release()
	q := erasureQ[s.dialect]
	var window []time.Time
	admitted := false
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		window, admitted = nil, false
		if q.lockOrg != "" {
			if _, err := tx.ExecContext(ctx, q.lockOrg, string(org)); err != nil {
				return err
			}
		} else if _, err := tx.ExecContext(ctx, `UPDATE cancellation_schema_version SET version = version WHERE 0`); err != nil {
			// A write first, so SQLite takes the file's write lock before
			// counting: another process counts after this one commits.
			return err
		}
		rows, err := tx.QueryContext(ctx, q.window, string(org), unixNanos(since))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var at int64
			if err := rows.Scan(&at); err != nil {
				return err
			}
			window = append(window, time.Unix(0, at).UTC())
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(window)+len(accounts) > limit {
			return nil
		}
		for _, a := range accounts {
			if _, err := s.txExec(ctx, tx, q.admit, string(org), string(a), unixNanos(now)); err != nil {
				return err
			}
		}
		admitted = true
		return nil
	})
	if err != nil {
		return false, nil, fmt.Errorf("sqlstore: admitting closures of organisation %s: %w", org, err)
	}
	return admitted, window, nil
}

// ReleaseClosure deletes one admission; see
// cancellation.ClosureQuotaStore.
func (s *Store) ReleaseClosure(ctx context.Context, a cancellation.ClosureAdmission) error {
	if _, err := s.write(ctx, erasureQ[s.dialect].releaseAd, string(a.Organization), string(a.Account), unixNanos(a.At)); err != nil {
		return fmt.Errorf("sqlstore: releasing a closure admission: %w", err)
	}
	return nil
}

// PurgeClosures deletes old admissions; see
// cancellation.ClosureQuotaStore.
func (s *Store) PurgeClosures(ctx context.Context, before time.Time) (int, error) {
	n, err := s.write(ctx, erasureQ[s.dialect].purgeAd, unixNanos(before))
	if err != nil {
		return 0, fmt.Errorf("sqlstore: purging closure admissions: %w", err)
	}
	return int(n), nil
}
