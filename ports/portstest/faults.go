package portstest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/accountkit/cancellation/ports"
	"github.com/stretchr/testify/require"
)

// Fault is a failure of the system behind a port (the host's service, its
// network), which the fault suites (TestOrderCheckerFaults, ...,
// TestAccountCloserFaults) make the system play through [Faulty.Inject].
type Fault string

// Faults the suites inject.
const (
	// FaultUnavailable: the system refuses the call with a temporary
	// failure (an HTTP 5xx) and carries nothing out.
	FaultUnavailable Fault = "unavailable"
	// FaultSlow: the system holds the call for at least [SlowFaultHold], or
	// until the caller gives up, before it answers. The suites give such
	// calls a context that ends after [SlowDeadline].
	FaultSlow Fault = "slow"
	// FaultDropped: the system carries the call out, then its answer is
	// lost (the connection drops before the response). A retry with the
	// same idempotency key must not repeat the effect.
	FaultDropped Fault = "dropped"
)

// How long the Slow subtests wait, and how long a slow system must hold a
// call: a port that honours its context returns soon after SlowDeadline,
// well before SlowFaultHold.
const (
	SlowDeadline  = 200 * time.Millisecond
	SlowFaultHold = 10 * SlowDeadline
)

// Faulty is what the constructor of a fault suite returns: the port under
// test and a way to make the system behind it fail.
type Faulty[P any] struct {
	// Port is the implementation under test.
	Port P
	// Inject makes the next calls calls that reach the system fail as
	// fault says (each retry of the port is a call of its own); calls < 0
	// makes every call fail until the next Inject, and calls == 0 disarms
	// whatever is armed. Each Inject replaces the fault armed before. It
	// reports false when the system cannot play fault: the subtests that
	// need it are then skipped. Inject must not be nil.
	Inject func(fault Fault, calls int) bool
	// Deliveries, for the suites of the Notifier and the OTPSender, works
	// as [Delivery.Deliveries]; without it the exactly-once checks are left
	// out.
	Deliveries func(key string) int
	// Directory, for the suite of the AccountCloser, works as
	// [AccountCloserUnderTest.Directory]; it may be served by the same
	// system, as the suite reads it only with no fault armed.
	Directory ports.AccountDirectory
}

// inject arms fault for calls calls, or skips t when the system cannot
// play it.
func (u Faulty[P]) inject(t *testing.T, fault Fault, calls int) {
	t.Helper()
	require.NotNil(t, u.Inject, "Faulty.Inject must be set")
	if !u.Inject(fault, calls) {
		t.Skipf("the system cannot play the fault %q", fault)
	}
	if calls != 0 {
		t.Cleanup(func() { u.Inject(fault, 0) })
	}
}

// slowCall runs call with a context that ends after SlowDeadline while the
// system is slow, and requires that it fails before SlowFaultHold: the port
// gave up with its context rather than wait for the answer.
func slowCall(t *testing.T, call func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), SlowDeadline)
	defer cancel()
	start := time.Now()
	err := call(ctx)
	took := time.Since(start)
	require.Error(t, err, "a call that outlives its context must fail")
	require.Less(t, took, SlowFaultHold, "the port must give up when its context ends, not wait for the slow system")
}

// TestOrderCheckerFaults checks that an [ports.OrderChecker] fails closed
// when the system behind it fails: an outage is an error, never "nothing
// found"; a slow system is given up on when the context ends; a lost answer
// is an error or the right items; and the port recovers with the system.
func TestOrderCheckerFaults(t *testing.T, f Features, newChecker func(t *testing.T, data map[ports.AccountID][]ports.Obligation) Faulty[ports.OrderChecker]) {
	t.Helper()
	checkerFaultSuite(t, f, obligations, newChecker, ports.OrderChecker.OpenObligations)
}

