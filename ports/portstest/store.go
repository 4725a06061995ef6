package portstest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/internal/docfixtures"
	"github.com/accountkit/cancellation/ports"
)

// StoreFeatures declares optional behaviour of a Store under test.
type StoreFeatures struct {
	// SharedBackend declares that every call of the constructor returns a
	// store over the same database, as with a SQL server shared by the
	// test run. Subtests then use account ids unique to themselves and never
	// assume the store is empty.
	SharedBackend bool
}

// TestStore is the conformance suite of cancellation.Store. Every Store
// implementation must pass it unchanged:
//
//	func TestMyStore(t *testing.T) {
//		portstest.TestStore(t, portstest.StoreFeatures{}, func(t *testing.T) cancellation.Store {
//			return mystore.New(...)
//		})
//	}
//
// It drives a real cancellation.Service over the store under test, with
// fakes of the other ports and of the clock that the kit builds itself (it
// imports no adapter), so the requests it stores are the ones production
// stores: with histories, consents, codes, documents and effects.
func TestStore(t *testing.T, f StoreFeatures, newStore func(t *testing.T) cancellation.Store) {
	t.Run("CreateAndGet", func(t *testing.T) {
		t.Parallel()
		e := newStoreEnv(t, newStore)
		r := e.start(t, e.account(t))
		require.Equal(t, int64(1), r.Version())
		got, err := e.store.Get(t.Context(), r.ID())
		require.NoError(t, err)
		requireSameRequest(t, r, got)
	})
	t.Run("ReadsAreTheCallersOwn", func(t *testing.T) {
		// The Service changes what it reads in place (see
		// cancellation.Store): a read handing out the request the Store
		// keeps would let a caller change what the Store holds.
		t.Parallel()
		e := newStoreEnv(t, newStore)
		r := e.start(t, e.account(t))
		other, err := e.store.Get(t.Context(), e.start(t, e.account(t)).ID())
		require.NoError(t, err)
		otherBytes, err := other.MarshalBinary()
		require.NoError(t, err)
		reads := map[string]func() (*cancellation.Request, error){
			"Get":       func() (*cancellation.Request, error) { return e.store.Get(t.Context(), r.ID()) },
			"ActiveFor": func() (*cancellation.Request, error) { return e.store.ActiveFor(t.Context(), r.Account()) },
		}
		for name, read := range reads {
			got, err := read()
			require.NoError(t, err, name)
			require.NoError(t, got.UnmarshalBinary(otherBytes), name) // changes got in place
			again, err := read()
			require.NoError(t, err, name)
			requireSameRequest(t, r, again)
		}
	})
	t.Run("GetUnknownIsNotFound", func(t *testing.T) {
		t.Parallel()
		e := newStoreEnv(t, newStore)
		_, err := e.store.Get(t.Context(), "can_"+uniqueName(t, "missing"))
		require.ErrorIs(t, err, cancellation.ErrNotFound)
	})
	t.Run("MalformedIDsAreNotFound", func(t *testing.T) { testMalformedIDs(t, newStore) })
	testStoreClaims(t, newStore)
	t.Run("OneActiveRequestPerAccount", func(t *testing.T) {
		t.Parallel()
		e := newStoreEnv(t, newStore)
		acct := e.account(t)
		first := e.start(t, acct)
		_, err := e.svc.Start(t.Context(), acct)
		require.ErrorIs(t, err, cancellation.ErrActiveRequestExists)
		active, err := e.store.ActiveFor(t.Context(), acct)
		require.NoError(t, err)
		require.Equal(t, first.ID(), active.ID())
	})
	t.Run("ConcurrentStartsCreateOne", func(t *testing.T) {
		t.Parallel()
		e := newStoreEnv(t, newStore)
		acct := e.account(t)
		// Several services on one store, as replicas would be: the store
		// itself must refuse the second active request.
		svcs := []*cancellation.Service{e.svc, e.service(t), e.service(t)}
		var ok, refused atomic.Int32
		concurrently(t, func(g int) error {
			_, err := svcs[g%len(svcs)].Start(t.Context(), acct)
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, cancellation.ErrActiveRequestExists):
				refused.Add(1)
			default:
				return err
			}
			return nil
		})
		require.Equal(t, int32(1), ok.Load(), "exactly one start succeeds")
		require.Equal(t, int32(goroutines-1), refused.Load())
		rs, err := e.store.List(t.Context(), cancellation.Query{Account: acct})
		require.NoError(t, err)
		require.Len(t, rs, 1)
	})
	t.Run("BackOfficeStatesAreActive", func(t *testing.T) { testBackOfficeStates(t, newStore) })
	t.Run("ActiveForIgnoresTerminalRequests", func(t *testing.T) {
		t.Parallel()
		e := newStoreEnv(t, newStore)
		acct := e.account(t)
		_, err := e.store.ActiveFor(t.Context(), acct)
		require.ErrorIs(t, err, cancellation.ErrNotFound)
		r := e.start(t, acct)
		_, err = e.svc.Withdraw(t.Context(), acct, r.ID())
		require.NoError(t, err)
		_, err = e.store.ActiveFor(t.Context(), acct)
		require.ErrorIs(t, err, cancellation.ErrNotFound)
		again := e.start(t, acct) // a withdrawn request does not block a new one
		require.NotEqual(t, r.ID(), again.ID())
	})
	t.Run("UpdateStaleVersionConflicts", func(t *testing.T) {
		t.Parallel()
		e := newStoreEnv(t, newStore)
		acct := e.account(t)
		r := e.start(t, acct)
		stale, err := e.store.Get(t.Context(), r.ID())
		require.NoError(t, err)
		confirmed := e.confirm(t, r)
		require.Equal(t, int64(2), confirmed.Version())
		// stale is at version 1: storing it again expects version 0.
		require.ErrorIs(t, e.store.Update(t.Context(), stale), cancellation.ErrConflict)
		got, err := e.store.Get(t.Context(), r.ID())
		require.NoError(t, err)
		requireSameRequest(t, confirmed, got)
	})
	t.Run("UpdateUnknownIsNotFound", func(t *testing.T) {
		t.Parallel()
		e := newStoreEnv(t, newStore)
		other := newStoreEnv(t, func(*testing.T) cancellation.Store { return createOnlyStore{} })
		r := other.start(t, other.account(t))
		err := e.store.Update(t.Context(), r)
		require.ErrorIs(t, err, cancellation.ErrNotFound)
	})
	t.Run("RoundTripKeepsEverything", func(t *testing.T) {
		t.Parallel()
		e := newStoreEnv(t, newStore)
		acct := e.account(t, func(a *ports.Account) { a.IdentityVerified = true })
		e.kit.Platform.AddRight(acct, ports.Right{Kind: ports.RightVoucher, Ref: "V-1", Description: "Launch voucher", Value: ports.Money{Amount: 5000, Currency: "USD"}})
		r := e.verified(t, e.confirm(t, e.start(t, acct)))
		_, err := e.svc.UploadDocument(t.Context(), acct, r.ID(), cancellation.DocumentPassport, bytes.NewReader(docfixtures.JPEG(docfixtures.ColourIDCard(1200, 800), 90)))
		require.NoError(t, err)
		r, err = e.svc.Submit(t.Context(), acct, r.ID())
		require.NoError(t, err)
		r, err = e.svc.Approve(t.Context(), e.reviewer, r.ID(), "documents match")
		require.NoError(t, err)
		require.Equal(t, cancellation.StateCancelled, r.State())
		got, err := e.store.Get(t.Context(), r.ID())
		require.NoError(t, err)
		requireSameRequest(t, r, got)
		require.Equal(t, r.HistoryHead(), got.HistoryHead(), "the newest event is kept with the request")
		require.Empty(t, cmp.Diff(r.Consents(), got.Consents()))
		require.Empty(t, cmp.Diff(r.Documents(), got.Documents()))
		require.Empty(t, cmp.Diff(r.Effects(), got.Effects()))
		events := e.history(t, r.ID())
		require.Len(t, events, r.HistoryLen())
		require.NoError(t, cancellation.VerifyHistory(events, e.historyKey))
		full, err := e.svc.Get(t.Context(), acct, r.ID()) // a staff Review would record that it opened it
		require.NoError(t, err)
		require.Empty(t, cmp.Diff(events, full.History()), "history survives byte for byte")

		// The signed receipt is kept with the request and still matches
		// the stored history.
		token, ok := got.Receipt()
		require.True(t, ok, "the receipt is kept")
		want, _ := r.Receipt()
		require.Equal(t, want, token)
		rc, err := cancellation.VerifyReceipt(token, receiptKey.Public())
		require.NoError(t, err)
		require.NoError(t, rc.CheckHistory(events, e.historyKey))
		require.False(t, got.ErasureDueAt().IsZero())
		require.Equal(t, r.ErasureDueAt(), got.ErasureDueAt())
	})
	t.Run("RoundTripKeepsErasureExtension", func(t *testing.T) {
		t.Parallel()
		e := newStoreEnv(t, newStore)
		r := e.start(t, e.account(t))
		r, err := e.svc.ExtendErasureDeadline(t.Context(), cancellation.Reviewer{ID: fakeSenior}, r.ID(), 2, "a backlog of reviews")
		require.NoError(t, err)
		got, err := e.store.Get(t.Context(), r.ID())
		require.NoError(t, err)
		requireSameRequest(t, r, got)
		x, ok := got.ErasureExtension()
		require.True(t, ok)
		require.Equal(t, 2, x.Months)
		require.Equal(t, "a backlog of reviews", x.Reason)
		require.Equal(t, cancellation.AddMonths(r.CreatedAt(), 3), got.ErasureDueAt())
	})
	t.Run("ListFiltersAndOrders", func(t *testing.T) {
		t.Parallel()
		e := newStoreEnv(t, newStore)
		a1, a2, a3 := e.account(t), e.account(t), e.account(t)
		r1 := e.inReview(t, a1)
		e.kit.Clock.Advance(24 * time.Hour)
		r2 := e.inReview(t, a2)
		e.kit.Clock.Advance(time.Minute) // r3 is created strictly after r2
		r3 := e.start(t, a3)

		ids := func(q cancellation.Query) []string {
			t.Helper()
			q.Account = "" // filled by the caller where wanted
			rs, err := e.store.List(t.Context(), q)
			require.NoError(t, err)
			var out []string
			for _, r := range rs {
				if slices.Contains([]ports.AccountID{a1, a2, a3}, r.Account()) {
					out = append(out, r.ID())
				}
			}
			return out
		}
		require.Equal(t, []string{r1.ID(), r2.ID()}, ids(cancellation.Query{States: []cancellation.State{cancellation.StateInReview}, OrderByDue: true}))
		require.Equal(t, []string{r1.ID(), r2.ID(), r3.ID()}, ids(cancellation.Query{States: []cancellation.State{cancellation.StateInReview, cancellation.StateStarted}}))

		byAccount, err := e.store.List(t.Context(), cancellation.Query{Account: a3})
		require.NoError(t, err)
		require.Len(t, byAccount, 1)
		require.Equal(t, r3.ID(), byAccount[0].ID())

		// r1 is due one day before r2: once r1's due date passes, only r1
		// wakes maintenance.
		e.kit.Clock.Set(r1.DueAt().Add(time.Minute))
		require.Equal(t, []string{r1.ID()}, ids(cancellation.Query{WakeBefore: e.kit.Clock.Now(), States: []cancellation.State{cancellation.StateInReview}}))

		if !f.SharedBackend {
			page1, err := e.store.List(t.Context(), cancellation.Query{Limit: 2})
			require.NoError(t, err)
			page2, err := e.store.List(t.Context(), cancellation.Query{Limit: 2, Offset: 2})
			require.NoError(t, err)
			require.Len(t, page1, 2)
			require.Len(t, page2, 1)
			require.Equal(t, []string{r1.ID(), r2.ID(), r3.ID()}, []string{page1[0].ID(), page1[1].ID(), page2[0].ID()})
		}
	})
	t.Run("ConcurrentDecisionsOneWins", func(t *testing.T) {
		t.Parallel()
		e := newStoreEnv(t, newStore)
		acct := e.account(t)
		r := e.inReview(t, acct)
		svcs := []*cancellation.Service{e.svc, e.service(t), e.service(t), e.service(t)}
		var wins atomic.Int32
		concurrently(t, func(g int) error {
			svc := svcs[g%len(svcs)]
			rv := cancellation.Reviewer{ID: fmt.Sprintf("reviewer-%d", g)}
			var err error
			if g%2 == 0 {
				_, err = svc.Approve(t.Context(), rv, r.ID(), "ok")
			} else {
				_, err = svc.Reject(t.Context(), rv, r.ID(), []cancellation.ReasonCode{cancellation.ReasonIdentityMismatch}, "")
			}
			switch {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, cancellation.ErrInvalidTransition):
				return err
			}
			return nil
		})
		require.Equal(t, int32(1), wins.Load(), "exactly one decision wins")
		events := e.history(t, r.ID())
		require.NoError(t, cancellation.VerifyHistory(events, e.historyKey))
		var decisions int
		for _, ev := range events {
			if ev.Type == cancellation.EventApproved || ev.Type == cancellation.EventRejected {
				decisions++
			}
		}
		require.Equal(t, 1, decisions, "one decision in the history: no lost update")
	})
	t.Run("CancelledContext", func(t *testing.T) {
		t.Parallel()
		e := newStoreEnv(t, newStore)
		r := e.start(t, e.account(t))
		ctx := cancelledContext(t)
		_, err := e.store.Get(ctx, r.ID())
		require.Error(t, err)
		_, err = e.store.List(ctx, cancellation.Query{})
		require.Error(t, err)
	})

	// The subtests below check what a SQL store gets wrong easily: time
	// precision, NULL ordering, LIMIT and OFFSET, inclusive bounds, and
	// text that a JSON column type would rewrite or refuse.
	t.Run("ListOrdersByExactCreationTime", func(t *testing.T) {
		t.Parallel()
		e := newStoreEnv(t, newStore)
		// Created a nanosecond apart, each before the one started before
		// it: a store that keeps microseconds (PostgreSQL timestamptz)
		// would order them by id instead.
		base := e.kit.Clock.Now()
		var accounts []ports.AccountID
		var want []string
		for i := range 6 {
			acct := e.account(t)
			accounts = append(accounts, acct)
			e.kit.Clock.Set(base.Add(time.Duration(6-i) * time.Nanosecond))
			want = append([]string{e.start(t, acct).ID()}, want...)
		}
		rs, err := e.store.List(t.Context(), cancellation.Query{})
		require.NoError(t, err)
		var got []string
		for _, r := range rs {
			if slices.Contains(accounts, r.Account()) {
				got = append(got, r.ID())
			}
		}
		require.Equal(t, want, got)
	})
	t.Run("ListOrderByDuePutsNoDueDateFirst", func(t *testing.T) {
		t.Parallel()
		e := newStoreEnv(t, newStore)
		acct := e.account(t)
		reviewed := e.inReview(t, acct)
		_, err := e.svc.Withdraw(t.Context(), acct, reviewed.ID())
		require.NoError(t, err)
		e.kit.Clock.Advance(time.Minute)
		undated := e.start(t, acct)
		require.True(t, undated.DueAt().IsZero())
		// The zero DueAt orders first, as the zero time.Time does (SQL
		// puts NULL last unless told otherwise).
		for _, q := range []cancellation.Query{{Account: acct, OrderByDue: true}, {Account: acct, OrderByDue: true, Limit: 5}} {
			rs, err := e.store.List(t.Context(), q)
			require.NoError(t, err)
			require.Equal(t, []string{undated.ID(), reviewed.ID()}, requestIDs(rs), "%+v", q)
		}
		rs, err := e.store.List(t.Context(), cancellation.Query{Account: acct})
		require.NoError(t, err)
		require.Equal(t, []string{reviewed.ID(), undated.ID()}, requestIDs(rs), "by creation")
	})
	t.Run("ListLimitAndOffset", func(t *testing.T) {
		t.Parallel()
		e := newStoreEnv(t, newStore)
		acct := e.account(t)
		var all []string
		for range 4 {
			r := e.start(t, acct)
			_, err := e.svc.Withdraw(t.Context(), acct, r.ID())
			require.NoError(t, err)
			all = append(all, r.ID())
			e.kit.Clock.Advance(time.Second)
		}
		for _, c := range []struct {
			limit, offset int
			want          []string
		}{
			{0, 0, all},
			{0, 1, all[1:]}, // an offset without a limit (SQLite needs LIMIT -1)
			{0, 4, nil},
			{0, 9, nil},
			{2, 0, all[:2]},
			{2, 3, all[3:]},
			{9, 1, all[1:]},
		} {
			rs, err := e.store.List(t.Context(), cancellation.Query{Account: acct, Limit: c.limit, Offset: c.offset})
			require.NoError(t, err)
			require.Equal(t, c.want, requestIDs(rs), "limit %d offset %d", c.limit, c.offset)
		}
	})
	t.Run("ListWakeBeforeIsInclusive", func(t *testing.T) {
		t.Parallel()
		e := newStoreEnv(t, newStore)
		acct := e.account(t)
		r := e.inReview(t, acct)
		wake := r.NextWake()
		require.False(t, wake.IsZero())
		for _, c := range []struct {
			before time.Time
			want   []string
		}{
			{wake, []string{r.ID()}},
			{wake.Add(time.Nanosecond), []string{r.ID()}},
			{wake.Add(-time.Nanosecond), nil},
		} {
			rs, err := e.store.List(t.Context(), cancellation.Query{Account: acct, WakeBefore: c.before})
			require.NoError(t, err)
			require.Equal(t, c.want, requestIDs(rs), "WakeBefore %s, NextWake %s", c.before, wake)
		}
	})
	t.Run("RoundTripKeepsUnusualText", func(t *testing.T) {
		t.Parallel()
		e := newStoreEnv(t, newStore)
		acct := e.account(t)
		r := e.inReview(t, acct)
		// NUL (which PostgreSQL jsonb refuses), a line separator, a
		// character outside the BMP, HTML that json.Marshal escapes, and
		// bytes that are not UTF-8 (JSON replaces them; the history hash
		// must still verify after the round trip).
		note := "a\x00b \u2028 \U0001F600 <b>&</b> \xff\xfe end"
		r, err := e.svc.Reject(t.Context(), cancellation.Reviewer{ID: "rev ✓ \U0001F600 <i>"}, r.ID(), []cancellation.ReasonCode{cancellation.ReasonOther}, note)
		require.NoError(t, err)
		got, err := e.store.Get(t.Context(), r.ID())
		require.NoError(t, err)
		requireSameRequest(t, r, got)
		want, err := r.MarshalBinary()
		require.NoError(t, err)
		gotJSON, err := got.MarshalBinary()
		require.NoError(t, err)
		require.Equal(t, string(want), string(gotJSON), "the stored JSON comes back byte for byte")
		require.NoError(t, cancellation.VerifyHistory(e.history(t, r.ID()), e.historyKey))
	})

	// The history is kept apart from the request: each write appends the
	// request's NewEvents, atomically with the request.
	t.Run("UpdateAppendsNewEventsOnly", func(t *testing.T) {
		t.Parallel()
		e := newStoreEnv(t, newStore)
		r := e.start(t, e.account(t))
		require.Len(t, e.history(t, r.ID()), 1)
		cur, err := e.store.Get(t.Context(), r.ID())
		require.NoError(t, err)
		require.Empty(t, cur.NewEvents(), "a request read from the store has no new events")
		r = e.confirm(t, r)
		events := e.history(t, r.ID())
		require.Len(t, events, r.HistoryLen())
		require.Equal(t, r.HistoryHead(), events[len(events)-1])
		for i, ev := range events {
			require.Equal(t, i+1, ev.Seq)
		}
	})
	t.Run("ConflictAppendsNoEvents", func(t *testing.T) {
		t.Parallel()
		e := newStoreEnv(t, newStore)
		acct := e.account(t)
		r := e.start(t, acct)
		// Capture the confirmation's write, with its new events, as it
		// goes to the store; storing it a second time is a stale write.
		spy := &updateSpy{Store: e.store}
		svc := e.serviceOn(t, spy)
		confirmWith(t, svc, r)
		stale := spy.first()
		require.NotEmpty(t, stale.NewEvents())
		before := e.history(t, r.ID())
		require.ErrorIs(t, e.store.Update(t.Context(), stale), cancellation.ErrConflict)
		require.Equal(t, before, e.history(t, r.ID()), "a refused update appends no event")
	})
	t.Run("HistoryIsTheCallersOwn", func(t *testing.T) {
		// A Store may keep the events' Data maps it was given (see
		// Request.NewEvents), but what History returns is the caller's.
		t.Parallel()
		e := newStoreEnv(t, newStore)
		r := e.confirm(t, e.start(t, e.account(t)))
		before := e.history(t, r.ID())
		for i := range before { // the test's own copy, whatever the Store does
			before[i].Data = maps.Clone(before[i].Data)
		}
		got := e.history(t, r.ID())
		for i := range got {
			require.NotEmpty(t, got[i].Data, "event %d", got[i].Seq)
			for k := range got[i].Data {
				got[i].Data[k] = "changed by the caller"
			}
			got[i].Data["added"] = "by the caller"
		}
		require.Equal(t, before, e.history(t, r.ID()))
		require.Equal(t, r.HistoryHead(), before[len(before)-1], "the request's own events are unchanged")
	})
	t.Run("WritesChangeNothingTheyAreGiven", func(t *testing.T) {
		// The events NewEvents returns share their Data maps with the
		// request (see Request.NewEvents): a Store that changed what it
		// is given would change the caller's request and its history.
		t.Parallel()
		e := newStoreEnv(t, newStore)
		w := &writeWatch{Store: e.store}
		svc := e.serviceOn(t, w)
		acct := e.account(t)
		r, err := svc.Start(t.Context(), acct)
		require.NoError(t, err)
		confirmWith(t, svc, r)
		w.mu.Lock()
		defer w.mu.Unlock()
		require.Equal(t, 2, w.writes, "a Create and an Update were watched")
		require.Empty(t, w.changed)
	})
	t.Run("HistoryUnknownIsNotFound", func(t *testing.T) {
		t.Parallel()
		e := newStoreEnv(t, newStore)
		_, err := e.store.History(t.Context(), "can_"+uniqueName(t, "missing"))
		require.ErrorIs(t, err, cancellation.ErrNotFound)
	})
	t.Run("ListFailingBeforeByIndex", func(t *testing.T) {
		t.Parallel()
		testFailingEffects(t, newStore)
	})
	t.Run("PastRequestsByAccountIndex", func(t *testing.T) {
		t.Parallel()
		testPastRequests(t, newStore)
	})
	t.Run("ListPagesByCursor", func(t *testing.T) {
		t.Parallel()
		e := newStoreEnv(t, newStore)
		var accounts []ports.AccountID
		var byCreation []*cancellation.Request
		for i := range 5 {
			acct := e.account(t)
			accounts = append(accounts, acct)
			r := e.inReview(t, acct)
			if i == 2 {
				e.kit.Clock.Advance(-time.Hour) // created later, due the same day
			}
			byCreation = append(byCreation, r)
			e.kit.Clock.Advance(time.Minute)
		}
		mine := func(rs []*cancellation.Request) []*cancellation.Request {
			return slices.DeleteFunc(rs, func(r *cancellation.Request) bool { return !slices.Contains(accounts, r.Account()) })
		}
		for _, q := range []cancellation.Query{
			{States: []cancellation.State{cancellation.StateInReview}, OrderByDue: true},
			{States: []cancellation.State{cancellation.StateInReview}},
			{WakeBefore: e.kit.Clock.Now().Add(30 * 24 * time.Hour), OrderByWake: true},
			{States: []cancellation.State{cancellation.StateInReview}, OrderByDue: true, ExcludeAccount: accounts[1]},
		} {
			all, err := e.store.List(t.Context(), q)
			require.NoError(t, err)
			all = mine(all)
			for i := 1; i < len(all); i++ {
				require.Negative(t, q.Cursor(all[i-1]).Compare(q.Cursor(all[i])), "%+v is in order", q)
			}
			if q.ExcludeAccount != "" {
				require.Len(t, all, 4)
				require.NotContains(t, requestIDs(all), byCreation[1].ID())
			} else {
				require.Len(t, all, 5)
			}
			// Keyset pages of 2 give the same list.
			var paged []*cancellation.Request
			for page := q; ; {
				page.Limit = 2
				rs, err := e.store.List(t.Context(), page)
				require.NoError(t, err)
				if len(rs) == 0 {
					break
				}
				paged = append(paged, rs...)
				page.After = q.Cursor(rs[len(rs)-1])
			}
			require.Equal(t, requestIDs(all), requestIDs(mine(paged)), "%+v", q)
		}
	})
}

