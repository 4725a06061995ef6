package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/adapters/sqlstore"
)

// replicas opens n Stores on dsn, each with its own *sql.DB pool, as n
// processes of a host would.
func replicas(t testing.TB, dsn string, n int) []*sqlstore.Store {
	t.Helper()
	stores := make([]*sqlstore.Store, n)
	for i := range stores {
		stores[i] = openStore(t, dsn)
	}
	return stores
}

// together runs f(g) for g in [0, n) on n goroutines released at once, and
// returns their errors joined.
func together(n int, f func(g int) error) error {
	start := make(chan struct{})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for g := range n {
		wg.Go(func() {
			<-start
			errs[g] = f(g)
		})
	}
	close(start)
	wg.Wait()
	return errors.Join(errs...)
}

// TestReplicasCreateOneActive has two Stores, as two replicas, create a
// request for one account at the same moment: the database's partial
// unique index lets one in and refuses the other with
// ErrActiveRequestExists.
func TestReplicasCreateOneActive(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d dialect) {
		stores := replicas(t, d.newDSN(t), 2)
		for range 10 {
			acct := uniqueAccount("race")
			rs := []*cancellation.Request{started(t, acct), started(t, acct)}
			var ok, refused atomic.Int32
			require.NoError(t, together(2, func(g int) error {
				err := stores[g].Create(context.Background(), rs[g])
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, cancellation.ErrActiveRequestExists):
					refused.Add(1)
				default:
					return err
				}
				return nil
			}))
			require.Equal(t, int32(1), ok.Load())
			require.Equal(t, int32(1), refused.Load())
			for _, s := range stores {
				got, err := s.List(t.Context(), cancellation.Query{Account: acct})
				require.NoError(t, err)
				require.Len(t, got, 1)
				active, err := s.ActiveFor(t.Context(), acct)
				require.NoError(t, err)
				require.Equal(t, got[0].ID(), active.ID())
			}
		}
		// An id that exists is a conflict, not an active request.
		r := started(t, uniqueAccount("dup"))
		require.NoError(t, stores[0].Create(t.Context(), r))
		w := patched(t, r, map[string]any{"state": cancellation.StateWithdrawn})
		require.ErrorIs(t, stores[1].Create(t.Context(), w), cancellation.ErrConflict)
		require.ErrorIs(t, stores[1].Create(t.Context(), patched(t, r, map[string]any{"version": 2})), cancellation.ErrConflict, "Create wants version 1")
	})
}

// TestReplicasDecideOnce has 16 goroutines on 4 Services, each over its own
// Store and pool, approve or reject one request at once: exactly one
// decision is taken and recorded, and the history stays a valid chain.
func TestReplicasDecideOnce(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d dialect) {
		e := newEnv()
		stores := replicas(t, d.newDSN(t), 4)
		svcs := make([]*cancellation.Service, len(stores))
		for i, s := range stores {
			svcs[i] = e.service(t, s)
		}
		for round := range 3 {
			acct := e.account(fmt.Sprintf("decide-%d-%s", round, randomHex(4)))
			r := e.inReview(t, svcs[0], acct)
			var wins atomic.Int32
			require.NoError(t, together(16, func(g int) error {
				svc := svcs[g%len(svcs)]
				rv := cancellation.Reviewer{ID: fmt.Sprintf("reviewer-%d", g)}
				var err error
				if g%2 == 0 {
					_, err = svc.Approve(context.Background(), rv, r.ID(), "ok")
				} else {
					_, err = svc.Reject(context.Background(), rv, r.ID(), []cancellation.ReasonCode{cancellation.ReasonIdentityMismatch}, "")
				}
				switch {
				case err == nil:
					wins.Add(1)
				case errors.Is(err, cancellation.ErrInvalidTransition):
				default:
					return fmt.Errorf("goroutine %d: %w", g, err)
				}
				return nil
			}))
			require.Equal(t, int32(1), wins.Load(), "exactly one decision wins")
			for _, s := range stores {
				events, err := s.History(t.Context(), r.ID())
				require.NoError(t, err)
				require.NoError(t, cancellation.VerifyHistory(events, e.kit.HistoryKey))
				var decisions int
				for _, ev := range events {
					if ev.Type == cancellation.EventApproved || ev.Type == cancellation.EventRejected {
						decisions++
					}
				}
				require.Equal(t, 1, decisions, "one decision in the history: no lost update")
			}
		}
	})
}

