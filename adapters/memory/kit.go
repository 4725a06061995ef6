package memory

import (
	"crypto/ed25519"
	"slices"
	"time"

	"github.com/accountkit/cancellation"
)

// Kit is a whole in-memory host platform: every port, a Store and a fake
// clock, ready to wire into a cancellation.Service. For tests, examples and
// demos; not for production.
type Kit struct {
	Platform  *Platform
	Store     *Store
	Notifier  *Notifier
	OTP       *OTPSender
	Documents *DocumentStore
	Clock     *Clock
	// Staff is the back office's staff directory, empty at first.
	Staff *StaffDirectory
	// Organizations and Exporter are an organisation directory and a data
	// exporter, not wired by Config: set Config.Organizations and
	// Config.Exporter to use them.
	Organizations *Organizations
	Exporter      *Exporter
	// HistoryKey keys the history chain of the Services wired by Config:
	// a fixed, public key, fit for tests and demos only.
	HistoryKey cancellation.HistoryKey
	// ReceiptKey signs the closing receipts of the Services wired by
	// Config: a fixed Ed25519 key whose private half is public, fit for
	// tests and demos only.
	ReceiptKey cancellation.ReceiptSigningKey
}

// NewKit returns a Kit with an empty Platform and the clock set to now.
func NewKit(now time.Time) *Kit {
	clock := NewClock(now)
	return &Kit{
		Organizations: NewOrganizations(),
		Exporter:      NewExporter(clock),
		Platform:      NewPlatform(),
		Store:         NewStore(),
		Notifier:      NewNotifier(),
		OTP:           NewOTPSender(),
		Documents:     NewDocumentStore(),
		Clock:         clock,
		Staff:         NewStaffDirectory(),
		HistoryKey:    cancellation.HistoryKey{ID: "memory-kit-1", Secret: []byte("memory kit history key: public, for tests only")},
		ReceiptKey:    cancellation.ReceiptSigningKey{ID: "memory-kit-receipt-1", Key: ed25519.NewKeyFromSeed([]byte("memory kit receipt key: testonly"))},
	}
}

// Config returns a cancellation.Config wired to the kit's ports. Callers
// adjust it (closing mode, policies, another Store) before cancellation.New.
func (k *Kit) Config() cancellation.Config {
	return cancellation.Config{
		Store:    k.Store,
		Accounts: k.Platform,
		Checkers: cancellation.Checkers{
			Orders: k.Platform, Balances: k.Platform, Authorizations: k.Platform,
			SubUsers: k.Platform, APIKeys: k.Platform, Data: k.Platform,
			Complaints: k.Platform, Matters: k.Platform,
		},
		OTP:       k.OTP,
		Notifier:  k.Notifier,
		Documents: k.Documents,
		Closer:    k.Platform,
		Staff:     k.Staff,
		Clock:     k.Clock,
		// A copy, so that a caller adjusting the Config leaves the Kit's
		// key as it is.
		HistoryKeys: []cancellation.HistoryKey{{ID: k.HistoryKey.ID, Secret: slices.Clone(k.HistoryKey.Secret)}},
		ReceiptKey:  &cancellation.ReceiptSigningKey{ID: k.ReceiptKey.ID, Key: slices.Clone(k.ReceiptKey.Key)},
	}
}
