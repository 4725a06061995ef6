package httpclient_test

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/httpclient"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/adapters/sqlstore"
	"github.com/accountkit/cancellation/ports"
	"github.com/accountkit/cancellation/ports/portstest"
	"github.com/stretchr/testify/require"
)

// testClock is a clock the test moves.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *testClock) advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

// TestWorkflowOverHTTPExactlyOnce runs a whole cancellation with every port
// over a Client of the fake host and the SQLite store, while the host loses
// the answer to the one-time code once and every answer to the close call:
// the code is retried with its key and sent once, the approval leaves the
// close pending, maintenance retries it with the same key once the host is
// back, and the account is closed and each message delivered exactly once.
func TestWorkflowOverHTTPExactlyOnce(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	const acct = ports.AccountID("acct-e2e")
	h := newFakeHost(t).seedAccounts([]ports.Account{{ID: acct, Kind: ports.Personal, RecoveryPhone: "+15550100001", Email: "ada@example.com", Locale: "en"}})
	for _, list := range []string{"/obligations", "/rights", "/authorizations", "/sub-users", "/api-keys", "/data-holdings", "/cases", "/matters"} {
		seedList(h, list, map[ports.AccountID][]struct{}{}, func(v struct{}) struct{} { return v })
	}
	c := h.client(t, httpclient.Options{})
	store, err := sqlstore.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "cancellation.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	clock := &testClock{now: time.Date(2026, time.November, 27, 9, 0, 0, 0, time.UTC)}
	svc, err := cancellation.New(cancellation.Config{
		Store: store, Accounts: c,
		Checkers: cancellation.Checkers{Orders: c, Balances: c, Authorizations: c, SubUsers: c, APIKeys: c, Data: c, Complaints: c, Matters: c},
		OTP:      c, Notifier: c, Documents: c, Closer: c, Clock: clock,
		Staff: memory.NewStaffDirectory().SeedDemo(),
	})
	require.NoError(t, err)

	req, err := svc.Start(ctx, acct)
	require.NoError(t, err)
	_, err = svc.Confirm(ctx, acct, req.ID(), cancellation.Confirmation{
		NotesVersion: svc.Notes().Version, Irreversible: true,
		Attestations: cancellation.Attestations{BackupDoneOrWaived: true, NotEvading: true, OtherMattersHandled: true},
	})
	require.NoError(t, err)
	h.injectOn("/otp-messages", portstest.FaultDropped, 1) // the code is sent, its answer lost: the retry must not send it twice
	_, err = svc.SendCode(ctx, acct, req.ID())
	require.NoError(t, err)
	h.mu.Lock()
	code := h.codes["+15550100001"]
	h.mu.Unlock()
	_, err = svc.VerifyCode(ctx, acct, req.ID(), code)
	require.NoError(t, err)
	_, err = svc.Submit(ctx, acct, req.ID())
	require.NoError(t, err)

	h.injectOn("/accounts/"+string(acct)+"/close", portstest.FaultDropped, -1)
	req, err = svc.Approve(ctx, cancellation.Reviewer{ID: memory.DemoSenior}, req.ID(), "")
	require.NoError(t, err, "a port failure must not fail the reviewer's decision")
	require.NotEmpty(t, req.PendingEffects(), "the close whose answer was lost is still pending")

	h.inject(portstest.FaultUnavailable, 0)
	for range 5 {
		clock.advance(time.Hour)
		_, err := svc.RunMaintenance(ctx)
		require.NoError(t, err)
	}
	req, err = svc.Get(ctx, acct, req.ID())
	require.NoError(t, err)
	require.Equal(t, cancellation.StateCancelled, req.State())
	require.Empty(t, req.PendingEffects())

	h.mu.Lock()
	defer h.mu.Unlock()
	require.True(t, h.accounts[acct].Closed)
	closeKeys := map[string]bool{}
	for _, r := range h.requests {
		if r.URL.Path == "/accounts/"+string(acct)+"/close" {
			closeKeys[r.Header.Get("Idempotency-Key")] = true
		}
	}
	require.Len(t, closeKeys, 1, "every close request carries the same key")
	for key, n := range h.deliveries {
		require.Equal(t, 1, n, "key %q", key)
	}
	require.ElementsMatch(t, []string{"sms review_approved", "sms cancelled", "email cancelled"}, h.templates)
	otps := 0
	for _, r := range h.requests {
		if r.URL.Path == "/otp-messages" {
			otps++
		}
	}
	require.Equal(t, 2, otps, "the code's lost answer was retried once, and delivered once")
}
