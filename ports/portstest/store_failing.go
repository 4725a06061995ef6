package portstest

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

// testFailingEffects checks the Store's index of FailingSince: the
// FailingBefore filter (inclusive, to the nanosecond), the OrderByFailing
// order and its keyset paging, and that a success or a give-up takes a
// request out of it.
func testFailingEffects(t *testing.T, newStore func(t *testing.T) cancellation.Store) {
	e := newStoreEnv(t, newStore)
	admin := cancellation.Reviewer{ID: "admin-1"}
	var accounts []ports.AccountID
	var failing []*cancellation.Request
	for i := range 3 {
		acct := e.account(t)
		accounts = append(accounts, acct)
		e.kit.Platform.RefuseClose(acct, true)
		r := e.inReview(t, acct)
		r, err := e.svc.Approve(t.Context(), e.reviewer, r.ID(), "ok")
		require.NoError(t, err)
		require.Equal(t, cancellation.StateApproved, r.State(), "closing failed: still approved")
		require.False(t, r.FailingSince().IsZero())
		failing = append(failing, r)
		if i == 0 {
			e.kit.Clock.Advance(time.Nanosecond) // the next fails 1ns later
		} else {
			e.kit.Clock.Advance(time.Minute)
		}
	}
	mine := func(rs []*cancellation.Request) []string {
		return requestIDs(slices.DeleteFunc(rs, func(r *cancellation.Request) bool { return !slices.Contains(accounts, r.Account()) }))
	}
	list := func(q cancellation.Query) []*cancellation.Request {
		t.Helper()
		rs, err := e.store.List(t.Context(), q)
		require.NoError(t, err)
		return rs
	}
	ids := requestIDs(failing)
	// Inclusive to the nanosecond: the second request began failing 1ns
	// after the first.
	at := failing[0].FailingSince()
	require.Equal(t, ids[:1], mine(list(cancellation.Query{FailingBefore: at, OrderByFailing: true})))
	require.Equal(t, ids[:2], mine(list(cancellation.Query{FailingBefore: at.Add(time.Nanosecond), OrderByFailing: true})))
	require.Empty(t, mine(list(cancellation.Query{FailingBefore: at.Add(-time.Nanosecond)})))
	all := cancellation.Query{FailingBefore: e.kit.Clock.Now(), OrderByFailing: true}
	require.Equal(t, ids, mine(list(all)))
	// OrderByFailing alone keeps only failing requests.
	require.Equal(t, ids, mine(list(cancellation.Query{OrderByFailing: true})))
	require.Equal(t, ids[1:2], requestIDs(list(cancellation.Query{Account: accounts[1], OrderByFailing: true})))
	// A request in review, failing nothing, is not in the index.
	calm := e.inReview(t, e.account(t))
	require.True(t, calm.FailingSince().IsZero())
	require.NotContains(t, requestIDs(list(cancellation.Query{OrderByFailing: true})), calm.ID())
	// Keyset pages of 1 give the same list.
	var paged []*cancellation.Request
	for page := all; ; {
		page.Limit = 1
		rs := list(page)
		if len(rs) == 0 {
			break
		}
		paged = append(paged, rs...)
		page.After = all.Cursor(rs[len(rs)-1])
	}
	require.Equal(t, ids, mine(paged))

	// A success takes the first out; a give-up the second.
	e.kit.Platform.RefuseClose(accounts[0], false)
	r, err := e.svc.RetryEffect(t.Context(), admin, failing[0].ID(), closeKey(t, failing[0]))
	require.NoError(t, err)
	require.Equal(t, cancellation.StateCancelled, r.State())
	require.True(t, r.FailingSince().IsZero())
	r, err = e.svc.GiveUpEffect(t.Context(), admin, failing[1].ID(), closeKey(t, failing[1]), "the account is held by a court order")
	require.NoError(t, err)
	require.True(t, r.FailingSince().IsZero())
	got, err := e.store.Get(t.Context(), failing[1].ID())
	require.NoError(t, err)
	require.True(t, got.Effects()[slices.IndexFunc(got.Effects(), func(x cancellation.Effect) bool { return x.Kind == cancellation.EffectCloseAccount })].GivenUp(),
		"the give-up survives the round trip")
	require.Equal(t, ids[2:], mine(list(all)))
	require.Equal(t, ids[2:], mine(list(cancellation.Query{OrderByFailing: true})))
}

// closeKey returns the key of r's close_account effect.
func closeKey(t *testing.T, r *cancellation.Request) string {
	t.Helper()
	for _, x := range r.Effects() {
		if x.Kind == cancellation.EffectCloseAccount {
			return x.Key
		}
	}
	t.Fatalf("request %s has no close_account effect", r.ID())
	return ""
}

// testPastRequests checks that an account's ended requests are listed
// from the account index, by state, newest first (Query.Descending),
// paged by cursor without short pages, and never another account's; and
// that Descending beside another order is refused.
func testPastRequests(t *testing.T, newStore func(t *testing.T) cancellation.Store) {
	e := newStoreEnv(t, newStore)
	acct, other := e.account(t), e.account(t)
	var ended []string
	for range 3 {
		r := e.start(t, acct)
		_, err := e.svc.Withdraw(t.Context(), acct, r.ID())
		require.NoError(t, err)
		ended = append(ended, r.ID())
		e.kit.Clock.Advance(time.Minute)
	}
	active := e.start(t, acct)
	o := e.start(t, other)
	_, err := e.svc.Withdraw(t.Context(), other, o.ID())
	require.NoError(t, err)

	var got []string
	next := ""
	for pages := 0; ; pages++ {
		page, err := e.svc.PastRequests(t.Context(), acct, cancellation.PastOptions{Limit: 2, After: next})
		require.NoError(t, err)
		if page.Next != "" {
			require.Len(t, page.Requests, 2, "a page before the last is full")
		}
		for _, v := range page.Requests {
			require.Equal(t, acct, v.Account)
			require.Equal(t, cancellation.StateWithdrawn, v.State)
			got = append(got, v.ID)
		}
		if next = page.Next; next == "" {
			break
		}
		require.Less(t, pages, 3)
	}
	slices.Reverse(ended)
	require.Equal(t, ended, got, "newest first")
	q := cancellation.Query{Account: acct, Descending: true}
	all, err := e.store.List(t.Context(), q)
	require.NoError(t, err)
	require.Equal(t, append([]string{active.ID()}, ended...), requestIDs(all), "newest first over every state")
	rs, err := e.store.List(t.Context(), cancellation.Query{Account: acct, Descending: true, After: q.Cursor(all[1]), Limit: 1})
	require.NoError(t, err)
	require.Equal(t, ended[1:2], requestIDs(rs), "After continues towards older ones")
	for _, bad := range []cancellation.Query{{Descending: true, OrderByDue: true}, {OrderByDue: true, OrderByWake: true}} {
		_, err := e.store.List(t.Context(), bad)
		var ve *cancellation.ValidationError
		require.ErrorAs(t, err, &ve, "%+v", bad)
	}
	require.NotContains(t, got, active.ID())
	require.NotContains(t, got, o.ID())
}
