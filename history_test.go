package cancellation_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

// fillHistory consents again and again, each time to a changed voucher (so
// that no call is a no-op), until the customer's history cap refuses it;
// it checks that the refusal changed nothing.
func fillHistory(t *testing.T, f *fixture, acct ports.AccountID, id string) {
	t.Helper()
	// The two voucher states alternate; their consents are computed once.
	var consents [2][]cancellation.Consent
	for i := range consents {
		f.platform.DeleteRights(acct).AddRight(acct, ports.Right{Kind: ports.RightVoucher, Ref: fmt.Sprintf("v-%d", i), Description: "Voucher", Value: usd(100)})
		rep, err := f.svc.CheckEligibility(f.ctx, acct)
		require.NoError(t, err)
		consents[i] = rep.Consents()
	}
	for i := 0; ; i++ {
		f.platform.DeleteRights(acct).AddRight(acct, ports.Right{Kind: ports.RightVoucher, Ref: fmt.Sprintf("v-%d", i%2), Description: "Voucher", Value: usd(100)})
		before := rawStored(t, f, id)
		_, err := f.svc.Consent(f.ctx, acct, id, consents[i%2])
		if err != nil {
			var full *cancellation.HistoryFullError
			require.ErrorAs(t, err, &full)
			require.ErrorIs(t, err, cancellation.ErrHistoryFull)
			require.Equal(t, cancellation.CustomerHistoryLimit, full.Limit)
			require.Equal(t, before, rawStored(t, f, id), "a refused change stores nothing")
			break
		}
		require.Less(t, i, cancellation.CustomerHistoryLimit, "the cap never refused a consent")
	}
	require.Equal(t, cancellation.CustomerHistoryLimit, f.stored(id).HistoryLen())
}

// rawStored returns the stored bytes of a request (its newest event
// included), without reading its whole history.
func rawStored(t *testing.T, f *fixture, id string) string {
	t.Helper()
	r, err := f.kit.Store.Get(f.ctx, id)
	require.NoError(t, err)
	b, err := r.MarshalBinary()
	require.NoError(t, err)
	return string(b)
}

func TestHistory_CustomerActionsStopAtTheCap(t *testing.T) {
	f := setup(t)
	a := f.personal("acct-cap")
	r := f.confirm(f.start(a.ID))
	fillHistory(t, f, a.ID, r.ID())

	// Every other customer action that records an event is refused too.
	_, err := f.svc.SendCode(f.ctx, a.ID, r.ID())
	require.ErrorIs(t, err, cancellation.ErrHistoryFull)
	require.Empty(t, f.kit.OTP.Sent(), "no code went out for a refused change")
	// Withdrawing, which ends the request, stays possible.
	r, err = f.svc.Withdraw(f.ctx, a.ID, r.ID())
	require.NoError(t, err)
	require.Equal(t, cancellation.StateWithdrawn, r.State())
	require.NoError(t, verifyHistory(f.history(r.ID())))
}

func TestHistory_ExpiryStillHappensAtTheCap(t *testing.T) {
	f := setup(t)
	a := f.personal("acct-cap-expiry")
	r := f.confirm(f.start(a.ID))
	fillHistory(t, f, a.ID, r.ID())
	f.clock.Advance(8 * 24 * time.Hour)
	rep := f.maintain()
	require.Equal(t, 1, rep.Expired)
	got := f.stored(r.ID())
	require.Equal(t, cancellation.StateExpired, got.State())
	require.LessOrEqual(t, got.HistoryLen(), cancellation.MaxHistory)
}

func TestHistory_ConfigRefusesBadKeys(t *testing.T) {
	t.Parallel()
	for name, keys := range map[string][]cancellation.HistoryKey{
		"EmptyID":     {{ID: "", Secret: make([]byte, 32)}},
		"ShortSecret": {{ID: "k1", Secret: make([]byte, 31)}},
		"SameIDTwice": {{ID: "k1", Secret: make([]byte, 32)}, {ID: "k1", Secret: make([]byte, 40)}},
	} {
		f := newFixture(t)
		cfg := f.cfg
		cfg.HistoryKeys = keys
		_, err := cancellation.New(cfg)
		require.ErrorIs(t, err, cancellation.ErrInvalidInput, name)
		require.ErrorContains(t, err, "HistoryKeys", name)
	}
}

func TestHistory_RotatedKeysVerifyOldEvents(t *testing.T) {
	f := setup(t)
	a := f.personal("acct-rotate")
	r := f.confirm(f.start(a.ID))
	old := f.cfg.HistoryKeys[0]
	// A new key signs from now on; the old one stays to verify.
	cfg := f.cfg
	cfg.HistoryKeys = []cancellation.HistoryKey{{ID: "k2", Secret: []byte("the second history key, 32 bytes+")}, old}
	svc, err := cancellation.New(cfg)
	require.NoError(t, err)
	_, err = svc.Withdraw(f.ctx, a.ID, r.ID())
	require.NoError(t, err)
	got, err := svc.Get(f.ctx, a.ID, r.ID())
	require.NoError(t, err)
	h := got.History()
	require.Equal(t, old.ID, h[0].KeyID)
	require.Equal(t, "k2", h[len(h)-1].KeyID)
	require.NoError(t, cancellation.VerifyHistory(h, cfg.HistoryKeys...))

	// Without the old key, its events no longer verify: the request reads
	// as corrupt rather than as unchecked.
	cfg.HistoryKeys = cfg.HistoryKeys[:1]
	svc, err = cancellation.New(cfg)
	require.NoError(t, err)
	_, err = svc.Get(f.ctx, a.ID, r.ID())
	require.ErrorIs(t, err, cancellation.ErrCorrupt)
	require.True(t, errors.Is(err, cancellation.ErrCorrupt))
}

// TestAsStoredInto_IsAsStoredOverWhatDstHeld: AsStoredInto writes the
// request as stored over whatever dst held, leaving nothing of it: the
// result encodes as AsStored's does, holds the head only and has no new
// events, and the request dst was a copy of does not change.
func TestAsStoredInto_IsAsStoredOverWhatDstHeld(t *testing.T) {
	f := newFixture(t)
	r := f.confirm(f.start(f.personal("acct-into").ID))
	other := f.toReview(f.personal("acct-into-other").ID)
	otherBytes := mustMarshal(t, other)
	dst := other.Clone()
	r.AsStoredInto(dst)

	want, err := r.AsStored().MarshalBinary()
	require.NoError(t, err)
	got, err := dst.MarshalBinary()
	require.NoError(t, err)
	require.Equal(t, string(want), string(got))
	require.Empty(t, dst.NewEvents())
	require.Len(t, dst.History(), 1)
	require.Equal(t, r.HistoryHead(), dst.History()[0])

	// The request dst copied before is untouched by the write over dst.
	require.Equal(t, string(otherBytes), string(mustMarshal(t, other)))
}

func mustMarshal(t *testing.T, r *cancellation.Request) []byte {
	t.Helper()
	b, err := r.MarshalBinary()
	require.NoError(t, err)
	return b
}
