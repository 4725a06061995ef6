package cancellation

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinel errors. Every refusal of the library wraps one of these (or
// ErrDocumentRejected), so callers can match them with errors.Is; typed
// errors below carry the details and are matched with errors.As. A failure
// of a port or of the Store is returned wrapped with what the library was
// doing, so errors.Is still finds the port's own error (ports.ErrNotFound,
// context.DeadlineExceeded, ...).
var (
	// ErrInvalidInput: an argument is missing or malformed. See ValidationError.
	ErrInvalidInput = errors.New("cancellation: invalid input")
	// ErrNotFound: no such request, or the request belongs to another
	// account (callers never learn which).
	ErrNotFound = errors.New("cancellation: request not found")
	// ErrUnknownAccount: the AccountDirectory does not know the account.
	ErrUnknownAccount = errors.New("cancellation: unknown account")
	// ErrAccountClosed: the account is already closed.
	ErrAccountClosed = errors.New("cancellation: account already closed")
	// ErrActiveRequestExists: the account already has a request in progress.
	ErrActiveRequestExists = errors.New("cancellation: account already has an active request")
	// ErrInvalidTransition: the request's state does not allow the operation.
	// See TransitionError.
	ErrInvalidTransition = errors.New("cancellation: invalid state transition")
	// ErrConflict: the request changed since it was read (optimistic
	// concurrency). The Service retries internally; a Store returns it.
	ErrConflict = errors.New("cancellation: request was modified concurrently")
	// ErrNotEligible: a precondition blocks cancellation. See NotEligibleError.
	ErrNotEligible = errors.New("cancellation: account not eligible")
	// ErrConsentRequired: the confirmation lacks an acknowledgement,
	// attestation or consent, or a consent no longer covers current
	// findings. See ConsentRequiredError.
	ErrConsentRequired = errors.New("cancellation: consent required")
	// ErrStaleNotes: the confirmation names a notes version other than the
	// current one: the customer must read the current notes.
	ErrStaleNotes = errors.New("cancellation: notes version is not current")
	// ErrNoRecoveryPhone: the account has no recovery phone to verify.
	ErrNoRecoveryPhone = errors.New("cancellation: account has no recovery phone")
	// ErrCodeMismatch: the one-time code is wrong. See CodeError.
	ErrCodeMismatch = errors.New("cancellation: wrong verification code")
	// ErrCodeExpired: no code is pending, or it has expired or was used up.
	ErrCodeExpired = errors.New("cancellation: verification code expired or not sent")
	// ErrCodeLocked: too many wrong codes; verification is locked for a while.
	ErrCodeLocked = errors.New("cancellation: verification locked after too many attempts")
	// ErrRateLimited: a code was sent too recently, or the daily cap is reached.
	ErrRateLimited = errors.New("cancellation: too many verification codes requested")
	// ErrDelivery: a port failed to deliver a code. The code is withdrawn,
	// but the attempt counts toward the cooldown and the daily cap.
	ErrDelivery = errors.New("cancellation: delivery failed")
	// ErrDocumentsNotRequired: the account is not identity-verified, so it
	// uploads no documents (seed step 4).
	ErrDocumentsNotRequired = errors.New("cancellation: documents are not required for this account")
	// ErrNotAsked: the request was returned to the customer for other
	// documents: only the kinds the reviewer asked for are uploaded again.
	ErrNotAsked = errors.New("cancellation: the reviewer did not ask for this document")
	// ErrRoundsExhausted: the request was returned to the customer as
	// often as Config.MaxReturns allows; the reviewer approves or rejects.
	ErrRoundsExhausted = errors.New("cancellation: no more rounds of asking for more")
	// ErrFourEyes: the staff member who started a staff closure may not
	// approve it; a second, different staff member must.
	ErrFourEyes = errors.New("cancellation: a staff closure needs a second staff member's approval")
	// ErrWrongDocumentKind: the document kind does not fit the account kind.
	ErrWrongDocumentKind = errors.New("cancellation: wrong document kind for this account")
	// ErrSelfReview: a reviewer tried to decide their own account's request.
	ErrSelfReview = errors.New("cancellation: reviewers cannot decide their own account's request")
	// ErrForbidden: the staff member is unknown to the StaffDirectory, or
	// lacks the role the operation needs.
	ErrForbidden = errors.New("cancellation: staff member may not do this")
	// ErrCorrupt: a stored request failed validation (unknown state, broken
	// history chain, malformed data).
	ErrCorrupt = errors.New("cancellation: stored request is corrupt")
)

// ValidationError names the argument that was wrong and why.
type ValidationError struct {
	Field   string
	Problem string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("cancellation: invalid %s: %s", e.Field, e.Problem)
}

// Is reports whether target is ErrInvalidInput.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalidInput }

func invalid(field, problem string) error { return &ValidationError{Field: field, Problem: problem} }

// TransitionError describes a refused state change. errors.Is(err,
// ErrInvalidTransition) is true.
type TransitionError struct {
	Op   string // the operation attempted, e.g. "submit"
	From State  // the request's state
	To   State  // the state the operation would lead to, if any
	// Reason says which guard failed, when the table allowed the move.
	Reason string
}

func (e *TransitionError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "cancellation: cannot %s a request in state %q", e.Op, e.From)
	if e.To != "" {
		fmt.Fprintf(&b, " (to %q)", e.To)
	}
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	}
	return b.String()
}

