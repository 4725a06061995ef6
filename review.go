package cancellation

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/accountkit/cancellation/ports"
)

// ReviewDays is the number of business days a review takes (seed step 5).
const ReviewDays = 3

// ReasonCode is a stable code for why a request was rejected.
type ReasonCode string

// Reason codes. ReasonNotEligible and ReasonConsentOutdated are the
// library's own, used when eligibility fails at approval or at closing.
const (
	ReasonDocumentsIllegible     ReasonCode = "documents_illegible"
	ReasonDocumentsNotColour     ReasonCode = "documents_not_colour"
	ReasonIdentityMismatch       ReasonCode = "identity_mismatch"
	ReasonObligationsOutstanding ReasonCode = "obligations_outstanding"
	ReasonComplaintsPending      ReasonCode = "complaints_pending"
	ReasonSuspectedEvasion       ReasonCode = "suspected_evasion"
	ReasonNotEligible            ReasonCode = "not_eligible"
	ReasonConsentOutdated        ReasonCode = "consent_outdated"
	ReasonOther                  ReasonCode = "other"
)

// reasonCodes are the known reason codes, which validation reads.
var reasonCodes = []ReasonCode{
	ReasonDocumentsIllegible, ReasonDocumentsNotColour, ReasonIdentityMismatch,
	ReasonObligationsOutstanding, ReasonComplaintsPending, ReasonSuspectedEvasion,
	ReasonNotEligible, ReasonConsentOutdated, ReasonOther,
}

// ReasonCodes lists every reason code. It is a copy for reading:
// changing it changes nothing the library accepts.
var ReasonCodes = slices.Clone(reasonCodes)

// validateReasons checks a reviewer's rejection: at least one known code,
// a note when the code is ReasonOther, and a note of at most
// MaxNoteLength characters.
func validateReasons(reasons []ReasonCode, note string) error {
	if len(reasons) == 0 {
		return invalid("reasons", "a rejection needs at least one reason code")
	}
	for _, rc := range reasons {
		if !slices.Contains(reasonCodes, rc) {
			return invalid("reasons", fmt.Sprintf("unknown reason code %q", rc))
		}
	}
	if slices.Contains(reasons, ReasonOther) && strings.TrimSpace(note) == "" {
		return invalid("note", `reason "other" needs a note that explains it`)
	}
	return checkNote("note", note)
}

// Reviewer names the staff member who calls a back-office operation: ID
// is resolved through Config.Staff (the StaffDirectory), which gives the
// member's roles and own account. Account is the caller's statement of
// the member's own customer account; the Service checks it for form only
// and uses the account the directory knows: nobody decides their own
// account's request, whatever the caller says.
type Reviewer struct {
	ID      string
	Account ports.AccountID
}

// Calendar is a BusinessCalendar of Monday-to-Friday weeks in a time zone,
// less the configured holidays.
type Calendar struct {
	loc      *time.Location
	holidays map[date]bool
}

// date is a calendar date: a map key that costs no formatting.
type date struct {
	year  int
	month time.Month
	day   int
}

func dateOf(t time.Time) date {
	y, m, d := t.Date()
	return date{y, m, d}
}

var _ ports.BusinessCalendar = (*Calendar)(nil)

// NewCalendar returns a calendar for loc (UTC when nil) whose business days
// are Monday to Friday except the holidays, given as dates in loc.
func NewCalendar(loc *time.Location, holidays ...time.Time) *Calendar {
	if loc == nil {
		loc = time.UTC
	}
	c := &Calendar{loc: loc, holidays: make(map[date]bool, len(holidays))}
	for _, h := range holidays {
		c.holidays[dateOf(h.In(loc))] = true
	}
	return c
}

// IsBusinessDay reports whether t's date, in the calendar's zone, is a
// weekday that is not a holiday.
func (c *Calendar) IsBusinessDay(t time.Time) bool {
	if c.loc != nil { // the zero Calendar is UTC without holidays
		t = t.In(c.loc)
	} else {
		t = t.UTC()
	}
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	return !c.holidays[dateOf(t)]
}