// TestBalanceCheckerFaults checks a [ports.BalanceChecker] under faults, as
// [TestOrderCheckerFaults] does.
func TestBalanceCheckerFaults(t *testing.T, f Features, newChecker func(t *testing.T, data map[ports.AccountID][]ports.Right) Faulty[ports.BalanceChecker]) {
	t.Helper()
	checkerFaultSuite(t, f, rights, newChecker, ports.BalanceChecker.UnusedRights)
}

// TestAuthorizationStoreFaults checks a [ports.AuthorizationStore] under
// faults, as [TestOrderCheckerFaults] does.
func TestAuthorizationStoreFaults(t *testing.T, f Features, newStore func(t *testing.T, data map[ports.AccountID][]ports.Authorization) Faulty[ports.AuthorizationStore]) {
	t.Helper()
	checkerFaultSuite(t, f, authorizations, newStore, ports.AuthorizationStore.Authorizations)
}

// TestSubUserStoreFaults checks a [ports.SubUserStore] under faults, as
// [TestOrderCheckerFaults] does.
func TestSubUserStoreFaults(t *testing.T, f Features, newStore func(t *testing.T, data map[ports.AccountID][]ports.SubUser) Faulty[ports.SubUserStore]) {
	t.Helper()
	checkerFaultSuite(t, f, subUsers, newStore, ports.SubUserStore.SubUsers)
}

// TestAPIKeyStoreFaults checks a [ports.APIKeyStore] under faults, as
// [TestOrderCheckerFaults] does.
func TestAPIKeyStoreFaults(t *testing.T, f Features, newStore func(t *testing.T, data map[ports.AccountID][]ports.APIKey) Faulty[ports.APIKeyStore]) {
	t.Helper()
	checkerFaultSuite(t, f, apiKeys, newStore, ports.APIKeyStore.APIKeys)
}

// TestDataInventoryFaults checks a [ports.DataInventory] under faults, as
// [TestOrderCheckerFaults] does.
func TestDataInventoryFaults(t *testing.T, f Features, newInventory func(t *testing.T, data map[ports.AccountID][]ports.DataHolding) Faulty[ports.DataInventory]) {
	t.Helper()
	checkerFaultSuite(t, f, dataHoldings, newInventory, ports.DataInventory.DataHoldings)
}

// TestComplaintCheckerFaults checks a [ports.ComplaintChecker] under
// faults, as [TestOrderCheckerFaults] does.
func TestComplaintCheckerFaults(t *testing.T, f Features, newChecker func(t *testing.T, data map[ports.AccountID][]ports.Case) Faulty[ports.ComplaintChecker]) {
	t.Helper()
	checkerFaultSuite(t, f, cases, newChecker, ports.ComplaintChecker.OpenCases)
}

// TestMatterCheckerFaults checks a [ports.MatterChecker] under faults, as
// [TestOrderCheckerFaults] does.
func TestMatterCheckerFaults(t *testing.T, f Features, newChecker func(t *testing.T, data map[ports.AccountID][]ports.Matter) Faulty[ports.MatterChecker]) {
	t.Helper()
	checkerFaultSuite(t, f, matters, newChecker, ports.MatterChecker.OpenMatters)
}

