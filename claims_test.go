package cancellation_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/ports"
)

// backOffice puts a reviewer, a second reviewer, a senior and an admin in
// f's directory.
func backOffice(f *fixture) (rev, rev2, senior, admin cancellation.Reviewer) {
	return f.staffMember("rev-rita", ports.RoleReviewer, "staff-rita"),
		f.staffMember("rev-ravi", ports.RoleReviewer, ""),
		f.staffMember("sen-sam", ports.RoleSenior, ""),
		f.staffMember("adm-ann", ports.RoleAdmin, "")
}

func TestNew_RequiresAStaffDirectory(t *testing.T) {
	t.Parallel()
	cfg := memory.NewKit(t0).Config()
	cfg.Staff = nil
	_, err := cancellation.New(cfg)
	require.ErrorIs(t, err, cancellation.ErrInvalidInput)
	require.ErrorContains(t, err, "Staff")
}

// Every reviewer entry point asks the StaffDirectory: an unknown id, a
// member without roles, and a directory that fails are refused, and
// nothing is read or changed.
func TestStaff_EveryReviewerEntryPointAuthorizes(t *testing.T) {
	f := setup(t)
	r := f.toReview(f.account("acct-auth", ports.Personal, true).ID)
	f.kit.Staff.Put(ports.StaffMember{ID: "rev-none", Name: "No roles"})
	f.kit.Staff.Put(ports.StaffMember{ID: "rev-odd", Roles: []ports.Role{"janitor"}})
	before := f.storedJSON(r.ID())
	ops := map[string]func(rv cancellation.Reviewer) error{
		"Queue": func(rv cancellation.Reviewer) error { _, err := f.svc.Queue(f.ctx, rv, 10, 0); return err },
		"ReviewQueue": func(rv cancellation.Reviewer) error {
			_, err := f.svc.ReviewQueue(f.ctx, rv, cancellation.QueueOptions{})
			return err
		},
		"Review": func(rv cancellation.Reviewer) error { _, err := f.svc.Review(f.ctx, rv, r.ID()); return err },
		"ReviewDocument": func(rv cancellation.Reviewer) error {
			_, _, err := f.svc.ReviewDocument(f.ctx, rv, r.ID(), cancellation.DocumentPassport)
			return err
		},
		"Approve": func(rv cancellation.Reviewer) error { _, err := f.svc.Approve(f.ctx, rv, r.ID(), ""); return err },
		"Reject": func(rv cancellation.Reviewer) error {
			_, err := f.svc.Reject(f.ctx, rv, r.ID(), []cancellation.ReasonCode{cancellation.ReasonIdentityMismatch}, "")
			return err
		},
		"Claim":        func(rv cancellation.Reviewer) error { _, err := f.svc.Claim(f.ctx, rv, r.ID()); return err },
		"RenewClaim":   func(rv cancellation.Reviewer) error { _, err := f.svc.RenewClaim(f.ctx, rv, r.ID()); return err },
		"ReleaseClaim": func(rv cancellation.Reviewer) error { _, err := f.svc.ReleaseClaim(f.ctx, rv, r.ID()); return err },
		"Reassign": func(rv cancellation.Reviewer) error {
			_, err := f.svc.Reassign(f.ctx, rv, r.ID(), staff.ID)
			return err
		},
	}
	for name, op := range ops {
		for _, id := range []string{"nobody-x", "rev-none", "rev-odd"} {
			require.ErrorIs(t, op(cancellation.Reviewer{ID: id}), cancellation.ErrForbidden, "%s by %s", name, id)
		}
	}
	f.requireUnchanged(r.ID(), before)

	// A directory that fails is an outage, not a refusal: fail closed.
	down := newFixture(t, func(c *cancellation.Config) {
		c.Staff = staffFunc(func(context.Context, string) (ports.StaffMember, error) {
			return ports.StaffMember{}, errors.New("directory down")
		})
	})
	_, err := down.svc.ReviewQueue(down.ctx, staff, cancellation.QueueOptions{})
	require.ErrorIs(t, err, cancellation.ErrUnavailable)
	require.NotErrorIs(t, err, cancellation.ErrForbidden)
}

type staffFunc func(context.Context, string) (ports.StaffMember, error)

func (fn staffFunc) StaffMember(ctx context.Context, id string) (ports.StaffMember, error) {
	return fn(ctx, id)
}