// updateSpy keeps a copy of the first request given to Update.
type updateSpy struct {
	cancellation.Store
	mu      sync.Mutex
	updates []*cancellation.Request
}

func (s *updateSpy) Update(ctx context.Context, r *cancellation.Request) error {
	s.mu.Lock()
	s.updates = append(s.updates, r.Clone())
	s.mu.Unlock()
	return s.Store.Update(ctx, r)
}

func (s *updateSpy) first() *cancellation.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.updates[0]
}

// writeWatch checks that Create and Update leave the request they are
// given, and its events, as they were.
type writeWatch struct {
	cancellation.Store
	mu      sync.Mutex
	writes  int
	changed []string
}

func (w *writeWatch) Create(ctx context.Context, r *cancellation.Request) error {
	return w.watch(r, func() error { return w.Store.Create(ctx, r) })
}

func (w *writeWatch) Update(ctx context.Context, r *cancellation.Request) error {
	return w.watch(r, func() error { return w.Store.Update(ctx, r) })
}

func (w *writeWatch) watch(r *cancellation.Request, write func() error) error {
	before, events := snapshot(r)
	err := write()
	after, afterEvents := snapshot(r)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes++
	if after != before || !reflect.DeepEqual(events, afterEvents) {
		w.changed = append(w.changed, fmt.Sprintf("write %d of %s changed the request or its events", w.writes, r.ID()))
	}
	return err
}