// checkerFaultSuite is the fault suite of every checker port P.
func checkerFaultSuite[T, P any](
	t *testing.T,
	f Features,
	fx fixture[T],
	newPort func(t *testing.T, data map[ports.AccountID][]T) Faulty[P],
	method func(P, context.Context, ports.AccountID) ([]T, error),
) {
	t.Helper()
	// setup returns a port over one account with items, and the account.
	setup := func(t *testing.T) (Faulty[P], ports.AccountID, []T) {
		id := ports.AccountID(uniqueName(t, "a"))
		want := fx.items(0, 4)
		return newPort(t, map[ports.AccountID][]T{id: want}), id, want
	}
	// errOrExact requires that a call under a fault either failed or
	// returned exactly want.
	errOrExact := func(t *testing.T, id ports.AccountID, want, got []T, err error) {
		t.Helper()
		if err == nil {
			require.NoError(t, diffItems(fmt.Sprintf("account %q", id), fx.key, want, got), "a call that succeeds under a fault must return the right items")
		}
	}
	// recovers requires that, with no fault armed, the port returns want.
	recovers := func(t *testing.T, u Faulty[P], id ports.AccountID, want []T) {
		t.Helper()
		u.Inject(FaultUnavailable, 0)
		got, err := method(u.Port, t.Context(), id)
		require.NoError(t, err, "the port must recover when the system does")
		require.NoError(t, diffItems(fmt.Sprintf("account %q", id), fx.key, want, got))
	}

	t.Run("Outage", func(t *testing.T) {
		u, id, want := setup(t)
		u.inject(t, FaultUnavailable, -1)
		got, err := method(u.Port, t.Context(), id)
		require.Error(t, err, "an outage must be an error, never an empty result (got %d items)", len(got))
		u.Inject(FaultUnavailable, 0)
		recovers(t, u, id, want)
	})

	t.Run("UnavailableOnce", func(t *testing.T) {
		u, id, want := setup(t)
		u.inject(t, FaultUnavailable, 1)
		got, err := method(u.Port, t.Context(), id)
		errOrExact(t, id, want, got, err)
		recovers(t, u, id, want)
	})

	t.Run("Slow", func(t *testing.T) {
		skipIfIgnoresContext(t, f)
		u, id, want := setup(t)
		u.inject(t, FaultSlow, -1)
		slowCall(t, func(ctx context.Context) error {
			_, err := method(u.Port, ctx, id)
			return err
		})
		u.Inject(FaultSlow, 0)
		recovers(t, u, id, want)
	})

	t.Run("Dropped", func(t *testing.T) {
		u, id, want := setup(t)
		u.inject(t, FaultDropped, 1)
		got, err := method(u.Port, t.Context(), id)
		errOrExact(t, id, want, got, err)
		u.Inject(FaultDropped, 0)
		recovers(t, u, id, want)
	})

	t.Run("DroppedEveryTime", func(t *testing.T) {
		u, id, want := setup(t)
		u.inject(t, FaultDropped, -1)
		got, err := method(u.Port, t.Context(), id)
		require.Error(t, err, "a port that never gets an answer must fail, not report nothing found (got %d items)", len(got))
		u.Inject(FaultDropped, 0)
		recovers(t, u, id, want)
	})
}

// TestAccountDirectoryFaults checks a [ports.AccountDirectory] under
// faults: an outage or a lost answer is an error that is not
// [ports.ErrNotFound] (an account must not look unknown because its
// directory is down), a slow directory is given up on when the context
// ends, and the directory recovers with the system.
func TestAccountDirectoryFaults(t *testing.T, f Features, newDirectory func(t *testing.T, accounts []ports.Account) Faulty[ports.AccountDirectory]) {
	t.Helper()
	setup := func(t *testing.T) (Faulty[ports.AccountDirectory], ports.Account) {
		accounts := sampleAccounts(t, 1)
		return newDirectory(t, accounts), accounts[0]
	}
	recovers := func(t *testing.T, u Faulty[ports.AccountDirectory], want ports.Account) {
		t.Helper()
		u.Inject(FaultUnavailable, 0)
		require.NoError(t, findAccount(t, u.Port, want), "the directory must recover when the system does")
	}
	// failsNotFound requires err to be an error other than ErrNotFound.
	failsNotFound := func(t *testing.T, err error) {
		t.Helper()
		require.Error(t, err)
		require.NotErrorIs(t, err, ports.ErrNotFound, "a failing directory must not report the account unknown")
	}

	for _, fault := range []Fault{FaultUnavailable, FaultDropped} {
		t.Run(fmt.Sprintf("Outage/%s", fault), func(t *testing.T) {
			u, a := setup(t)
			u.inject(t, fault, -1)
			_, err := u.Port.Account(t.Context(), a.ID)
			failsNotFound(t, err)
			_, err = u.Port.Account(t.Context(), ports.AccountID(uniqueName(t, "unknown")))
			failsNotFound(t, err)
			u.Inject(fault, 0)
			recovers(t, u, a)
		})
		t.Run(fmt.Sprintf("Once/%s", fault), func(t *testing.T) {
			u, a := setup(t)
			u.inject(t, fault, 1)
			if err := findAccount(t, u.Port, a); err != nil {
				require.NotErrorIs(t, err, ports.ErrNotFound)
			}
			recovers(t, u, a)
		})
	}

	t.Run("Slow", func(t *testing.T) {
		skipIfIgnoresContext(t, f)
		u, a := setup(t)
		u.inject(t, FaultSlow, -1)
		slowCall(t, func(ctx context.Context) error {
			_, err := u.Port.Account(ctx, a.ID)
			return err
		})
		u.Inject(FaultSlow, 0)
		recovers(t, u, a)
	})
}

