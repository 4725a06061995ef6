package portstest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/accountkit/cancellation/ports"
	"github.com/stretchr/testify/require"
)

// TestOrderChecker checks an implementation of [ports.OrderChecker].
// newChecker returns a checker that presents exactly data: for each account
// in the map, its open obligations (none when the slice is empty).
func TestOrderChecker(t *testing.T, f Features, newChecker func(t *testing.T, data map[ports.AccountID][]ports.Obligation) ports.OrderChecker) {
	t.Helper()
	checkerSuite(t, f, obligations, newChecker, ports.OrderChecker.OpenObligations)
}

// TestBalanceChecker checks an implementation of [ports.BalanceChecker].
// newChecker returns a checker that presents exactly data: for each account
// in the map, its unused rights.
func TestBalanceChecker(t *testing.T, f Features, newChecker func(t *testing.T, data map[ports.AccountID][]ports.Right) ports.BalanceChecker) {
	t.Helper()
	checkerSuite(t, f, rights, newChecker, ports.BalanceChecker.UnusedRights)
}

// TestAuthorizationStore checks an implementation of
// [ports.AuthorizationStore]. newStore returns a store that presents exactly
// data: for each account in the map, its third-party authorizations.
func TestAuthorizationStore(t *testing.T, f Features, newStore func(t *testing.T, data map[ports.AccountID][]ports.Authorization) ports.AuthorizationStore) {
	t.Helper()
	checkerSuite(t, f, authorizations, newStore, ports.AuthorizationStore.Authorizations)
}

// TestSubUserStore checks an implementation of [ports.SubUserStore].
// newStore returns a store that presents exactly data: for each account in
// the map, its collaborators, sub-users and message recipients.
func TestSubUserStore(t *testing.T, f Features, newStore func(t *testing.T, data map[ports.AccountID][]ports.SubUser) ports.SubUserStore) {
	t.Helper()
	checkerSuite(t, f, subUsers, newStore, ports.SubUserStore.SubUsers)
}

// TestAPIKeyStore checks an implementation of [ports.APIKeyStore]. newStore
// returns a store that presents exactly data: for each account in the map,
// its API keys.
func TestAPIKeyStore(t *testing.T, f Features, newStore func(t *testing.T, data map[ports.AccountID][]ports.APIKey) ports.APIKeyStore) {
	t.Helper()
	checkerSuite(t, f, apiKeys, newStore, ports.APIKeyStore.APIKeys)
}

// TestDataInventory checks an implementation of [ports.DataInventory].
// newInventory returns an inventory that presents exactly data: for each
// account in the map, its data holdings.
func TestDataInventory(t *testing.T, f Features, newInventory func(t *testing.T, data map[ports.AccountID][]ports.DataHolding) ports.DataInventory) {
	t.Helper()
	checkerSuite(t, f, dataHoldings, newInventory, ports.DataInventory.DataHoldings)
}

// TestComplaintChecker checks an implementation of [ports.ComplaintChecker].
// newChecker returns a checker that presents exactly data: for each account
// in the map, its open cases.
func TestComplaintChecker(t *testing.T, f Features, newChecker func(t *testing.T, data map[ports.AccountID][]ports.Case) ports.ComplaintChecker) {
	t.Helper()
	checkerSuite(t, f, cases, newChecker, ports.ComplaintChecker.OpenCases)
}

// TestMatterChecker checks an implementation of [ports.MatterChecker].
// newChecker returns a checker that presents exactly data: for each account
// in the map, its other open matters.
func TestMatterChecker(t *testing.T, f Features, newChecker func(t *testing.T, data map[ports.AccountID][]ports.Matter) ports.MatterChecker) {
	t.Helper()
	checkerSuite(t, f, matters, newChecker, ports.MatterChecker.OpenMatters)
}

// fixture makes the items of one checker port: item(i) is the i-th of an
// endless series of distinct items with every field set, whose kinds cycle
// through all the kinds the port knows; key returns what tells an item
// from the others of its account.
type fixture[T any] struct {
	item func(i int) T
	key  func(T) string
}

