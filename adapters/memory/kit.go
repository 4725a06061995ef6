package memory

import (
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
}

// NewKit returns a Kit with an empty Platform and the clock set to now.
func NewKit(now time.Time) *Kit {
	return &Kit{
		Platform:  NewPlatform(),
		Store:     NewStore(),
		Notifier:  NewNotifier(),
		OTP:       NewOTPSender(),
		Documents: NewDocumentStore(),
		Clock:     NewClock(now),
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
		Clock:     k.Clock,
	}
}
