package cancellation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/accountkit/cancellation/ports"
)

// StaffReason is why staff close an account on the customer's behalf.
type StaffReason string

// Staff closure reasons.
const (
	StaffReasonLegalOrder          StaffReason = "legal_order"
	StaffReasonFraud               StaffReason = "fraud"
	StaffReasonDeceasedHolder      StaffReason = "deceased_holder"
	StaffReasonOwnerRequestOffline StaffReason = "owner_request_offline"
	// StaffReasonOrganizationRequest is set by CloseMembers under
	// MemberStaffClosures (an organisation's admin asked); staff cannot
	// start a closure for it (StartStaffClosure refuses it). Like every
	// reason it is for staff: the customer's view never shows it.
	StaffReasonOrganizationRequest StaffReason = "organization_request"
)

// staffReasons are the reasons staff start a closure for.
var staffReasons = []StaffReason{StaffReasonLegalOrder, StaffReasonFraud, StaffReasonDeceasedHolder, StaffReasonOwnerRequestOffline}

// StaffReasons lists every staff closure reason. It is a copy for
// reading: changing it changes nothing the library accepts.
var StaffReasons = append(slices.Clone(staffReasons), StaffReasonOrganizationRequest)

// staffClosureStates are the states a staff closure may be stored in.
var staffClosureStates = []State{StateAwaitingApproval, StateApproved, StateCancelled, StateRejected}

// MaxEvidence is the most evidence documents one staff closure holds.
const MaxEvidence = 20

// StaffClosure is what a request started by staff records
// (Request.StaffClosure). It is for staff: the customer's view shows only
// that staff started it (RequestView.Origin).
type StaffClosure struct {
	Reason StaffReason `json:"reason"`
	Note   string      `json:"note,omitempty"`
	// StartedBy is the staff member who started it; empty for a closure
	// an organisation's admin asked for (StaffReasonOrganizationRequest).
	StartedBy string    `json:"started_by"`
	StartedAt time.Time `json:"started_at"`
	// Organization and RequestedBy are the organisation and its admin's
	// account, set exactly when Reason is StaffReasonOrganizationRequest.
	Organization ports.OrganizationID `json:"organization,omitempty"`
	RequestedBy  ports.AccountID      `json:"requested_by,omitempty"`
	// FirstApprovedBy is the first of the two seniors who approve a
	// closure an organisation asked for, at FirstApprovedAt.
	FirstApprovedBy string    `json:"first_approved_by,omitempty"`
	FirstApprovedAt time.Time `json:"first_approved_at,omitzero"`
	// ApprovedBy is the second staff member, who approved it.
	ApprovedBy string    `json:"approved_by,omitempty"`
	ApprovedAt time.Time `json:"approved_at,omitzero"`
	// Override is set when the approver overrode eligibility blockers.
	Override *Override `json:"override,omitempty"`
}

// Override records eligibility blockers a senior overrode, and why.
type Override struct {
	By            string    `json:"by"`
	Rules         []string  `json:"rules"`
	Justification string    `json:"justification"`
	At            time.Time `json:"at"`
}

func (c *StaffClosure) clone() *StaffClosure {
	if c == nil {
		return nil
	}
	d := *c
	if c.Override != nil {
		o := *c.Override
		o.Rules = slices.Clone(o.Rules)
		d.Override = &o
	}
	return &d
}

// StaffClosure returns what a closure started by staff records; false for
// a customer's own request.
func (r *Request) StaffClosure() (StaffClosure, bool) {
	if r.d.StaffClosure == nil {
		return StaffClosure{}, false
	}
	return *r.d.StaffClosure.clone(), true
}

// StaffClosureStart is what StartStaffClosure needs.
type StaffClosureStart struct {
	Reason StaffReason
	// Note is for staff (the case reference, what was received), at most
	// MaxNoteLength characters.
	Note string
}

// check checks the note.
func (c StaffClosureStart) check() error { return checkNote("note", c.Note) }

// StaffApproval is the second staff member's approval of a staff
// closure.
type StaffApproval struct {
	// Note is for staff, at most MaxNoteLength characters.
	Note string
	// Justification is required to override eligibility blockers: without
	// it a blocked account is refused with a NotEligibleError. It is
	// recorded in the history (EventBlockersOverridden), and is at most
	// MaxNoteLength characters.
	Justification string
}