// items returns item(from) ... item(to-1).
func (fx fixture[T]) items(from, to int) []T {
	out := make([]T, 0, to-from)
	for i := from; i < to; i++ {
		out = append(out, fx.item(i))
	}
	return out
}

// checkerSuite is the suite of every checker port P, which lists the items
// T of an account with method. newPort returns a P that presents exactly
// data. The exported Test... functions call it.
func checkerSuite[T, P any](
	t *testing.T,
	f Features,
	fx fixture[T],
	newPort func(t *testing.T, data map[ports.AccountID][]T) P,
	method func(P, context.Context, ports.AccountID) ([]T, error),
) {
	t.Helper()
	// check calls the port about id and compares the result with want.
	check := func(ctx context.Context, port P, id ports.AccountID, want []T) error {
		got, err := method(port, ctx, id)
		if err != nil {
			return fmt.Errorf("account %q: %w", id, err)
		}
		return diffItems(fmt.Sprintf("account %q", id), fx.key, want, got)
	}

	t.Run("Empty", func(t *testing.T) {
		id := ports.AccountID(uniqueName(t, "a"))
		port := newPort(t, map[ports.AccountID][]T{id: {}})
		got, err := method(port, t.Context(), id)
		require.NoError(t, err)
		require.Empty(t, got, "an account without items must get an empty result")
	})

	t.Run("ExactItems", func(t *testing.T) {
		id := ports.AccountID(uniqueName(t, "a"))
		want := fx.items(0, 6)
		port := newPort(t, map[ports.AccountID][]T{id: want})
		require.NoError(t, check(t.Context(), port, id, want))
	})

	t.Run("AccountsIsolated", func(t *testing.T) {
		data := map[ports.AccountID][]T{
			ports.AccountID(uniqueName(t, "a")): fx.items(0, 3),
			ports.AccountID(uniqueName(t, "b")): {},
			ports.AccountID(uniqueName(t, "c")): fx.items(3, 5),
		}
		port := newPort(t, data)
		for id, want := range data {
			require.NoError(t, check(t.Context(), port, id, want))
		}
	})

	t.Run("ResultNotAliased", func(t *testing.T) {
		id := ports.AccountID(uniqueName(t, "a"))
		want := fx.items(0, 3)
		port := newPort(t, map[ports.AccountID][]T{id: want})
		got, err := method(port, t.Context(), id)
		require.NoError(t, err)
		var zero T
		for i := range got {
			got[i] = zero
		}
		require.NoError(t, check(t.Context(), port, id, want), "changing a returned slice must not change what the port returns next")
	})

	t.Run("CancelledContext", func(t *testing.T) {
		skipIfIgnoresContext(t, f)
		id := ports.AccountID(uniqueName(t, "a"))
		port := newPort(t, map[ports.AccountID][]T{id: fx.items(0, 2)})
		_, err := method(port, cancelledContext(t), id)
		require.Error(t, err, "a call with a cancelled context must fail, not report nothing found")
	})

	t.Run("Concurrent", func(t *testing.T) {
		const accounts = 4
		ids := make([]ports.AccountID, accounts)
		data := make(map[ports.AccountID][]T, accounts)
		for i := range ids {
			ids[i] = ports.AccountID(uniqueName(t, fmt.Sprint(i)))
			data[ids[i]] = fx.items(2*i, 2*i+2)
		}
		port := newPort(t, data)
		concurrently(t, func(g int) error {
			var errs []error
			for c := range callsPerGoroutine {
				id := ids[(g+c)%accounts]
				errs = append(errs, check(t.Context(), port, id, data[id]))
			}
			return errors.Join(errs...)
		})
	})
}

// base is the first time the fixtures use; whole seconds in UTC, so that
// any store keeps them exactly.
var base = time.Date(2024, time.May, 6, 7, 8, 9, 0, time.UTC)

// pick returns the i-th of values, cycling.
func pick[V any](i int, values ...V) V { return values[i%len(values)] }

