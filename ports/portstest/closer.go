package portstest

import (
	"fmt"
	"testing"

	"github.com/accountkit/cancellation/ports"
	"github.com/stretchr/testify/require"
)

// AccountCloserUnderTest is what the constructor of [TestAccountCloser]
// returns.
type AccountCloserUnderTest struct {
	// Closer is the implementation under test.
	Closer ports.AccountCloser
	// Directory, if not nil, reads the same accounts that Closer closes. It
	// declares that the effect of a close can be observed: the suite then
	// checks that closed accounts report Closed and the others do not.
	// Without it those checks are left out, and the subtest
	// Close/ClosedInDirectory is skipped.
	Directory ports.AccountDirectory
}

// TestAccountCloser checks an implementation of [ports.AccountCloser]: a
// close succeeds, is idempotent by key and for an account already closed,
// fails with a cancelled context, and is safe under concurrent retries.
// newCloser returns a closer for a platform that holds exactly accounts.
func TestAccountCloser(t *testing.T, f Features, newCloser func(t *testing.T, accounts []ports.Account) AccountCloserUnderTest) {
	t.Helper()
	// openAccounts returns n open accounts unique to the subtest.
	openAccounts := func(t *testing.T, n int) []ports.Account {
		accounts := sampleAccounts(t, n)
		for i := range accounts {
			accounts[i].Closed = false
		}
		return accounts
	}
	// requireClosed checks, when the directory is declared, that id is
	// closed or open as want says.
	requireClosed := func(t *testing.T, u AccountCloserUnderTest, id ports.AccountID, want bool) {
		t.Helper()
		if u.Directory == nil {
			return
		}
		a, err := u.Directory.Account(t.Context(), id)
		require.NoError(t, err)
		require.Equal(t, want, a.Closed, "account %q: Closed", id)
	}

	t.Run("Close", func(t *testing.T) {
		accounts := openAccounts(t, 2)
		u := newCloser(t, accounts)
		require.NoError(t, u.Closer.CloseAccount(t.Context(), accounts[0].ID, uniqueName(t, "key")))
		t.Run("ClosedInDirectory", func(t *testing.T) {
			if u.Directory == nil {
				t.Skip("Directory is not declared: the effect of a close cannot be observed")
			}
			requireClosed(t, u, accounts[0].ID, true)
			requireClosed(t, u, accounts[1].ID, false)
		})
	})

	t.Run("SameKeyTwice", func(t *testing.T) {
		accounts := openAccounts(t, 1)
		u := newCloser(t, accounts)
		key := uniqueName(t, "key")
		require.NoError(t, u.Closer.CloseAccount(t.Context(), accounts[0].ID, key))
		require.NoError(t, u.Closer.CloseAccount(t.Context(), accounts[0].ID, key), "a retry must succeed")
		requireClosed(t, u, accounts[0].ID, true)
	})

	t.Run("AlreadyClosed", func(t *testing.T) {
		accounts := openAccounts(t, 1)
		accounts[0].Closed = true
		u := newCloser(t, accounts)
		require.NoError(t, u.Closer.CloseAccount(t.Context(), accounts[0].ID, uniqueName(t, "new-key")),
			"closing an account already closed, with a key never seen, must succeed")
		requireClosed(t, u, accounts[0].ID, true)
	})

	t.Run("CancelledContext", func(t *testing.T) {
		skipIfIgnoresContext(t, f)
		accounts := openAccounts(t, 1)
		u := newCloser(t, accounts)
		require.Error(t, u.Closer.CloseAccount(cancelledContext(t), accounts[0].ID, uniqueName(t, "key")))
		requireClosed(t, u, accounts[0].ID, false)
	})

	t.Run("Concurrent", func(t *testing.T) {
		// Half the goroutines retry one close with one key; the others each
		// close an account of their own.
		accounts := openAccounts(t, 1+goroutines/2)
		u := newCloser(t, accounts)
		concurrently(t, func(g int) error {
			id, key := accounts[0].ID, uniqueName(t, "shared")
			if g%2 == 1 {
				id, key = accounts[1+g/2].ID, uniqueName(t, fmt.Sprint(g))
			}
			for range callsPerGoroutine {
				if err := u.Closer.CloseAccount(t.Context(), id, key); err != nil {
					return fmt.Errorf("account %q: %w", id, err)
				}
			}
			return nil
		})
		for _, a := range accounts {
			requireClosed(t, u, a.ID, true)
		}
	})
}
