package cancellation_test

import (
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/mock/gomock"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/ports"
	"github.com/accountkit/cancellation/ports/mocks"
)

// withManaged replaces the OTPSender with a managed verification service.
func withManaged(v ports.VerificationService) option {
	return func(c *cancellation.Config) { c.OTP, c.Verifier = nil, v }
}

// withPolicy adjusts the verification policy.
func withPolicy(adjust func(*cancellation.VerificationPolicy)) option {
	return func(c *cancellation.Config) { adjust(&c.Verification) }
}

// confirmedManaged returns a confirmed request of a new personal account.
func (f *fixture) confirmedManaged(id ports.AccountID) *cancellation.Request {
	f.t.Helper()
	f.personal(id)
	return f.confirm(f.start(id))
}

// requireCodeNotStored fails when the stored request keeps anything of
// code: a hash of it, or the code in any value of its history.
func (f *fixture) requireCodeNotStored(id, code string) {
	f.t.Helper()
	b, err := f.stored(id).MarshalBinary()
	require.NoError(f.t, err)
	var d struct {
		OTP map[string]any `json:"otp"`
	}
	require.NoError(f.t, json.Unmarshal(b, &d))
	require.NotContains(f.t, d.OTP, "hash", "no hash of the code is stored")
	for k, v := range d.OTP {
		require.NotEqual(f.t, code, v, "otp.%s", k)
	}
	for _, e := range f.history(id) {
		for k, v := range e.Data {
			require.NotContains(f.t, v, code, "event %d %s: %s", e.Seq, e.Type, k)
		}
	}
}

func TestManagedVerificationApprovesAndTheLibraryNeverStoresTheCode(t *testing.T) {
	v := memory.NewVerifier()
	f := setup(t, withManaged(v))
	r := f.confirmedManaged("acct-managed")
	sent, err := f.svc.SendCode(f.ctx, r.Account(), r.ID())
	require.NoError(t, err)
	require.Equal(t, cancellation.MaskPhone(phoneFor("acct-managed")), sent.MaskedPhone)
	require.Equal(t, t0.Add(5*time.Minute), sent.ExpiresAt, "the library's code lifetime")
	require.Zero(t, f.kit.OTP.Attempts(), "no OTPSender is used")
	code, ok := v.LastCode(phoneFor("acct-managed"))
	require.True(t, ok, "the service sent the code to the recovery phone on file")
	f.requireCodeNotStored(r.ID(), code)
	require.False(t, f.stored(r.ID()).CodeExpiresAt().IsZero(), "a code is pending")

	r, err = f.svc.VerifyCode(f.ctx, r.Account(), r.ID(), code)
	require.NoError(t, err)
	require.Equal(t, cancellation.StatePhoneVerified, r.State())
	require.Equal(t, 1, v.Checks())
	f.requireCodeNotStored(r.ID(), code)
	require.Equal(t, cancellation.StateInReview, f.submit(r).State())
}

func TestManagedVerificationAttemptLimitOnOurSide(t *testing.T) {
	svc := mocks.NewMockVerificationService(mockController(t))
	f := setup(t, withManaged(svc), withPolicy(func(p *cancellation.VerificationPolicy) { p.MaxAttempts = 3 }))
	r := f.confirmedManaged("acct-limit")
	svc.EXPECT().StartVerification(gomock.Any(), ports.VerificationStart{
		Phone: phoneFor("acct-limit"), Locale: "en", IdempotencyKey: r.ID() + "/otp/1",
	}).Return(nil).Times(1)
	// The service would approve no guess; the library asks it 3 times at
	// most, however often the customer tries.
	svc.EXPECT().CheckVerification(gomock.Any(), gomock.Any()).Return(ports.VerificationDenied, nil).Times(3)
	_, err := f.svc.SendCode(f.ctx, r.Account(), r.ID())
	require.NoError(t, err)

	var ce *cancellation.CodeError
	for left := 2; left >= 1; left-- {
		_, err = f.svc.VerifyCode(f.ctx, r.Account(), r.ID(), "111111")
		require.ErrorAs(t, err, &ce)
		require.ErrorIs(t, err, cancellation.ErrCodeMismatch)
		require.Equal(t, left, ce.AttemptsLeft)
	}
	_, err = f.svc.VerifyCode(f.ctx, r.Account(), r.ID(), "111111")
	require.ErrorIs(t, err, cancellation.ErrCodeLocked, "the third wrong code locks")
	_, err = f.svc.VerifyCode(f.ctx, r.Account(), r.ID(), "222222")
	require.ErrorIs(t, err, cancellation.ErrCodeLocked, "locked: the service is not asked")
	_, err = f.svc.SendCode(f.ctx, r.Account(), r.ID())
	require.ErrorIs(t, err, cancellation.ErrCodeLocked, "and no new code is started")
}

