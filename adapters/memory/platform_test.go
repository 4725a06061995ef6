package memory_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/ports"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/require"
)

// findings is everything the checker ports report about one account.
type findings struct {
	Obligations    []ports.Obligation
	Rights         []ports.Right
	Authorizations []ports.Authorization
	SubUsers       []ports.SubUser
	APIKeys        []ports.APIKey
	DataHoldings   []ports.DataHolding
	Cases          []ports.Case
	Matters        []ports.Matter
}

// findingsOf asks every checker port of p about id.
func findingsOf(t *testing.T, p *memory.Platform, id ports.AccountID) findings {
	t.Helper()
	ctx := t.Context()
	var f findings
	var errs [8]error
	f.Obligations, errs[0] = p.OpenObligations(ctx, id)
	f.Rights, errs[1] = p.UnusedRights(ctx, id)
	f.Authorizations, errs[2] = p.Authorizations(ctx, id)
	f.SubUsers, errs[3] = p.SubUsers(ctx, id)
	f.APIKeys, errs[4] = p.APIKeys(ctx, id)
	f.DataHoldings, errs[5] = p.DataHoldings(ctx, id)
	f.Cases, errs[6] = p.OpenCases(ctx, id)
	f.Matters, errs[7] = p.OpenMatters(ctx, id)
	require.NoError(t, errors.Join(errs[:]...))
	return f
}

// callEveryPort calls each port of p once about id and returns the errors
// by port.
func callEveryPort(ctx context.Context, p *memory.Platform, id ports.AccountID) map[memory.Port]error {
	errs := make(map[memory.Port]error)
	_, errs[memory.PortAccountDirectory] = p.Account(ctx, id)
	_, errs[memory.PortOrderChecker] = p.OpenObligations(ctx, id)
	_, errs[memory.PortBalanceChecker] = p.UnusedRights(ctx, id)
	_, errs[memory.PortAuthorizationStore] = p.Authorizations(ctx, id)
	_, errs[memory.PortSubUserStore] = p.SubUsers(ctx, id)
	_, errs[memory.PortAPIKeyStore] = p.APIKeys(ctx, id)
	_, errs[memory.PortDataInventory] = p.DataHoldings(ctx, id)
	_, errs[memory.PortComplaintChecker] = p.OpenCases(ctx, id)
	_, errs[memory.PortMatterChecker] = p.OpenMatters(ctx, id)
	errs[memory.PortAccountCloser] = p.CloseAccount(ctx, id, "key-"+string(id))
	return errs
}

var allPorts = []memory.Port{
	memory.PortAccountDirectory, memory.PortOrderChecker, memory.PortBalanceChecker,
	memory.PortAuthorizationStore, memory.PortSubUserStore, memory.PortAPIKeyStore,
	memory.PortDataInventory, memory.PortComplaintChecker, memory.PortMatterChecker,
	memory.PortAccountCloser,
}

func TestSeedDemo(t *testing.T) {
	t.Parallel()
	p := memory.NewPlatform().SeedDemo()

	account := func(id ports.AccountID, kind ports.AccountKind, verified bool, phone string) ports.Account {
		return ports.Account{ID: id, Kind: kind, IdentityVerified: verified, RecoveryPhone: phone, Email: string(id) + "@example.com", Locale: "en"}
	}
	wantAccounts := []ports.Account{
		account("acct-balance", ports.Personal, false, "+15550100005"),
		account("acct-blocked", ports.Personal, false, "+15550100004"),
		account("acct-complaint", ports.Personal, false, "+15550100006"),
		account("acct-eligible", ports.Personal, false, "+15550100001"),
		account("acct-enterprise", ports.Enterprise, true, "+15550100003"),
		account("acct-verified", ports.Personal, true, "+15550100002"),
	}
	require.Empty(t, cmp.Diff(wantAccounts, p.Accounts()))

	created := time.Date(2025, time.January, 15, 9, 30, 0, 0, time.UTC)
	want := map[ports.AccountID]findings{
		memory.AccountEligible:   {},
		memory.AccountVerified:   {},
		memory.AccountEnterprise: {},
		memory.AccountBlocked: {
			APIKeys: []ports.APIKey{
				{ID: "AKID-demo-1", Label: "ci-deploy", CreatedAt: created},
				{ID: "AKID-demo-2", Label: "backup-job", CreatedAt: created.Add(24 * time.Hour)},
			},
			SubUsers: []ports.SubUser{
				{Kind: ports.SubUserSubUser, Ref: "subuser-ops", Name: "ops"},
				{Kind: ports.SubUserCollaborator, Ref: "collab-alice", Name: "Alice"},
			},
		},
		memory.AccountBalance: {
			Rights: []ports.Right{
				{Kind: ports.RightCash, Ref: "cash", Description: "Cash balance", Value: ports.Money{Amount: 1234, Currency: "USD"}},
				{Kind: ports.RightVoucher, Ref: "voucher-welcome", Description: "Welcome voucher", Value: ports.Money{Amount: 5000, Currency: "USD"}},
			},
		},
		memory.AccountComplaint: {
			Cases: []ports.Case{{Kind: ports.CaseComplaint, Ref: "complaint-1001", Summary: "Abuse report about hosted content", OpenedAt: created}},
		},
	}
	for id, w := range want {
		require.Empty(t, cmp.Diff(w, findingsOf(t, p, id), cmpopts.EquateEmpty()), "account %s", id)
	}
	require.Len(t, want, len(wantAccounts), "every demo account has its findings checked")

	ids := make([]ports.AccountID, 0, len(wantAccounts))
	for _, a := range p.Accounts() {
		ids = append(ids, a.ID)
	}
	require.ElementsMatch(t, ids, memory.DemoAccounts())
	require.Equal(t, ports.AccountID("acct-eligible"), memory.DemoAccounts()[0])
}