// snapshot is r's encoding and its new events, deep-copied.
func snapshot(r *cancellation.Request) (string, []cancellation.Event) {
	b, err := r.MarshalBinary()
	if err != nil {
		return "unencodable: " + err.Error(), nil
	}
	events := r.NewEvents()
	for i := range events {
		events[i].Data = maps.Clone(events[i].Data)
	}
	return string(b), events
}

// history reads a request's stored events.
func (e *storeEnv) history(t *testing.T, id string) []cancellation.Event {
	t.Helper()
	events, err := e.store.History(t.Context(), id)
	require.NoError(t, err)
	return events
}

func requestIDs(rs []*cancellation.Request) []string {
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.ID())
	}
	return ids
}

// requireSameRequest compares two requests as a store persists them.
func requireSameRequest(t *testing.T, want, got *cancellation.Request) {
	t.Helper()
	decode := func(r *cancellation.Request) map[string]any {
		b, err := r.MarshalBinary()
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(b, &m))
		return m
	}
	if d := cmp.Diff(decode(want), decode(got)); d != "" {
		t.Fatalf("stored request differs (-want +got):\n%s", d)
	}
}

// receiptKey signs the receipts of the suite's services: a fixed key,
// public, for tests only.
var receiptKey = cancellation.ReceiptSigningKey{ID: "portstest-receipt-1", Key: ed25519.NewKeyFromSeed([]byte("portstest receipt key: 32 bytes."))}

