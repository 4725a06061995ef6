package cancellation

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/accountkit/cancellation/ports"
)

// Erasure deadlines. GDPR Art. 12(3) gives the platform one month from a
// request to act on it, extendable by two further months where necessary,
// the customer being told of the extension and its reasons within the
// first month. Each request carries that deadline (Request.ErasureDueAt)
// from the moment it starts; it is met once the request is decided
// (approved, and scheduled or closing, told to the customer) or ends
// (cancelled, rejected, withdrawn or expired). Maintenance flags, once, a
// request still undecided past it (EventErasureOverdue, MaintenanceReport.ErasureOverdue,
// HookErasureOverdue); the review queue shows it beside the review's due
// date, and a review is never due after it, so that the queue's order by
// due date puts the requests past their erasure deadline first.

// MaxErasureExtension is the longest extension of an erasure deadline, in
// months (Art. 12(3)).
const MaxErasureExtension = 2

// Event types of the erasure deadline.
const (
	// EventErasureExtended: staff extended the deadline; Data has
	// "months", "due_at" and "reason".
	EventErasureExtended EventType = "erasure_extended"
	// EventErasureOverdue: the request is still undecided past its deadline.
	EventErasureOverdue EventType = "erasure_overdue"
)

// MaxErasureReason is the longest reason ExtendErasureDeadline accepts,
// in characters (Unicode code points). The reason is sent to the customer
// (TemplateErasureExtended), so it is held shorter than MaxNoteLength.
const MaxErasureReason = 1000

// AddMonths returns t moved n calendar months on, in UTC: the same day of
// the month and time of day, or the last day of the target month when it
// has no such day (January 31 plus one month is February 28, or 29 in a
// leap year). This is the "one month" of an erasure deadline.
func AddMonths(t time.Time, n int) time.Time {
	t = t.UTC()
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(d, last)-1)
}

// ErasureExtension is an extension of a request's erasure deadline.
type ErasureExtension struct {
	// Months is the extension, 1 or 2 (MaxErasureExtension).
	Months int `json:"months"`
	// Reason is what the customer is told.
	Reason string `json:"reason"`
	// By is the staff member who extended it.
	By string `json:"by"`
	// At is when.
	At time.Time `json:"at"`
}

// ErasureDueAt returns the date by which the platform must have acted on
// the request: one month (AddMonths) after it started, plus its extension.
// Zero for a request started before deadlines were recorded.
func (r *Request) ErasureDueAt() time.Time { return r.d.ErasureDueAt }

// ErasureExtension returns the extension of the erasure deadline, if any.
func (r *Request) ErasureExtension() (ErasureExtension, bool) {
	if r.d.ErasureExtension == nil {
		return ErasureExtension{}, false
	}
	return *r.d.ErasureExtension, true
}

// ErasureOverdue reports whether the request is still undecided after its
// erasure deadline: not approved (nor scheduled) and not ended.
func (r *Request) ErasureOverdue(now time.Time) bool {
	return r.awaitingAction() && !r.d.ErasureDueAt.IsZero() && now.After(r.d.ErasureDueAt)
}

// awaitingAction reports whether the platform has yet to act on the
// request: it is open and undecided.
func (r *Request) awaitingAction() bool {
	return Active(r.d.State) && r.d.State != StateApproved && r.d.State != StateScheduled
}

// checkExtension checks an extension's arguments.
func checkExtension(months int, reason string) error {
	switch {
	case months < 1 || months > MaxErasureExtension:
		return invalid("months", fmt.Sprintf("an extension is 1 to %d months", MaxErasureExtension))
	case strings.TrimSpace(reason) == "":
		return invalid("reason", "the reason the customer is told is required")
	case !utf8.ValidString(reason):
		return invalid("reason", "it is not valid UTF-8")
	}
	return checkText("reason", reason, MaxErasureReason)
}

