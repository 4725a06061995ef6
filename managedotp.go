package cancellation

import (
	"context"
	"fmt"
	"time"

	"github.com/accountkit/cancellation/ports"
)

// checkCodeDelivery requires exactly one way of sending codes: the
// OTPSender, with codes the library draws, or a managed verification
// service.
func checkCodeDelivery(cfg Config) error {
	switch {
	case cfg.OTP == nil && cfg.Verifier == nil:
		return invalid("config", "OTP is required (or Verifier, a managed verification service)")
	case cfg.OTP != nil && cfg.Verifier != nil:
		return invalid("config", "set OTP or Verifier, not both: the codes are sent one way")
	}
	return nil
}

// drawCode draws the code the OTPSender will send; with a managed
// verification service there is none, since the service draws it.
func (s *Service) drawCode() (string, error) {
	if s.cfg.Verifier != nil {
		return "", nil
	}
	return newCode(s.otp.CodeLength), nil
}

// issueCode records a new code on r after the send limits allowed it: its
// keyed hash, or, with a managed service, only that one is pending.
func (s *Service) issueCode(r *Request, now time.Time, code string) error {
	if s.cfg.Verifier == nil {
		return r.issueCode(now, s.otp, code)
	}
	return r.startManaged(now, s.otp)
}

// deliverCode hands msg to the OTPSender, or asks the managed service to
// send a code of its own (msg.Code is then empty).
func (s *Service) deliverCode(ctx context.Context, msg ports.OTPMessage) error {
	if s.cfg.Verifier == nil {
		return s.cfg.OTP.SendCode(ctx, msg)
	}
	return s.cfg.Verifier.StartVerification(ctx, ports.VerificationStart{
		Phone: msg.Phone, Locale: msg.Locale, IdempotencyKey: msg.IdempotencyKey,
	})
}

// startManaged records that the managed service is asked for a code,
// after the same lock, cooldown and daily cap checks as issueCode. Nothing
// of the code is stored: the service holds it.
func (r *Request) startManaged(now time.Time, p VerificationPolicy) error {
	if err := r.allowSend(now, p); err != nil {
		return err
	}
	o := r.ownOTP()
	o.Serial++
	o.Hash, o.KeyID, o.Managed = "", "", true
	o.ExpiresAt = now.Add(p.TTL)
	o.Attempts = 0
	o.LastSentAt = now
	o.SentOnDay++
	r.record(now, Actor{Kind: ActorCustomer, ID: string(r.d.Account)}, EventCodeSent, map[string]string{
		"serial": fmt.Sprint(o.Serial), "expires_at": o.ExpiresAt.UTC().Format(time.RFC3339), "managed": "true",
	})
	return nil
}

// verifyManaged checks a code with the managed verification service. The
// attempt is counted and stored before the service is asked, so that
// concurrent guesses cannot ask it more often than MaxAttempts; the
// outcome is recorded after: approved moves the request to
// phone_verified, denied counts as a wrong code (locking at the limit),
// expired withdraws the pending code, and a failure of the service gives
// the attempt back and returns the service's error, wrapped.
func (s *Service) verifyManaged(ctx context.Context, account ports.AccountID, id, code string) (*Request, error) {
	acct, err := s.requestAccount(ctx, account, id, "verify the phone of", StatePhoneVerified)
	if err != nil {
		return nil, err
	}
	var serial, attempt int
	if _, err := s.mutate(ctx, customer(account), id, func(r *Request, ec effectCtx) error {
		var err error
		serial, attempt, err = r.reserveCheck(ec.now, s.otp)
		return err
	}); err != nil {
		return nil, err
	}
	outcome, cerr := s.cfg.Verifier.CheckVerification(ctx, ports.VerificationCheck{
		Phone: acct.RecoveryPhone, Code: code,
		IdempotencyKey: fmt.Sprintf("%s/otp/%d/check/%d", id, serial, attempt),
	})
	// The outcome is recorded even if the caller has gone: a counted
	// attempt must not be lost, nor a refund.
	return s.mutate(noPrecondition(context.WithoutCancel(ctx)), customer(account), id, func(r *Request, ec effectCtx) error {
		changed, err := r.managedOutcome(ec.now, s.otp, serial, outcome, cerr)
		if changed && err != nil {
			return keep(err)
		}
		return err
	})
}