// check checks the note and the justification.
func (a StaffApproval) check() error {
	if err := checkNote("note", a.Note); err != nil {
		return err
	}
	return checkNote("justification", a.Justification)
}

// StartStaffClosure starts a closure of the account on the customer's
// behalf, by a senior staff member (ports.RoleSenior), for a reason
// (legal order, fraud, deceased holder, owner request received offline).
// Eligibility is evaluated and recorded (Request.Eligibility), blocked or
// not: blockers are shown to the approver, who may override them. The
// request starts in StateAwaitingApproval, with a started event naming
// the staff member; the customer is not notified until the account is
// closed. Staff then add evidence (AddStaffEvidence) and a second,
// different senior approves (ApproveStaffClosure) or anyone senior
// declines (DeclineStaffClosure).
//
// While the customer's own request is active a staff closure is refused
// with ErrActiveRequestExists: the customer's request is decided (or
// withdrawn) first, so the account never has two active requests. The
// staff member may not start one for their own account (ErrSelfReview).
// A note of more than MaxNoteLength characters is a ValidationError
// (field "note"), returned before anything is read or changed.
func (s *Service) StartStaffClosure(ctx context.Context, rv Reviewer, account ports.AccountID, c StaffClosureStart) (_ *Request, err error) {
	defer s.hooks.operation(&ctx, OpStartStaffClosure)(&err)
	if err := c.check(); err != nil {
		return nil, err
	}
	m, err := s.authorize(ctx, "start a staff closure", rv, ports.RoleSenior)
	if err != nil {
		return nil, err
	}
	if c.Reason == StaffReasonOrganizationRequest {
		return nil, invalid("reason", "organization_request is set when an organisation's admin asks (CloseMembers), not by staff")
	}
	if !slices.Contains(staffReasons, c.Reason) {
		return nil, invalid("reason", fmt.Sprintf("unknown staff closure reason %q (known: %v)", c.Reason, staffReasons))
	}
	acct, err := s.account(ctx, account)
	if err != nil {
		return nil, err
	}
	if m.Account != "" && m.Account == account {
		return nil, fmt.Errorf("%w: staff member %s owns account %s", ErrSelfReview, m.ID, account)
	}
	if _, err := s.store.ActiveFor(ctx, account); err == nil {
		return nil, fmt.Errorf("%w: %s: the customer's own request is decided or withdrawn first", ErrActiveRequestExists, account)
	} else if !errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("cancellation: reading the active request of %s: %w", account, err)
	}
	now := s.now()
	rep := s.evaluate(ctx, acct, now)
	by := Actor{Kind: ActorReviewer, ID: validText(m.ID)}
	note := validText(c.Note)
	r := newRequest("can_"+randomID(12), acct, now, rep, s.cfg.ExpireAfter, by, map[string]string{"origin": "staff"})
	r.d.StaffClosure = &StaffClosure{Reason: c.Reason, Note: note, StartedBy: by.ID, StartedAt: now}
	if err := r.move("start a staff closure", StateAwaitingApproval, now, by, EventAwaitingApproval,
		map[string]string{"reason": string(c.Reason), "note": note}); err != nil {
		return nil, err
	}
	return s.create(ctx, r, nil, nil)
}

// checkEvidenceUpload is the guard of staff's evidence upload.
func (r *Request) checkEvidenceUpload(kind DocumentKind) error {
	switch {
	case kind != DocumentEvidence:
		return fmt.Errorf("%w: staff upload %q to a staff closure, not %q", ErrWrongDocumentKind, DocumentEvidence, kind)
	case r.d.StaffClosure == nil:
		return r.refuse("add evidence to", "", "evidence is added to closures staff started, not to a customer's request")
	case r.d.State != StateAwaitingApproval:
		return r.refuse("add evidence to", "", "evidence is added before the closure is approved")
	}
	n := 0
	for _, d := range r.d.Documents {
		if d.Kind == DocumentEvidence {
			n++
		}
	}
	if n+len(r.d.Reserved) >= MaxEvidence {
		return invalid("evidence", fmt.Sprintf("a staff closure holds at most %d evidence documents", MaxEvidence))
	}
	return nil
}

