// Package memory implements every port of package ports in memory: for
// tests, examples and demos; not for production: nothing survives the
// process.
//
// The implementations are real and safe for concurrent use (each guards its
// state with a sync.Mutex), they pass the conformance suites of package
// portstest, and they return copies, never their internal slices or maps.
// They also carry what a test or a demo needs beyond the port: seeding and
// removal helpers, records of what was delivered, and ways to make a port
// fail or slow down on demand.
//
// # Types
//
//   - [Platform] holds the accounts and findings of a demo platform and
//     implements AccountDirectory, the eight checker ports (OrderChecker,
//     BalanceChecker, AuthorizationStore, SubUserStore, APIKeyStore,
//     DataInventory, ComplaintChecker, MatterChecker) and AccountCloser,
//     and says it answers in process (ports.InProcess) while it has no
//     latency, so that the rules over it run on the caller's goroutine.
//     [Platform.SeedDemo] adds the demo accounts named by the Account...
//     constants.
//   - [Notifier] and [OTPSender] record what they deliver, once per
//     idempotency key, in their [Outbox], and say they answer in process
//     (ports.InProcess) while no OnDeliver observer is set, so that a
//     request's notifications run on the caller's goroutine; a type that
//     embeds one and delivers in a way that may block declares its own
//     InProcess returning false.
//   - [DocumentStore] keeps identity-document blobs in a map.
//   - [Clock] is a fake clock that a test moves by hand. (The business
//     calendar is cancellation.NewCalendar.)
//
// [Store] keeps requests as a durable store's reads would return them
// (copies, never encoded: it has no bytes to keep), and [Kit]
// bundles every port, a Store and a Clock into a cancellation.Config.
//
// # Failures and latency
//
// The workflow fails closed when a port errors, and retries effects that
// failed. To test that, every [Platform] port can be put in a lasting outage
// ([Platform.SetOutage]) or made to fail its next n calls
// ([Platform.FailNext]); [Outbox.FailNext] (of the Notifier and the
// OTPSender) and [DocumentStore.FailNext] do the same for the other ports. Injected failures
// default to [ErrInjected]. [Platform.SetLatency] delays every Platform call,
// for benchmarks of concurrent rule evaluation (the Platform is then no
// longer in process, and the rules over it run on workers); the delay ends early with
// ctx.Err() when the context is done. Every method returns ctx.Err() at
// once when its context is already done.
//
// # Example
//
//	platform := memory.NewPlatform().SeedDemo()
//	platform.AddAPIKey(memory.AccountEligible, ports.APIKey{ID: "AKID-new"})
//	platform.FailNext(memory.PortAccountCloser, 1, nil) // first close fails, the retry succeeds
//	notifier := memory.NewNotifier()
//	clock := memory.NewClock(time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC))
//	// ... wire them into the workflow, then:
//	clock.Advance(72 * time.Hour)
//	for _, n := range notifier.Sent() {
//		fmt.Println(n.Channel, n.To, n.Template)
//	}
package memory