func TestSeedDemoTwiceChangesNothing(t *testing.T) {
	t.Parallel()
	once, twice := memory.NewPlatform().SeedDemo(), memory.NewPlatform().SeedDemo().SeedDemo()
	require.Equal(t, once.Accounts(), twice.Accounts())
	for _, id := range memory.DemoAccounts() {
		require.Equal(t, findingsOf(t, once, id), findingsOf(t, twice, id), "account %s", id)
	}
}

func TestPlatformZeroValue(t *testing.T) {
	t.Parallel()
	var p memory.Platform
	require.Empty(t, findingsOf(t, &p, "nobody"))
	_, err := p.Account(t.Context(), "nobody")
	require.ErrorIs(t, err, ports.ErrNotFound)
	require.ErrorIs(t, p.CloseAccount(t.Context(), "nobody", "k"), ports.ErrNotFound)
	p.AddAccount(ports.Account{ID: "a"}).AddMatter("a", ports.Matter{Ref: "m"})
	require.Equal(t, findings{Matters: []ports.Matter{{Ref: "m"}}}, findingsOf(t, &p, "a"))
}

func TestPlatformAddReplacesSameRef(t *testing.T) {
	t.Parallel()
	p := memory.NewPlatform().
		AddRight("a", ports.Right{Kind: ports.RightCash, Ref: "cash", Value: ports.Money{Amount: 100, Currency: "USD"}}).
		AddRight("a", ports.Right{Kind: ports.RightVoucher, Ref: "v1"}).
		AddRight("a", ports.Right{Kind: ports.RightCash, Ref: "cash", Value: ports.Money{Amount: 250, Currency: "USD"}}).
		AddRight("b", ports.Right{Kind: ports.RightCash, Ref: "cash"})
	got, err := p.UnusedRights(t.Context(), "a")
	require.NoError(t, err)
	require.Equal(t, []ports.Right{
		{Kind: ports.RightCash, Ref: "cash", Value: ports.Money{Amount: 250, Currency: "USD"}},
		{Kind: ports.RightVoucher, Ref: "v1"},
	}, got)

	p.AddAccount(ports.Account{ID: "a", Email: "old@example.com"}).AddAccount(ports.Account{ID: "a", Email: "new@example.com"})
	require.Equal(t, []ports.Account{{ID: "a", Email: "new@example.com"}}, p.Accounts())
}

// kindHelpers drive the add, remove and delete helpers of one kind of item
// by ref, and read the refs back through the checker port.
type kindHelpers struct {
	add       func(p *memory.Platform, id ports.AccountID, ref string)
	remove    func(p *memory.Platform, id ports.AccountID, ref string) *memory.Platform
	deleteAll func(p *memory.Platform, id ports.AccountID) *memory.Platform
	refs      func(t *testing.T, p *memory.Platform, id ports.AccountID) []string
}

