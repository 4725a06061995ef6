package cancellation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/accountkit/cancellation/ports"
)

// An outage is not a decision. A port that fails (a checker, the account
// directory) blocks what it guards, fail closed, but never ends an
// application: the call returns an UnavailableError, which matches
// ErrUnavailable, and the request stays where it was. Only a finding that a
// checker actually reported (an open order, an API key) rejects a request.

// ErrUnavailable: a port the operation needs, or the Store, failed or did
// not answer in time, so nothing was decided and nothing changed; try again
// later. See UnavailableError.
var ErrUnavailable = errors.New("cancellation: a dependency is unavailable; try again later")

// Finding codes. A finding whose checker failed carries
// FindingCheckerUnavailable, a summary and a "try again later" remedy, like
// every other blocked finding; its Error (the raw cause) is kept for
// reviewers and the log and left out of everything a customer sees.
const (
	// FindingCheckerUnavailable: the rule's checker failed, panicked, timed
	// out or answered something unreadable.
	FindingCheckerUnavailable = "checker_unavailable"
	// FindingNotApplicable: the host has no such concept and passed
	// NotApplicable for the rule's port.
	FindingNotApplicable = "not_applicable"
)

// DefaultAttentionAfter is how long a request may wait on a failing port
// (the end of a settlement period that cannot be checked, an effect that
// keeps failing) before it is flagged for a person, unless
// Config.AttentionAfter says otherwise.
const DefaultAttentionAfter = 24 * time.Hour

// UnavailableError says that an operation could not be carried out because
// a port failed; nothing was decided. errors.Is(err, ErrUnavailable) is
// true, and errors.Is also finds the port's own error (a
// context.DeadlineExceeded, say). Its text names what was unavailable,
// never the port's raw error, so it may be shown to a customer; the raw
// error goes to the log and to the reviewer's view of the findings.
type UnavailableError struct {
	// Op is what could not be done: "start", "approve", "read account"...
	Op string
	// Unavailable names the rules whose checkers failed, or the port
	// ("AccountDirectory", "Store") that did.
	Unavailable []string
	// Report is the customer-safe eligibility report when the failure was
	// a checker's: its unavailable findings carry
	// FindingCheckerUnavailable and a remedy, and no raw error.
	Report *Report
	// RetryAfter is a suggested wait before trying again.
	RetryAfter time.Duration
	cause      error
}

// DefaultRetryAfter is the UnavailableError.RetryAfter the Service
// suggests.
const DefaultRetryAfter = 30 * time.Second

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("cancellation: cannot %s now: %s unavailable; try again later", e.Op, strings.Join(e.Unavailable, ", "))
}

// Is reports whether target is ErrUnavailable.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// Unwrap returns the port's error, for errors.Is; never show its text to a
// customer.
func (e *UnavailableError) Unwrap() error { return e.cause }

// portUnavailable wraps a port's failure during op.
func portUnavailable(op, port string, err error) error {
	return &UnavailableError{Op: op, Unavailable: []string{port}, RetryAfter: DefaultRetryAfter, cause: err}
}

// unavailableFinding is the finding of a rule whose checker failed: the
// code, summary and remedy a customer sees, and the raw cause in Error.
func unavailableFinding(name string, note int, cause string) Finding {
	return Finding{Rule: name, Note: note, Outcome: OutcomeBlocked, Code: FindingCheckerUnavailable,
		Summary: "this could not be checked right now, so cancellation waits until it can be",
		Remedy:  &Remedy{Action: "try again later"},
		Error:   cause}
}

// Unavailable returns the findings whose checker failed.
func (r Report) Unavailable() []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Code == FindingCheckerUnavailable {
			out = append(out, f)
		}
	}
	return out
}

// decisive returns the blocked findings a checker actually reported:
// those that may reject a request.
func (r Report) decisive() []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Outcome == OutcomeBlocked && f.Code != FindingCheckerUnavailable {
			out = append(out, f)
		}
	}
	return out
}

// undecided reports whether r blocks only because checkers failed (or
// because nothing was checked).
func (r Report) undecided() bool {
	return r.Outcome == OutcomeBlocked && len(r.decisive()) == 0
}

// CustomerView returns a copy of r without the raw errors of failed
// checkers: what a customer may see. Their findings keep their code,
// summary and remedy.
func (r Report) CustomerView() Report {
	c := r
	c.Findings = append(make([]Finding, 0, len(r.Findings)), r.Findings...)
	return c.ownCustomerView()
}

// ownCustomerView is CustomerView for a report whose findings slice is the
// caller's own, to change in place (a report Evaluate just returned): the
// items and remedies, which a rule may share, are still copied.
func (r Report) ownCustomerView() Report {
	for i := range r.Findings {
		f := &r.Findings[i]
		f.Error = ""
		f.Items = slices.Clone(f.Items)
		if f.Remedy != nil {
			rem := *f.Remedy
			f.Remedy = &rem
		}
	}
	return r
}

// notEligible is the error of a blocked report at op: an UnavailableError
// when only failed checkers block it, a NotEligibleError otherwise, both
// with the customer-safe report.
func notEligible(op string, rep Report) error {
	safe := rep.CustomerView()
	if !rep.undecided() {
		return &NotEligibleError{Report: safe}
	}
	e := &UnavailableError{Op: op, Report: &safe, RetryAfter: DefaultRetryAfter}
	for _, f := range rep.Unavailable() {
		e.Unavailable = append(e.Unavailable, f.Rule)
		e.cause = errors.Join(e.cause, errors.New(f.Error))
	}
	if len(e.Unavailable) == 0 {
		e.Unavailable = []string{"eligibility rules"}
	}
	return e
}