// AddBusinessDays returns t moved forward by n business days: the same
// time of day on the n-th business day after t's date. A calendar with no
// business day within ten years of t yields t plus n days.
func AddBusinessDays(cal ports.BusinessCalendar, t time.Time, n int) time.Time {
	d := t
	for found, tries := 0, 0; found < n; tries++ {
		if tries > 3660 {
			return t.AddDate(0, 0, n)
		}
		d = d.AddDate(0, 0, 1)
		if cal.IsBusinessDay(d) {
			found++
		}
	}
	return d
}

// ClosingMode decides what happens between approval and cancellation.
type ClosingMode struct {
	kind   string
	period time.Duration
}

// Immediate closes the account at approval: the seed's behaviour and the
// default (the zero ClosingMode).
var Immediate = ClosingMode{}

// CoolingOff schedules closing d after approval; the customer may withdraw
// until then.
func CoolingOff(d time.Duration) ClosingMode { return ClosingMode{kind: "cooling_off", period: d} }

// Settlement schedules closing d after approval, a silent period that
// absorbs late bills and that the customer cannot cut short; at its end
// eligibility is evaluated once more and the account is closed, or the
// request is rejected with the reason and the account stays active. A port
// that fails then decides nothing: maintenance retries with
// Config.Retry's backoff and, after Config.AttentionAfter, flags the
// request for a person (Request.NeedsAttention).
func Settlement(d time.Duration) ClosingMode { return ClosingMode{kind: "settlement", period: d} }

// Period returns the delay between approval and closing.
func (m ClosingMode) Period() time.Duration { return m.period }

// String returns "immediate", "cooling_off 72h0m0s" or "settlement 720h0m0s".
func (m ClosingMode) String() string {
	if m.kind == "" {
		return "immediate"
	}
	return fmt.Sprintf("%s %v", m.kind, m.period)
}

func (m ClosingMode) validate() error {
	if m.kind != "" && m.period <= 0 {
		return invalid("closing mode", fmt.Sprintf("%s needs a positive period, got %v", m.kind, m.period))
	}
	return nil
}

// contacts is where notifications go, read from the account at the time.
type contacts struct {
	phone, email, locale string
}

// notify records a notification effect per channel, claimed by owner.
func (r *Request) notify(template string, data map[string]string, to contacts, channels []ports.Channel, owner string, lease time.Time) {
	r.notifyAs(template, template, data, to, channels, owner, lease)
}

// notifyAs is notify with the effects keyed by name rather than template,
// for a template sent more than once (one per round).
func (r *Request) notifyAs(name, template string, data map[string]string, to contacts, channels []ports.Channel, owner string, lease time.Time) {
	for _, ch := range channels {
		addr := to.phone
		if ch == ports.ChannelEmail {
			addr = to.email
		}
		if addr == "" {
			continue
		}
		d := cloneMap(data)
		if d == nil {
			d = map[string]string{}
		}
		d[DataRequestID] = r.d.ID
		// The address decides the channels now but is not stored: the
		// effect reads it from the AccountDirectory when it delivers, so no
		// contact is ever written to the Store (retention).
		key := r.d.ID + "/" + name + "/" + string(ch)
		r.addEffect(Effect{
			Key:  key,
			Kind: EffectNotify,
			Notification: &ports.Notification{
				IdempotencyKey: key,
				Channel:        ch, Account: r.d.Account, Template: template, Data: d, Locale: to.locale,
			},
		}, owner, lease)
	}
}

// resultChannel is the channel for a review result: the secure phone, or
// the email address when there is no phone (seed step 5).
func (to contacts) resultChannel() []ports.Channel {
	if to.phone != "" {
		return []ports.Channel{ports.ChannelSMS}
	}
	return []ports.Channel{ports.ChannelEmail}
}

// effectCtx carries what a transition needs to record effects.
type effectCtx struct {
	now       time.Time
	to        contacts
	owner     string
	lease     time.Time
	retention time.Duration
	// The account as read, and what keeps its login identifiers from
	// reuse at a cancellation (see effectCtx.identifiers).
	acct             ports.Account
	identifierKeys   []IdentifierKey
	identifiersUntil time.Time
}