// helpersFor builds the kindHelpers of items T: item makes an item with a
// ref, ref reads it back, list is the checker method.
func helpersFor[T any](
	add func(*memory.Platform, ports.AccountID, T) *memory.Platform,
	remove func(*memory.Platform, ports.AccountID, string) *memory.Platform,
	deleteAll func(*memory.Platform, ports.AccountID) *memory.Platform,
	list func(*memory.Platform, context.Context, ports.AccountID) ([]T, error),
	item func(ref string) T,
	ref func(T) string,
) kindHelpers {
	return kindHelpers{
		add:       func(p *memory.Platform, id ports.AccountID, r string) { add(p, id, item(r)) },
		remove:    remove,
		deleteAll: deleteAll,
		refs: func(t *testing.T, p *memory.Platform, id ports.AccountID) []string {
			items, err := list(p, t.Context(), id)
			require.NoError(t, err)
			out := []string{}
			for _, it := range items {
				out = append(out, ref(it))
			}
			return out
		},
	}
}

func TestPlatformRemoveHelpers(t *testing.T) {
	t.Parallel()
	type P = memory.Platform
	kinds := map[string]kindHelpers{
		"Obligation": helpersFor((*P).AddObligation, (*P).RemoveObligation, (*P).DeleteObligations, (*P).OpenObligations,
			func(r string) ports.Obligation { return ports.Obligation{Ref: r} }, func(o ports.Obligation) string { return o.Ref }),
		"Right": helpersFor((*P).AddRight, (*P).RemoveRight, (*P).DeleteRights, (*P).UnusedRights,
			func(r string) ports.Right { return ports.Right{Ref: r} }, func(o ports.Right) string { return o.Ref }),
		"Authorization": helpersFor((*P).AddAuthorization, (*P).RemoveAuthorization, (*P).DeleteAuthorizations, (*P).Authorizations,
			func(r string) ports.Authorization { return ports.Authorization{Ref: r} }, func(o ports.Authorization) string { return o.Ref }),
		"SubUser": helpersFor((*P).AddSubUser, (*P).RemoveSubUser, (*P).DeleteSubUsers, (*P).SubUsers,
			func(r string) ports.SubUser { return ports.SubUser{Ref: r} }, func(o ports.SubUser) string { return o.Ref }),
		"APIKey": helpersFor((*P).AddAPIKey, (*P).RemoveAPIKey, (*P).DeleteAPIKeys, (*P).APIKeys,
			func(r string) ports.APIKey { return ports.APIKey{ID: r} }, func(o ports.APIKey) string { return o.ID }),
		"DataHolding": helpersFor((*P).AddDataHolding, (*P).RemoveDataHolding, (*P).DeleteDataHoldings, (*P).DataHoldings,
			func(r string) ports.DataHolding { return ports.DataHolding{Ref: r} }, func(o ports.DataHolding) string { return o.Ref }),
		"Case": helpersFor((*P).AddCase, (*P).RemoveCase, (*P).DeleteCases, (*P).OpenCases,
			func(r string) ports.Case { return ports.Case{Ref: r} }, func(o ports.Case) string { return o.Ref }),
		"Matter": helpersFor((*P).AddMatter, (*P).RemoveMatter, (*P).DeleteMatters, (*P).OpenMatters,
			func(r string) ports.Matter { return ports.Matter{Ref: r} }, func(o ports.Matter) string { return o.Ref }),
	}
	for name, k := range kinds {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := memory.NewPlatform()
			for _, ref := range []string{"r1", "r2", "r3"} {
				k.add(p, "a", ref)
			}
			k.add(p, "b", "r1")

			k.remove(p, "a", "r2")
			require.Equal(t, []string{"r1", "r3"}, k.refs(t, p, "a"))
			k.remove(p, "a", "unknown")
			require.Equal(t, []string{"r1", "r3"}, k.refs(t, p, "a"), "an unknown ref is ignored")

			k.deleteAll(p, "a")
			require.Equal(t, []string{}, k.refs(t, p, "a"))
			require.Equal(t, []string{"r1"}, k.refs(t, p, "b"), "other accounts keep their items")
			k.add(p, "a", "r4")
			require.Equal(t, []string{"r4"}, k.refs(t, p, "a"), "an account can get items again")
		})
	}
}