// The directory's account of a staff member decides self-review, not the
// account the caller names.
func TestSelfReview_UsesTheDirectorysAccount(t *testing.T) {
	f := setup(t)
	mine := f.toReview(f.personal("acct-own").ID)
	other := f.toReview(f.personal("acct-other").ID)
	owner := f.staffMember("sen-owner", ports.RoleSenior, "acct-own")
	lying := cancellation.Reviewer{ID: owner.ID, Account: "acct-someone-else"}
	_, err := f.svc.Approve(f.ctx, lying, mine.ID(), "")
	require.ErrorIs(t, err, cancellation.ErrSelfReview)
	_, err = f.svc.Claim(f.ctx, lying, mine.ID())
	require.ErrorIs(t, err, cancellation.ErrSelfReview)
	q, err := f.svc.Queue(f.ctx, lying, 10, 0)
	require.NoError(t, err)
	require.Len(t, q, 1)
	require.Equal(t, other.ID(), q[0].Request.ID(), "the queue leaves out the directory's account")

	// Naming an own account the directory does not know blocks nothing.
	plain := f.staffMember("sen-plain", ports.RoleSenior, "")
	_, err = f.svc.Approve(f.ctx, cancellation.Reviewer{ID: plain.ID, Account: "acct-own"}, mine.ID(), "")
	require.NoError(t, err)
}

// A reviewer claims before deciding; another reviewer cannot decide or
// claim while the claim holds, a senior can decide; a decision releases
// the claim. Each claim and decision is an event naming the staff member.
func TestClaims_ReviewerClaimsBeforeDecidingAndOthersAreRefused(t *testing.T) {
	f := setup(t)
	rev, rev2, senior, _ := backOffice(f)
	r := f.toReview(f.personal("acct-claim").ID)

	_, err := f.svc.Approve(f.ctx, rev, r.ID(), "")
	var ce *cancellation.ClaimError
	require.ErrorAs(t, err, &ce)
	require.ErrorIs(t, err, cancellation.ErrClaimRequired)
	require.ErrorIs(t, err, cancellation.ErrForbidden)
	require.Empty(t, ce.Holder)

	claimed, err := f.svc.Claim(f.ctx, rev, r.ID())
	require.NoError(t, err)
	c, ok := claimed.Claim()
	require.True(t, ok)
	require.Equal(t, rev.ID, c.By)
	require.Equal(t, f.clock.Now().Add(cancellation.DefaultClaimDuration), c.Until)

	for name, err := range map[string]error{
		"claim":   errOf(f.svc.Claim(f.ctx, rev2, r.ID())),
		"approve": errOf(f.svc.Approve(f.ctx, rev2, r.ID(), "")),
		"reject":  errOf(f.svc.Reject(f.ctx, rev2, r.ID(), []cancellation.ReasonCode{cancellation.ReasonIdentityMismatch}, "")),
		"release": errOf(f.svc.ReleaseClaim(f.ctx, rev2, r.ID())),
		"renew":   errOf(f.svc.RenewClaim(f.ctx, rev2, r.ID())),
	} {
		require.ErrorIs(t, err, cancellation.ErrClaimed, name)
		require.ErrorIs(t, err, cancellation.ErrForbidden, name)
		require.ErrorAs(t, err, &ce, name)
		require.Equal(t, rev.ID, ce.Holder, name)
		require.Equal(t, c.Until, ce.Until, name)
	}

	// A senior may decide a request another reviewer claimed.
	rejected, err := f.svc.Reject(f.ctx, senior, r.ID(), []cancellation.ReasonCode{cancellation.ReasonIdentityMismatch}, "")
	require.NoError(t, err)
	_, held := rejected.Claim()
	require.False(t, held, "the decision released the claim")
	var types []string
	for _, e := range f.history(r.ID()) {
		if e.Actor.Kind == cancellation.ActorReviewer {
			types = append(types, fmt.Sprintf("%s by %s", e.Type, e.Actor.ID))
		}
	}
	require.Equal(t, []string{"claimed by rev-rita", "rejected by sen-sam"}, types)

	// The holder decides; the claim then holds nothing.
	r2 := f.toReview(f.personal("acct-claim-2").ID)
	_, err = f.svc.Claim(f.ctx, rev, r2.ID())
	require.NoError(t, err)
	approved, err := f.svc.Approve(f.ctx, rev, r2.ID(), "ok")
	require.NoError(t, err)
	require.Equal(t, cancellation.StateCancelled, approved.State())
	_, held = approved.Claim()
	require.False(t, held)
}