// AddStaffEvidence uploads an evidence document (a court order, a death
// certificate...) to a staff closure awaiting approval, by a senior. It
// is bounded, sniffed and inspected like a customer's document and kept in
// the DocumentStore until the documents are purged after the decision;
// its upload is an event naming the staff member. Reviewers read it with
// ReviewDocument (kind DocumentEvidence); the customer's view never shows
// it.
func (s *Service) AddStaffEvidence(ctx context.Context, rv Reviewer, id string, body io.Reader) (_ Document, err error) {
	defer s.hooks.operation(&ctx, OpAddStaffEvidence)(&err)
	m, err := s.authorize(ctx, "add staff evidence", rv, ports.RoleSenior)
	if err != nil {
		return Document{}, err
	}
	return s.storeUpload(ctx, staff, id, DocumentEvidence, body, Actor{Kind: ActorReviewer, ID: validText(m.ID)})
}

// ApproveStaffClosure is the second pair of eyes on a staff closure: a
// senior other than the one who started it (else ErrFourEyes, which wraps
// ErrForbidden), not on their own account (ErrSelfReview), approves it
// once it holds at least one evidence document. Eligibility is evaluated
// again: a blocked account is refused with a NotEligibleError (nothing
// changes) unless a.Justification is given, in which case the blockers
// are overridden and the override, naming the rules, the approver and the
// justification, is recorded in the history (EventBlockersOverridden). A
// report blocked only by checkers that failed is an outage
// (UnavailableError), never overridden. Findings that need the customer's
// consent do not hold a staff closure back.
//
// A closure an organisation's admin asked for (StaffReasonOrganizationRequest)
// has no starting senior and no evidence to upload: the admin's recorded
// request is its evidence. Two different seniors approve it instead: the
// first approval (which takes no Justification, else ErrInvalidInput) is
// recorded (StaffClosure.FirstApprovedBy, EventFirstApproval) and leaves
// it awaiting approval; the second, by another senior (else ErrFourEyes),
// decides as above. A senior whose own account is the admin's who asked
// approves neither (ErrFourEyes).
//
// The account is then closed at once, whatever Config.ClosingMode (a
// cooling-off period is the customer's, and staff closures are not the
// customer's request): through the AccountCloser, with success sent to
// the customer by SMS and email (TemplateCancelled), and events, as any
// closure.
//
// A note or justification of more than MaxNoteLength characters is a
// ValidationError naming the field ("note", "justification"), returned
// before anything is read or changed.
func (s *Service) ApproveStaffClosure(ctx context.Context, rv Reviewer, id string, a StaffApproval) (_ *Request, err error) {
	defer s.hooks.operation(&ctx, OpApproveStaffClosure)(&err)
	if err := a.check(); err != nil {
		return nil, err
	}
	m, err := s.authorize(ctx, "approve a staff closure", rv, ports.RoleSenior)
	if err != nil {
		return nil, err
	}
	if err := CheckID("id", id); err != nil {
		return nil, err
	}
	cur, err := s.store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := checkVersion(ctx, cur); err != nil { // before evaluating eligibility
		return nil, err
	}
	if err := cur.checkStaffDecision("approve", StateApproved, m); err != nil {
		return nil, err
	}
	acct, err := s.anyAccount(ctx, cur.Account())
	if err != nil {
		return nil, err
	}
	rep, findings := s.evaluateScratch(ctx, acct, s.now())
	defer releaseFindings(findings)
	return s.mutateFrom(ctx, staff, id, cur, func(r *Request, ec effectCtx) error {
		return r.approveStaffClosure(ec, m, a, rep)
	})
}

