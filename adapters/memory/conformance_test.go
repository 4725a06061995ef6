package memory_test

import (
	"testing"

	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/ports"
	"github.com/accountkit/cancellation/ports/portstest"
)

// seedPlatform returns a constructor for a checker suite: it seeds a new
// Platform with data through add and returns it as the port P.
func seedPlatform[T, P any](add func(*memory.Platform, ports.AccountID, T) *memory.Platform) func(*testing.T, map[ports.AccountID][]T) P {
	return func(_ *testing.T, data map[ports.AccountID][]T) P {
		p := memory.NewPlatform()
		for id, items := range data {
			for _, item := range items {
				add(p, id, item)
			}
		}
		return any(p).(P)
	}
}

// platformWith returns a new Platform that holds accounts.
func platformWith(accounts []ports.Account) *memory.Platform {
	p := memory.NewPlatform()
	for _, a := range accounts {
		p.AddAccount(a)
	}
	return p
}

// TestConformance runs every port suite of portstest against the memory
// adapters, declaring every feature.
func TestConformance(t *testing.T) {
	t.Parallel()
	type P = memory.Platform
	var all portstest.Features
	suites := map[string]func(t *testing.T){
		"AccountDirectory": func(t *testing.T) {
			portstest.TestAccountDirectory(t, all, func(_ *testing.T, accounts []ports.Account) ports.AccountDirectory {
				return platformWith(accounts)
			})
		},
		"OrderChecker": func(t *testing.T) {
			portstest.TestOrderChecker(t, all, seedPlatform[ports.Obligation, ports.OrderChecker]((*P).AddObligation))
		},
		"BalanceChecker": func(t *testing.T) {
			portstest.TestBalanceChecker(t, all, seedPlatform[ports.Right, ports.BalanceChecker]((*P).AddRight))
		},
		"AuthorizationStore": func(t *testing.T) {
			portstest.TestAuthorizationStore(t, all, seedPlatform[ports.Authorization, ports.AuthorizationStore]((*P).AddAuthorization))
		},
		"SubUserStore": func(t *testing.T) {
			portstest.TestSubUserStore(t, all, seedPlatform[ports.SubUser, ports.SubUserStore]((*P).AddSubUser))
		},
		"APIKeyStore": func(t *testing.T) {
			portstest.TestAPIKeyStore(t, all, seedPlatform[ports.APIKey, ports.APIKeyStore]((*P).AddAPIKey))
		},
		"DataInventory": func(t *testing.T) {
			portstest.TestDataInventory(t, all, seedPlatform[ports.DataHolding, ports.DataInventory]((*P).AddDataHolding))
		},
		"ComplaintChecker": func(t *testing.T) {
			portstest.TestComplaintChecker(t, all, seedPlatform[ports.Case, ports.ComplaintChecker]((*P).AddCase))
		},
		"MatterChecker": func(t *testing.T) {
			portstest.TestMatterChecker(t, all, seedPlatform[ports.Matter, ports.MatterChecker]((*P).AddMatter))
		},
		"Notifier": func(t *testing.T) {
			portstest.TestNotifier(t, all, func(*testing.T) portstest.Delivery[ports.Notifier] {
				n := memory.NewNotifier()
				return portstest.Delivery[ports.Notifier]{Port: n, Deliveries: n.Deliveries}
			})
		},
		"OTPSender": func(t *testing.T) {
			portstest.TestOTPSender(t, all, func(*testing.T) portstest.Delivery[ports.OTPSender] {
				s := memory.NewOTPSender()
				return portstest.Delivery[ports.OTPSender]{Port: s, Deliveries: s.Deliveries}
			})
		},
		"DocumentStore": func(t *testing.T) {
			portstest.TestDocumentStore(t, all, func(*testing.T) ports.DocumentStore { return memory.NewDocumentStore() })
		},
		"AccountCloser": func(t *testing.T) {
			portstest.TestAccountCloser(t, all, func(_ *testing.T, accounts []ports.Account) portstest.AccountCloserUnderTest {
				p := platformWith(accounts)
				return portstest.AccountCloserUnderTest{Closer: p, Directory: p}
			})
		},
	}
	for name, suite := range suites {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			suite(t)
		})
	}
}

// TestConformanceWithoutObservers runs the suites that take observers
// without them, and with Features.IgnoresContext: they must still pass,
// skipping what they then cannot check (go test -v shows the skips).
func TestConformanceWithoutObservers(t *testing.T) {
	t.Parallel()
	t.Run("Notifier", func(t *testing.T) {
		portstest.TestNotifier(t, portstest.Features{}, func(*testing.T) portstest.Delivery[ports.Notifier] {
			return portstest.Delivery[ports.Notifier]{Port: memory.NewNotifier()}
		})
	})
	t.Run("AccountCloser", func(t *testing.T) {
		portstest.TestAccountCloser(t, portstest.Features{IgnoresContext: true}, func(_ *testing.T, accounts []ports.Account) portstest.AccountCloserUnderTest {
			return portstest.AccountCloserUnderTest{Closer: platformWith(accounts)}
		})
	})
}