func errOf[T any](_ T, err error) error { return err }

// A claim is a lease: renewing moves its end (without an event), it
// expires on its own, and then another reviewer may claim.
func TestClaims_RenewExpireReleaseAndReassign(t *testing.T) {
	f := setup(t, func(c *cancellation.Config) { c.ClaimDuration = 10 * time.Minute })
	rev, rev2, senior, admin := backOffice(f)
	r := f.toReview(f.personal("acct-lease").ID)
	_, err := f.svc.Claim(f.ctx, rev, r.ID())
	require.NoError(t, err)
	events := f.stored(r.ID()).HistoryLen()

	f.clock.Advance(8 * time.Minute)
	renewed, err := f.svc.RenewClaim(f.ctx, rev, r.ID())
	require.NoError(t, err)
	c, _ := renewed.Claim()
	require.Equal(t, f.clock.Now().Add(10*time.Minute), c.Until)
	require.Equal(t, events, f.stored(r.ID()).HistoryLen(), "a renewal records no event")
	_, err = f.svc.RenewClaim(f.ctx, rev2, r.ID())
	require.ErrorIs(t, err, cancellation.ErrClaimed)

	f.clock.Advance(10 * time.Minute) // expired
	q, err := f.svc.ReviewQueue(f.ctx, rev2, cancellation.QueueOptions{Claims: cancellation.QueueUnclaimed})
	require.NoError(t, err)
	require.Len(t, q.Items, 1, "an expired claim holds nothing")
	require.Empty(t, q.Items[0].ClaimedBy)
	_, err = f.svc.Claim(f.ctx, rev2, r.ID())
	require.NoError(t, err)

	// The holder releases; releasing again, or what one does not hold, is
	// a no-op.
	released, err := f.svc.ReleaseClaim(f.ctx, rev2, r.ID())
	require.NoError(t, err)
	_, held := released.Claim()
	require.False(t, held)
	n := f.stored(r.ID()).HistoryLen()
	_, err = f.svc.ReleaseClaim(f.ctx, rev2, r.ID())
	require.NoError(t, err)
	require.Equal(t, n, f.stored(r.ID()).HistoryLen())

	// Only an admin reassigns, to a reviewer, whoever holds the claim.
	_, err = f.svc.Claim(f.ctx, rev, r.ID())
	require.NoError(t, err)
	_, err = f.svc.Reassign(f.ctx, senior, r.ID(), rev2.ID)
	require.ErrorIs(t, err, cancellation.ErrForbidden)
	_, err = f.svc.Reassign(f.ctx, admin, r.ID(), "nobody-y")
	require.ErrorIs(t, err, cancellation.ErrForbidden)
	moved, err := f.svc.Reassign(f.ctx, admin, r.ID(), rev2.ID)
	require.NoError(t, err)
	c, _ = moved.Claim()
	require.Equal(t, rev2.ID, c.By)
	last := f.history(r.ID())
	e := last[len(last)-1]
	require.Equal(t, cancellation.EventClaimReassigned, e.Type)
	require.Equal(t, cancellation.Actor{Kind: cancellation.ActorReviewer, ID: admin.ID}, e.Actor)
	require.Equal(t, rev2.ID, e.Data["to"])
	require.Equal(t, rev.ID, e.Data["previous"])
	_, err = f.svc.Approve(f.ctx, rev, r.ID(), "")
	require.ErrorIs(t, err, cancellation.ErrClaimed)

	// A request out of review cannot be claimed; the customer's
	// withdrawal released the claim.
	w, err := f.svc.Withdraw(f.ctx, r.Account(), r.ID())
	require.NoError(t, err)
	_, held = w.Claim()
	require.False(t, held)
	_, err = f.svc.Claim(f.ctx, rev, r.ID())
	require.ErrorIs(t, err, cancellation.ErrInvalidTransition)
}