func TestPlatformDemoRemedies(t *testing.T) {
	t.Parallel()
	p := memory.NewPlatform().SeedDemo()
	require.NotEqual(t, findings{}, findingsOf(t, p, memory.AccountBlocked))
	p.DeleteAPIKeys(memory.AccountBlocked).DeleteSubUsers(memory.AccountBlocked)
	require.Empty(t, cmp.Diff(findings{}, findingsOf(t, p, memory.AccountBlocked), cmpopts.EquateEmpty()))

	p.RemoveRight(memory.AccountBalance, "cash")
	rights, err := p.UnusedRights(t.Context(), memory.AccountBalance)
	require.NoError(t, err)
	require.Equal(t, []ports.Right{{Kind: ports.RightVoucher, Ref: "voucher-welcome", Description: "Welcome voucher", Value: ports.Money{Amount: 5000, Currency: "USD"}}}, rights)

	p.RemoveCase(memory.AccountComplaint, "complaint-1001")
	require.Empty(t, cmp.Diff(findings{}, findingsOf(t, p, memory.AccountComplaint), cmpopts.EquateEmpty()))
}

func TestPlatformCloseAccount(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	p := memory.NewPlatform().SeedDemo()

	require.NoError(t, p.CloseAccount(ctx, memory.AccountEligible, "close-1"))
	a, err := p.Account(ctx, memory.AccountEligible)
	require.NoError(t, err)
	require.True(t, a.Closed)
	other, err := p.Account(ctx, memory.AccountVerified)
	require.NoError(t, err)
	require.False(t, other.Closed)

	require.NoError(t, p.CloseAccount(ctx, memory.AccountEligible, "close-1"), "same key again")
	require.NoError(t, p.CloseAccount(ctx, memory.AccountEligible, "close-2"), "already closed, new key")
	require.Equal(t, 2, p.CloseCalls("close-1"))
	require.Equal(t, 1, p.CloseCalls("close-2"))
	require.Zero(t, p.CloseCalls("never"))

	err = p.CloseAccount(ctx, memory.AccountVerified, "close-1")
	require.ErrorContains(t, err, `idempotency key "close-1" already closed account "acct-eligible"`)
	other, err = p.Account(ctx, memory.AccountVerified)
	require.NoError(t, err)
	require.False(t, other.Closed, "a reused key must not close another account")

	require.ErrorIs(t, p.CloseAccount(ctx, "acct-unknown", "close-3"), ports.ErrNotFound)
	require.Equal(t, 1, p.CloseCalls("close-3"))
}

func TestPlatformCloseAccountFailNext(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	p := memory.NewPlatform().SeedDemo().FailNext(memory.PortAccountCloser, 2, nil)

	require.ErrorIs(t, p.CloseAccount(ctx, memory.AccountVerified, "k"), memory.ErrInjected)
	require.ErrorIs(t, p.CloseAccount(ctx, memory.AccountVerified, "k"), memory.ErrInjected)
	a, err := p.Account(ctx, memory.AccountVerified)
	require.NoError(t, err)
	require.False(t, a.Closed, "a failed close must leave the account open")

	require.NoError(t, p.CloseAccount(ctx, memory.AccountVerified, "k"))
	require.Equal(t, 3, p.CloseCalls("k"))
	a, err = p.Account(ctx, memory.AccountVerified)
	require.NoError(t, err)
	require.True(t, a.Closed)
}

func TestPlatformFailNext(t *testing.T) {
	t.Parallel()
	boom := errors.New("billing down")
	p := memory.NewPlatform().SeedDemo().FailNext(memory.PortBalanceChecker, 2, boom)

	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := p.UnusedRights(cancelled, memory.AccountBalance)
	require.ErrorIs(t, err, context.Canceled, "a done context comes first and does not use up a failure")

	for range 2 {
		_, err := p.UnusedRights(t.Context(), memory.AccountBalance)
		require.ErrorIs(t, err, boom)
	}
	rights, err := p.UnusedRights(t.Context(), memory.AccountBalance)
	require.NoError(t, err)
	require.Len(t, rights, 2)

	_, err = p.OpenCases(t.Context(), memory.AccountComplaint)
	require.NoError(t, err, "other ports are not affected")

	p.FailNext(memory.PortOrderChecker, 1, boom).FailNext(memory.PortOrderChecker, 0, nil)
	_, err = p.OpenObligations(t.Context(), memory.AccountBalance)
	require.NoError(t, err, "FailNext(port, 0, nil) disarms")
}