// Is reports whether target is ErrInvalidTransition.
func (e *TransitionError) Is(target error) bool { return target == ErrInvalidTransition }

// NotEligibleError carries the eligibility report whose blocked findings
// stop the cancellation, with their remedies. errors.Is(err,
// ErrNotEligible) is true. The report is the customer's
// (Report.CustomerView): no raw error of a failed checker. A report that
// blocks only because checkers failed is an UnavailableError instead.
type NotEligibleError struct {
	Report Report
}

func (e *NotEligibleError) Error() string {
	var names []string
	for _, f := range e.Report.Blocked() {
		names = append(names, f.Rule)
	}
	return "cancellation: account not eligible: blocked by " + strings.Join(names, ", ")
}

// Is reports whether target is ErrNotEligible.
func (e *NotEligibleError) Is(target error) bool { return target == ErrNotEligible }

// ConsentRequiredError lists what the customer must still acknowledge:
// missing attestations and the findings whose consent is missing or no
// longer matches their items. errors.Is(err, ErrConsentRequired) is true.
type ConsentRequiredError struct {
	// Missing names missing acknowledgements and attestations, e.g.
	// "irreversible", "backup".
	Missing []string
	// Findings are the needs_consent findings not covered by a consent,
	// with their current items and fingerprints.
	Findings []Finding
}

func (e *ConsentRequiredError) Error() string {
	parts := append([]string(nil), e.Missing...)
	for _, f := range e.Findings {
		parts = append(parts, "consent to "+f.Rule)
	}
	return "cancellation: consent required: " + strings.Join(parts, ", ")
}

// Is reports whether target is ErrConsentRequired.
func (e *ConsentRequiredError) Is(target error) bool { return target == ErrConsentRequired }

// CodeError details a refused verification code or code request. It wraps
// one of ErrCodeMismatch, ErrCodeExpired, ErrCodeLocked or ErrRateLimited.
type CodeError struct {
	Err error
	// AttemptsLeft is the number of tries left for the current code, for
	// ErrCodeMismatch.
	AttemptsLeft int
	// RetryAt is when a new code may be requested or verification resumes,
	// for ErrCodeLocked and ErrRateLimited.
	RetryAt time.Time
}

func (e *CodeError) Error() string {
	switch {
	case errors.Is(e.Err, ErrCodeMismatch):
		return fmt.Sprintf("%v (%d attempts left)", e.Err, e.AttemptsLeft)
	case !e.RetryAt.IsZero():
		return fmt.Sprintf("%v (retry at %s)", e.Err, e.RetryAt.UTC().Format(time.RFC3339))
	}
	return e.Err.Error()
}

// Unwrap returns the sentinel.
func (e *CodeError) Unwrap() error { return e.Err }