// checkStaffDecision is the guard of a staff member's decision on a staff
// closure; approving also needs four eyes and evidence.
func (r *Request) checkStaffDecision(op string, to State, m ports.StaffMember) error {
	switch {
	case r.d.StaffClosure == nil:
		return r.refuse(op, to, "this is the customer's own request: it is decided through the review")
	case m.Account != "" && m.Account == r.d.Account:
		return fmt.Errorf("%w: staff member %s owns account %s", ErrSelfReview, m.ID, r.d.Account)
	case r.d.State != StateAwaitingApproval:
		return r.refuse(op, to, "only a staff closure awaiting approval is decided")
	case to != StateApproved:
		return nil
	case r.d.StaffClosure.Reason == StaffReasonOrganizationRequest:
		return r.d.StaffClosure.checkOrgApprover(r.d.ID, m)
	case m.ID == r.d.StaffClosure.StartedBy:
		return fmt.Errorf("%w (%w): %s started closure %s, so another staff member approves it", ErrFourEyes, ErrForbidden, m.ID, r.d.ID)
	case !slices.ContainsFunc(r.d.Documents, func(d Document) bool { return d.Kind == DocumentEvidence && d.PurgedAt.IsZero() }):
		return r.refuse(op, to, "a staff closure needs at least one evidence document (AddStaffEvidence)")
	}
	return nil
}

// checkOrgApprover is the four-eyes rule of a closure an organisation
// asked for: two different seniors, neither the admin who asked.
func (c *StaffClosure) checkOrgApprover(id string, m ports.StaffMember) error {
	switch {
	case m.Account != "" && m.Account == c.RequestedBy:
		return fmt.Errorf("%w (%w): staff member %s is the admin %s who asked for closure %s", ErrFourEyes, ErrForbidden, m.ID, c.RequestedBy, id)
	case m.ID == c.FirstApprovedBy:
		return fmt.Errorf("%w (%w): %s approved closure %s first, so another senior approves it", ErrFourEyes, ErrForbidden, m.ID, id)
	}
	return nil
}

func (r *Request) approveStaffClosure(ec effectCtx, m ports.StaffMember, a StaffApproval, rep Report) error {
	const op = "approve"
	if err := r.checkStaffDecision(op, StateApproved, m); err != nil {
		return err
	}
	by := Actor{Kind: ActorReviewer, ID: validText(m.ID)}
	if sc := r.d.StaffClosure; sc.Reason == StaffReasonOrganizationRequest && sc.FirstApprovedBy == "" {
		if strings.TrimSpace(a.Justification) != "" {
			return invalid("justification", "blockers are overridden by the second approver of an organisation's request")
		}
		sc.FirstApprovedBy, sc.FirstApprovedAt = by.ID, ec.now
		r.record(ec.now, by, EventFirstApproval, map[string]string{"note": validText(a.Note)})
		return nil
	}
	blockers := rep.decisive()
	switch {
	case len(blockers) == 0 && rep.Outcome == OutcomeBlocked:
		return notEligible(op, rep) // blocked by failed checkers only: an outage
	case len(blockers) > 0 && strings.TrimSpace(a.Justification) == "":
		return fmt.Errorf("%w (a senior may override the blockers with a justification)", notEligible(op, rep))
	}
	r.keepEligibility(rep)
	if len(blockers) > 0 {
		rules := make([]string, len(blockers))
		for i, f := range blockers {
			rules[i] = f.Rule
		}
		just := validText(a.Justification)
		r.d.StaffClosure.Override = &Override{By: by.ID, Rules: rules, Justification: just, At: ec.now}
		r.record(ec.now, by, EventBlockersOverridden, map[string]string{"rules": strings.Join(rules, ","), "justification": just})
	}
	note := validText(a.Note)
	r.d.StaffClosure.ApprovedBy, r.d.StaffClosure.ApprovedAt = by.ID, ec.now
	r.d.Decision = &Decision{Approved: true, Actor: by, Note: note, At: ec.now}
	data := map[string]string{
		"note": note, "mode": Immediate.String(), "reason": string(r.d.StaffClosure.Reason), "started_by": r.d.StaffClosure.StartedBy,
	}
	if sc := r.d.StaffClosure; sc.Reason == StaffReasonOrganizationRequest {
		data["first_approved_by"], data["requested_by"], data[DataOrganization] = sc.FirstApprovedBy, string(sc.RequestedBy), string(sc.Organization)
	}
	if err := r.move(op, StateApproved, ec.now, by, EventApproved, data); err != nil {
		return err
	}
	r.d.Mode = Immediate.String()
	r.addEffect(Effect{Key: r.d.ID + "/close_account", Kind: EffectCloseAccount}, ec.owner, ec.lease)
	return nil
}

