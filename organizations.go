package cancellation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/accountkit/cancellation/ports"
)

// Closing an organisation's member accounts. An admin of an organisation
// (ports.OrganizationDirectory) starts closing several member accounts at
// once with Service.CloseMembers. Each member gets a request of its own,
// started on the admin's behalf, and is notified
// (TemplateOrganizationClosure) to complete the usual steps themselves:
// read the notes and consent, verify their phone, upload documents, be
// reviewed. A quota bounds how many members an organisation's admins may
// start closing in a rolling window (default 10% of its members per 30
// days, at least one), counted by the Store atomically so that admins
// acting at once cannot exceed it. A batch over the quota is refused whole
// with a QuotaExceededError that says how many would be admitted now and
// when the batch fits.
//
// A host that wants staff to close member accounts instead sets
// Config.MemberClosures to MemberStaffClosures: each admitted member then
// gets a staff closure (StaffReasonOrganizationRequest) awaiting the
// approval of two different seniors (see ApproveStaffClosure), under the
// same quota and the same one-active-request rule.

// ActorOrganizationAdmin is the kind of actor of a request an
// organisation's admin started for a member (Actor.ID is the admin's
// account).
const ActorOrganizationAdmin ActorKind = "organization_admin"

// TemplateOrganizationClosure: an organisation's admin started closing the
// member's account; the member completes the steps. Data: DataRequestID,
// DataOrganization.
const TemplateOrganizationClosure = "organization_closure_started"

// DataOrganization is the organisation's id in
// TemplateOrganizationClosure's Data.
const DataOrganization = "organization"

// MemberClosureMode is what CloseMembers opens for each member
// (Config.MemberClosures).
type MemberClosureMode int

const (
	// MemberSteps (the default) opens a request that the member is
	// notified of (TemplateOrganizationClosure) and completes with the
	// usual steps.
	MemberSteps MemberClosureMode = iota
	// MemberStaffClosures opens a staff closure
	// (StaffReasonOrganizationRequest) awaiting approval, which records
	// the organisation and the admin who asked (StaffClosure.Organization,
	// StaffClosure.RequestedBy). The admin's request, checked against the
	// OrganizationDirectory, is its evidence: no upload is needed. Two
	// different seniors approve it (ApproveStaffClosure twice), neither
	// of them the member nor the admin; any senior declines it. The
	// member is not notified until the account is closed, then by SMS and
	// email (TemplateCancelled), as for any staff closure. A member whose
	// account is blocked is not refused: the second approver sees the
	// blockers and may override them with a justification.
	MemberStaffClosures
)

// String returns "member_steps" or "staff_closures".
func (m MemberClosureMode) String() string {
	switch m {
	case MemberSteps:
		return "member_steps"
	case MemberStaffClosures:
		return "staff_closures"
	}
	return fmt.Sprintf("MemberClosureMode(%d)", int(m))
}

// Quota defaults.
const (
	DefaultMemberQuotaPercent = 10
	DefaultMemberQuotaWindow  = 30 * 24 * time.Hour
)

// ErrQuotaExceeded is wrapped by QuotaExceededError.
var ErrQuotaExceeded = errors.New("cancellation: organisation closure quota exceeded")

// MemberQuota bounds the member closures of one organisation: at most
// Percent percent of its members (rounded down, at least one) in any
// Window.
type MemberQuota struct {
	// Percent defaults to DefaultMemberQuotaPercent; at most 100.
	Percent int
	// Window defaults to DefaultMemberQuotaWindow.
	Window time.Duration
}

func (q MemberQuota) withDefaults() MemberQuota {
	if q.Percent <= 0 {
		q.Percent = DefaultMemberQuotaPercent
	}
	if q.Window <= 0 {
		q.Window = DefaultMemberQuotaWindow
	}
	return q
}

// limit is the quota of an organisation of members accounts.
func (q MemberQuota) limit(members int) int { return max(1, members*q.Percent/100) }

// QuotaExceededError refuses a batch of member closures over the quota;
// nothing was started. It matches ErrQuotaExceeded.
type QuotaExceededError struct {
	Organization ports.OrganizationID
	// Requested is the size of the batch, Limit the quota and Used the
	// closures already started in the window.
	Requested, Limit, Used int
	// Admissible is how many members could be started now.
	Admissible int
	// FreesAt is the earliest time the whole batch fits, as closures of
	// the window age out; zero when the batch is larger than the quota
	// itself and never fits.
	FreesAt time.Time
}

