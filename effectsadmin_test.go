package cancellation_test

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/ports"
)

// The back office's staff in these tests: a reviewer and an admin.
var (
	deskReviewer = cancellation.Reviewer{ID: "rev-bo"}
	deskAdmin    = cancellation.Reviewer{ID: "adm-bo"}
)

// withDesk puts the back office's staff into the fixture's directory.
func (f *fixture) withDesk() *fixture {
	f.kit.Staff.Put(ports.StaffMember{ID: deskReviewer.ID, Name: "Rita", Roles: []ports.Role{ports.RoleReviewer}})
	f.kit.Staff.Put(ports.StaffMember{ID: deskAdmin.ID, Name: "Adam", Roles: []ports.Role{ports.RoleAdmin}})
	return f
}

var errCloserDown = &closerError{}

type closerError struct{}

func (*closerError) Error() string { return "closer: backend 503" }

// failClose returns r re-read and its close effect, after the approval's
// inline attempt failed under the outage.
func (f *fixture) failClose(r *cancellation.Request) (*cancellation.Request, cancellation.Effect) {
	f.t.Helper()
	r = f.stored(r.ID())
	i := slices.IndexFunc(r.Effects(), func(e cancellation.Effect) bool { return e.Kind == cancellation.EffectCloseAccount })
	require.GreaterOrEqual(f.t, i, 0)
	return r, r.Effects()[i]
}

// approveFailing approves a new account's request while the closer is
// down.
func (f *fixture) approveFailing(id ports.AccountID) (*cancellation.Request, cancellation.Effect) {
	f.t.Helper()
	f.personal(id)
	r := f.toReview(id)
	f.platform.SetOutage(memory.PortAccountCloser, errCloserDown)
	return f.failClose(f.approve(r))
}

func (f *fixture) stuck(rv cancellation.Reviewer, opt cancellation.StuckOptions) cancellation.StuckPage {
	f.t.Helper()
	page, err := f.svc.StuckEffects(f.ctx, rv, opt)
	require.NoError(f.t, err)
	return page
}

// TestStuckEffects_ListsEffectsFailingForAttentionAfterWithLastError: an
// effect is stuck once it has kept failing for Config.AttentionAfter
// (retries are unbounded, so none "exhausts" them); before that it is not
// listed. A reviewer sees request, account, kind, attempts, the port's
// raw error, the next try and since when; done effects are not listed.
func TestStuckEffects_ListsEffectsFailingForAttentionAfterWithLastError(t *testing.T) {
	f := setup(t).withDesk()
	r, e := f.approveFailing("acct-stuck")
	require.Equal(t, cancellation.StateApproved, r.State())
	require.Empty(t, f.stuck(deskReviewer, cancellation.StuckOptions{}).Effects, "failing for less than AttentionAfter is not stuck")

	f.clock.Advance(cancellation.DefaultAttentionAfter - time.Second)
	f.maintain()
	require.Empty(t, f.stuck(deskReviewer, cancellation.StuckOptions{}).Effects)
	f.clock.Advance(time.Second)
	page := f.stuck(deskReviewer, cancellation.StuckOptions{})
	require.Len(t, page.Effects, 1, "stuck at exactly AttentionAfter")
	got := page.Effects[0]
	r = f.stored(r.ID())
	now := effect(t, r, e.Key)
	require.Equal(t, cancellation.StuckEffect{
		RequestID: r.ID(), Account: "acct-stuck", RequestState: cancellation.StateApproved,
		Key: e.Key, Kind: cancellation.EffectCloseAccount, Attempts: now.Attempts,
		LastError: "closer: backend 503", NextAttemptAt: now.NextAttemptAt, FailingSince: e.FailingSince,
	}, got)
	require.Greater(t, got.Attempts, 1)
	require.Empty(t, page.Next)
}