func TestManagedVerificationConcurrentGuessesBoundedByTheAttemptLimit(t *testing.T) {
	v := memory.NewVerifier()
	f := setup(t, withManaged(v), withPolicy(func(p *cancellation.VerificationPolicy) { p.MaxAttempts = 3 }))
	r := f.confirmedManaged("acct-burst")
	_, err := f.svc.SendCode(f.ctx, r.Account(), r.ID())
	require.NoError(t, err)
	code, _ := v.LastCode(phoneFor("acct-burst"))
	guess := "000000"
	if code == guess {
		guess = "000001"
	}
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			_, err := f.svc.VerifyCode(f.ctx, r.Account(), r.ID(), guess)
			if !errors.Is(err, cancellation.ErrCodeMismatch) && !errors.Is(err, cancellation.ErrCodeLocked) {
				t.Errorf("a wrong guess: %v", err)
			}
		})
	}
	wg.Wait()
	require.LessOrEqual(t, v.Checks(), 3, "never more checks than MaxAttempts")
	_, err = f.svc.VerifyCode(f.ctx, r.Account(), r.ID(), code)
	require.ErrorIs(t, err, cancellation.ErrCodeLocked)
}

func TestManagedVerificationResendCooldownAndDailyCapOnOurSide(t *testing.T) {
	v := memory.NewVerifier()
	f := setup(t, withManaged(v), withPolicy(func(p *cancellation.VerificationPolicy) {
		p.ResendCooldown, p.DailyCap = time.Minute, 2
	}))
	r := f.confirmedManaged("acct-cool")
	_, err := f.svc.SendCode(f.ctx, r.Account(), r.ID())
	require.NoError(t, err)
	_, err = f.svc.SendCode(f.ctx, r.Account(), r.ID())
	require.ErrorIs(t, err, cancellation.ErrRateLimited, "within the cooldown")
	require.Equal(t, 1, v.Starts())

	f.clock.Advance(time.Minute)
	_, err = f.svc.SendCode(f.ctx, r.Account(), r.ID())
	require.NoError(t, err)
	f.clock.Advance(time.Minute)
	_, err = f.svc.SendCode(f.ctx, r.Account(), r.ID())
	var ce *cancellation.CodeError
	require.ErrorAs(t, err, &ce)
	require.ErrorIs(t, err, cancellation.ErrRateLimited, "the daily cap")
	require.Equal(t, t0.Truncate(24*time.Hour).AddDate(0, 0, 1), ce.RetryAt)
	require.Equal(t, 2, v.Starts(), "the service was asked for two codes only")
}

func TestManagedVerificationLifetimeOnOurSide(t *testing.T) {
	v := memory.NewVerifier()
	f := setup(t, withManaged(v))
	r := f.confirmedManaged("acct-ttl")
	_, err := f.svc.SendCode(f.ctx, r.Account(), r.ID())
	require.NoError(t, err)
	code, _ := v.LastCode(phoneFor("acct-ttl"))
	f.clock.Advance(5 * time.Minute)
	_, err = f.svc.VerifyCode(f.ctx, r.Account(), r.ID(), code)
	require.ErrorIs(t, err, cancellation.ErrCodeExpired, "past the policy's TTL, though the service would approve")
	require.Zero(t, v.Checks())
}