// Two reviewers claiming one request at once: exactly one wins, the other
// is told who holds it.
func TestClaims_TwoReviewersClaimAtOnceOneWins(t *testing.T) {
	f := setup(t)
	r := f.toReview(f.personal("acct-race-claim").ID)
	const n = 8
	rvs := make([]cancellation.Reviewer, n)
	for i := range rvs {
		rvs[i] = f.staffMember(fmt.Sprintf("rev-race-%d", i), ports.RoleReviewer, "")
	}
	var wins atomic.Int32
	var winner atomic.Value
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := f.svc.Claim(f.ctx, rvs[i], r.ID())
			if err == nil {
				wins.Add(1)
				winner.Store(rvs[i].ID)
				return
			}
			errs[i] = err
		}()
	}
	close(start)
	wg.Wait()
	require.Equal(t, int32(1), wins.Load())
	for _, err := range errs {
		if err != nil {
			var ce *cancellation.ClaimError
			require.ErrorAs(t, err, &ce)
			require.Equal(t, winner.Load(), ce.Holder)
		}
	}
	c, _ := f.stored(r.ID()).Claim()
	require.Equal(t, winner.Load(), c.By)
}

// Viewing a request and its documents is recorded once per staff member
// and document, however often they look; staff activity stops at
// StaffActivityLimit and a decision is still recorded after it.
func TestStaffViews_RecordedOnceAndNeverBlockTheDecision(t *testing.T) {
	f := setup(t)
	rev, rev2, _, _ := backOffice(f)
	r := f.toReview(f.account("acct-views", ports.Personal, true).ID)
	for range 20 {
		_, err := f.svc.Review(f.ctx, rev, r.ID())
		require.NoError(t, err)
		_, b, err := f.svc.ReviewDocument(f.ctx, rev, r.ID(), cancellation.DocumentPassport)
		require.NoError(t, err)
		require.NotEmpty(t, b)
	}
	_, _, err := f.svc.ReviewDocument(f.ctx, rev2, r.ID(), cancellation.DocumentPassport)
	require.NoError(t, err)
	var views []string
	for _, e := range f.history(r.ID()) {
		switch e.Type {
		case cancellation.EventReviewOpened, cancellation.EventDocumentViewed:
			views = append(views, fmt.Sprintf("%s by %s %s", e.Type, e.Actor.ID, e.Data["kind"]))
			require.Equal(t, cancellation.ActorReviewer, e.Actor.Kind)
		}
	}
	require.Equal(t, []string{"review_opened by rev-rita ", "document_viewed by rev-rita passport", "document_viewed by rev-ravi passport"}, views)

	// Many staff members each opening the request fill the staff room,
	// then are refused; a decision still fits, with its closing.
	for i := 0; ; i++ {
		require.Less(t, i, cancellation.MaxHistory)
		viewer := f.staffMember(fmt.Sprintf("rev-view-%d", i), ports.RoleReviewer, "")
		_, err := f.svc.Review(f.ctx, viewer, r.ID())
		if err != nil {
			require.ErrorIs(t, err, cancellation.ErrHistoryFull)
			var hf *cancellation.HistoryFullError
			require.ErrorAs(t, err, &hf)
			require.Equal(t, cancellation.StaffActivityLimit, hf.Limit)
			break
		}
	}
	require.Equal(t, cancellation.StaffActivityLimit, f.stored(r.ID()).HistoryLen())
	_, err = f.svc.Claim(f.ctx, rev2, r.ID())
	require.ErrorIs(t, err, cancellation.ErrHistoryFull)
	_, err = f.svc.Review(f.ctx, rev, r.ID()) // recorded already: still readable
	require.NoError(t, err)
	done, err := f.svc.Approve(f.ctx, staff, r.ID(), "ok") // a senior, no claim needed
	require.NoError(t, err)
	require.Equal(t, cancellation.StateCancelled, done.State())
}

// The customer's views of a request (its JSON, RequestView) name no staff
// member, though staff claimed, viewed and decided it.
func TestCustomerView_NamesNoStaffMember(t *testing.T) {
	f := setup(t)
	rev, _, _, _ := backOffice(f)
	r := f.toReview(f.account("acct-hidden", ports.Personal, true).ID)
	_, err := f.svc.Claim(f.ctx, rev, r.ID())
	require.NoError(t, err)
	_, _, err = f.svc.ReviewDocument(f.ctx, rev, r.ID(), cancellation.DocumentPassport)
	require.NoError(t, err)
	_, err = f.svc.Reject(f.ctx, rev, r.ID(), []cancellation.ReasonCode{cancellation.ReasonDocumentsIllegible}, "blurry")
	require.NoError(t, err)
	got, err := f.svc.Get(f.ctx, r.Account(), r.ID())
	require.NoError(t, err)
	b, err := json.Marshal(got)
	require.NoError(t, err)
	require.NotContains(t, string(b), rev.ID)
	require.NotContains(t, string(b), "rita")
	v, err := json.Marshal(got.View())
	require.NoError(t, err)
	require.NotContains(t, string(v), rev.ID)
}