// evaluate runs the rules for acct and logs the raw error of each checker
// that failed: the log and the reviewer's view are the only places it
// goes.
func (s *Service) evaluate(ctx context.Context, acct ports.Account, now time.Time) Report {
	rep := s.rules.Evaluate(ctx, acct, now)
	s.logUnavailable(ctx, acct, rep)
	return rep
}

// evaluateScratch is evaluate with the findings in buf, a buffer that
// later evaluations reuse once the caller has passed it to
// releaseFindings. Until then the report is the caller's to read; a
// request keeps it only through keepEligibility, which keeps findings of
// its own (most evaluations of a request find what the one before did,
// and then it keeps those).
func (s *Service) evaluateScratch(ctx context.Context, acct ports.Account, now time.Time) (rep Report, buf *[]Finding) {
	buf = scratchFindings.Get().(*[]Finding)
	rep = s.rules.evaluate(ctx, acct, now, *buf)
	s.logUnavailable(ctx, acct, rep)
	return rep, buf
}

// releaseFindings returns evaluateScratch's buffer for reuse.
func releaseFindings(buf *[]Finding) {
	clear((*buf)[:cap(*buf)]) // keeps nothing of the report alive
	scratchFindings.Put(buf)
}

// scratchFindings holds evaluateScratch's buffers: room for the default
// rules and a few of the host's.
var scratchFindings = sync.Pool{New: func() any { b := make([]Finding, 0, inlineRules); return &b }}

// logUnavailable logs the raw error of each checker that failed.
func (s *Service) logUnavailable(ctx context.Context, acct ports.Account, rep Report) {
	for _, f := range rep.Unavailable() {
		s.log.WarnContext(ctx, "cancellation: checker unavailable", "account", acct.ID, "rule", f.Rule, "error", f.Error)
	}
}

// Attention says why a request waits for a person: a port has failed for
// longer than Config.AttentionAfter (the end of its settlement period
// cannot be checked, or an effect keeps failing). The request is neither
// rejected nor closed for it; maintenance keeps retrying.
type Attention struct {
	// Since is when the failures began.
	Since time.Time `json:"since"`
	// FlaggedAt is when the request was flagged.
	FlaggedAt time.Time `json:"flagged_at"`
	// Reason says what keeps failing, with the last error (for staff).
	Reason string `json:"reason"`
}

// EventNeedsAttention is recorded once when a request is flagged for a
// person (see Attention).
const EventNeedsAttention EventType = "needs_attention"

// NeedsAttention returns why the request waits for a person, if it does.
func (r *Request) NeedsAttention() (Attention, bool) {
	if r.d.Attention == nil {
		return Attention{}, false
	}
	return *r.d.Attention, true
}

// flagAttention flags r for a person once its failures, begun at since,
// have lasted after; it reports whether it flagged it now.
func (r *Request) flagAttention(now, since time.Time, after time.Duration, reason string) bool {
	if r.d.Attention != nil || since.IsZero() || now.Sub(since) < after {
		return false
	}
	// The reason quotes a port's error, which may name the customer's
	// address: the hash-chained history cannot forget it, so it is left out.
	reason = scrubContacts(reason)
	r.d.Attention = &Attention{Since: since, FlaggedAt: now, Reason: reason}
	r.record(now, systemActor, EventNeedsAttention, map[string]string{"since": since.UTC().Format(time.RFC3339), "reason": reason})
	return true
}

// closingRetry is the state of a settlement or cooling-off end that could
// not be checked: retried with backoff from Since.
type closingRetry struct {
	Attempts int       `json:"attempts"`
	Since    time.Time `json:"since"`
	NextAt   time.Time `json:"next_at"`
	Last     string    `json:"last_error,omitempty"`
}

// closingDueAt is when the end of r's scheduled period may next be
// processed: its scheduled time, or the next retry after a port failure.
func (r *Request) closingDueAt() time.Time {
	t := r.d.ScheduledFor
	if c := r.d.ClosingRetry; c != nil && c.NextAt.After(t) {
		t = c.NextAt
	}
	return t
}

// deferClosing records that the end of the scheduled period could not be
// checked: it is retried after policy's delay, and flagged for a person
// once it has failed for attentionAfter. It reports whether it flagged.
func (r *Request) deferClosing(now time.Time, cause error, policy RetryPolicy, attentionAfter time.Duration) bool {
	c := r.d.ClosingRetry
	if c == nil {
		c = &closingRetry{Since: now}
		r.d.ClosingRetry = c
	}
	c.Attempts++
	c.NextAt = now.Add(policy.delay(c.Attempts))
	c.Last = cause.Error()
	return r.flagAttention(now, c.Since, attentionAfter, "the end of the scheduled period could not be checked: "+c.Last)
}

// customerFindings returns copies of fs without raw errors.
func customerFindings(fs []Finding) []Finding {
	return Report{Findings: fs}.CustomerView().Findings
}

// deliveryError is a failed code delivery: it matches ErrDelivery and the
// sender's error with errors.Is, and its text names the masked phone only,
// never the sender's error, which goes to the log.
type deliveryError struct {
	to    string
	cause error
}

func (e *deliveryError) Error() string {
	return fmt.Sprintf("%v: sending code to %s", ErrDelivery, e.to)
}

func (e *deliveryError) Unwrap() []error { return []error{ErrDelivery, e.cause} }