// storeEnv is a Service over the store under test with the kit's fakes of
// the other ports.
type storeEnv struct {
	kit        *fakeKit
	store      cancellation.Store
	svc        *cancellation.Service
	reviewer   cancellation.Reviewer
	otpKey     []byte
	historyKey cancellation.HistoryKey
	mu         sync.Mutex
	accounts   int
	prefix     string
}

func newStoreEnv(t *testing.T, newStore func(t *testing.T) cancellation.Store) *storeEnv {
	t.Helper()
	e := &storeEnv{
		kit:        newFakeKit(time.Date(2026, time.March, 2, 10, 0, 0, 0, time.UTC)),
		store:      newStore(t),
		reviewer:   cancellation.Reviewer{ID: "reviewer-1", Account: "reviewer-own-account"},
		otpKey:     []byte("portstest shared otp key"),
		historyKey: cancellation.HistoryKey{ID: "portstest-1", Secret: []byte("portstest history key, 32+ bytes long")},
		// A random part keeps a shared backend that outlives the run from
		// seeing the accounts of an earlier run.
		prefix: uniqueName(t, fmt.Sprintf("%04x-", rand.Uint32()&0xffff)),
	}
	e.svc = e.service(t)
	return e
}

// service returns another Service over the same store and ports, as a
// replica would be.
func (e *storeEnv) service(t *testing.T) *cancellation.Service {
	t.Helper()
	return e.serviceOn(t, e.store)
}