// extendErasure extends the deadline to months (checked by
// checkExtension) after the first one.
func (r *Request) extendErasure(ec effectCtx, by string, months int, reason string) error {
	const op = "extend erasure deadline"
	switch {
	case !Active(r.d.State):
		return r.refuse(op, r.d.State, "the request has ended")
	case r.d.ErasureDueAt.IsZero():
		return r.refuse(op, r.d.State, "the request was started before erasure deadlines were recorded")
	case r.d.StaffClosure != nil && r.d.StaffClosure.Reason != StaffReasonOwnerRequestOffline:
		// The customer is told nothing of such a closure before it is
		// approved: an extension's notification would tip them off.
		return r.refuse(op, r.d.State, "the customer did not ask for this staff closure and is not told of it before the closing")
	}
	first := AddMonths(r.d.CreatedAt, 1)
	if ec.now.After(first) {
		return r.refuse(op, r.d.State, "an extension must be given within one month of the request (Art. 12(3))")
	}
	if x := r.d.ErasureExtension; x != nil && x.Months >= months {
		return r.refuse(op, r.d.State, fmt.Sprintf("the deadline is already extended by %d months", x.Months))
	}
	due := AddMonths(r.d.CreatedAt, 1+months)
	r.d.ErasureDueAt = due
	r.d.ErasureExtension = &ErasureExtension{Months: months, Reason: reason, By: by, At: ec.now}
	dueText := due.Format(time.RFC3339)
	r.record(ec.now, Actor{Kind: ActorReviewer, ID: by}, EventErasureExtended,
		map[string]string{"months": strconv.Itoa(months), "due_at": dueText, "reason": reason})
	r.notify(TemplateErasureExtended, map[string]string{DataErasureDueAt: dueText, DataReason: reason}, ec.to, ec.to.resultChannel(), ec.owner, ec.lease)
	return nil
}

// flagErasureOverdue records, once, that the request is still undecided past
// its erasure deadline.
func (r *Request) flagErasureOverdue(now time.Time) bool {
	if r.d.ErasureOverdueFlagged || !r.ErasureOverdue(now) {
		return false
	}
	r.d.ErasureOverdueFlagged = true
	r.record(now, systemActor, EventErasureOverdue, map[string]string{"due_at": r.d.ErasureDueAt.Format(time.RFC3339)})
	return true
}

// ExtendErasureDeadline extends the erasure deadline of request id to
// months (1 or 2) after its first one-month deadline, for the reason the
// customer is told by notification (TemplateErasureExtended) and in their
// view of the request. Only a senior (ports.RoleSenior or above) may, only
// within the first month and while the request is open, and not for a
// staff closure the customer did not ask for (any reason but
// StaffReasonOwnerRequestOffline: the customer is told nothing of it
// before the closing); a second call may
// lengthen the extension up to MaxErasureExtension, never shorten it. Bad
// input (months out of range; a reason that is blank, not valid UTF-8 or
// longer than MaxErasureReason characters) is a ValidationError naming
// the field, returned before anything is read or changed; a refused move
// is a TransitionError, with nothing changed.
func (s *Service) ExtendErasureDeadline(ctx context.Context, rv Reviewer, id string, months int, reason string) (_ *Request, err error) {
	defer s.hooks.operation(&ctx, OpExtendErasure)(&err)
	if err := checkExtension(months, reason); err != nil {
		return nil, err
	}
	if _, err := s.authorize(ctx, "extend erasure deadline", rv, ports.RoleSenior); err != nil {
		return nil, err
	}
	return s.mutate(ctx, staff, id, func(r *Request, ec effectCtx) error {
		return r.extendErasure(ec, rv.ID, months, reason)
	})
}

// HookErasureOverdue observes each request that maintenance finds still
// undecided past its erasure deadline (Request.ErasureOverdue), once per request, after the Store write
// that flagged it (EventErasureOverdue).
type HookErasureOverdue interface {
	Hook
	ErasureOverdue(ctx context.Context, e ErasureOverdueInfo)
}

// ErasureOverdueInfo is a request past its erasure deadline.
type ErasureOverdueInfo struct {
	RequestID string
	State     State
	// DueAt is the deadline that passed; Extended whether it was an
	// extended one.
	DueAt    time.Time
	Extended bool
	// At is when maintenance found it, by the Service's clock.
	At time.Time
}