// TestStuckEffects_PagesByCursorLongestFailingFirst: three stuck
// requests in pages of two: full pages, the longest failing first, and a
// malformed cursor or limit is a ValidationError.
func TestStuckEffects_PagesByCursorLongestFailingFirst(t *testing.T) {
	f := setup(t).withDesk()
	var want []string
	for _, id := range []ports.AccountID{"acct-s1", "acct-s2", "acct-s3"} {
		r, _ := f.approveFailing(id)
		want = append(want, r.ID())
		f.clock.Advance(time.Minute)
	}
	f.clock.Advance(cancellation.DefaultAttentionAfter)
	first := f.stuck(deskReviewer, cancellation.StuckOptions{Limit: 2})
	require.Len(t, first.Effects, 2)
	require.NotEmpty(t, first.Next)
	second := f.stuck(deskReviewer, cancellation.StuckOptions{Limit: 2, After: first.Next})
	require.Len(t, second.Effects, 1)
	require.Empty(t, second.Next)
	var got []string
	for _, e := range append(first.Effects, second.Effects...) {
		got = append(got, e.RequestID)
	}
	require.Equal(t, want, got)

	var ve *cancellation.ValidationError
	_, err := f.svc.StuckEffects(f.ctx, deskReviewer, cancellation.StuckOptions{After: "%%%"})
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "after", ve.Field)
	_, err = f.svc.StuckEffects(f.ctx, deskReviewer, cancellation.StuckOptions{Limit: cancellation.MaxStuckLimit + 1})
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "limit", ve.Field)
}

// TestStuckEffects_RefusesUnknownAndRolelessStaff: listing needs the
// reviewer role; retrying and giving up need admin, so a reviewer is
// refused there and nothing changes.
func TestStuckEffects_RefusesUnknownAndRolelessStaff(t *testing.T) {
	f := setup(t).withDesk()
	f.kit.Staff.Put(ports.StaffMember{ID: "nobody", Name: "No Roles"})
	r, e := f.approveFailing("acct-forbid")
	for _, rv := range []cancellation.Reviewer{{ID: "nobody-ghost"}, {ID: "nobody"}} { // "nobody-…" ids are unknown to the fixture's directory
		_, err := f.svc.StuckEffects(f.ctx, rv, cancellation.StuckOptions{})
		require.ErrorIs(t, err, cancellation.ErrForbidden, rv.ID)
	}
	before := f.storedJSON(r.ID())
	_, err := f.svc.RetryEffect(f.ctx, deskReviewer, r.ID(), e.Key)
	require.ErrorIs(t, err, cancellation.ErrForbidden)
	_, err = f.svc.GiveUpEffect(f.ctx, deskReviewer, r.ID(), e.Key, "tired of it")
	require.ErrorIs(t, err, cancellation.ErrForbidden)
	f.requireUnchanged(r.ID(), before)
}

// TestRetryEffect_AdminRetriesNowInlineAndTheHistoryNamesThem: with the
// closer back, an admin's retry carries the close out in the call, before
// its backoff ends; the history records effect_retried naming the admin.
func TestRetryEffect_AdminRetriesNowInlineAndTheHistoryNamesThem(t *testing.T) {
	f := setup(t).withDesk()
	r, e := f.approveFailing("acct-retry")
	f.platform.SetOutage(memory.PortAccountCloser, nil)
	r, err := f.svc.RetryEffect(f.ctx, deskAdmin, r.ID(), e.Key)
	require.NoError(t, err)
	require.Equal(t, cancellation.StateCancelled, r.State())
	require.True(t, f.closed("acct-retry"))
	ev := lastOf(t, f.stored(r.ID()), cancellation.EventEffectRetried)
	require.Equal(t, cancellation.Actor{Kind: cancellation.ActorReviewer, ID: deskAdmin.ID}, ev.Actor)
	require.Equal(t, map[string]string{"effect": e.Key, "kind": "close_account"}, ev.Data)
}