func (e *QuotaExceededError) Error() string {
	when := "never as one batch: it exceeds the quota itself"
	if !e.FreesAt.IsZero() {
		when = "the batch fits from " + e.FreesAt.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("cancellation: organisation %s may start closing %d more member account(s) now (quota %d, %d used in the window), not %d: %s",
		e.Organization, e.Admissible, e.Limit, e.Used, e.Requested, when)
}

// Is reports whether target is ErrQuotaExceeded.
func (e *QuotaExceededError) Is(target error) bool { return target == ErrQuotaExceeded }

// ClosureAdmission is one member closure counted against an organisation's
// quota.
type ClosureAdmission struct {
	Organization ports.OrganizationID
	Account      ports.AccountID
	At           time.Time
}

// ClosureQuotaStore is an optional interface of a Store that counts member
// closures for the organisation quota. A Service with
// Config.Organizations needs a Store that implements it (New refuses
// another). Implementations must pass portstest.TestClosureQuotaStore.
type ClosureQuotaStore interface {
	// AdmitClosures records one admission per account of the batch, at
	// now, if the organisation's admissions after since plus the batch
	// number at most limit; otherwise it records nothing and returns
	// false. Either way it returns the times of the admissions after
	// since, oldest first, not counting the batch. Two concurrent calls
	// for one organisation never admit more than limit together.
	AdmitClosures(ctx context.Context, org ports.OrganizationID, accounts []ports.AccountID, since, now time.Time, limit int) (bool, []time.Time, error)
	// ReleaseClosure deletes the admission of account at at (a member
	// whose request could not be created after all); none is not an
	// error.
	ReleaseClosure(ctx context.Context, a ClosureAdmission) error
	// PurgeClosures deletes admissions at or before before, and returns
	// how many.
	PurgeClosures(ctx context.Context, before time.Time) (int, error)
}

// MemberClosure is the outcome of one member of a CloseMembers batch: the
// request started for it, or the error that kept it from starting (the
// member is not counted against the quota then).
type MemberClosure struct {
	Account ports.AccountID
	Request *Request
	Err     error
}

// validateOrganizations checks the organisation settings.
func validateOrganizations(cfg Config) error {
	if cfg.MemberQuota.Percent < 0 || cfg.MemberQuota.Percent > 100 {
		return invalid("MemberQuota.Percent", "must be between 0 (default) and 100")
	}
	if cfg.MemberClosures != MemberSteps && cfg.MemberClosures != MemberStaffClosures {
		return invalid("MemberClosures", fmt.Sprintf("unknown mode %d (MemberSteps or MemberStaffClosures)", int(cfg.MemberClosures)))
	}
	if cfg.MemberQuota.Window < 0 {
		return invalid("MemberQuota.Window", "must not be negative")
	}
	if cfg.Organizations != nil && cfg.Store != nil {
		if _, ok := cfg.Store.(ClosureQuotaStore); !ok {
			return invalid("config", "Organizations is set but the Store does not implement ClosureQuotaStore")
		}
	}
	return nil
}

// CloseMembers starts closing the accounts of members of org on behalf of
// admin, an admin of org: each becomes a request of its own that the
// member is notified of and completes (see the comment at the top of
// organizations.go), or, under Config.MemberClosures
// MemberStaffClosures, a staff closure awaiting approval.
//
// The batch is checked first: Config.Organizations must be set (else
// ErrInvalidInput); members must be well-formed, distinct account ids
// other than admin (else ErrInvalidInput naming the first that is not,
// before the directory is asked); admin must be an admin of org (else
// ErrForbidden); each member must be a member of org (else
// ErrInvalidInput naming the first that is not). A member who cannot
// start (closed, an active request, not eligible; under
// MemberStaffClosures a blocked account does start) is reported in its
// MemberClosure and not counted. The others are admitted against the
// quota as one batch: over it, nothing starts and a QuotaExceededError
// says how many would fit now and when the batch fits. A directory
// outage is an UnavailableError and starts nothing.
func (s *Service) CloseMembers(ctx context.Context, org ports.OrganizationID, admin ports.AccountID, members []ports.AccountID) (_ []MemberClosure, err error) {
	defer s.hooks.operation(&ctx, OpCloseMembers)(&err)
	if s.cfg.Organizations == nil {
		return nil, invalid("config", "closing an organisation's members needs Config.Organizations")
	}
	if err := CheckID("organization", string(org)); err != nil {
		return nil, err
	}
	if err := checkAccountID(admin); err != nil {
		return nil, err
	}
	if len(members) == 0 {
		return nil, invalid("members", "no member accounts to close")
	}
	// What needs no directory is named first, whoever asks.
	seen := map[ports.AccountID]bool{}
	for i, m := range members {
		field := fmt.Sprintf("members[%d]", i)
		switch {
		case checkAccountID(m) != nil:
			return nil, invalid(field, "is not an account id")
		case seen[m]:
			return nil, invalid(field, fmt.Sprintf("account %s is named twice", m))
		case m == admin:
			return nil, invalid(field, "an admin closes their own account through Start, not as a member")
		}
		seen[m] = true
	}
	isAdmin, err := s.cfg.Organizations.IsAdmin(ctx, org, admin)
	if err != nil {
		return nil, portUnavailable("read the admins of "+string(org), "OrganizationDirectory", err)
	}
	if !isAdmin {
		return nil, fmt.Errorf("%w: %s is not an admin of organisation %s", ErrForbidden, admin, org)
	}
	all, err := s.cfg.Organizations.Members(ctx, org)
	switch {
	case errors.Is(err, ports.ErrNotFound):
		return nil, invalid("organization", fmt.Sprintf("organisation %s is unknown", org))
	case err != nil:
		return nil, portUnavailable("read the members of "+string(org), "OrganizationDirectory", err)
	}
	for i, m := range members {
		if !slices.Contains(all, m) {
			return nil, invalid(fmt.Sprintf("members[%d]", i), fmt.Sprintf("account %s is not a member of organisation %s", m, org))
		}
	}

	// Each member is checked as Start checks a customer; the ones that may
	// start are admitted against the quota together.
	out := make([]MemberClosure, len(members))
	type ready struct {
		i       int
		acct    ports.Account
		earlier []*Request
		rep     Report
	}
	var batch []ready
	for i, m := range members {
		out[i].Account = m
		acct, earlier, rep, err := s.startable(ctx, m, s.cfg.MemberClosures == MemberSteps)
		if err != nil {
			if errors.Is(err, ErrUnavailable) {
				return nil, err // an outage decides nothing, for any member
			}
			out[i].Err = err
			continue
		}
		batch = append(batch, ready{i, acct, earlier, rep})
	}
	if len(batch) == 0 {
		return out, nil
	}
	q := s.cfg.MemberQuota.withDefaults()
	limit := q.limit(len(all))
	now := s.now()
	accounts := make([]ports.AccountID, len(batch))
	for j, b := range batch {
		accounts[j] = b.acct.ID
	}
	qs := s.cfg.Store.(ClosureQuotaStore)
	ok, window, err := qs.AdmitClosures(ctx, org, accounts, now.Add(-q.Window), now, limit)
	if err != nil {
		return nil, s.store.wrap(ctx, "count the closures of organisation "+string(org), err)
	}
	if !ok {
		return nil, quotaExceeded(org, len(batch), limit, window, q.Window)
	}
	for _, b := range batch {
		r, err := s.createMemberClosure(ctx, org, admin, b.acct, b.earlier, b.rep, now)
		if err != nil {
			// Not started: it does not count. A failed release leaves the
			// quota used until the admission ages out, which errs safe.
			if rerr := qs.ReleaseClosure(context.WithoutCancel(ctx), ClosureAdmission{Organization: org, Account: b.acct.ID, At: now}); rerr != nil {
				s.log.WarnContext(ctx, "cancellation: releasing a member closure", "organization", org, "account", b.acct.ID, "error", rerr)
			}
			out[b.i].Err = err
			continue
		}
		out[b.i].Request = r
	}
	return out, nil
}

// createMemberClosure creates the request of one admitted member, as
// Config.MemberClosures says.
func (s *Service) createMemberClosure(ctx context.Context, org ports.OrganizationID, admin ports.AccountID, acct ports.Account, earlier []*Request, rep Report, now time.Time) (*Request, error) {
	actor := Actor{Kind: ActorOrganizationAdmin, ID: string(admin)}
	if s.cfg.MemberClosures == MemberStaffClosures {
		r := newRequest("can_"+randomID(12), acct, now, rep, s.cfg.ExpireAfter, actor, map[string]string{"origin": "staff", DataOrganization: string(org)})
		r.d.Organization = org
		r.d.StaffClosure = &StaffClosure{Reason: StaffReasonOrganizationRequest, StartedAt: now, Organization: org, RequestedBy: admin}
		if err := r.move("start a staff closure", StateAwaitingApproval, now, actor, EventAwaitingApproval,
			map[string]string{"reason": string(StaffReasonOrganizationRequest), DataOrganization: string(org)}); err != nil {
			return nil, err
		}
		return s.create(ctx, r, earlier, nil) // the member is told at closing
	}
	r := newRequest("can_"+randomID(12), acct, now, rep, s.cfg.ExpireAfter, actor, map[string]string{DataOrganization: string(org)})
	r.d.Organization = org
	return s.create(ctx, r, earlier, func(r *Request, ec effectCtx) {
		r.notify(TemplateOrganizationClosure, map[string]string{DataOrganization: string(org)}, ec.to,
			[]ports.Channel{ports.ChannelEmail, ports.ChannelSMS}, ec.owner, ec.lease)
	})
}

// quotaExceeded builds the refusal of a batch of n: window holds the
// admissions in the window, oldest first.
func quotaExceeded(org ports.OrganizationID, n, limit int, window []time.Time, length time.Duration) error {
	e := &QuotaExceededError{Organization: org, Requested: n, Limit: limit, Used: len(window), Admissible: max(0, limit-len(window))}
	if n <= limit {
		// The batch fits once len(window)+n-limit of the admissions have
		// aged out.
		e.FreesAt = window[len(window)+n-limit-1].Add(length)
	}
	return e
}

// startable checks that the account may start a request now, as Start
// does: known, open, without an active request, and not blocked unless
// refuseBlocked is false (a staff closure records the blockers for its
// approver).
func (s *Service) startable(ctx context.Context, account ports.AccountID, refuseBlocked bool) (ports.Account, []*Request, Report, error) {
	acct, err := s.account(ctx, account)
	if err != nil {
		return ports.Account{}, nil, Report{}, err
	}
	// One read serves both the active-request check and the code limits,
	// which belong to the account, not to one application: withdrawing and
	// starting again must not reset the cooldown, the daily cap or a lock.
	earlier, err := s.store.List(ctx, Query{Account: account})
	if err != nil {
		return ports.Account{}, nil, Report{}, fmt.Errorf("cancellation: reading earlier requests of %s: %w", account, err)
	}
	for _, e := range earlier {
		if Active(e.State()) {
			return ports.Account{}, nil, Report{}, fmt.Errorf("%w: %s", ErrActiveRequestExists, account)
		}
	}
	rep := s.evaluate(ctx, acct, s.now())
	if refuseBlocked && rep.Outcome == OutcomeBlocked {
		return ports.Account{}, nil, Report{}, notEligible("start", rep)
	}
	return acct, earlier, rep, nil
}

// Organization returns the organisation whose admin started the request
// (empty for a request the customer started).
func (r *Request) Organization() ports.OrganizationID { return r.d.Organization }

// purgeClosures deletes quota admissions older than the window: the part
// of RunMaintenance for ClosureQuotaStore.
func (s *Service) purgeClosures(ctx context.Context, rep *MaintenanceReport) error {
	qs, ok := s.cfg.Store.(ClosureQuotaStore)
	if !ok {
		return nil
	}
	n, err := qs.PurgeClosures(ctx, s.now().Add(-s.cfg.MemberQuota.withDefaults().Window))
	rep.ClosureAdmissionsPurged += n
	if err != nil {
		return fmt.Errorf("cancellation: purging organisation closure counts: %w", err)
	}
	return nil
}