// submit moves a complete application into review (seed step 5).
func (r *Request) submit(ec effectCtx, rep Report, due time.Time) error {
	const op = "submit"
	switch {
	case r.d.State == StateReturned:
		if missing := r.notReuploaded(); len(missing) > 0 {
			return r.refuse(op, StateInReview, fmt.Sprintf("upload again what the reviewer asked for first: %v", missing))
		}
	case r.d.State == StatePhoneVerified && r.d.IdentityVerified:
		return r.refuse(op, StateInReview, "identity-verified accounts must upload their identity documents first")
	case r.d.State != StatePhoneVerified && r.d.State != StateDocumentsUploaded:
		return r.refuse(op, StateInReview, "the recovery phone must be verified first")
	}
	if rep.Outcome == OutcomeBlocked {
		return notEligible(op, rep)
	}
	if missing := uncovered(rep, r.d.Consents); len(missing) > 0 {
		return &ConsentRequiredError{Findings: missing}
	}
	r.keepEligibility(rep)
	// A review is never due after the erasure deadline: the queue's order
	// by DueAt is then by the earlier of the two.
	if !r.d.ErasureDueAt.IsZero() && due.After(r.d.ErasureDueAt) {
		due = r.d.ErasureDueAt
	}
	r.d.SubmittedAt, r.d.DueAt, r.d.OverdueFlagged = ec.now, due, false
	return r.move(op, StateInReview, ec.now, Actor{Kind: ActorCustomer, ID: string(r.d.Account)}, EventSubmitted,
		map[string]string{"due_at": due.UTC().Format(time.RFC3339), DataRound: fmt.Sprint(r.d.Rounds + 1)})
}

// approve records a reviewer's approval after checking the reviewer and
// the fresh eligibility report. When the report blocks, or a consent no
// longer covers a finding, the library rejects the request instead and the
// returned error says why; the request has then changed.
func (r *Request) approve(ec effectCtx, m ports.StaffMember, note string, rep Report, mode ClosingMode) error {
	if err := r.checkDecision("approve", StateApproved, m, ec.now); err != nil {
		return err
	}
	// Text is kept as JSON will store it, so the caller's copy is the
	// stored one.
	m.ID, note = validText(m.ID), validText(note)
	actor := staffActor(m)
	if err := r.recheck(ec, "approve", rep); err != nil {
		return err
	}
	r.keepEligibility(rep)
	r.d.Decision = &Decision{Approved: true, Actor: actor, Note: note, At: ec.now}
	if err := r.move("approve", StateApproved, ec.now, actor, EventApproved, map[string]string{"note": note, "mode": mode.String()}); err != nil {
		return err
	}
	r.d.Mode = mode.String()
	data := map[string]string{}
	if mode.kind != "" {
		r.d.ScheduledFor = ec.now.Add(mode.period)
		data[DataScheduledFor] = r.d.ScheduledFor.UTC().Format(time.RFC3339)
		if err := r.move("schedule", StateScheduled, ec.now, systemActor, EventScheduled, cloneMap(data)); err != nil {
			return err
		}
	}
	r.notify(TemplateReviewApproved, data, ec.to, ec.to.resultChannel(), ec.owner, ec.lease)
	if mode.kind == "" {
		r.addEffect(Effect{Key: r.d.ID + "/close_account", Kind: EffectCloseAccount}, ec.owner, ec.lease)
	}
	return nil
}

