package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/accountkit/cancellation"
)

var _ cancellation.RecordPurger = (*Store)(nil)

// terminalStates lists the terminal states as SQL string literals.
func terminalStates() string {
	var lits []string
	for _, s := range cancellation.States {
		if s.Terminal() {
			lits = append(lits, "'"+string(s)+"'")
		}
	}
	return strings.Join(lits, ", ")
}

// PurgeEnded deletes the ended requests settled at or before endedBefore,
// oldest first, at most limit of them, with their events, in one
// transaction: the request rows first (RETURNING their ids, so a row
// another replica changed meanwhile is not taken), then their events. It
// selects through the (settled_at, id) index, holds at most limit ids in
// memory and drops the purged requests from this Store's cache. See
// cancellation.RecordPurger.
func (s *Store) PurgeEnded(ctx context.Context, endedBefore time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, errors.New("sqlstore: PurgeEnded needs a positive limit")
	}
	pick := `SELECT id FROM cancellation_requests WHERE settled_at IS NOT NULL AND settled_at <= ? ORDER BY settled_at, id LIMIT ?`
	if s.dialect == Postgres {
		pick += ` FOR UPDATE SKIP LOCKED` // replicas purging at once take different rows
	}
	del := s.q.bind(`DELETE FROM cancellation_requests WHERE id IN (` + pick + `) AND state IN (` + terminalStates() + `) RETURNING id`)
	if err := s.acquire(ctx); err != nil {
		return 0, err
	}
	defer s.release()
	var ids []string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, del, unixNanos(endedBefore), limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			ids = append(ids, id)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")
		args := make([]any, len(ids))
		for i, id := range ids {
			args[i] = id
		}
		_, err = tx.ExecContext(ctx, s.q.bind(`DELETE FROM cancellation_events WHERE request_id IN (`+marks+`)`), args...)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("sqlstore: purging ended requests: %w", err)
	}
	s.recent.drop(ids)
	return len(ids), nil
}