// serviceOn returns a Service over store and the env's ports, its Config
// changed by opts.
func (e *storeEnv) serviceOn(t *testing.T, store cancellation.Store, opts ...func(*cancellation.Config)) *cancellation.Service {
	t.Helper()
	cfg := e.kit.Config()
	cfg.Store = store
	cfg.Verification.Key = e.otpKey
	cfg.HistoryKeys = []cancellation.HistoryKey{e.historyKey}
	cfg.ReceiptKey = &receiptKey
	for _, o := range opts {
		o(&cfg)
	}
	svc, err := cancellation.New(cfg)
	require.NoError(t, err)
	return svc
}

// account adds a fresh eligible account unique to the subtest.
func (e *storeEnv) account(t *testing.T, opts ...func(*ports.Account)) ports.AccountID {
	t.Helper()
	e.mu.Lock()
	e.accounts++
	id := ports.AccountID(fmt.Sprintf("%s%d", e.prefix, e.accounts))
	n := e.accounts
	e.mu.Unlock()
	a := ports.Account{ID: id, Kind: ports.Personal, RecoveryPhone: fmt.Sprintf("+1555010%04d", n), Email: string(id) + "@example.com", Locale: "en"}
	for _, o := range opts {
		o(&a)
	}
	e.kit.Platform.AddAccount(a)
	return id
}