// TestUpdateNoLostUpdates runs read-modify-write loops on one request from
// 4 Stores (pools) with 4 goroutines each. Every successful Update moves
// the version from the one read to the next: if two ever succeeded from the
// same version (a lost update), the final version would fall short of
// 1 + the number of successes.
func TestUpdateNoLostUpdates(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d dialect) {
		stores := replicas(t, d.newDSN(t), 4)
		r := started(t, uniqueAccount("lost"))
		require.NoError(t, stores[0].Create(t.Context(), r))
		const perGoroutine = 8
		var successes, conflicts atomic.Int64
		require.NoError(t, together(16, func(g int) error {
			s := stores[g%len(stores)]
			for done := 0; done < perGoroutine; {
				cur, err := s.Get(context.Background(), r.ID())
				if err != nil {
					return err
				}
				next, err := patch(cur, map[string]any{"version": cur.Version() + 1})
				if err != nil {
					return err
				}
				switch err := s.Update(context.Background(), next); {
				case err == nil:
					successes.Add(1)
					done++
				case errors.Is(err, cancellation.ErrConflict):
					conflicts.Add(1)
				default:
					return err
				}
			}
			return nil
		}))
		require.Equal(t, int64(16*perGoroutine), successes.Load())
		got, err := stores[1].Get(t.Context(), r.ID())
		require.NoError(t, err)
		require.Equal(t, 1+successes.Load(), got.Version())
		t.Logf("%d updates, %d conflicts", successes.Load(), conflicts.Load())
	})
}

// TestUpdateOutcomes checks how Update tells its failures apart.
func TestUpdateOutcomes(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d dialect) {
		s := openStore(t, d.newDSN(t))
		r := started(t, uniqueAccount("outcome"))
		require.NoError(t, s.Create(t.Context(), r))

		require.ErrorIs(t, s.Update(t.Context(), r), cancellation.ErrConflict, "version 1 again expects 0")
		require.ErrorIs(t, s.Update(t.Context(), patched(t, r, map[string]any{"version": 3})), cancellation.ErrConflict, "skips a version")
		require.ErrorContains(t, s.Update(t.Context(), patched(t, r, map[string]any{"version": 3})), "is at version 1, update expects 2")
		other := patched(t, r, map[string]any{"version": 2, "account": "someone-else"})
		require.ErrorIs(t, s.Update(t.Context(), other), cancellation.ErrConflict)
		require.ErrorContains(t, s.Update(t.Context(), other), "cannot change account")
		require.ErrorIs(t, s.Update(t.Context(), patched(t, r, map[string]any{"version": 2, "id": "can_missing" + randomHex(4)})), cancellation.ErrNotFound)

		// A terminal request may not become active again while another is.
		acct := uniqueAccount("reactivate")
		old := patched(t, started(t, acct), map[string]any{"state": cancellation.StateWithdrawn})
		require.NoError(t, s.Create(t.Context(), old))
		require.NoError(t, s.Create(t.Context(), started(t, acct)))
		back := patched(t, old, map[string]any{"state": cancellation.StateStarted, "version": 2})
		require.ErrorIs(t, s.Update(t.Context(), back), cancellation.ErrActiveRequestExists)

		ok := patched(t, r, map[string]any{"version": 2})
		require.NoError(t, s.Update(t.Context(), ok))
		got, err := s.Get(t.Context(), r.ID())
		require.NoError(t, err)
		requireSameJSON(t, ok, got)

		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		require.ErrorIs(t, s.Update(ctx, patched(t, r, map[string]any{"version": 3})), context.Canceled)
		require.ErrorIs(t, s.Create(ctx, started(t, uniqueAccount("ctx"))), context.Canceled)
		_, err = s.ActiveFor(ctx, r.Account())
		require.ErrorIs(t, err, context.Canceled)
	})
}