// recheck rejects the request on the library's behalf when rep blocks or
// a consent no longer covers a finding, returning the error that says why.
//
// A report blocked only by checkers that failed decides nothing: recheck
// then returns an UnavailableError and changes nothing, so that an outage
// never rejects a request (op names the operation in the error).
func (r *Request) recheck(ec effectCtx, op string, rep Report) error {
	var reason ReasonCode
	var cause error
	missing := uncovered(rep, r.d.Consents)
	switch {
	case len(rep.decisive()) > 0:
		reason, cause = ReasonNotEligible, notEligible(op, rep)
	case len(missing) > 0:
		reason, cause = ReasonConsentOutdated, &ConsentRequiredError{Findings: customerFindings(missing)}
	case rep.Outcome == OutcomeBlocked:
		return notEligible(op, rep)
	default:
		return nil
	}
	var rules []string
	for _, f := range append(rep.decisive(), missing...) {
		rules = append(rules, f.Rule)
	}
	r.keepEligibility(rep)
	if err := r.reject(ec, systemActor, []ReasonCode{reason}, "eligibility changed: "+strings.Join(rules, ", ")); err != nil {
		return err
	}
	return cause
}

// checkDecision is the guard shared by staff decisions: not the staff
// member's own account (as the StaffDirectory knows it), a request in
// review, and the claim rule (see checkClaim).
func (r *Request) checkDecision(op string, to State, m ports.StaffMember, now time.Time) error {
	if m.Account != "" && m.Account == r.d.Account {
		return fmt.Errorf("%w: reviewer %s owns account %s", ErrSelfReview, m.ID, r.d.Account)
	}
	if r.d.State != StateInReview {
		return r.refuse(op, to, "only requests in review can be decided")
	}
	return r.checkClaim(now, m)
}

// reject ends the request as rejected, notifies the result and schedules
// the documents' deletion.
func (r *Request) reject(ec effectCtx, actor Actor, reasons []ReasonCode, note string) error {
	actor.ID, note = validText(actor.ID), validText(note)
	codes := make([]string, len(reasons))
	for i, rc := range reasons {
		codes[i] = string(rc)
	}
	if err := r.move("reject", StateRejected, ec.now, actor, EventRejected,
		map[string]string{"reasons": strings.Join(codes, ","), "note": note}); err != nil {
		return err
	}
	r.d.Decision = &Decision{Approved: false, Actor: actor, Reasons: slices.Clone(reasons), Note: note, At: ec.now}
	// The reviewer's note is for staff: the customer's SMS or email
	// carries the reason codes only.
	r.notify(TemplateReviewRejected, map[string]string{DataReasons: strings.Join(codes, ",")}, ec.to, ec.to.resultChannel(), ec.owner, ec.lease)
	r.schedulePurge(ec)
	return nil
}

// schedulePurge records the deletion of the documents after the retention.
func (r *Request) schedulePurge(ec effectCtx) {
	if len(r.d.Documents) == 0 && len(r.d.Reserved) == 0 {
		return
	}
	r.addEffect(Effect{Key: r.d.ID + "/purge_documents", Kind: EffectPurgeDocuments, NotBefore: ec.now.Add(ec.retention)}, "", time.Time{})
}

// closeScheduled ends a cooling-off or settlement period: eligibility is
// evaluated once more and the account is closed, or the request rejected.
func (r *Request) closeScheduled(ec effectCtx, rep Report) error {
	if r.d.State != StateScheduled || r.closing() {
		return r.refuse("close", StateCancelled, "only a scheduled request that is not closing yet can close")
	}
	if ec.now.Before(r.d.ScheduledFor) {
		return r.refuse("close", StateCancelled, "the scheduled time has not come")
	}
	if err := r.recheck(ec, "close", rep); err != nil {
		return err
	}
	r.keepEligibility(rep)
	r.d.ClosingRetry = nil
	r.addEffect(Effect{Key: r.d.ID + "/close_account", Kind: EffectCloseAccount}, ec.owner, ec.lease)
	r.record(ec.now, systemActor, EventClosing, map[string]string{"closing": "eligibility confirmed at the end of the period"})
	return nil
}

// effectsOfCancelled is how many effects cancelled adds, at most: the
// notification by each channel, the identifiers kept and the purge of the
// documents.
func (r *Request) effectsOfCancelled(ec effectCtx) int {
	n := 2
	if len(ec.identifierKeys) > 0 {
		n++
	}
	if len(r.d.Documents) > 0 || len(r.d.Reserved) > 0 {
		n++
	}
	return n
}