// TestRetryEffect_DeferredLeavesItToMaintenanceAtOnce: with
// EffectsDeferred the retry is recorded unclaimed and due now, so the
// next maintenance pass (or the runner) carries it out, whatever the
// backoff said.
func TestRetryEffect_DeferredLeavesItToMaintenanceAtOnce(t *testing.T) {
	f := setup(t, func(c *cancellation.Config) { c.Effects = cancellation.EffectsDeferred }).withDesk()
	f.personal("acct-def")
	r := f.approve(f.toReview("acct-def"))
	f.platform.SetOutage(memory.PortAccountCloser, errCloserDown)
	f.maintain()
	r, e := f.failClose(r)
	require.Greater(t, e.Attempts, 0)
	require.True(t, e.NextAttemptAt.After(f.clock.Now()))
	f.platform.SetOutage(memory.PortAccountCloser, nil)
	r, err := f.svc.RetryEffect(f.ctx, deskAdmin, r.ID(), e.Key)
	require.NoError(t, err)
	require.Equal(t, cancellation.StateApproved, r.State(), "deferred: the call only records the retry")
	require.False(t, r.NextWake().After(f.clock.Now()), "due now")
	f.maintain()
	require.Equal(t, cancellation.StateCancelled, f.stored(r.ID()).State())
}

// TestRetryEffect_RefusesDoneGivenUpHealthyAndUnknownEffects: only a
// failing effect still to be carried out is retried; the others are
// refused (ErrConflict, ErrNotFound) and nothing changes.
func TestRetryEffect_RefusesDoneGivenUpHealthyAndUnknownEffects(t *testing.T) {
	f := setup(t).withDesk()
	r, e := f.approveFailing("acct-refuse")
	before := f.storedJSON(r.ID())
	_, err := f.svc.RetryEffect(f.ctx, deskAdmin, r.ID(), "no-such-effect")
	require.ErrorIs(t, err, cancellation.ErrNotFound)
	_, err = f.svc.RetryEffect(f.ctx, deskAdmin, "can_missing", e.Key)
	require.ErrorIs(t, err, cancellation.ErrNotFound)
	f.requireUnchanged(r.ID(), before)

	// Done: the approval's notification and event went out.
	done := slices.IndexFunc(r.Effects(), func(x cancellation.Effect) bool { return x.Done() })
	require.GreaterOrEqual(t, done, 0)
	_, err = f.svc.RetryEffect(f.ctx, deskAdmin, r.ID(), r.Effects()[done].Key)
	requireRefused(t, err, cancellation.EffectIsDone)

	_, err = f.svc.GiveUpEffect(f.ctx, deskAdmin, r.ID(), e.Key, "court order")
	require.NoError(t, err)
	_, err = f.svc.RetryEffect(f.ctx, deskAdmin, r.ID(), e.Key)
	requireRefused(t, err, cancellation.EffectIsGivenUp) // a given-up close is never attempted again
	_, err = f.svc.GiveUpEffect(f.ctx, deskAdmin, r.ID(), e.Key, "again")
	requireRefused(t, err, cancellation.EffectIsGivenUp)

	// Healthy: pending but never failed (deferred, not yet carried out).
	g := newFixture(t, func(c *cancellation.Config) { c.Effects = cancellation.EffectsDeferred }).withDesk()
	g.personal("acct-healthy")
	h := g.approve(g.toReview("acct-healthy"))
	pending := h.PendingEffects()
	require.NotEmpty(t, pending)
	_, err = g.svc.RetryEffect(g.ctx, deskAdmin, h.ID(), pending[0].Key)
	requireRefused(t, err, cancellation.EffectNotFailing)
}

// requireRefused checks that err is an EffectRefusedError for reason,
// matching ErrEffectRefused and ErrConflict.
func requireRefused(t *testing.T, err error, reason cancellation.EffectRefusal) {
	t.Helper()
	var re *cancellation.EffectRefusedError
	require.ErrorAs(t, err, &re)
	require.Equal(t, reason, re.Reason)
	require.ErrorIs(t, err, cancellation.ErrEffectRefused)
	require.ErrorIs(t, err, cancellation.ErrConflict)
}

