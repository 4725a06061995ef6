package cancellation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/accountkit/cancellation/ports"
)

// Claims. A reviewer claims a request in review before deciding it: the
// claim is a lease (who, until when) that Config.ClaimDuration long
// (DefaultClaimDuration) keeps other reviewers from deciding it, renewable
// by its holder, released by its holder, by the decision, by any move out
// of review, and by its expiry (lazily: an expired claim holds nothing and
// the queue shows the request unclaimed). A staff member with only the
// reviewer role must hold the claim to decide; a senior (or admin) may
// decide without one, and may decide a request another reviewer claimed.
// An admin may reassign a claim to another reviewer.
//
// Staff activity in the history. Claiming, releasing and reassigning are
// events naming the staff member; a renewal is not (it moves the lease's
// end only, which the request records). Opening a request (Review) and
// viewing one of its documents (ReviewDocument) are events too, recorded
// once per staff member per request and once per staff member per
// document: a reviewer who reads the same scan twenty times leaves one
// event, so repeated views cannot fill the history. Such staff activity
// may take a history up to StaffActivityLimit events and no further (the
// operation is refused with a HistoryFullError naming that limit and
// nothing is read or changed); the events from there to MaxHistory stay
// for decisions, expiry, closing and its notifications, so staff activity
// never blocks a decision.

// DefaultClaimDuration is how long a claim lasts when Config.ClaimDuration
// is zero.
const DefaultClaimDuration = 30 * time.Minute

// StaffActivityLimit caps the history events that staff activity (claims,
// releases, reassignments, opening a request, viewing a document) may
// take a request to; the MaxHistory-StaffActivityLimit events above it are
// kept for decisions and the library's own events.
const StaffActivityLimit = MaxHistory - 16

// Events of staff activity.
const (
	// EventClaimed: a reviewer claimed the request (data "until").
	EventClaimed EventType = "claimed"
	// EventClaimReleased: the holder released the claim.
	EventClaimReleased EventType = "claim_released"
	// EventClaimReassigned: an admin gave the claim to another reviewer
	// (data "to", "previous" and "until").
	EventClaimReassigned EventType = "claim_reassigned"
	// EventReviewOpened: a staff member read the request (Service.Review),
	// recorded once per staff member.
	EventReviewOpened EventType = "review_opened"
	// EventDocumentViewed: a staff member read an identity document
	// (Service.ReviewDocument; data "kind"), recorded once per staff
	// member per document.
	EventDocumentViewed EventType = "document_viewed"
)

// ErrClaimed is wrapped by a ClaimError when another staff member holds
// the claim; ErrClaimRequired when a reviewer decides without holding it.
// Both wrap ErrForbidden.
var (
	ErrClaimed       = fmt.Errorf("%w: the request is claimed by another staff member", ErrForbidden)
	ErrClaimRequired = fmt.Errorf("%w: a reviewer must claim the request first", ErrForbidden)
)

// ClaimError refuses an operation because of a claim: Holder holds the
// request until Until (ErrClaimed), or, with Holder empty, the caller
// must claim it first (ErrClaimRequired). It matches ErrForbidden too.
type ClaimError struct {
	ID     string
	Holder string
	Until  time.Time
}

func (e *ClaimError) Error() string {
	if e.Holder == "" {
		return fmt.Sprintf("cancellation: request %s: claim it before deciding it", e.ID)
	}
	return fmt.Sprintf("cancellation: request %s is claimed by %s until %s", e.ID, e.Holder, e.Until.UTC().Format(time.RFC3339))
}

// Unwrap returns ErrClaimed, or ErrClaimRequired when Holder is empty.
func (e *ClaimError) Unwrap() error {
	if e.Holder == "" {
		return ErrClaimRequired
	}
	return ErrClaimed
}

// Claim is a staff member's lease on a request in review.
type Claim struct {
	// By is the staff id of the holder.
	By string `json:"by"`
	// At is when the holder claimed it (or was given it).
	At time.Time `json:"at"`
	// Until is when the lease ends unless renewed.
	Until time.Time `json:"until"`
}

// HeldAt reports whether the claim holds the request at t: it names a
// holder and has not expired.
func (c Claim) HeldAt(t time.Time) bool { return c.By != "" && t.Before(c.Until) }

// Claim returns the claim recorded on the request, which may have expired
// (see Claim.HeldAt); false when there is none. Stores index its By and
// Until for Query.ClaimedBy and Query.UnclaimedAt.
func (r *Request) Claim() (Claim, bool) {
	if r.d.Claim == nil {
		return Claim{}, false
	}
	return *r.d.Claim, true
}

// holder returns the staff id that holds r at now, or "".
func (r *Request) holder(now time.Time) string {
	if r.d.Claim != nil && r.d.Claim.HeldAt(now) {
		return r.d.Claim.By
	}
	return ""
}