func TestManagedVerificationServiceFailures(t *testing.T) {
	t.Run("StartFailsCountsTowardTheCooldown", func(t *testing.T) {
		v := memory.NewVerifier()
		f := setup(t, withManaged(v))
		r := f.confirmedManaged("acct-sfail")
		v.FailNext(1, nil)
		_, err := f.svc.SendCode(f.ctx, r.Account(), r.ID())
		require.ErrorIs(t, err, cancellation.ErrDelivery)
		require.ErrorIs(t, err, memory.ErrInjected)
		require.True(t, f.stored(r.ID()).CodeExpiresAt().IsZero(), "no code is pending")
		_, err = f.svc.SendCode(f.ctx, r.Account(), r.ID())
		require.ErrorIs(t, err, cancellation.ErrRateLimited)
	})
	t.Run("CheckFailsGivesTheAttemptBack", func(t *testing.T) {
		v := memory.NewVerifier()
		f := setup(t, withManaged(v), withPolicy(func(p *cancellation.VerificationPolicy) { p.MaxAttempts = 3 }))
		r := f.confirmedManaged("acct-cfail")
		_, err := f.svc.SendCode(f.ctx, r.Account(), r.ID())
		require.NoError(t, err)
		code, _ := v.LastCode(phoneFor("acct-cfail"))
		v.FailNext(1, nil)
		_, err = f.svc.VerifyCode(f.ctx, r.Account(), r.ID(), code)
		require.ErrorIs(t, err, memory.ErrInjected)
		var ce *cancellation.CodeError
		require.False(t, errors.As(err, &ce), "an outage is not a wrong code")
		wrong := "000000"
		if code == wrong {
			wrong = "000001"
		}
		_, err = f.svc.VerifyCode(f.ctx, r.Account(), r.ID(), wrong)
		require.ErrorAs(t, err, &ce)
		require.Equal(t, 2, ce.AttemptsLeft, "the failed check cost no attempt")
		r, err = f.svc.VerifyCode(f.ctx, r.Account(), r.ID(), code)
		require.NoError(t, err)
		require.Equal(t, cancellation.StatePhoneVerified, r.State())
	})
	t.Run("ExpiredAtTheService", func(t *testing.T) {
		svc := mocks.NewMockVerificationService(mockController(t))
		svc.EXPECT().StartVerification(gomock.Any(), gomock.Any()).Return(nil)
		svc.EXPECT().CheckVerification(gomock.Any(), gomock.Any()).Return(ports.VerificationExpired, nil)
		f := setup(t, withManaged(svc))
		r := f.confirmedManaged("acct-sexp")
		_, err := f.svc.SendCode(f.ctx, r.Account(), r.ID())
		require.NoError(t, err)
		_, err = f.svc.VerifyCode(f.ctx, r.Account(), r.ID(), "123456")
		require.ErrorIs(t, err, cancellation.ErrCodeExpired)
		require.True(t, f.stored(r.ID()).CodeExpiresAt().IsZero(), "the pending code is withdrawn")
	})
}

func TestManagedVerificationConfigNeedsExactlyOneWay(t *testing.T) {
	t.Parallel()
	cfg := memory.NewKit(t0).Config()
	cfg.Verifier = memory.NewVerifier()
	_, err := cancellation.New(cfg)
	require.ErrorIs(t, err, cancellation.ErrInvalidInput)
	require.ErrorContains(t, err, "not both")
	cfg.OTP, cfg.Verifier = nil, nil
	_, err = cancellation.New(cfg)
	require.ErrorContains(t, err, "OTP is required (or Verifier")
}
