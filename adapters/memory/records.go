package memory

import (
	"context"
	"errors"
	"time"

	"github.com/accountkit/cancellation"
)

var _ cancellation.RecordPurger = (*Store)(nil)

// PurgeEnded deletes the ended requests settled at or before endedBefore,
// oldest first, at most limit of them, with their events; see
// cancellation.RecordPurger. It walks the SettledAt index, so it reads
// only what it deletes.
func (s *Store) PurgeEnded(ctx context.Context, endedBefore time.Time, limit int) (int, error) {
	if limit <= 0 {
		return 0, errors.New("memory: PurgeEnded needs a positive limit")
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var doomed []key
	s.settled.Ascend(func(k key) bool {
		if k.at.After(endedBefore) || len(doomed) == limit {
			return false
		}
		if rw := s.rows[k.id]; rw != nil && rw.state.Terminal() {
			doomed = append(doomed, k)
		}
		return true
	})
	for _, k := range doomed {
		s.unindex(k.id, s.rows[k.id])
		delete(s.rows, k.id)
	}
	return len(doomed), nil
}
