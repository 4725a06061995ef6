package portstest

import (
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

// testStoreClaims is the part of TestStore for reviewers' claims and the
// review queue's filters (Query.UnclaimedAt, ClaimedBy, AccountKind,
// DueBefore): the Store filters before it limits, so a page is never
// short, and a claim round-trips.
func testStoreClaims(t *testing.T, newStore func(t *testing.T) cancellation.Store) {
	t.Run("ListFiltersByClaimKindAndDueDate", func(t *testing.T) {
		t.Parallel()
		e := newStoreEnv(t, newStore)
		ctx := t.Context()
		var accounts []ports.AccountID
		var rs []*cancellation.Request
		for i := range 4 {
			acct := e.account(t, func(a *ports.Account) {
				if i == 1 {
					a.Kind = ports.Enterprise
				}
			})
			accounts = append(accounts, acct)
			rs = append(rs, e.inReview(t, acct))
			e.kit.Clock.Advance(24 * time.Hour) // due dates strictly increase
		}
		// r2's claim by claimer-a expires; then claimer-a claims r0 and
		// claimer-b r1; r3 was never claimed.
		_, err := e.svc.Claim(ctx, cancellation.Reviewer{ID: "claimer-a"}, rs[2].ID())
		require.NoError(t, err)
		e.kit.Clock.Advance(cancellation.DefaultClaimDuration + time.Second)
		_, err = e.svc.Claim(ctx, cancellation.Reviewer{ID: "claimer-a"}, rs[0].ID())
		require.NoError(t, err)
		_, err = e.svc.Claim(ctx, cancellation.Reviewer{ID: "claimer-b"}, rs[1].ID())
		require.NoError(t, err)
		got, err := e.store.Get(ctx, rs[0].ID())
		require.NoError(t, err)
		c, ok := got.Claim()
		require.True(t, ok, "the claim round-trips")
		require.Equal(t, "claimer-a", c.By)
		require.Equal(t, e.kit.Clock.Now().Add(cancellation.DefaultClaimDuration), c.Until)

		now := e.kit.Clock.Now()
		inReview := []cancellation.State{cancellation.StateInReview}
		ids := func(is ...int) []string {
			var out []string
			for _, i := range is {
				out = append(out, rs[i].ID())
			}
			return out
		}
		for name, tc := range map[string]struct {
			q    cancellation.Query
			want []string
		}{
			"Unclaimed":  {cancellation.Query{UnclaimedAt: now}, ids(2, 3)},
			"ClaimedBy":  {cancellation.Query{ClaimedBy: "claimer-a", ClaimedAt: now}, ids(0)},
			"Enterprise": {cancellation.Query{AccountKind: ports.Enterprise}, ids(1)},
			"Personal":   {cancellation.Query{AccountKind: ports.Personal, UnclaimedAt: now}, ids(2, 3)},
			"DueBefore":  {cancellation.Query{DueBefore: rs[2].DueAt()}, ids(0, 1)},
			"Combined":   {cancellation.Query{DueBefore: rs[3].DueAt(), UnclaimedAt: now, AccountKind: ports.Personal}, ids(2)},
			"ClaimedLater": {cancellation.Query{ClaimedBy: "claimer-a", ClaimedAt: now.Add(cancellation.DefaultClaimDuration)},
				nil},
		} {
			tc.q.States, tc.q.OrderByDue = inReview, true
			all, err := e.store.List(ctx, tc.q)
			require.NoError(t, err, name)
			for _, r := range all {
				require.True(t, tc.q.Matches(r), "%s: %s does not match", name, r.ID())
			}
			ours := func(rs []*cancellation.Request) []string {
				var out []string
				for _, r := range rs {
					if slices.Contains(accounts, r.Account()) {
						out = append(out, r.ID())
					}
				}
				return out
			}
			require.Equal(t, tc.want, ours(all), name)
			// Pages of one: full until the last, the same list.
			var paged []*cancellation.Request
			for page := tc.q; ; {
				page.Limit = 1
				got, err := e.store.List(ctx, page)
				require.NoError(t, err, name)
				if len(got) == 0 {
					break
				}
				require.Len(t, got, 1, name)
				paged = append(paged, got...)
				page.After = tc.q.Cursor(got[0])
			}
			require.Equal(t, ours(all), ours(paged), name) // others may write a shared backend meanwhile
		}
	})
	t.Run("ConcurrentClaimsOneWins", func(t *testing.T) {
		t.Parallel()
		e := newStoreEnv(t, newStore)
		r := e.inReview(t, e.account(t))
		svcs := []*cancellation.Service{e.svc, e.service(t), e.service(t), e.service(t)}
		var wins atomic.Int32
		concurrently(t, func(g int) error {
			_, err := svcs[g%len(svcs)].Claim(t.Context(), cancellation.Reviewer{ID: fmt.Sprintf("claimer-%d", g)}, r.ID())
			switch {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, cancellation.ErrClaimed):
				return err
			}
			return nil
		})
		require.Equal(t, int32(1), wins.Load(), "exactly one claim wins")
		got, err := e.store.Get(t.Context(), r.ID())
		require.NoError(t, err)
		c, ok := got.Claim()
		require.True(t, ok)
		claimed := 0
		for _, ev := range e.history(t, r.ID()) {
			if ev.Type == cancellation.EventClaimed {
				claimed++
				require.Equal(t, c.By, ev.Actor.ID)
			}
		}
		require.Equal(t, 1, claimed, "one claim is recorded")
	})
}