// TestNotifierFaults checks a [ports.Notifier] under faults: a refused or
// lost call is retried by the workflow with the same IdempotencyKey, and
// when Deliveries is given, every key is delivered exactly once in the
// end, however often its answer was lost; a slow provider is given up on
// when the context ends.
func TestNotifierFaults(t *testing.T, f Features, newNotifier func(t *testing.T) Faulty[ports.Notifier]) {
	t.Helper()
	deliveryFaultSuite(t, f, newNotifier, ports.Notifier.Notify, func(key string) ports.Notification {
		return ports.Notification{
			IdempotencyKey: key, Channel: ports.ChannelEmail, To: "customer@example.com",
			Account: "pt-account", Template: "cancelled", Data: map[string]string{"request_id": "req-1"}, Locale: "en",
		}
	})
}

// TestOTPSenderFaults checks a [ports.OTPSender] under faults, as
// [TestNotifierFaults] checks a Notifier.
func TestOTPSenderFaults(t *testing.T, f Features, newSender func(t *testing.T) Faulty[ports.OTPSender]) {
	t.Helper()
	deliveryFaultSuite(t, f, newSender, ports.OTPSender.SendCode, func(key string) ports.OTPMessage {
		return ports.OTPMessage{Phone: "+15550100001", Code: "123456", Locale: "en", ExpiresAt: base.Add(5 * time.Minute), IdempotencyKey: key}
	})
}

// deliveryFaultSuite is the fault suite of a port P that delivers messages
// M once per idempotency key.
func deliveryFaultSuite[P, M any](
	t *testing.T,
	f Features,
	newPort func(t *testing.T) Faulty[P],
	method func(P, context.Context, M) error,
	message func(key string) M,
) {
	t.Helper()
	// delivered requires, when deliveries are observed, that key was
	// delivered n times.
	delivered := func(t *testing.T, u Faulty[P], key string, n int) {
		t.Helper()
		if u.Deliveries != nil {
			require.Equal(t, n, u.Deliveries(key), "deliveries of key %q", key)
		}
	}
	// retried disarms fault, retries msg as the workflow does and requires
	// that it was delivered exactly once in all.
	retried := func(t *testing.T, u Faulty[P], fault Fault, msg M, key string) {
		t.Helper()
		u.Inject(fault, 0)
		require.NoError(t, method(u.Port, t.Context(), msg), "the retry must succeed once the system is back")
		delivered(t, u, key, 1)
	}

	t.Run("Outage", func(t *testing.T) {
		u := newPort(t)
		key := uniqueName(t, "k")
		u.inject(t, FaultUnavailable, -1)
		require.Error(t, method(u.Port, t.Context(), message(key)), "a message the system refused must not be reported accepted")
		delivered(t, u, key, 0)
		retried(t, u, FaultUnavailable, message(key), key)
	})

	for _, fault := range []Fault{FaultUnavailable, FaultDropped} {
		t.Run(fmt.Sprintf("Once/%s", fault), func(t *testing.T) {
			u := newPort(t)
			key := uniqueName(t, "k")
			u.inject(t, fault, 1)
			_ = method(u.Port, t.Context(), message(key)) // either outcome is right; the retry decides
			retried(t, u, fault, message(key), key)
		})
	}

	t.Run("DroppedEveryTime", func(t *testing.T) {
		u := newPort(t)
		key := uniqueName(t, "k")
		u.inject(t, FaultDropped, -1)
		require.Error(t, method(u.Port, t.Context(), message(key)), "a call whose answer never came must not be reported accepted")
		require.Error(t, method(u.Port, t.Context(), message(key)))
		retried(t, u, FaultDropped, message(key), key)
	})

	t.Run("Slow", func(t *testing.T) {
		skipIfIgnoresContext(t, f)
		u := newPort(t)
		key := uniqueName(t, "k")
		u.inject(t, FaultSlow, -1)
		slowCall(t, func(ctx context.Context) error { return method(u.Port, ctx, message(key)) })
		retried(t, u, FaultSlow, message(key), key)
	})
}