// TestMaintenanceClaimsEffectsOnce leaves every effect of many approved
// requests pending (the Notifier and the closer fail on the approvals'
// attempts), then runs RunMaintenance on several Services at once, each
// over its own Store and pool on one database and all sharing the memory
// ports: each notification and each close is called once more per
// idempotency key (raw calls, not deliveries), none twice, none missed.
func TestMaintenanceClaimsEffectsOnce(t *testing.T) {
	t.Parallel()
	eachDialect(t, func(t *testing.T, d dialect) {
		n, replicaCount := 60, 2
		if d.name == sqlstore.Postgres {
			n, replicaCount = 300, 4
		}
		e := newEnv()
		stores := replicas(t, d.newDSN(t), replicaCount)
		svcs := make([]*cancellation.Service, len(stores))
		for i, s := range stores {
			svcs[i] = e.service(t, s, acceptUnkeyed)
		}

		// Approve n requests; every effect attempt of the approvals fails.
		// The workflow runs over a memory store, for speed (the other
		// tests run it over SQL); each request then goes into the
		// database as it stands, renumbered as version 1.
		e.kit.Notifier.FailNext(n, nil)
		e.kit.Platform.FailNext(memory.PortAccountCloser, n, nil)
		// (Without history keys, so that the requests can be renumbered.)
		setup := e.service(t, memory.NewStore(), unkeyed)
		ids := make([]string, n)
		var g errgroup.Group
		g.SetLimit(4)
		for i := range n {
			g.Go(func() error {
				acct := e.account(fmt.Sprintf("effects-%s-%03d", d.name, i))
				r, err := e.toReview(context.Background(), setup, acct)
				if err != nil {
					return err
				}
				if r, err = setup.Approve(context.Background(), cancellation.Reviewer{ID: "reviewer"}, r.ID(), "ok"); err != nil {
					return err
				}
				ids[i] = r.ID()
				if r, err = setup.Review(context.Background(), cancellation.Reviewer{ID: "reviewer"}, r.ID()); err != nil {
					return err
				}
				if r, err = inline(r); err != nil {
					return err
				}
				return stores[i%len(stores)].Create(context.Background(), r)
			})
		}
		require.NoError(t, g.Wait())
		require.Equal(t, n, e.kit.Notifier.Attempts(), "one failed notification per approval")
		for _, id := range ids {
			r, err := stores[0].Get(t.Context(), id)
			require.NoError(t, err)
			require.Equal(t, cancellation.StateApproved, r.State())
			pending := r.PendingEffects()
			require.Len(t, pending, 2)
			for _, ef := range pending {
				require.Equal(t, 1, ef.Attempts, ef.Key)
			}
		}

		// Past the retry backoff, the replicas' maintenance runs at once,
		// pass after pass, until nothing is pending.
		e.kit.Clock.Advance(2 * time.Minute)
		for pass := 1; ; pass++ {
			require.NoError(t, together(len(svcs), func(g int) error {
				rep, err := svcs[g].RunMaintenance(context.Background())
				if err != nil {
					t.Logf("pass %d, replica %d: %v", pass, g, err) // retried by the next pass
				}
				t.Logf("pass %d, replica %d: %+v", pass, g, rep)
				return nil
			}))
			waiting, err := stores[0].List(t.Context(), cancellation.Query{WakeBefore: e.kit.Clock.Now()})
			require.NoError(t, err)
			if len(waiting) == 0 {
				break
			}
			require.Less(t, pass, 5, "%d requests still have work after %d passes", len(waiting), pass)
		}

		calls := func(ef cancellation.Effect) int {
			if ef.Kind == cancellation.EffectCloseAccount {
				return e.kit.Platform.CloseCalls(ef.Key)
			}
			return e.kit.Notifier.Count(ef.Key)
		}
		total := 0
		for _, id := range ids {
			r, err := stores[len(stores)-1].Get(t.Context(), id)
			require.NoError(t, err)
			require.Equal(t, cancellation.StateCancelled, r.State(), id)
			events, err := stores[len(stores)-1].History(t.Context(), id)
			require.NoError(t, err)
			require.NoError(t, cancellation.VerifyHistory(events, e.kit.HistoryKey))
			require.Empty(t, r.PendingEffects(), id)
			require.Len(t, r.Effects(), 4, "approval notice, close, cancellation by SMS and by email")
			for _, ef := range r.Effects() {
				want := 1 // recorded when the account closed, done at once
				if ef.Kind == cancellation.EffectCloseAccount || strings.Contains(ef.Key, "/review_approved/") {
					want = 2 // failed at approval, done by maintenance
				}
				require.Equal(t, want, ef.Attempts, ef.Key)
				require.Equal(t, want, calls(ef), "raw calls of %s", ef.Key)
				if ef.Kind == cancellation.EffectNotify {
					require.Equal(t, 1, e.kit.Notifier.Deliveries(ef.Key), ef.Key)
				}
				total += calls(ef)
			}
			acct, err := e.kit.Platform.Account(t.Context(), r.Account())
			require.NoError(t, err)
			require.True(t, acct.Closed)
		}
		require.Equal(t, 6*n, total)
		require.Equal(t, 4*n, e.kit.Notifier.Attempts(), "no notification call beyond those counted")
	})
}

// requireSameJSON compares two requests as stored.
func requireSameJSON(t testing.TB, want, got *cancellation.Request) {
	t.Helper()
	w, err := want.MarshalBinary()
	require.NoError(t, err)
	g, err := got.MarshalBinary()
	require.NoError(t, err)
	require.JSONEq(t, string(w), string(g))
}
