package ports

//go:generate go tool mockgen -typed -destination=mocks/verification.go -package=mocks . VerificationService

import "context"

// VerificationStart asks a managed verification service to send a
// one-time code.
type VerificationStart struct {
	// Phone is the recovery phone on file, in E.164 form; the workflow
	// never starts a verification to a number supplied by the caller.
	Phone  string
	Locale string
	// IdempotencyKey is unique per code the workflow asks for; a retried
	// start carries the same key.
	IdempotencyKey string
}

// VerificationCheck asks a managed verification service whether Code is
// the code it sent to Phone.
type VerificationCheck struct {
	Phone string
	// Code is what the customer typed: decimal digits of the length the
	// workflow's VerificationPolicy names.
	Code string
	// IdempotencyKey is unique per check the workflow makes (the code's
	// start key, then "/check/" and the attempt's number).
	IdempotencyKey string
}

// VerificationOutcome is the answer of a managed verification service to a
// check.
type VerificationOutcome string

// Verification outcomes.
const (
	// VerificationApproved: the code is the one sent; the service may
	// consider the verification used up from then on.
	VerificationApproved VerificationOutcome = "approved"
	// VerificationDenied: the code is wrong; the pending code stays valid.
	VerificationDenied VerificationOutcome = "denied"
	// VerificationExpired: no code is pending for the phone: it expired,
	// was used up or replaced, or was never sent.
	VerificationExpired VerificationOutcome = "expired"
)

// VerificationService is a managed verification service (as SMS
// verification APIs offer): it draws the one-time code, sends it and
// checks it, so the workflow never sees or stores the code sent. It is
// the alternative to OTPSender, chosen in the workflow's Config; the
// workflow still applies its own attempt limit, resend cooldown, daily cap
// and code lifetime before it calls the service.
//
// StartVerification returns nil once the code is accepted for delivery. A
// start repeated with the same IdempotencyKey must not send a second code.
// CheckVerification returns the outcome, and an error only when it cannot
// tell (the service failed): a wrong code is VerificationDenied, not an
// error. Both must be safe for concurrent use and return an error
// (normally ctx.Err()) when ctx is done.
type VerificationService interface {
	StartVerification(ctx context.Context, v VerificationStart) error
	CheckVerification(ctx context.Context, c VerificationCheck) (VerificationOutcome, error)
}
