package cancellation_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
)

// TestSecurity_EmptyAccountActsOnNothing: a caller without an account (an
// unauthenticated principal mapped to "") cannot read or change anyone's
// request.
func TestSecurity_EmptyAccountActsOnNothing(t *testing.T) {
	f := setup(t)
	victim := f.confirm(f.start(f.personal("acct-victim").ID))
	f.sendCode(victim)
	before := f.storedJSON(victim.ID())

	_, err := f.svc.VerifyCode(f.ctx, "", victim.ID(), "000000")
	require.ErrorIs(t, err, cancellation.ErrInvalidInput)
	_, err = f.svc.Withdraw(f.ctx, "", victim.ID())
	require.ErrorIs(t, err, cancellation.ErrInvalidInput)
	_, err = f.svc.Get(f.ctx, "", victim.ID())
	require.ErrorIs(t, err, cancellation.ErrInvalidInput)
	_, err = f.svc.Withdraw(f.ctx, "acct-someone-else", victim.ID())
	require.ErrorIs(t, err, cancellation.ErrNotFound, "another account sees nothing")
	f.requireUnchanged(victim.ID(), before)
}

// TestSecurity_CodeLimitsSurviveWithdrawAndRestart: the cooldown, the daily
// cap and the lock belong to the account, so withdrawing and starting again
// neither sends more codes nor allows more guesses.
func TestSecurity_CodeLimitsSurviveWithdrawAndRestart(t *testing.T) {
	f := setup(t)
	a := f.personal("acct-restart")
	restart := func(r *cancellation.Request) *cancellation.Request {
		t.Helper()
		_, err := f.svc.Withdraw(f.ctx, a.ID, r.ID())
		require.NoError(t, err)
		return f.confirm(f.start(a.ID))
	}

	r := f.confirm(f.start(a.ID))
	f.sendCode(r)
	r = restart(r)
	_, err := f.svc.SendCode(f.ctx, a.ID, r.ID())
	require.ErrorIs(t, err, cancellation.ErrRateLimited, "the cooldown carries over")

	// Daily cap: 10 codes a day across any number of applications.
	sent := 1
	for range 20 {
		f.clock.Advance(time.Minute)
		if _, err := f.svc.SendCode(f.ctx, a.ID, r.ID()); err != nil {
			require.ErrorIs(t, err, cancellation.ErrRateLimited)
			break
		}
		sent++
		r = restart(r)
	}
	require.Equal(t, 10, sent, "the daily cap counts every application of the account")

	// Lock: five wrong guesses lock the account's verification, and a new
	// application inherits the lock.
	f.clock.Advance(24 * time.Hour)
	code := f.sendCode(r)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for range 5 {
		_, err = f.svc.VerifyCode(f.ctx, a.ID, r.ID(), wrong)
	}
	require.ErrorIs(t, err, cancellation.ErrCodeLocked)
	r = restart(r)
	f.clock.Advance(2 * time.Minute)
	_, err = f.svc.SendCode(f.ctx, a.ID, r.ID())
	require.ErrorIs(t, err, cancellation.ErrCodeLocked, "the lock carries over")
	require.Len(t, f.kit.OTP.Sent(), 11, "no code was sent while limited or locked")
}

// TestSecurity_CodeFromAnotherKeyIsExpiredNotWrong: a code issued by a
// replica with another key reads as expired, and uses up no attempt.
func TestSecurity_CodeFromAnotherKeyIsExpiredNotWrong(t *testing.T) {
	f := setup(t, func(c *cancellation.Config) { c.Verification.Key = []byte("key one") })
	r := f.confirm(f.start(f.personal("acct-keys").ID))
	code := f.sendCode(r)

	cfg := f.cfg
	cfg.Verification.Key = []byte("key two")
	other, err := cancellation.New(cfg)
	require.NoError(t, err)
	for range 6 {
		_, err = other.VerifyCode(f.ctx, r.Account(), r.ID(), code)
		require.ErrorIs(t, err, cancellation.ErrCodeExpired)
	}
	r, err = f.svc.VerifyCode(f.ctx, r.Account(), r.ID(), code)
	require.NoError(t, err, "the right key still verifies: no attempt was used up")
	require.Equal(t, cancellation.StatePhoneVerified, r.State())
}

// TestNew_RefusesAmbiguousConfig: rule names must be unique (consents name
// rules) and host notes need a version.
func TestNew_RefusesAmbiguousConfig(t *testing.T) {
	f := setup(t)
	cfg := f.cfg
	cfg.ExtraRules = []cancellation.Rule{cancellation.RuleFunc{RuleName: cancellation.RuleAPIKeys}}
	_, err := cancellation.New(cfg)
	require.ErrorIs(t, err, cancellation.ErrInvalidInput)
	require.ErrorContains(t, err, `two rules are named "api_keys"`)

	cfg = f.cfg
	cfg.Notes = &cancellation.Notes{Title: "hand-built", Items: []cancellation.Note{{Number: 1, Text: "x"}}}
	_, err = cancellation.New(cfg)
	require.ErrorContains(t, err, "NewNotes")

	notes := cancellation.NewNotes("Ours", "Intro", "one", "two")
	cfg.Notes = &notes
	svc, err := cancellation.New(cfg)
	require.NoError(t, err)
	shown := svc.Notes()
	shown.Items[0].Text = "changed by the caller"
	require.Equal(t, "one", svc.Notes().Items[0].Text, "callers get a copy")
}