// TestDocumentStoreFaults checks a [ports.DocumentStore] under faults: an
// outage or a lost answer fails every call, and GetDocument then does not
// report [ports.ErrNotFound] (a blob must not look deleted because its
// store is down); a put or delete whose answer was lost can be retried to
// the intended end; a slow store is given up on when the context ends.
func TestDocumentStoreFaults(t *testing.T, f Features, newStore func(t *testing.T) Faulty[ports.DocumentStore]) {
	t.Helper()
	setup := func(t *testing.T) (Faulty[ports.DocumentStore], string, []byte) {
		u := newStore(t)
		key, data := uniqueName(t, "doc"), sampleBytes(7, 3000)
		require.NoError(t, u.Port.PutDocument(t.Context(), key, "image/png", data))
		return u, key, data
	}
	stored := func(t *testing.T, u Faulty[ports.DocumentStore], key string, want []byte) {
		t.Helper()
		got, err := u.Port.GetDocument(t.Context(), key)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}

	for _, fault := range []Fault{FaultUnavailable, FaultDropped} {
		t.Run(fmt.Sprintf("Outage/%s", fault), func(t *testing.T) {
			u, key, data := setup(t)
			u.inject(t, fault, -1)
			_, err := u.Port.GetDocument(t.Context(), key)
			require.Error(t, err)
			require.NotErrorIs(t, err, ports.ErrNotFound, "a failing store must not report a blob missing")
			_, err = u.Port.GetDocument(t.Context(), uniqueName(t, "unknown"))
			require.NotErrorIs(t, err, ports.ErrNotFound, "a failing store cannot tell a key is unknown")
			require.Error(t, u.Port.PutDocument(t.Context(), key, "image/png", sampleBytes(8, 10)), "PutDocument")
			require.Error(t, u.Port.DeleteDocument(t.Context(), key), "DeleteDocument")
			u.Inject(fault, 0)
			if fault == FaultUnavailable {
				stored(t, u, key, data) // a refused call changes nothing
			}
		})
	}

	t.Run("PutDroppedOnce", func(t *testing.T) {
		u, key, _ := setup(t)
		data := sampleBytes(9, 2000)
		u.inject(t, FaultDropped, 1)
		_ = u.Port.PutDocument(t.Context(), key, "image/jpeg", data) // either outcome; the retry decides
		u.Inject(FaultDropped, 0)
		require.NoError(t, u.Port.PutDocument(t.Context(), key, "image/jpeg", data))
		stored(t, u, key, data)
	})

	t.Run("DeleteDroppedOnce", func(t *testing.T) {
		u, key, _ := setup(t)
		u.inject(t, FaultDropped, 1)
		_ = u.Port.DeleteDocument(t.Context(), key)
		u.Inject(FaultDropped, 0)
		require.NoError(t, u.Port.DeleteDocument(t.Context(), key), "retrying a delete whose answer was lost must succeed")
		_, err := u.Port.GetDocument(t.Context(), key)
		require.ErrorIs(t, err, ports.ErrNotFound)
	})

	t.Run("Slow", func(t *testing.T) {
		skipIfIgnoresContext(t, f)
		u, key, data := setup(t)
		u.inject(t, FaultSlow, -1)
		slowCall(t, func(ctx context.Context) error { _, err := u.Port.GetDocument(ctx, key); return err })
		slowCall(t, func(ctx context.Context) error { return u.Port.PutDocument(ctx, key, "image/png", data) })
		slowCall(t, func(ctx context.Context) error { return u.Port.DeleteDocument(ctx, key) })
		u.Inject(FaultSlow, 0)
		stored(t, u, key, data)
	})
}

