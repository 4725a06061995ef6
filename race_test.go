package cancellation_test

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

// crowd runs fn on n goroutines released at once and returns the errors
// that are none of the expected ones.
func crowd(n int, fn func(i int) error, expected ...error) []error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		bad  []error
		gate = make(chan struct{})
	)
	for i := range n {
		wg.Go(func() {
			<-gate
			if err := fn(i); err != nil && !errAny(err, expected...) {
				mu.Lock()
				bad = append(bad, fmt.Errorf("goroutine %d: %w", i, err))
				mu.Unlock()
			}
		})
	}
	close(gate)
	wg.Wait()
	return bad
}

func TestRace_ConcurrentActionsOnOneRequest(t *testing.T) {
	t.Parallel()
	for round := range 3 {
		t.Run(fmt.Sprintf("Round%d", round), raceRound)
	}
}

// raceRound takes one request through its steps with 32 goroutines at once,
// then lets them all decide it at once.
func raceRound(t *testing.T) {
	const workers = 32
	f := setup(t)
	a := f.account("acct-race", ports.Personal, true)
	r := f.start(a.ID)
	id := r.ID()
	confirmation := f.fullConfirmation(a.ID)

	// Phase 1: every goroutine pushes the same request through the
	// customer's steps at once.
	bad := crowd(workers, func(int) error {
		for range 100 {
			cur, err := f.kit.Store.Get(f.ctx, id)
			if err != nil {
				return err
			}
			switch cur.State() {
			case cancellation.StateStarted:
				_, err = f.svc.Confirm(f.ctx, a.ID, id, confirmation)
			case cancellation.StateConfirmed:
				if _, err = f.svc.SendCode(f.ctx, a.ID, id); err == nil || errors.Is(err, cancellation.ErrRateLimited) {
					code, _ := f.kit.OTP.LastCode(a.RecoveryPhone)
					_, err = f.svc.VerifyCode(f.ctx, a.ID, id, code)
				}
			case cancellation.StatePhoneVerified:
				_, err = f.svc.UploadDocument(f.ctx, a.ID, id, cancellation.DocumentPassport, bytes.NewReader(colourScan()))
			case cancellation.StateDocumentsUploaded:
				_, err = f.svc.Submit(f.ctx, a.ID, id)
			default:
				return nil
			}
			// ErrConflict: with every goroutine writing (each upload is a
			// write), one may lose more races than the Service retries.
			if err != nil && !errAny(err, cancellation.ErrInvalidTransition, cancellation.ErrRateLimited,
				cancellation.ErrCodeExpired, cancellation.ErrConflict, cancellation.ErrInvalidInput) {
				return err
			}
		}
		return errors.New("no progress")
	})
	require.Empty(t, bad)
	r = f.stored(id)
	require.Equal(t, cancellation.StateInReview, r.State())
	require.Equal(t, 1, countEvents(r.History(), cancellation.EventConfirmed))
	require.Equal(t, 1, countEvents(r.History(), cancellation.EventPhoneVerified))
	require.Equal(t, 1, countEvents(r.History(), cancellation.EventSubmitted))
	require.Equal(t, 1, f.kit.OTP.Attempts(), "one code: the others were refused by the cooldown")
	_, blob, err := f.svc.ReviewDocument(f.ctx, staff, id, cancellation.DocumentPassport)
	require.NoError(t, err, "the reviewer can read the uploaded document")
	require.Equal(t, colourScan(), blob)

	// Phase 2: reviewers decide, the customer withdraws and retries old
	// steps, and maintenance runs, all at once. Only the winner writes, so
	// every loser sees the decision on its retry: no ErrConflict.
	var decided atomic.Int32
	self := f.staffMember("rev-self", ports.RoleSenior, a.ID)
	bad = crowd(workers, func(i int) error {
		var err error
		switch i % 10 {
		case 0:
			_, err = f.svc.Approve(f.ctx, cancellation.Reviewer{ID: fmt.Sprintf("rev-%d", i)}, id, "")
		case 1:
			_, err = f.svc.Reject(f.ctx, cancellation.Reviewer{ID: fmt.Sprintf("rev-%d", i)}, id,
				[]cancellation.ReasonCode{cancellation.ReasonIdentityMismatch}, "")
		case 2:
			_, err = f.svc.Withdraw(f.ctx, a.ID, id)
		case 3:
			_, err = f.svc.RunMaintenance(f.ctx)
			return err
		case 4:
			_, err = f.svc.Approve(f.ctx, self, id, "")
			if !errAny(err, cancellation.ErrSelfReview, cancellation.ErrInvalidTransition) {
				return fmt.Errorf("self-review: %w", err)
			}
			return nil
		case 5:
			_, err = f.svc.Confirm(f.ctx, a.ID, id, confirmation)
		case 6:
			_, err = f.svc.SendCode(f.ctx, a.ID, id)
		case 7:
			_, err = f.svc.Submit(f.ctx, a.ID, id)
		case 8:
			_, err = f.svc.VerifyCode(f.ctx, a.ID, id, "000000")
		case 9:
			_, err = f.svc.UploadDocument(f.ctx, a.ID, id, cancellation.DocumentDriversLicence, bytes.NewReader(colourScan()))
		}
		if err == nil && i%10 <= 2 {
			decided.Add(1)
		}
		return err
	}, cancellation.ErrInvalidTransition, cancellation.ErrAccountClosed)
	require.Empty(t, bad)
	require.Equal(t, int32(1), decided.Load(), "exactly one decision wins")

	r = f.stored(id)
	require.NoError(t, verifyHistory(r.History()))
	terminal := countEvents(r.History(), cancellation.EventApproved) + countEvents(r.History(), cancellation.EventRejected) +
		countEvents(r.History(), cancellation.EventWithdrawn)
	require.Equal(t, 1, terminal, "one terminal decision in the history: %v", eventTypes(r.History()))
	switch r.State() {
	case cancellation.StateCancelled:
		require.True(t, f.closed(a.ID))
		require.Equal(t, 1, f.platform.CloseCalls(id+"/close_account"))
	case cancellation.StateRejected, cancellation.StateWithdrawn:
		require.False(t, f.closed(a.ID))
	default:
		t.Fatalf("request ended in %s", r.State())
	}
	t.Logf("the request ended %s", r.State())
	require.Empty(t, pendingExcept(r, cancellation.EffectPurgeDocuments), "every effect but the purge is done")
	for _, n := range f.kit.Notifier.Sent() {
		require.Equal(t, 1, f.kit.Notifier.Count(n.IdempotencyKey), "notification %s was sent once", n.IdempotencyKey)
	}
}

// pendingExcept returns the pending effects of r other than those of kind.
func pendingExcept(r *cancellation.Request, kind cancellation.EffectKind) []cancellation.Effect {
	var out []cancellation.Effect
	for _, e := range r.PendingEffects() {
		if e.Kind != kind {
			out = append(out, e)
		}
	}
	return out
}