// money returns a distinct amount for item i.
func money(i int) ports.Money {
	return ports.Money{Amount: int64(100*i + 99), Currency: pick(i, "USD", "CNY", "EUR")}
}

var obligations = fixture[ports.Obligation]{
	item: func(i int) ports.Obligation {
		return ports.Obligation{
			Kind:        pick(i, ports.ObligationOrder, ports.ObligationService, ports.ObligationPayment, ports.ObligationOther),
			Ref:         fmt.Sprintf("obligation-%d", i),
			Description: fmt.Sprintf("Obligation number %d", i),
			Amount:      money(i),
		}
	},
	key: func(o ports.Obligation) string { return o.Ref },
}

var rights = fixture[ports.Right]{
	item: func(i int) ports.Right {
		return ports.Right{
			Kind:        pick(i, ports.RightCash, ports.RightGiftCard, ports.RightVoucher, ports.RightCloudResource),
			Ref:         fmt.Sprintf("right-%d", i),
			Description: fmt.Sprintf("Right number %d", i),
			Value:       money(i),
		}
	},
	key: func(r ports.Right) string { return r.Ref },
}

var authorizations = fixture[ports.Authorization]{
	item: func(i int) ports.Authorization {
		return ports.Authorization{
			Kind:  pick(i, ports.AuthorizationAppBinding, ports.AuthorizationExternalGrant, ports.AuthorizationLinkedAccount),
			Ref:   fmt.Sprintf("authorization-%d", i),
			Party: fmt.Sprintf("Third party %d", i),
		}
	},
	key: func(a ports.Authorization) string { return a.Ref },
}

var subUsers = fixture[ports.SubUser]{
	item: func(i int) ports.SubUser {
		return ports.SubUser{
			Kind: pick(i, ports.SubUserCollaborator, ports.SubUserSubUser, ports.SubUserMessageRecipient),
			Ref:  fmt.Sprintf("subuser-%d", i),
			Name: fmt.Sprintf("Member %d", i),
		}
	},
	key: func(s ports.SubUser) string { return s.Ref },
}

var apiKeys = fixture[ports.APIKey]{
	item: func(i int) ports.APIKey {
		return ports.APIKey{
			ID:        fmt.Sprintf("AKID%04d", i),
			Label:     fmt.Sprintf("key %d", i),
			CreatedAt: base.Add(time.Duration(i) * time.Hour),
		}
	},
	key: func(k ports.APIKey) string { return k.ID },
}

var dataHoldings = fixture[ports.DataHolding]{
	item: func(i int) ports.DataHolding {
		return ports.DataHolding{
			Kind:        pick(i, ports.DataBackup, ports.DataStorage, ports.DataDatabase, ports.DataOther),
			Ref:         fmt.Sprintf("holding-%d", i),
			Description: fmt.Sprintf("Holding number %d", i),
			SizeBytes:   int64(i+1) << 30,
		}
	},
	key: func(d ports.DataHolding) string { return d.Ref },
}

var cases = fixture[ports.Case]{
	item: func(i int) ports.Case {
		return ports.Case{
			Kind:     pick(i, ports.CaseComplaint, ports.CaseReport, ports.CaseDispute, ports.CaseLitigation, ports.CaseRegulatory, ports.CaseLegalHold),
			Ref:      fmt.Sprintf("case-%d", i),
			Summary:  fmt.Sprintf("Case number %d", i),
			OpenedAt: base.Add(time.Duration(i) * 24 * time.Hour),
		}
	},
	key: func(c ports.Case) string { return c.Ref },
}

var matters = fixture[ports.Matter]{
	item: func(i int) ports.Matter {
		return ports.Matter{
			Ref:         fmt.Sprintf("matter-%d", i),
			Description: fmt.Sprintf("Matter number %d", i),
			Blocking:    i%2 == 0,
			Remedy:      fmt.Sprintf("Settle matter %d in the console", i),
		}
	},
	key: func(m ports.Matter) string { return m.Ref },
}
