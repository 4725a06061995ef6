package httpclient_test

import (
	"testing"

	"github.com/accountkit/cancellation/adapters/httpclient"
	"github.com/accountkit/cancellation/ports"
	"github.com/accountkit/cancellation/ports/portstest"
)

// checker returns the constructors of a checker's suite and fault suite:
// each seeds a new fake host with data on its endpoint list, converting
// items to their wire type with conv, and returns a Client of it as P.
func checker[T, W, P any](list string, conv func(T) W) (
	func(*testing.T, map[ports.AccountID][]T) P,
	func(*testing.T, map[ports.AccountID][]T) portstest.Faulty[P],
) {
	faulty := func(t *testing.T, data map[ports.AccountID][]T) portstest.Faulty[P] {
		h := seedList(newFakeHost(t), list, data, conv)
		return portstest.Faulty[P]{Port: any(h.client(t, httpclient.Options{})).(P), Inject: h.inject}
	}
	return func(t *testing.T, data map[ports.AccountID][]T) P { return faulty(t, data).Port }, faulty
}

// TestConformance runs every port suite of portstest, and its fault suite,
// against a Client of a fake host that serves the contract; every request
// and answer is validated against host-openapi.yaml on the way.
func TestConformance(t *testing.T) {
	t.Parallel()
	var all portstest.Features
	directory := func(t *testing.T, accounts []ports.Account) portstest.Faulty[ports.AccountDirectory] {
		h := newFakeHost(t).seedAccounts(accounts)
		return portstest.Faulty[ports.AccountDirectory]{Port: h.client(t, httpclient.Options{}), Inject: h.inject}
	}
	closer := func(t *testing.T, accounts []ports.Account) portstest.Faulty[ports.AccountCloser] {
		h := newFakeHost(t).seedAccounts(accounts)
		c := h.client(t, httpclient.Options{})
		return portstest.Faulty[ports.AccountCloser]{Port: c, Inject: h.inject, Directory: c}
	}
	notifier := func(t *testing.T) portstest.Faulty[ports.Notifier] {
		h := newFakeHost(t)
		return portstest.Faulty[ports.Notifier]{Port: h.client(t, httpclient.Options{}), Inject: h.inject, Deliveries: h.deliveriesOf("/notifications")}
	}
	sender := func(t *testing.T) portstest.Faulty[ports.OTPSender] {
		h := newFakeHost(t)
		return portstest.Faulty[ports.OTPSender]{Port: h.client(t, httpclient.Options{}), Inject: h.inject, Deliveries: h.deliveriesOf("/otp-messages")}
	}
	documents := func(t *testing.T) portstest.Faulty[ports.DocumentStore] {
		h := newFakeHost(t)
		return portstest.Faulty[ports.DocumentStore]{Port: h.client(t, httpclient.Options{}), Inject: h.inject}
	}

	orders, ordersF := checker[ports.Obligation, httpclient.Obligation, ports.OrderChecker]("/obligations", func(v ports.Obligation) httpclient.Obligation { return httpclient.Obligation(v) })
	rights, rightsF := checker[ports.Right, httpclient.Right, ports.BalanceChecker]("/rights", func(v ports.Right) httpclient.Right { return httpclient.Right(v) })
	auths, authsF := checker[ports.Authorization, httpclient.Authorization, ports.AuthorizationStore]("/authorizations", func(v ports.Authorization) httpclient.Authorization { return httpclient.Authorization(v) })
	subs, subsF := checker[ports.SubUser, httpclient.SubUser, ports.SubUserStore]("/sub-users", func(v ports.SubUser) httpclient.SubUser { return httpclient.SubUser(v) })
	keys, keysF := checker[ports.APIKey, httpclient.APIKey, ports.APIKeyStore]("/api-keys", func(v ports.APIKey) httpclient.APIKey { return httpclient.APIKey(v) })
	data, dataF := checker[ports.DataHolding, httpclient.DataHolding, ports.DataInventory]("/data-holdings", func(v ports.DataHolding) httpclient.DataHolding { return httpclient.DataHolding(v) })
	cases, casesF := checker[ports.Case, httpclient.Case, ports.ComplaintChecker]("/cases", func(v ports.Case) httpclient.Case { return httpclient.Case(v) })
	matters, mattersF := checker[ports.Matter, httpclient.Matter, ports.MatterChecker]("/matters", func(v ports.Matter) httpclient.Matter { return httpclient.Matter(v) })

	suites := map[string]func(t *testing.T){
		"AccountDirectory": func(t *testing.T) {
			portstest.TestAccountDirectory(t, all, func(t *testing.T, a []ports.Account) ports.AccountDirectory { return directory(t, a).Port })
			portstest.TestAccountDirectoryFaults(t, all, directory)
		},
		"OrderChecker": func(t *testing.T) {
			portstest.TestOrderChecker(t, all, orders)
			portstest.TestOrderCheckerFaults(t, all, ordersF)
		},
		"BalanceChecker": func(t *testing.T) {
			portstest.TestBalanceChecker(t, all, rights)
			portstest.TestBalanceCheckerFaults(t, all, rightsF)
		},
		"AuthorizationStore": func(t *testing.T) {
			portstest.TestAuthorizationStore(t, all, auths)
			portstest.TestAuthorizationStoreFaults(t, all, authsF)
		},
		"SubUserStore": func(t *testing.T) {
			portstest.TestSubUserStore(t, all, subs)
			portstest.TestSubUserStoreFaults(t, all, subsF)
		},
		"APIKeyStore": func(t *testing.T) {
			portstest.TestAPIKeyStore(t, all, keys)
			portstest.TestAPIKeyStoreFaults(t, all, keysF)
		},
		"DataInventory": func(t *testing.T) {
			portstest.TestDataInventory(t, all, data)
			portstest.TestDataInventoryFaults(t, all, dataF)
		},
		"ComplaintChecker": func(t *testing.T) {
			portstest.TestComplaintChecker(t, all, cases)
			portstest.TestComplaintCheckerFaults(t, all, casesF)
		},
		"MatterChecker": func(t *testing.T) {
			portstest.TestMatterChecker(t, all, matters)
			portstest.TestMatterCheckerFaults(t, all, mattersF)
		},
		"Notifier": func(t *testing.T) {
			portstest.TestNotifier(t, all, func(t *testing.T) portstest.Delivery[ports.Notifier] {
				u := notifier(t)
				return portstest.Delivery[ports.Notifier]{Port: u.Port, Deliveries: u.Deliveries}
			})
			portstest.TestNotifierFaults(t, all, notifier)
		},
		"OTPSender": func(t *testing.T) {
			portstest.TestOTPSender(t, all, func(t *testing.T) portstest.Delivery[ports.OTPSender] {
				u := sender(t)
				return portstest.Delivery[ports.OTPSender]{Port: u.Port, Deliveries: u.Deliveries}
			})
			portstest.TestOTPSenderFaults(t, all, sender)
		},
		"DocumentStore": func(t *testing.T) {
			portstest.TestDocumentStore(t, all, func(t *testing.T) ports.DocumentStore { return documents(t).Port })
			portstest.TestDocumentStoreFaults(t, all, documents)
		},
		"EventPublisher": func(t *testing.T) {
			portstest.TestEventPublisher(t, all, func(t *testing.T) portstest.Delivery[ports.EventPublisher] {
				u := webhookUnderTest(t)
				return portstest.Delivery[ports.EventPublisher]{Port: u.Port, Deliveries: u.Deliveries}
			})
			portstest.TestEventPublisherFaults(t, all, webhookUnderTest)
		},
		"AccountCloser": func(t *testing.T) {
			portstest.TestAccountCloser(t, all, func(t *testing.T, a []ports.Account) portstest.AccountCloserUnderTest {
				u := closer(t, a)
				return portstest.AccountCloserUnderTest{Closer: u.Port, Directory: u.Directory}
			})
			portstest.TestAccountCloserFaults(t, all, closer)
		},
	}
	for name, suite := range suites {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			suite(t)
		})
	}
}