func (e *storeEnv) start(t *testing.T, acct ports.AccountID) *cancellation.Request {
	t.Helper()
	r, err := e.svc.Start(t.Context(), acct)
	require.NoError(t, err)
	return r
}

func (e *storeEnv) confirm(t *testing.T, r *cancellation.Request) *cancellation.Request {
	t.Helper()
	return confirmWith(t, e.svc, r)
}

// confirmWith confirms r through svc with every consent and attestation.
func confirmWith(t *testing.T, svc *cancellation.Service, r *cancellation.Request) *cancellation.Request {
	t.Helper()
	rep, err := svc.CheckEligibility(t.Context(), r.Account())
	require.NoError(t, err)
	r, err = svc.Confirm(t.Context(), r.Account(), r.ID(), cancellation.Confirmation{
		NotesVersion: svc.Notes().Version, Irreversible: true,
		Attestations: cancellation.Attestations{BackupDoneOrWaived: true, NotEvading: true, OtherMattersHandled: true},
		Consents:     rep.Consents(),
	})
	require.NoError(t, err)
	return r
}

func (e *storeEnv) verified(t *testing.T, r *cancellation.Request) *cancellation.Request {
	t.Helper()
	ctx := context.Background()
	_, err := e.svc.SendCode(ctx, r.Account(), r.ID())
	require.NoError(t, err)
	acct, err := e.kit.Platform.Account(ctx, r.Account())
	require.NoError(t, err)
	code, ok := e.kit.OTP.LastCode(acct.RecoveryPhone)
	require.True(t, ok)
	r, err = e.svc.VerifyCode(ctx, r.Account(), r.ID(), code)
	require.NoError(t, err)
	return r
}

func (e *storeEnv) inReview(t *testing.T, acct ports.AccountID) *cancellation.Request {
	t.Helper()
	r := e.verified(t, e.confirm(t, e.start(t, acct)))
	r, err := e.svc.Submit(t.Context(), acct, r.ID())
	require.NoError(t, err)
	return r
}