// staffRoom refuses staff activity that would take the history past
// StaffActivityLimit.
func (r *Request) staffRoom(events int) error {
	if r.HistoryLen()+events > StaffActivityLimit {
		return &HistoryFullError{ID: r.d.ID, Limit: StaffActivityLimit}
	}
	return nil
}

// claim records m's claim on r until now+d: a new claim, or a renewal of
// m's own (renew true refuses when m holds none).
func (r *Request) claim(now time.Time, m ports.StaffMember, d time.Duration, renew bool) error {
	op := "claim"
	if renew {
		op = "renew the claim on"
	}
	if r.d.State != StateInReview {
		return r.refuse(op, "", "only requests in review are claimed")
	}
	if m.Account != "" && m.Account == r.d.Account {
		return fmt.Errorf("%w: staff member %s owns account %s", ErrSelfReview, m.ID, r.d.Account)
	}
	if h := r.holder(now); h != "" && h != m.ID {
		return &ClaimError{ID: r.d.ID, Holder: h, Until: r.d.Claim.Until}
	}
	mine := r.d.Claim != nil && r.d.Claim.By == m.ID
	if renew && !mine {
		return &ClaimError{ID: r.d.ID}
	}
	if mine {
		// A renewal (or a claim again by its holder, expired or not, that
		// nobody took meanwhile) moves the lease's end: no event.
		r.d.Claim.Until = now.Add(d)
		return nil
	}
	if err := r.staffRoom(1); err != nil {
		return err
	}
	r.d.Claim = &Claim{By: m.ID, At: now, Until: now.Add(d)}
	r.recordStaff(now, m, EventClaimed, map[string]string{"until": r.d.Claim.Until.UTC().Format(time.RFC3339)})
	return nil
}

// releaseClaim ends m's claim. A request m does not hold is left as it is
// (errNoChange), unless another holds it.
func (r *Request) releaseClaim(now time.Time, m ports.StaffMember) error {
	if h := r.holder(now); h != "" && h != m.ID {
		return &ClaimError{ID: r.d.ID, Holder: h, Until: r.d.Claim.Until}
	}
	if r.d.Claim == nil || r.d.Claim.By != m.ID {
		return errNoChange
	}
	r.d.Claim = nil
	if r.staffRoom(1) != nil {
		return nil // the lease ends all the same; the history has no room to say so
	}
	r.recordStaff(now, m, EventClaimReleased, nil)
	return nil
}

// reassign gives the claim to member to, on admin's order.
func (r *Request) reassign(now time.Time, admin, to ports.StaffMember, d time.Duration) error {
	if r.d.State != StateInReview {
		return r.refuse("reassign the claim on", "", "only requests in review are claimed")
	}
	if to.Account != "" && to.Account == r.d.Account {
		return fmt.Errorf("%w: staff member %s owns account %s", ErrSelfReview, to.ID, r.d.Account)
	}
	if err := r.staffRoom(1); err != nil {
		return err
	}
	prev := r.holder(now)
	r.d.Claim = &Claim{By: to.ID, At: now, Until: now.Add(d)}
	r.recordStaff(now, admin, EventClaimReassigned, map[string]string{
		"to": to.ID, "previous": prev, "until": r.d.Claim.Until.UTC().Format(time.RFC3339)})
	return nil
}

// checkClaim is the claim rule of a decision by m at now.
func (r *Request) checkClaim(now time.Time, m ports.StaffMember) error {
	h := r.holder(now)
	switch {
	case h == m.ID:
		return nil
	case h != "" && !m.Has(ports.RoleSenior):
		return &ClaimError{ID: r.d.ID, Holder: h, Until: r.d.Claim.Until}
	case h == "" && !m.Has(ports.RoleSenior):
		return &ClaimError{ID: r.d.ID}
	}
	return nil
}

// staffView is one staff member's view of the request (Doc "") or of the
// document with blob key Doc, recorded once.
type staffView struct {
	Staff string `json:"staff"`
	Doc   string `json:"doc,omitempty"`
}

// viewed records that m opened the request (doc "") or viewed the
// document with blob key doc, once per staff member per request and per
// document; errNoChange when it is recorded already.
func (r *Request) viewed(now time.Time, m ports.StaffMember, doc string, kind DocumentKind) error {
	k := staffView{Staff: m.ID, Doc: doc}
	if slices.Contains(r.d.Viewed, k) {
		return errNoChange
	}
	if err := r.staffRoom(1); err != nil {
		return err
	}
	r.d.Viewed = append(r.d.Viewed, k)
	if doc == "" {
		r.recordStaff(now, m, EventReviewOpened, nil)
		return nil
	}
	r.recordStaff(now, m, EventDocumentViewed, map[string]string{"kind": string(kind)})
	return nil
}