// DeclineStaffClosure ends a staff closure awaiting approval without
// closing the account (StateRejected): a senior, the starter included,
// declines it with a note for staff (required, at most MaxNoteLength
// characters: a longer one is a ValidationError, field "note", returned
// before anything is read or changed). The customer, never told of it,
// is not notified; its evidence is purged after the retention.
func (s *Service) DeclineStaffClosure(ctx context.Context, rv Reviewer, id, note string) (_ *Request, err error) {
	defer s.hooks.operation(&ctx, OpDeclineStaffClosure)(&err)
	if err := checkNote("note", note); err != nil {
		return nil, err
	}
	m, err := s.authorize(ctx, "decline a staff closure", rv, ports.RoleSenior)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(note) == "" {
		return nil, invalid("note", "declining a staff closure needs a note that says why")
	}
	return s.mutate(ctx, staff, id, func(r *Request, ec effectCtx) error {
		if err := r.checkStaffDecision("decline", StateRejected, m); err != nil {
			return err
		}
		by := Actor{Kind: ActorReviewer, ID: validText(m.ID)}
		note := validText(note)
		if err := r.move("decline", StateRejected, ec.now, by, EventRejected, map[string]string{"reasons": string(ReasonOther), "note": note}); err != nil {
			return err
		}
		r.d.Decision = &Decision{Approved: false, Actor: by, Reasons: []ReasonCode{ReasonOther}, Note: note, At: ec.now}
		r.schedulePurge(ec)
		return nil
	})
}

// StaffClosures lists the staff closures awaiting approval, oldest first,
// for a senior, at most limit (0: all).
func (s *Service) StaffClosures(ctx context.Context, rv Reviewer, limit int) (_ []*Request, err error) {
	defer s.hooks.operation(&ctx, OpStaffClosures)(&err)
	if _, err := s.authorize(ctx, "list staff closures", rv, ports.RoleSenior); err != nil {
		return nil, err
	}
	if limit < 0 {
		return nil, invalid("limit", "must not be negative")
	}
	return s.store.List(ctx, Query{States: []State{StateAwaitingApproval}, Limit: limit})
}

// ReviewEvidence returns the n-th evidence document (from 0, in upload
// order) of a staff closure and its bytes, for a senior (who approves or
// declines it). A negative n is a ValidationError; a request without that
// many evidence documents, or whose evidence was purged, answers
// ErrNotFound.
func (s *Service) ReviewEvidence(ctx context.Context, rv Reviewer, id string, n int) (_ Document, _ []byte, err error) {
	defer s.hooks.operation(&ctx, OpReviewEvidence)(&err)
	if n < 0 {
		return Document{}, nil, invalid("n", "evidence documents are numbered from 0")
	}
	m, err := s.authorize(ctx, "review staff evidence", rv, ports.RoleSenior)
	if err != nil {
		return Document{}, nil, err
	}
	if err := CheckID("id", id); err != nil {
		return Document{}, nil, err
	}
	r, err := s.store.Get(ctx, id)
	if err != nil {
		return Document{}, nil, err
	}
	i := 0
	for _, d := range r.d.Documents {
		if d.Kind != DocumentEvidence {
			continue
		}
		if i == n && d.PurgedAt.IsZero() {
			// Like any document view, recorded once per staff member.
			if _, err := s.recordView(ctx, m, r, d.Key, d.Kind); err != nil {
				return Document{}, nil, err
			}
			b, err := s.cfg.Documents.GetDocument(ctx, d.Key)
			if err != nil {
				return Document{}, nil, fmt.Errorf("cancellation: reading evidence %d of %s: %w", n, id, err)
			}
			return d, b, nil
		}
		i++
	}
	return Document{}, nil, fmt.Errorf("%w: request %s has no evidence document %d", ErrNotFound, id, n)
}

// consistent reports whether a stored staff closure names who started it
// as its reason says: an organisation and its admin for
// StaffReasonOrganizationRequest, a staff member otherwise.
func (c *StaffClosure) consistent() bool {
	if c.Reason == StaffReasonOrganizationRequest {
		return c.Organization != "" && c.RequestedBy != "" && c.StartedBy == ""
	}
	return c.StartedBy != "" && c.Organization == "" && c.RequestedBy == "" && c.FirstApprovedBy == ""
}