// TestRetryAndGiveUpEffect_NameAnEmptyKeyBeforeReadingTheRequest: a
// missing key is a ValidationError naming "key", whatever the request
// (here: none), and so is GiveUpEffect's missing reason.
func TestRetryAndGiveUpEffect_NameAnEmptyKeyBeforeReadingTheRequest(t *testing.T) {
	f := setup(t).withDesk()
	var ve *cancellation.ValidationError
	_, err := f.svc.RetryEffect(f.ctx, deskAdmin, "can_missing", " ")
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "key", ve.Field)
	_, err = f.svc.GiveUpEffect(f.ctx, deskAdmin, "can_missing", "", "legal hold")
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "key", ve.Field)
	_, err = f.svc.GiveUpEffect(f.ctx, cancellation.Reviewer{ID: "nobody-adm"}, "can_missing", "can_missing/close_account", "")
	require.ErrorAs(t, err, &ve, "bad input is named before the caller is looked up")
	require.Equal(t, "reason", ve.Field)
}

// TestGiveUpEffect_CloseAccountNeverClosesTheAccount: a given-up
// close_account is recorded with the admin and the reason, never
// attempted again, never marks the request cancelled nor the account
// closed; the request stays approved, flagged NeedsAttention, the
// account's active request, and leaves the stuck list.
func TestGiveUpEffect_CloseAccountNeverClosesTheAccount(t *testing.T) {
	f := setup(t).withDesk()
	r, e := f.approveFailing("acct-giveup")
	f.clock.Advance(cancellation.DefaultAttentionAfter)
	require.Len(t, f.stuck(deskReviewer, cancellation.StuckOptions{}).Effects, 1)

	r, err := f.svc.GiveUpEffect(f.ctx, deskAdmin, r.ID(), e.Key, "  account frozen by court order  ")
	require.NoError(t, err)
	got := effect(t, r, e.Key)
	require.True(t, got.GivenUp())
	require.Equal(t, deskAdmin.ID, got.GivenUpBy)
	require.Equal(t, "account frozen by court order", got.GivenUpReason)
	require.Equal(t, cancellation.StateApproved, r.State())
	att, ok := r.NeedsAttention()
	require.True(t, ok)
	require.Contains(t, att.Reason, "given up by adm-bo")
	require.Empty(t, r.PendingEffects())
	require.True(t, r.FailingSince().IsZero())
	ev := lastOf(t, f.stored(r.ID()), cancellation.EventEffectGivenUp)
	require.Equal(t, cancellation.Actor{Kind: cancellation.ActorReviewer, ID: deskAdmin.ID}, ev.Actor)
	require.Equal(t, map[string]string{"effect": e.Key, "kind": "close_account", "reason": "account frozen by court order"}, ev.Data)

	// The closer is back: nothing tries the close again.
	f.platform.SetOutage(memory.PortAccountCloser, nil)
	calls := f.platform.CloseCalls(e.Key)
	f.clock.Advance(30 * 24 * time.Hour)
	f.maintain()
	require.Equal(t, calls, f.platform.CloseCalls(e.Key))
	require.False(t, f.closed("acct-giveup"))
	require.Equal(t, cancellation.StateApproved, f.stored(r.ID()).State())
	require.Empty(t, f.stuck(deskReviewer, cancellation.StuckOptions{}).Effects)
	_, err = f.svc.Start(f.ctx, "acct-giveup")
	require.ErrorIs(t, err, cancellation.ErrActiveRequestExists, "it stays the account's active request")
}

// TestGiveUpEffect_NeedsAReasonAndChangesNothingWithout: a blank, too
// long or invalid reason is a ValidationError naming "reason".
func TestGiveUpEffect_NeedsAReasonAndChangesNothingWithout(t *testing.T) {
	f := setup(t).withDesk()
	r, e := f.approveFailing("acct-reason")
	before := f.storedJSON(r.ID())
	for _, reason := range []string{"", "   ", string(make([]byte, cancellation.MaxGiveUpReason+1)), "bad \xff"} {
		_, err := f.svc.GiveUpEffect(f.ctx, deskAdmin, r.ID(), e.Key, reason)
		var ve *cancellation.ValidationError
		require.ErrorAs(t, err, &ve)
		require.Equal(t, "reason", ve.Field)
	}
	f.requireUnchanged(r.ID(), before)
}

// adminHook records EffectAdmin calls.
type adminHook struct {
	cancellation.HookDefaults
	mu  sync.Mutex
	got []cancellation.EffectAdminInfo
}