// recordStaff records staff activity without moving UpdatedAt, which
// tells the customer when their request last changed, nor its expiry.
func (r *Request) recordStaff(now time.Time, m ports.StaffMember, typ EventType, data map[string]string) {
	updated := r.d.UpdatedAt
	r.record(now, staffActor(m), typ, data)
	r.d.UpdatedAt = updated
}

// staffActivity is the scope of claims and views: staff changes that
// notify nobody, so they proceed while the AccountDirectory is down.
var staffActivity = scope{staff: true, contactsOptional: true, activity: true}

// claimDuration is the configured lease.
func (s *Service) claimDuration() time.Duration {
	if s.cfg.ClaimDuration > 0 {
		return s.cfg.ClaimDuration
	}
	return DefaultClaimDuration
}

// Claim claims the request in review for rv (a reviewer) for
// Config.ClaimDuration, or renews rv's own claim. It fails with a
// ClaimError (ErrClaimed) while another staff member holds it, with
// ErrSelfReview for rv's own account's request, and with
// ErrInvalidTransition for a request not in review.
func (s *Service) Claim(ctx context.Context, rv Reviewer, id string) (_ *Request, err error) {
	defer s.hooks.operation(&ctx, OpClaim)(&err)
	return s.claimOp(ctx, rv, id, false)
}

// RenewClaim extends rv's claim on the request to Config.ClaimDuration
// from now. It fails with a ClaimError: ErrClaimed while another holds the
// request, ErrClaimRequired when rv holds no claim on it.
func (s *Service) RenewClaim(ctx context.Context, rv Reviewer, id string) (_ *Request, err error) {
	defer s.hooks.operation(&ctx, OpRenewClaim)(&err)
	return s.claimOp(ctx, rv, id, true)
}

func (s *Service) claimOp(ctx context.Context, rv Reviewer, id string, renew bool) (*Request, error) {
	m, err := s.authorize(ctx, "claim", rv, ports.RoleReviewer)
	if err != nil {
		return nil, err
	}
	return s.mutate(ctx, staffActivity, id, func(r *Request, ec effectCtx) error {
		return r.claim(ec.now, m, s.claimDuration(), renew)
	})
}

// ReleaseClaim ends rv's claim on the request, so another reviewer may
// take it. Releasing a request rv does not hold changes nothing; one that
// another holds is refused with a ClaimError (ErrClaimed).
func (s *Service) ReleaseClaim(ctx context.Context, rv Reviewer, id string) (_ *Request, err error) {
	defer s.hooks.operation(&ctx, OpReleaseClaim)(&err)
	m, err := s.authorize(ctx, "release the claim", rv, ports.RoleReviewer)
	if err != nil {
		return nil, err
	}
	return s.mutate(ctx, staffActivity, id, func(r *Request, ec effectCtx) error {
		return r.releaseClaim(ec.now, m)
	})
}

// Reassign gives the claim on a request in review to the staff member to
// for Config.ClaimDuration, whoever held it: an admin's operation (rv
// needs RoleAdmin; to needs RoleReviewer and must not own the request's
// account).
func (s *Service) Reassign(ctx context.Context, rv Reviewer, id, to string) (_ *Request, err error) {
	defer s.hooks.operation(&ctx, OpReassign)(&err)
	admin, err := s.authorize(ctx, "reassign", rv, ports.RoleAdmin)
	if err != nil {
		return nil, err
	}
	if err := CheckID("to", to); err != nil {
		return nil, err
	}
	target, err := s.authorize(ctx, "reassign", Reviewer{ID: to}, ports.RoleReviewer)
	if err != nil {
		return nil, err
	}
	return s.mutate(ctx, staffActivity, id, func(r *Request, ec effectCtx) error {
		return r.reassign(ec.now, admin, target, s.claimDuration())
	})
}

// staffMember authorizes rv for a reviewer's operation and returns rv
// with the account the directory knows (see authorize).
func (s *Service) staffMember(ctx context.Context, op string, rv Reviewer) (ports.StaffMember, Reviewer, error) {
	m, err := s.authorize(ctx, op, rv, ports.RoleReviewer)
	if err != nil {
		return ports.StaffMember{}, Reviewer{}, err
	}
	return m, Reviewer{ID: m.ID, Account: m.Account}, nil
}

// recordView records a staff view of the request with the id (doc "":
// opening it) and returns the request as stored after it.
func (s *Service) recordView(ctx context.Context, m ports.StaffMember, cur *Request, doc string, kind DocumentKind) (*Request, error) {
	if slices.Contains(cur.d.Viewed, staffView{Staff: m.ID, Doc: doc}) {
		return cur, nil
	}
	r, err := s.mutateOnce(ctx, staffActivity, cur.ID(), func(r *Request, ec effectCtx) error {
		return r.viewed(ec.now, m, doc, kind)
	})
	if err != nil && !errors.Is(err, errNoChange) {
		return nil, err
	}
	return r, nil
}