// cancelled is called once the account is closed: the request becomes
// final and success is notified by SMS and email (seed step 6).
func (r *Request) cancelled(ec effectCtx) error {
	if err := r.move("cancel", StateCancelled, ec.now, systemActor, EventCancelled, nil); err != nil {
		return err
	}
	r.notify(TemplateCancelled, nil, ec.to, []ports.Channel{ports.ChannelSMS, ports.ChannelEmail}, ec.owner, ec.lease)
	r.keepIdentifiers(ec)
	r.schedulePurge(ec)
	return nil
}

// withdraw ends the request at the customer's wish: before approval, or
// during a cooling-off period before closing starts.
func (r *Request) withdraw(ec effectCtx) error {
	const op = "withdraw"
	switch r.d.State {
	case StateScheduled:
		switch {
		case !strings.HasPrefix(r.d.Mode, "cooling_off"):
			return r.refuse(op, StateWithdrawn, "a settlement period cannot be cut short")
		case r.closing() || !ec.now.Before(r.d.ScheduledFor):
			return r.refuse(op, StateWithdrawn, "the cooling-off period is over")
		}
	case StateApproved:
		return r.refuse(op, StateWithdrawn, "the account is being closed")
	}
	if err := r.move(op, StateWithdrawn, ec.now, Actor{Kind: ActorCustomer, ID: string(r.d.Account)}, EventWithdrawn, nil); err != nil {
		return err
	}
	r.notify(TemplateWithdrawn, nil, ec.to, ec.to.resultChannel(), ec.owner, ec.lease)
	r.schedulePurge(ec)
	return nil
}

// expire ends an application abandoned before submission.
func (r *Request) expire(ec effectCtx) error {
	at := r.expiresAt()
	switch {
	case at.IsZero():
		return r.refuse("expire", StateExpired, "only applications not yet submitted (or returned) expire")
	case ec.now.Before(at):
		return r.refuse("expire", StateExpired, "the application is still active")
	}
	if err := r.move("expire", StateExpired, ec.now, systemActor, EventExpired, map[string]string{"idle_for": r.d.ExpireAfter.String()}); err != nil {
		return err
	}
	r.schedulePurge(ec)
	return nil
}

// expiresAt is when an application not yet submitted, or returned to the
// customer and not submitted again, expires if left idle; zero for
// requests that do not expire (in review, decided, awaiting staff
// approval, or final).
func (r *Request) expiresAt() time.Time {
	switch r.d.State {
	case StateStarted, StateConfirmed, StatePhoneVerified, StateDocumentsUploaded, StateReturned:
		return r.d.UpdatedAt.Add(r.d.ExpireAfter)
	}
	return time.Time{}
}

// flagOverdue records, once, that a review is past its due date.
func (r *Request) flagOverdue(now time.Time) bool {
	if r.d.State != StateInReview || r.d.OverdueFlagged || !now.After(r.d.DueAt) {
		return false
	}
	r.d.OverdueFlagged = true
	r.record(now, systemActor, EventReviewOverdue, map[string]string{"due_at": r.d.DueAt.UTC().Format(time.RFC3339)})
	return true
}

// QueueItem is a request in the reviewers' queue.
type QueueItem struct {
	Request *Request
	// Overdue: the review is past its due date (Request.DueAt).
	Overdue bool
	// ErasureDueAt is the request's erasure deadline, shown beside the
	// review's due date; ErasureOverdue that it has passed. A review is
	// never due after it, so the queue, in due-date order, lists the
	// requests past their erasure deadline among the first.
	ErasureDueAt   time.Time
	ErasureOverdue bool
	// ClaimedBy and ClaimedUntil are the claim that holds the request
	// now (empty and zero when none does); Mine says that the reviewer
	// who listed the queue holds it.
	ClaimedBy    string
	ClaimedUntil time.Time
	Mine         bool
}

// validText replaces invalid UTF-8 as JSON encoding does.
func validText(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