// reserveCheck counts an attempt at the pending managed code before the
// service checks it, and returns the code's serial and the attempt's
// number.
func (r *Request) reserveCheck(now time.Time, p VerificationPolicy) (serial, attempt int, err error) {
	if r.d.State != StateConfirmed {
		return 0, 0, r.refuse("verify the phone of", StatePhoneVerified, "the phone is verified after confirmation")
	}
	o := r.otp()
	switch {
	case now.Before(o.LockedUntil):
		return 0, 0, &CodeError{Err: ErrCodeLocked, RetryAt: o.LockedUntil}
	case !o.Managed || !now.Before(o.ExpiresAt):
		return 0, 0, &CodeError{Err: ErrCodeExpired}
	case o.Attempts >= p.MaxAttempts:
		// Every attempt is taken by checks still in flight; if they are
		// wrong, verification locks.
		return 0, 0, &CodeError{Err: ErrCodeLocked, RetryAt: now.Add(p.LockFor)}
	}
	o = r.ownOTP()
	o.Attempts++
	return o.Serial, o.Attempts, nil
}

// managedOutcome records the service's answer to the check of the code
// with serial. changed reports whether r changed (and must be stored even
// with an error).
func (r *Request) managedOutcome(now time.Time, p VerificationPolicy, serial int, outcome ports.VerificationOutcome, cerr error) (changed bool, err error) {
	if r.d.State != StateConfirmed {
		return false, r.refuse("verify the phone of", StatePhoneVerified, "the phone is verified after confirmation")
	}
	o := r.otp()
	if cerr == nil && outcome != ports.VerificationApproved && outcome != ports.VerificationDenied && outcome != ports.VerificationExpired {
		cerr = fmt.Errorf("unknown outcome %q", outcome)
	}
	if o.Serial != serial || !o.Managed {
		// The code was replaced, withdrawn or locked meanwhile.
		switch {
		case cerr != nil:
			return false, fmt.Errorf("cancellation: checking the code with the verification service: %w", cerr)
		case now.Before(o.LockedUntil): // another guess locked it
			return false, &CodeError{Err: ErrCodeLocked, RetryAt: o.LockedUntil}
		}
		return false, &CodeError{Err: ErrCodeExpired}
	}
	o = r.ownOTP() // the outcomes below change it (all but a failed check with no attempt to give back)
	actor := Actor{Kind: ActorCustomer, ID: string(r.d.Account)}
	switch {
	case cerr != nil:
		o.Attempts = max(o.Attempts-1, 0) // the check told nothing: give the attempt back
		return true, fmt.Errorf("cancellation: checking the code with the verification service: %w", cerr)
	case outcome == ports.VerificationApproved:
		*o = otpState{Serial: o.Serial, Day: o.Day, SentOnDay: o.SentOnDay, LastSentAt: o.LastSentAt}
		return true, r.move("verify the phone of", StatePhoneVerified, now, actor, EventPhoneVerified, map[string]string{"managed": "true"})
	case outcome == ports.VerificationExpired:
		o.Managed, o.ExpiresAt = false, time.Time{}
		r.record(now, actor, EventCodeFailed, map[string]string{"managed": "expired at the service"})
		return true, &CodeError{Err: ErrCodeExpired}
	}
	left := p.MaxAttempts - o.Attempts
	if left <= 0 {
		o.Managed, o.ExpiresAt = false, time.Time{}
		o.LockedUntil = now.Add(p.LockFor)
		r.record(now, actor, EventCodeLocked, map[string]string{"locked_until": o.LockedUntil.UTC().Format(time.RFC3339)})
		return true, &CodeError{Err: ErrCodeLocked, RetryAt: o.LockedUntil}
	}
	r.record(now, actor, EventCodeFailed, map[string]string{"attempts_left": fmt.Sprint(left)})
	return true, &CodeError{Err: ErrCodeMismatch, AttemptsLeft: left}
}
