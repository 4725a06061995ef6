package portstest

import (
	"errors"
	"fmt"
	"testing"

	"github.com/accountkit/cancellation/ports"
	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

// TestAccountDirectory checks an implementation of [ports.AccountDirectory].
// newDirectory returns a directory that holds exactly accounts.
func TestAccountDirectory(t *testing.T, f Features, newDirectory func(t *testing.T, accounts []ports.Account) ports.AccountDirectory) {
	t.Helper()

	t.Run("Empty", func(t *testing.T) {
		dir := newDirectory(t, nil)
		_, err := dir.Account(t.Context(), ports.AccountID(uniqueName(t, "a")))
		require.ErrorIs(t, err, ports.ErrNotFound)
	})

	t.Run("Found", func(t *testing.T) {
		accounts := sampleAccounts(t, 4)
		dir := newDirectory(t, accounts)
		for _, want := range accounts {
			require.NoError(t, findAccount(t, dir, want))
		}
	})

	t.Run("UnknownID", func(t *testing.T) {
		accounts := sampleAccounts(t, 2)
		dir := newDirectory(t, accounts)
		_, err := dir.Account(t.Context(), ports.AccountID(uniqueName(t, "unknown")))
		require.ErrorIs(t, err, ports.ErrNotFound)
		require.NoError(t, findAccount(t, dir, accounts[0]), "a failed lookup must not disturb the others")
	})

	t.Run("CancelledContext", func(t *testing.T) {
		skipIfIgnoresContext(t, f)
		accounts := sampleAccounts(t, 1)
		dir := newDirectory(t, accounts)
		_, err := dir.Account(cancelledContext(t), accounts[0].ID)
		require.Error(t, err)
	})

	t.Run("Concurrent", func(t *testing.T) {
		accounts := sampleAccounts(t, 4)
		dir := newDirectory(t, accounts)
		concurrently(t, func(g int) error {
			var errs []error
			for c := range callsPerGoroutine {
				errs = append(errs, findAccount(t, dir, accounts[(g+c)%len(accounts)]))
			}
			return errors.Join(errs...)
		})
	})
}

// sampleAccounts returns n accounts with ids unique to the subtest and
// every field set; kinds, verification and the closed flag vary.
func sampleAccounts(t *testing.T, n int) []ports.Account {
	accounts := make([]ports.Account, n)
	for i := range accounts {
		accounts[i] = ports.Account{
			ID:               ports.AccountID(uniqueName(t, fmt.Sprint(i))),
			Kind:             pick(i, ports.Personal, ports.Enterprise),
			IdentityVerified: i%3 != 0,
			RecoveryPhone:    fmt.Sprintf("+1555010%04d", i),
			Email:            fmt.Sprintf("customer%d@example.com", i),
			Locale:           pick(i, "en", "zh-CN", "de"),
			Closed:           i == 3,
		}
	}
	return accounts
}

// findAccount looks want.ID up in dir and compares the result with want.
func findAccount(t *testing.T, dir ports.AccountDirectory, want ports.Account) error {
	got, err := dir.Account(t.Context(), want.ID)
	if err != nil {
		return fmt.Errorf("account %q: %w", want.ID, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		return fmt.Errorf("account %q differs (-want +got):\n%s", want.ID, diff)
	}
	return nil
}