// TestAccountCloserFaults checks a [ports.AccountCloser] under faults: a
// refused close fails and closes nothing, a close whose answer was lost
// can be retried with its key to a nil error, an outage is not
// [ports.ErrNotFound], and a slow closer is given up on when the context
// ends. With Directory, the suite checks the account's Closed flag.
func TestAccountCloserFaults(t *testing.T, f Features, newCloser func(t *testing.T, accounts []ports.Account) Faulty[ports.AccountCloser]) {
	t.Helper()
	setup := func(t *testing.T) (Faulty[ports.AccountCloser], ports.AccountID, string) {
		accounts := sampleAccounts(t, 1)
		accounts[0].Closed = false
		return newCloser(t, accounts), accounts[0].ID, uniqueName(t, "key")
	}
	closed := func(t *testing.T, u Faulty[ports.AccountCloser], id ports.AccountID, want bool) {
		t.Helper()
		if u.Directory == nil {
			return
		}
		a, err := u.Directory.Account(t.Context(), id)
		require.NoError(t, err)
		require.Equal(t, want, a.Closed, "account %q: Closed", id)
	}
	retried := func(t *testing.T, u Faulty[ports.AccountCloser], fault Fault, id ports.AccountID, key string) {
		t.Helper()
		u.Inject(fault, 0)
		require.NoError(t, u.Port.CloseAccount(t.Context(), id, key), "the retry must succeed once the system is back")
		closed(t, u, id, true)
	}

	t.Run("Outage", func(t *testing.T) {
		u, id, key := setup(t)
		u.inject(t, FaultUnavailable, -1)
		err := u.Port.CloseAccount(t.Context(), id, key)
		require.Error(t, err)
		require.NotErrorIs(t, err, ports.ErrNotFound, "a failing closer must not report the account unknown")
		u.Inject(FaultUnavailable, 0)
		closed(t, u, id, false)
		retried(t, u, FaultUnavailable, id, key)
	})

	for _, fault := range []Fault{FaultUnavailable, FaultDropped} {
		t.Run(fmt.Sprintf("Once/%s", fault), func(t *testing.T) {
			u, id, key := setup(t)
			u.inject(t, fault, 1)
			_ = u.Port.CloseAccount(t.Context(), id, key)
			retried(t, u, fault, id, key)
		})
	}

	t.Run("DroppedEveryTime", func(t *testing.T) {
		u, id, key := setup(t)
		u.inject(t, FaultDropped, -1)
		err := u.Port.CloseAccount(t.Context(), id, key)
		require.Error(t, err, "a close whose answer never came must not be reported done")
		require.NotErrorIs(t, err, ports.ErrNotFound)
		retried(t, u, FaultDropped, id, key)
	})

	t.Run("Slow", func(t *testing.T) {
		skipIfIgnoresContext(t, f)
		u, id, key := setup(t)
		u.inject(t, FaultSlow, -1)
		slowCall(t, func(ctx context.Context) error { return u.Port.CloseAccount(ctx, id, key) })
		retried(t, u, FaultSlow, id, key)
	})
}
