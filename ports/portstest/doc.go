// Package portstest holds the conformance suites of the ports: any
// implementation of a port must pass the suite of its port. The memory
// adapters pass them, and so must a host's own adapters over its billing,
// IAM, messaging and storage systems.
//
// # Running a suite
//
// Each suite is an exported function, Test + the port's name, that a host
// calls from a test of its own. It takes a [Features] value, which declares
// how the implementation departs from the full contract (the zero value
// declares nothing, so every subtest runs), and a constructor that the
// suite calls once per subtest, with that subtest's *testing.T.
//
// The constructor of a checker port receives the data the implementation
// must present, per account; the constructor of [TestAccountDirectory]
// receives the accounts. For the memory adapters it seeds them; a host's
// adapter maps them onto its own system, or onto a stub server that plays
// that system:
//
//	func TestBillingOrderChecker(t *testing.T) {
//		portstest.TestOrderChecker(t, portstest.Features{},
//			func(t *testing.T, data map[ports.AccountID][]ports.Obligation) ports.OrderChecker {
//				srv := httptest.NewServer(billingStub(data)) // serves data as the billing API does
//				t.Cleanup(srv.Close)
//				return billing.NewOrderChecker(srv.URL, srv.Client())
//			})
//	}
//
//	func TestSMSNotifier(t *testing.T) {
//		portstest.TestNotifier(t, portstest.Features{}, func(t *testing.T) portstest.Delivery[ports.Notifier] {
//			gw := newFakeGateway(t) // counts the messages the gateway receives
//			return portstest.Delivery[ports.Notifier]{
//				Port:       sms.NewNotifier(gw.URL),
//				Deliveries: gw.Deliveries, // optional: enables the exactly-once subtests
//			}
//		})
//	}
//
// Run them with the race detector, `go test -race`: every suite has a
// Concurrent subtest that calls the implementation from many goroutines.
//
// # What the suites check
//
// The checker suites (TestOrderChecker, TestBalanceChecker,
// TestAuthorizationStore, TestSubUserStore, TestAPIKeyStore,
// TestDataInventory, TestComplaintChecker, TestMatterChecker) share one
// set of subtests:
//
//   - Empty: an account without items gets an empty result and a nil error.
//   - ExactItems: exactly the seeded items come back, every field intact, in
//     any order.
//   - AccountsIsolated: each account gets its own items and no other's.
//   - ResultNotAliased: changing a returned slice changes nothing in the port.
//   - CancelledContext: a call with a context already done fails, rather
//     than report "nothing found" (the workflow fails closed on errors).
//   - Concurrent: many goroutines get the right answers at once.
//
// [TestAccountDirectory] checks lookups and ErrNotFound;
// [TestNotifier] and [TestOTPSender] check idempotency by key, and
// [TestEventPublisher] by event ID; [TestVerificationService] checks a
// managed verification service's start and check;
// [TestDocumentStore] checks byte-exact round trips, replacement,
// ErrNotFound, idempotent deletes and that no slice is shared;
// [TestAccountCloser] checks idempotent closing.
//
// # Fault suites
//
// A port backed by another system over a network must also behave when
// that system fails. The fault suites (TestAccountDirectoryFaults,
// TestOrderCheckerFaults ... TestMatterCheckerFaults, TestNotifierFaults,
// TestOTPSenderFaults, TestEventPublisherFaults, TestDocumentStoreFaults,
// TestAccountCloserFaults)
// take a constructor that returns a [Faulty]: the port and an Inject
// function that makes the system behind it play a [Fault] for its next
// calls: FaultUnavailable (a 5xx, nothing done), FaultSlow (no answer
// before the caller's deadline) or FaultDropped (done, but the answer is
// lost). They check that a checker or the directory then fails rather
// than report "nothing found" or ErrNotFound, that a port gives up when
// its context ends, that an effect retried with its idempotency key after
// a lost answer happens exactly once, and that the port recovers with the
// system. A system that cannot play a fault reports false from Inject,
// and the subtests that need it are skipped.
//
// What cannot be observed through the port itself (how many messages were
// delivered, whether an account was closed) is checked only when the
// constructor returns an observer for it, such as [Delivery.Deliveries] or
// [AccountCloserUnderTest.Directory];
// otherwise the subtests that need it are skipped with t.Skip, which
// `go test -v` shows.
//
// Subtests run one after the other, and each uses account ids and document
// keys of its own ("pt-" + the subtest's name + a suffix), so a host may
// back every constructor call with one shared system. The suites call
// t.Helper, require and t.Error only; they start no goroutine that outlives
// them.
package portstest