// The queue filters in the Store: unclaimed, mine, overdue and account
// kind, and each page but the last is full.
func TestReviewQueue_FiltersArePagedFull(t *testing.T) {
	f := setup(t)
	rev, rev2, _, _ := backOffice(f)
	var rs []*cancellation.Request
	for i := range 9 {
		kind := ports.Personal
		if i%3 == 2 {
			kind = ports.Enterprise
		}
		rs = append(rs, f.toReview(f.account(ports.AccountID(fmt.Sprintf("acct-filter-%d", i)), kind, false).ID))
		f.clock.Advance(24 * time.Hour)
	}
	// rev claims 0, 3, 6; rev2 claims 1.
	for _, i := range []int{0, 3, 6} {
		_, err := f.svc.Claim(f.ctx, rev, rs[i].ID())
		require.NoError(t, err)
	}
	_, err := f.svc.Claim(f.ctx, rev2, rs[1].ID())
	require.NoError(t, err)
	ids := func(is ...int) []string {
		var out []string
		for _, i := range is {
			out = append(out, rs[i].ID())
		}
		return out
	}
	all := func(rv cancellation.Reviewer, opt cancellation.QueueOptions) ([]string, []cancellation.QueueItem) {
		t.Helper()
		opt.Limit = 2
		var got []string
		var items []cancellation.QueueItem
		for {
			page, err := f.svc.ReviewQueue(f.ctx, rv, opt)
			require.NoError(t, err)
			if page.Next != "" {
				require.Len(t, page.Items, 2, "a page before the last is full")
			}
			for _, it := range page.Items {
				got = append(got, it.Request.ID())
			}
			items = append(items, page.Items...)
			if page.Next == "" {
				return got, items
			}
			opt.After = page.Next
		}
	}
	got, _ := all(rev, cancellation.QueueOptions{Claims: cancellation.QueueUnclaimed})
	require.ElementsMatch(t, ids(2, 4, 5, 7, 8), got)
	got, items := all(rev, cancellation.QueueOptions{Claims: cancellation.QueueMine})
	require.ElementsMatch(t, ids(0, 3, 6), got)
	for _, it := range items {
		require.True(t, it.Mine)
		require.Equal(t, rev.ID, it.ClaimedBy)
		require.False(t, it.ClaimedUntil.IsZero())
	}
	got, _ = all(rev, cancellation.QueueOptions{AccountKind: ports.Enterprise})
	require.ElementsMatch(t, ids(2, 5, 8), got)
	got, items = all(rev, cancellation.QueueOptions{})
	require.ElementsMatch(t, ids(0, 1, 2, 3, 4, 5, 6, 7, 8), got)
	for _, it := range items {
		if it.Request.ID() == rs[1].ID() {
			require.Equal(t, rev2.ID, it.ClaimedBy)
			require.False(t, it.Mine)
		}
	}
	// Now: day 9. Requests submitted on days 0..5 are past three business
	// days (the due date of day 5, a Saturday, is Thursday: not yet).
	got, _ = all(rev, cancellation.QueueOptions{Overdue: true})
	for _, it := range got {
		r := f.stored(it)
		require.True(t, r.Overdue(f.clock.Now()))
	}
	require.NotEmpty(t, got)
	require.Less(t, len(got), 9)
	got, _ = all(rev, cancellation.QueueOptions{Overdue: true, Claims: cancellation.QueueUnclaimed, AccountKind: ports.Personal})
	for _, id := range got {
		require.NotContains(t, ids(0, 1, 2, 3, 5, 6, 8), id)
	}
	_, err = f.svc.ReviewQueue(f.ctx, rev, cancellation.QueueOptions{Claims: "yours"})
	require.ErrorIs(t, err, cancellation.ErrInvalidInput)
	_, err = f.svc.ReviewQueue(f.ctx, rev, cancellation.QueueOptions{AccountKind: "robot"})
	require.ErrorIs(t, err, cancellation.ErrInvalidInput)
}
