package cancellation

import (
	"context"
	"fmt"
	"time"
)

// IdempotencyRecord is what a Store keeps of one Idempotency-Key: the first
// request made with it (its fingerprint) and, once that request finished,
// the response to replay to its retries. The Store treats Fingerprint,
// Owner and Response as opaque.
type IdempotencyRecord struct {
	// Scope is the caller the key belongs to (keys of two callers never
	// meet), Key the client's Idempotency-Key.
	Scope, Key string
	// Fingerprint identifies the first request (method, path and body):
	// the same key with another fingerprint is a client error. It may be
	// empty in a reservation and set at completion, for bodies that are
	// hashed while they stream.
	Fingerprint string
	// Owner identifies the reservation while the first request runs;
	// CompleteIdempotency and ReleaseIdempotency need it.
	Owner string
	// Response is the encoded response to replay; empty while the first
	// request is still running.
	Response []byte
	// ExpiresAt is when the record stops counting: a reservation whose
	// holder died is taken over then, and a completed record may be
	// purged.
	ExpiresAt time.Time
}

// Done reports whether the first request finished and left a response.
func (r IdempotencyRecord) Done() bool { return len(r.Response) > 0 }

// IdempotencyStore is an optional interface of a Store that keeps
// Idempotency-Key records, shared by every replica using the Store. The
// HTTP adapter uses it when the Store implements it, and RunMaintenance
// purges expired records through it. Implementations must pass
// portstest.TestIdempotencyStore.
type IdempotencyStore interface {
	// ReserveIdempotency records rec (with an empty Response) unless a
	// record with its Scope and Key exists that has not expired at now.
	// It returns the record now in force and whether it is rec. Two
	// concurrent reservations of one key: exactly one gets true.
	ReserveIdempotency(ctx context.Context, rec IdempotencyRecord, now time.Time) (IdempotencyRecord, bool, error)
	// CompleteIdempotency stores rec.Fingerprint, rec.Response (not
	// empty) and rec.ExpiresAt in the reservation that rec.Scope, rec.Key and rec.Owner name. It returns an
	// error wrapping ErrNotFound when that reservation is gone (expired and
	// taken over, or released) or already complete, and changes nothing.
	CompleteIdempotency(ctx context.Context, rec IdempotencyRecord) error
	// ReleaseIdempotency deletes the reservation of scope and key held by
	// owner if it is not complete, so the key may be used again; it is not
	// an error when there is none.
	ReleaseIdempotency(ctx context.Context, scope, key, owner string) error
	// PurgeIdempotency deletes the records that expired at or before
	// before, and returns how many.
	PurgeIdempotency(ctx context.Context, before time.Time) (int, error)
}

// purgeIdempotency purges the expired Idempotency-Key records of a Store
// that keeps them; it is the part of RunMaintenance for IdempotencyStore.
func (s *Service) purgeIdempotency(ctx context.Context, rep *MaintenanceReport) error {
	is, ok := s.cfg.Store.(IdempotencyStore)
	if !ok {
		return nil
	}
	n, err := is.PurgeIdempotency(ctx, s.now())
	rep.IdempotencyPurged += n
	if err != nil {
		return fmt.Errorf("cancellation: purging expired idempotency keys: %w", err)
	}
	return nil
}
