package cancellation

import (
	"context"
	"fmt"
	"time"
)

// Records kept after a request ends. A request that has ended (cancelled,
// rejected, withdrawn, expired) stays as the audit trail of what was done
// for Config.RecordRetention after it ended; then RunMaintenance deletes
// it, with its history and the platform's copy of its closing receipt,
// through the Store's RecordPurger. The customer keeps the receipt they
// were sent: it verifies offline (VerifyReceipt) without the record.

// DefaultRecordRetention is the default Config.RecordRetention: three
// years (3×365 days), the general limitation period for claims in many
// jurisdictions (German BGB §195, for one), within which a customer may
// dispute a closing and the platform needs the record to answer.
const DefaultRecordRetention = 3 * 365 * 24 * time.Hour

// RecordPurger is an optional interface of a Store that deletes the
// records of ended requests once their retention is over: RunMaintenance
// calls it for Config.RecordRetention. Implementations must pass
// portstest.TestRecordPurger. A Store without it keeps every request: New
// then refuses a Config.RecordRetention set explicitly and, with the
// default, logs a warning that records are kept for ever.
type RecordPurger interface {
	// PurgeEnded deletes at most limit requests (limit > 0) whose
	// SettledAt is not zero and not after endedBefore, oldest SettledAt
	// first, each with its whole history (the events History returns), and
	// returns how many it deleted. A request in a state that is not
	// terminal is never deleted, whatever is stored for it. It serves the
	// selection from an index of SettledAt, so a call costs what it
	// deletes, not what is stored.
	PurgeEnded(ctx context.Context, endedBefore time.Time, limit int) (int, error)
}

// EndedAt returns when the request entered its terminal state (cancelled,
// rejected, withdrawn, expired); zero while it is active.
func (r *Request) EndedAt() time.Time {
	if !r.d.State.Terminal() {
		return time.Time{}
	}
	if t, ok := r.d.Reached[r.d.State]; ok {
		return t
	}
	return r.d.UpdatedAt // written before Reached was kept: its last change ended it
}

// SettledAt returns EndedAt once nothing of the request is left to do: no
// effect still to be carried out (PendingEffects is empty) and every
// document purged from the DocumentStore. It is zero for an active
// request and for an ended one with a pending effect or a document not yet
// purged (one whose purge_documents effect was given up, say: such a
// request is kept, as a record of the documents still held). Config.RecordRetention
// counts from it; Stores index it for RecordPurger.
func (r *Request) SettledAt() time.Time {
	end := r.EndedAt()
	if end.IsZero() || len(r.d.Reserved) > 0 {
		return time.Time{}
	}
	for _, e := range r.d.Effects {
		if e.open() {
			return time.Time{}
		}
	}
	for _, d := range r.d.Documents {
		if d.PurgedAt.IsZero() {
			return time.Time{}
		}
	}
	return end
}

// validateRecordRetention checks Config.RecordRetention against the Store.
func validateRecordRetention(cfg Config) error {
	if cfg.RecordRetention < 0 {
		return invalid("RecordRetention", "must not be negative")
	}
	if cfg.RecordRetention > 0 && cfg.Store != nil {
		if _, ok := cfg.Store.(RecordPurger); !ok {
			return invalid("RecordRetention", "is set but the Store does not implement RecordPurger, so no record could be deleted")
		}
	}
	return nil
}

// purgeRecords deletes the ended requests past Config.RecordRetention, in
// batches of the maintenance batch size: the part of RunMaintenance for
// RecordPurger.
func (s *Service) purgeRecords(ctx context.Context, rep *MaintenanceReport) error {
	rp, ok := s.cfg.Store.(RecordPurger)
	if !ok {
		return nil
	}
	before := s.now().Add(-s.cfg.RecordRetention)
	for ctx.Err() == nil {
		n, err := rp.PurgeEnded(ctx, before, s.batch)
		rep.RecordsPurged += n
		if err != nil {
			return fmt.Errorf("cancellation: purging the records of ended requests: %w", err)
		}
		if n < s.batch {
			return nil
		}
	}
	return nil
}