func (h *adminHook) EffectAdmin(_ context.Context, a cancellation.EffectAdminInfo) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.got = append(h.got, a)
}

// TestMaintenanceReportAndHooks_CountStuckAndGivenUpEffects: the report
// counts the effects stuck at the end of the pass and those given up
// since the pass before; the hook hears an effect become stuck once,
// however many failures follow, and each retry and give-up with the
// admin's id.
func TestMaintenanceReportAndHooks_CountStuckAndGivenUpEffects(t *testing.T) {
	h := &adminHook{}
	f := setup(t, func(c *cancellation.Config) { c.Hooks = []cancellation.Hook{h} }).withDesk()
	r1, e1 := f.approveFailing("acct-m1")
	r2, e2 := f.approveFailing("acct-m2")
	require.Zero(t, f.maintain().EffectsStuck)
	for range 3 { // failures past the threshold
		f.clock.Advance(cancellation.DefaultAttentionAfter)
		require.Equal(t, 2, f.maintain().EffectsStuck)
	}
	_, err := f.svc.GiveUpEffect(f.ctx, deskAdmin, r1.ID(), e1.Key, "written off")
	require.NoError(t, err)
	_, err = f.svc.RetryEffect(f.ctx, deskAdmin, r2.ID(), e2.Key)
	require.NoError(t, err)
	rep := f.maintain()
	require.Equal(t, 1, rep.EffectsGivenUp)
	require.Equal(t, 1, rep.EffectsStuck)
	require.Zero(t, f.maintain().EffectsGivenUp, "counted once")

	want := []cancellation.EffectAdminInfo{
		{RequestID: r1.ID(), Key: e1.Key, Kind: cancellation.EffectCloseAccount, Action: cancellation.EffectActionStuck},
		{RequestID: r2.ID(), Key: e2.Key, Kind: cancellation.EffectCloseAccount, Action: cancellation.EffectActionStuck},
		{RequestID: r1.ID(), Key: e1.Key, Kind: cancellation.EffectCloseAccount, Action: cancellation.EffectActionGivenUp, Staff: deskAdmin.ID},
		{RequestID: r2.ID(), Key: e2.Key, Kind: cancellation.EffectCloseAccount, Action: cancellation.EffectActionRetried, Staff: deskAdmin.ID},
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	got := slices.Clone(h.got)
	slices.SortStableFunc(got[:2], func(a, b cancellation.EffectAdminInfo) int {
		return slices.Index([]string{r1.ID(), r2.ID()}, a.RequestID) - slices.Index([]string{r1.ID(), r2.ID()}, b.RequestID)
	})
	require.Equal(t, want, got)
}

// TestPastRequests_ListsTheAccountsEndedRequestsCustomerSafe: an account's
// withdrawn and rejected requests are listed with their outcome (state,
// reason codes) but no reviewer id, note or raw error; the active request
// and another account's requests are not; newest first, pages are full
// but the last.
func TestPastRequests_ListsTheAccountsEndedRequestsCustomerSafe(t *testing.T) {
	f := setup(t)
	f.personal("acct-past")
	f.personal("acct-other")
	w := f.start("acct-past")
	_, err := f.svc.Withdraw(f.ctx, "acct-past", w.ID())
	require.NoError(t, err)
	f.clock.Advance(time.Minute)
	rj := f.toReview("acct-past")
	_, err = f.svc.Reject(f.ctx, staff, rj.ID(), []cancellation.ReasonCode{cancellation.ReasonOther}, "secret reviewer note")
	require.NoError(t, err)
	f.clock.Advance(time.Minute)
	active := f.start("acct-past")
	o := f.start("acct-other")
	_, err = f.svc.Withdraw(f.ctx, "acct-other", o.ID())
	require.NoError(t, err)

	first, err := f.svc.PastRequests(f.ctx, "acct-past", cancellation.PastOptions{Limit: 1})
	require.NoError(t, err)
	require.Len(t, first.Requests, 1)
	require.NotEmpty(t, first.Next)
	second, err := f.svc.PastRequests(f.ctx, "acct-past", cancellation.PastOptions{Limit: 1, After: first.Next})
	require.NoError(t, err)
	require.Len(t, second.Requests, 1)
	require.Empty(t, second.Next, "the last page")

	require.Equal(t, w.ID(), second.Requests[0].ID, "newest first")
	require.Equal(t, cancellation.StateWithdrawn, second.Requests[0].State)
	got := first.Requests[0]
	require.Equal(t, rj.ID(), got.ID)
	require.Equal(t, cancellation.StateRejected, got.State)
	require.Equal(t, []cancellation.ReasonCode{cancellation.ReasonOther}, got.Decision.Reasons)
	b, err := json.Marshal(append(first.Requests, second.Requests...))
	require.NoError(t, err)
	require.NotContains(t, string(b), "secret reviewer note")
	require.NotContains(t, string(b), staff.ID)
	require.NotContains(t, string(b), active.ID())
	require.NotContains(t, string(b), o.ID())

	var ve *cancellation.ValidationError
	_, err = f.svc.PastRequests(f.ctx, "acct-past", cancellation.PastOptions{Limit: cancellation.MaxPastLimit + 1})
	require.ErrorAs(t, err, &ve)
	_, err = f.svc.PastRequests(f.ctx, "", cancellation.PastOptions{})
	require.ErrorAs(t, err, &ve)
}

// TestGiveUpEffect_PurgeLeavesTheDocumentsUnpurged: a given-up
// purge_documents is never attempted, even past retention, and the
// documents are not marked purged.
func TestGiveUpEffect_PurgeLeavesTheDocumentsUnpurged(t *testing.T) {
	f := setup(t).withDesk()
	f.account("acct-docs", ports.Personal, true)
	r := f.approve(f.toReview("acct-docs"))
	require.Equal(t, cancellation.StateCancelled, r.State())
	i := slices.IndexFunc(r.PendingEffects(), func(e cancellation.Effect) bool { return e.Kind == cancellation.EffectPurgeDocuments })
	require.GreaterOrEqual(t, i, 0, "the purge waits for retention")
	key := r.PendingEffects()[i].Key
	blobs := f.kit.Documents.Len()
	require.Positive(t, blobs)
	r, err := f.svc.GiveUpEffect(f.ctx, deskAdmin, r.ID(), key, "kept under a legal hold")
	require.NoError(t, err)
	require.True(t, r.NextWake().IsZero(), "nothing left for maintenance")
	f.clock.Advance(400 * 24 * time.Hour)
	f.maintain()
	r = f.stored(r.ID())
	require.Equal(t, blobs, f.kit.Documents.Len(), "no blob deleted")
	for _, d := range r.Documents() {
		require.True(t, d.PurgedAt.IsZero())
	}
	require.Zero(t, countEvents(r.History(), cancellation.EventDocumentsPurged))
	require.Equal(t, cancellation.StateCancelled, r.State())
}

// TestRetryEffect_RevivesAGivenUpPurgeSoTheRecordRetentionEnds: a request
// whose purge_documents was given up never settles, so record retention
// keeps it; an admin's RetryEffect revives the purge (recorded as
// "revived"), the documents go, and the record is deleted after
// Config.RecordRetention. A given-up close stays given up.
func TestRetryEffect_RevivesAGivenUpPurgeSoTheRecordRetentionEnds(t *testing.T) {
	f := setup(t, func(c *cancellation.Config) { c.RecordRetention = 24 * time.Hour }).withDesk()
	f.account("acct-revive", ports.Personal, true)
	r := f.approve(f.toReview("acct-revive"))
	i := slices.IndexFunc(r.PendingEffects(), func(e cancellation.Effect) bool { return e.Kind == cancellation.EffectPurgeDocuments })
	require.GreaterOrEqual(t, i, 0, "the purge waits for retention")
	key := r.PendingEffects()[i].Key
	_, err := f.svc.GiveUpEffect(f.ctx, deskAdmin, r.ID(), key, "legal hold")
	require.NoError(t, err)
	f.clock.Advance(400 * 24 * time.Hour)
	require.Zero(t, f.maintain().RecordsPurged, "documents still held: the record stays")
	require.True(t, f.stored(r.ID()).SettledAt().IsZero())

	_, err = f.svc.RetryEffect(f.ctx, deskReviewer, r.ID(), key)
	require.ErrorIs(t, err, cancellation.ErrForbidden, "only an admin revives it")
	r, err = f.svc.RetryEffect(f.ctx, deskAdmin, r.ID(), key)
	require.NoError(t, err)
	require.Equal(t, 1, countEvents(r.History(), cancellation.EventDocumentsPurged), "inline: purged in the call")
	require.Zero(t, f.kit.Documents.Len())
	var revived bool
	for _, ev := range r.History() {
		revived = revived || (ev.Type == cancellation.EventEffectRetried && ev.Data["revived"] == "true" && ev.Data["effect"] == key)
	}
	require.True(t, revived, "the history records the revival")
	require.False(t, r.SettledAt().IsZero())

	f.clock.Advance(25 * time.Hour)
	require.Equal(t, 1, f.maintain().RecordsPurged)
	_, err = f.kit.Store.Get(f.ctx, r.ID())
	require.ErrorIs(t, err, cancellation.ErrNotFound)
}

// TestRetryEffect_RevivesAPurgeGivenUpEarlyForWhenTheRetentionEnds: a
// purge given up before DocumentPolicy.Retention ended and revived at once
// keeps the documents until the retention ends; maintenance then purges
// them.
func TestRetryEffect_RevivesAPurgeGivenUpEarlyForWhenTheRetentionEnds(t *testing.T) {
	f := setup(t).withDesk()
	f.account("acct-revive-early", ports.Personal, true)
	r := f.approve(f.toReview("acct-revive-early"))
	i := slices.IndexFunc(r.PendingEffects(), func(e cancellation.Effect) bool { return e.Kind == cancellation.EffectPurgeDocuments })
	require.GreaterOrEqual(t, i, 0)
	purge := r.PendingEffects()[i]
	require.True(t, f.clock.Now().Before(purge.NotBefore), "precondition: the retention runs")
	_, err := f.svc.GiveUpEffect(f.ctx, deskAdmin, r.ID(), purge.Key, "legal hold")
	require.NoError(t, err)
	r, err = f.svc.RetryEffect(f.ctx, deskAdmin, r.ID(), purge.Key)
	require.NoError(t, err)
	require.Positive(t, f.kit.Documents.Len(), "not purged before the retention ends")
	require.Equal(t, purge.NotBefore, r.NextWake(), "due when the retention ends")
	f.clock.Set(purge.NotBefore.Add(time.Minute))
	f.maintain()
	require.Zero(t, f.kit.Documents.Len())
	require.Equal(t, 1, countEvents(f.stored(r.ID()).History(), cancellation.EventDocumentsPurged))
}

// TestRetryEffect_RefusesAnEffectBeingCarriedOut: while maintenance holds
// the close (its port answering slowly), an admin's retry is refused with
// ErrConflict, not run a second time beside it.
func TestRetryEffect_RefusesAnEffectBeingCarriedOut(t *testing.T) {
	f := setup(t).withDesk()
	r, e := f.approveFailing("acct-busy")
	f.platform.SetOutage(memory.PortAccountCloser, nil)
	f.platform.SetLatency(300 * time.Millisecond)
	f.clock.Advance(time.Hour) // past the backoff
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = f.svc.RunMaintenance(context.Background())
	}()
	require.Eventually(t, func() bool {
		cur, err := f.kit.Store.Get(f.ctx, r.ID())
		return err == nil && slices.ContainsFunc(cur.Effects(), func(x cancellation.Effect) bool { return x.Key == e.Key && x.LeaseOwner != "" })
	}, 5*time.Second, time.Millisecond)
	_, err := f.svc.RetryEffect(f.ctx, deskAdmin, r.ID(), e.Key)
	requireRefused(t, err, cancellation.EffectInProgress)
	require.Contains(t, err.Error(), "being carried out")
	<-done
	require.Equal(t, cancellation.StateCancelled, f.stored(r.ID()).State())
}