func TestPlatformOutage(t *testing.T) {
	t.Parallel()
	for _, port := range allPorts {
		t.Run(string(port), func(t *testing.T) {
			t.Parallel()
			boom := errors.New(string(port) + " down")
			p := memory.NewPlatform().SeedDemo().SetOutage(port, boom)
			for range 3 {
				for got, err := range callEveryPort(t.Context(), p, memory.AccountEligible) {
					if got == port {
						require.ErrorIs(t, err, boom, "port %s", got)
					} else {
						require.NoError(t, err, "port %s", got)
					}
				}
			}
			p.FailNext(port, 1, nil).SetOutage(port, nil)
			require.ErrorIs(t, callEveryPort(t.Context(), p, memory.AccountEligible)[port], memory.ErrInjected,
				"failures armed during an outage wait for its end")
			require.NoError(t, callEveryPort(t.Context(), p, memory.AccountEligible)[port])
		})
	}
}

func TestPlatformDoneContext(t *testing.T) {
	t.Parallel()
	p := memory.NewPlatform().SeedDemo().SetOutage(memory.PortAPIKeyStore, errors.New("down"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	errs := callEveryPort(ctx, p, memory.AccountBlocked)
	require.Len(t, errs, len(allPorts))
	for port, err := range errs {
		require.ErrorIs(t, err, context.Canceled, "port %s", port)
	}
	a, err := p.Account(t.Context(), memory.AccountBlocked)
	require.NoError(t, err)
	require.False(t, a.Closed)
	require.Zero(t, p.CloseCalls("key-"+string(memory.AccountBlocked)))
}

func TestPlatformLatency(t *testing.T) {
	t.Parallel()

	t.Run("Waits", func(t *testing.T) {
		t.Parallel()
		const latency = 30 * time.Millisecond
		p := memory.NewPlatform().SeedDemo().SetLatency(latency)
		for port, call := range map[memory.Port]func() error{
			memory.PortAccountDirectory: func() error { _, err := p.Account(t.Context(), memory.AccountBlocked); return err },
			memory.PortAPIKeyStore:      func() error { _, err := p.APIKeys(t.Context(), memory.AccountBlocked); return err },
			memory.PortAccountCloser:    func() error { return p.CloseAccount(t.Context(), memory.AccountBlocked, "k") },
		} {
			start := time.Now()
			require.NoError(t, call(), "port %s", port)
			require.GreaterOrEqual(t, time.Since(start), latency, "port %s", port)
		}
		p.SetLatency(0)
		start := time.Now()
		_, err := p.SubUsers(t.Context(), memory.AccountBlocked)
		require.NoError(t, err)
		require.Less(t, time.Since(start), latency, "SetLatency(0) removes the delay")
	})

	t.Run("HonoursContext", func(t *testing.T) {
		t.Parallel()
		p := memory.NewPlatform().SeedDemo().SetLatency(time.Minute)
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
		defer cancel()
		start := time.Now()
		errs := callEveryPort(ctx, p, memory.AccountBlocked)
		require.Less(t, time.Since(start), 30*time.Second, "the calls must end with their context, not after the latency")
		for port, err := range errs {
			require.ErrorIs(t, err, context.DeadlineExceeded, "port %s", port)
		}
		require.Zero(t, p.CloseCalls("key-"+string(memory.AccountBlocked)), "a call that timed out never reached the closer")
	})

	t.Run("CallsOverlap", func(t *testing.T) {
		t.Parallel()
		const latency, calls = 100 * time.Millisecond, 8
		p := memory.NewPlatform().SeedDemo().SetLatency(latency)
		start := time.Now()
		var wg sync.WaitGroup
		for range calls {
			wg.Go(func() {
				if _, err := p.UnusedRights(t.Context(), memory.AccountBalance); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		require.Less(t, time.Since(start), calls*latency/2, "the latency is not served under the lock")
	})
}

// TestPlatform_InProcessWhileItHasNoLatency: the Platform says it answers
// in process (so the rules over it run on the caller's goroutine) only
// while SetLatency has not made its calls wait; faults do not change it.
func TestPlatform_InProcessWhileItHasNoLatency(t *testing.T) {
	t.Parallel()
	p := memory.NewPlatform()
	require.True(t, p.InProcess())
	p.SetOutage(memory.PortOrderChecker, memory.ErrInjected).FailNext(memory.PortAPIKeyStore, 1, nil)
	require.True(t, p.InProcess(), "an injected failure answers at once")
	p.SetLatency(time.Millisecond)
	require.False(t, p.InProcess(), "a call waits")
	p.SetLatency(0)
	require.True(t, p.InProcess())
}
