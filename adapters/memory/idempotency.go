package memory

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/accountkit/cancellation"
)

var _ cancellation.IdempotencyStore = (*Store)(nil)

// idempotency holds the Store's Idempotency-Key records, by scope and key.
type idempotency struct {
	mu   sync.Mutex
	recs map[[2]string]cancellation.IdempotencyRecord
}

func cloneRecord(r cancellation.IdempotencyRecord) cancellation.IdempotencyRecord {
	r.Response = bytes.Clone(r.Response)
	return r
}

// ReserveIdempotency reserves a key; see cancellation.IdempotencyStore.
func (s *Store) ReserveIdempotency(ctx context.Context, rec cancellation.IdempotencyRecord, now time.Time) (cancellation.IdempotencyRecord, bool, error) {
	if err := ctx.Err(); err != nil {
		return cancellation.IdempotencyRecord{}, false, err
	}
	s.idem.mu.Lock()
	defer s.idem.mu.Unlock()
	if s.idem.recs == nil {
		s.idem.recs = map[[2]string]cancellation.IdempotencyRecord{}
	}
	k := [2]string{rec.Scope, rec.Key}
	if cur, ok := s.idem.recs[k]; ok && cur.ExpiresAt.After(now) {
		return cloneRecord(cur), false, nil
	}
	rec.Response = nil
	s.idem.recs[k] = rec
	return rec, true, nil
}

// CompleteIdempotency stores the response of a reservation; see
// cancellation.IdempotencyStore.
func (s *Store) CompleteIdempotency(ctx context.Context, rec cancellation.IdempotencyRecord) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.idem.mu.Lock()
	defer s.idem.mu.Unlock()
	k := [2]string{rec.Scope, rec.Key}
	if len(rec.Response) == 0 {
		return fmt.Errorf("%w: memory: completing idempotency key %q with an empty response", cancellation.ErrInvalidInput, rec.Key)
	}
	cur, ok := s.idem.recs[k]
	if !ok || cur.Owner != rec.Owner || cur.Done() {
		return fmt.Errorf("memory: idempotency key %q: %w: no reservation held by this request", rec.Key, cancellation.ErrNotFound)
	}
	cur.Fingerprint, cur.Response, cur.ExpiresAt = rec.Fingerprint, bytes.Clone(rec.Response), rec.ExpiresAt
	s.idem.recs[k] = cur
	return nil
}

// ReleaseIdempotency drops an unfinished reservation; see
// cancellation.IdempotencyStore.
func (s *Store) ReleaseIdempotency(ctx context.Context, scope, key, owner string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.idem.mu.Lock()
	defer s.idem.mu.Unlock()
	k := [2]string{scope, key}
	if cur, ok := s.idem.recs[k]; ok && cur.Owner == owner && !cur.Done() {
		delete(s.idem.recs, k)
	}
	return nil
}

// PurgeIdempotency deletes expired records; see
// cancellation.IdempotencyStore.
func (s *Store) PurgeIdempotency(ctx context.Context, before time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.idem.mu.Lock()
	defer s.idem.mu.Unlock()
	n := 0
	for k, r := range s.idem.recs {
		if !r.ExpiresAt.After(before) {
			delete(s.idem.recs, k)
			n++
		}
	}
	return n, nil
}
