package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/accountkit/cancellation"
)

// A request's history lives in cancellation_events, one row per event
// keyed by (request_id, seq): Create and Update append the request's new
// events in the same transaction as its row, so that a change writes what
// it changed and reads nothing of the history.

// inTx runs fn in a transaction and commits it, or rolls back on error.
func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// txExec runs one of the Store's statements in tx (prepared once for a
// SQLite Store, as exec does).
func (s *Store) txExec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	if s.dialect != SQLite {
		return tx.ExecContext(ctx, query, args...)
	}
	st, err := s.prepared(ctx, query)
	if err != nil {
		return nil, err
	}
	return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
}

// appendEvents inserts rw's new events in one statement.
func (s *Store) appendEvents(ctx context.Context, tx *sql.Tx, rw row) error {
	if len(rw.events) == 0 {
		return nil
	}
	args := make([]any, 0, 3*len(rw.events))
	for _, e := range rw.events {
		args = append(args, rw.id, e.seq, e.data)
	}
	_, err := s.txExec(ctx, tx, s.q.insertEvents(len(rw.events)), args...)
	return err
}

// update writes rw over the version before it and appends its events,
// atomically; it returns how many request rows matched (0 or 1). On
// PostgreSQL that is one statement, the UPDATE feeding the INSERT of the
// events, so a transition is one round trip; on SQLite, which runs in
// process, a transaction.
func (s *Store) update(ctx context.Context, rw row) (int64, error) {
	args := rw.updateArgs()
	if len(rw.events) > 0 && s.dialect == Postgres {
		seqs, datas := eventArrays(rw)
		res, err := s.db.ExecContext(ctx, s.q.updateAppend, append(args, seqs, datas)...)
		if err != nil {
			return 0, err
		}
		n, err := res.RowsAffected()
		if err != nil || n == 0 {
			return 0, err
		}
		return 1, nil
	}
	if len(rw.events) == 0 {
		res, err := s.exec(ctx, s.q.update, args...)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	}
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := s.txExec(ctx, tx, s.q.update, args...)
		if err != nil {
			return err
		}
		if n, err = res.RowsAffected(); err != nil || n != 1 {
			return errNoRow{err}
		}
		return s.appendEvents(ctx, tx, rw)
	})
	var nr errNoRow
	if errors.As(err, &nr) {
		return 0, nr.err
	}
	return n, err
}

// updateArgs are the arguments of the update statement for rw: its
// columns, then the id, the version it replaces and the account.
// The nullable columns go as nil or the value itself, not as the
// sql.Null types: database/sql would box each of those and then box
// the value its Value method returns again.
func (rw row) updateArgs() []any {
	return []any{rw.state, rw.version, nullArg(rw.dueAt), nullArg(rw.wakeAt), nullArg(rw.failingSince), nullArg(rw.settledAt), rw.data, rw.kind,
		nullStringArg(rw.claimBy), nullArg(rw.claimUntil), rw.id, rw.version - 1, rw.account}
}

// nullArg is n as a statement's argument: nil for NULL, else its int64.
func nullArg(n sql.NullInt64) any {
	if !n.Valid {
		return nil
	}
	return n.Int64
}

// nullStringArg is n as a statement's argument: nil for NULL, else its
// string.
func nullStringArg(n sql.NullString) any {
	if !n.Valid {
		return nil
	}
	return n.String
}

// eventArrays returns rw's events as the arrays of a PostgreSQL unnest.
func eventArrays(rw row) ([]int64, []string) {
	seqs := make([]int64, len(rw.events))
	datas := make([]string, len(rw.events))
	for i, e := range rw.events {
		seqs[i], datas[i] = e.seq, e.data
	}
	return seqs, datas
}

// errNoRow rolls back an update that matched no row.
type errNoRow struct{ err error }

func (e errNoRow) Error() string { return fmt.Sprint("no row matched: ", e.err) }

// History returns the events stored for a request, in order; see
// cancellation.Store. A request written before migration 0002 has none
// until its next write: it holds its history inline.
func (s *Store) History(ctx context.Context, id string) ([]cancellation.Event, error) {
	if err := malformed(id); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, s.q.history, id)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: reading the history of %s: %w", id, err)
	}
	defer rows.Close()
	var out []cancellation.Event
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, fmt.Errorf("sqlstore: reading the history of %s: %w", id, err)
		}
		var e cancellation.Event
		if err := e.UnmarshalBinary(data); err != nil {
			return nil, fmt.Errorf("sqlstore: request %s: %w", id, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlstore: reading the history of %s: %w", id, err)
	}
	if len(out) == 0 {
		var version int64
		var account string
		err := s.scanRow(ctx, s.q.probe, []any{id}, &version, &account)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return nil, fmt.Errorf("%w: %s", cancellation.ErrNotFound, id)
		case err != nil:
			return nil, fmt.Errorf("sqlstore: reading the history of %s: %w", id, err)
		}
	}
	return out, nil
}

// insertEvents is the INSERT of n events.
func (q queries) insertEvents(n int) string {
	if n == 1 {
		return q.insertEvent
	}
	return q.bind(`INSERT INTO cancellation_events (request_id, seq, data) VALUES ` + strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", n), ", "))
}
