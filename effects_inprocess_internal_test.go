package cancellation

import (
	"context"
	"testing"

	"github.com/accountkit/cancellation/ports"
)

// sayPort is a port of every kind the effects call that says by InProcess
// whether it answers in process.
type sayPort struct{ in bool }

func (p sayPort) InProcess() bool { return p.in }
func (sayPort) Notify(context.Context, ports.Notification) error {
	return nil
}
func (sayPort) CloseAccount(context.Context, ports.AccountID, string) error { return nil }
func (sayPort) Account(context.Context, ports.AccountID) (ports.Account, error) {
	return ports.Account{}, nil
}

// blockingPort implements the ports without InProcess: it may block.
type blockingPort struct{}

func (blockingPort) Notify(context.Context, ports.Notification) error { return nil }
func (blockingPort) CloseAccount(context.Context, ports.AccountID, string) error {
	return nil
}
func (blockingPort) Account(context.Context, ports.AccountID) (ports.Account, error) {
	return ports.Account{}, nil
}

type effectHook struct{ HookDefaults }

func (effectHook) EffectAttempt(context.Context, EffectAttemptInfo) {}

// TestInProcess_EffectsRunOnTheCallerOnlyWhenNothingMayBlock: a round of
// effects runs on the caller, unspread, only when every port it calls
// says it answers in process and no hook hears of the attempts.
func TestInProcess_EffectsRunOnTheCallerOnlyWhenNothingMayBlock(t *testing.T) {
	t.Parallel()
	in, out := sayPort{true}, sayPort{false}
	notice := &Effect{Kind: EffectNotify, Notification: &ports.Notification{To: "+15550100001"}}
	addressless := &Effect{Kind: EffectNotify, Notification: &ports.Notification{}}
	closing := &Effect{Kind: EffectCloseAccount}
	for _, tc := range []struct {
		name     string
		cfg      Config
		hooked   bool
		effects  []*Effect
		onCaller bool
	}{
		{"every port in process", Config{Notifier: in, Closer: in, Accounts: in}, false, []*Effect{closing, notice, addressless}, true},
		{"a hook hears of the attempts", Config{Notifier: in, Closer: in, Accounts: in}, true, []*Effect{closing, notice}, false},
		{"the notifier says no", Config{Notifier: out, Closer: in, Accounts: in}, false, []*Effect{closing, notice}, false},
		{"the notifier says nothing", Config{Notifier: blockingPort{}, Closer: in, Accounts: in}, false, []*Effect{notice}, false},
		{"the closer says no", Config{Notifier: in, Closer: out, Accounts: in}, false, []*Effect{closing, notice}, false},
		{"an address to read from a directory that may block", Config{Notifier: in, Closer: in, Accounts: blockingPort{}}, false, []*Effect{addressless}, false},
		{"an address recorded, the directory not asked", Config{Notifier: in, Closer: in, Accounts: blockingPort{}}, false, []*Effect{notice}, true},
		{"another kind of effect", Config{Notifier: in, Closer: in, Accounts: in}, false, []*Effect{notice, {Kind: EffectPurgeDocuments}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Service{cfg: tc.cfg}
			if tc.hooked {
				s.hooks = &hookSet{effects: []HookEffectAttempt{effectHook{}}}
			}
			if got := s.inProcess(tc.effects); got != tc.onCaller {
				t.Fatalf("inProcess = %v, want %v", got, tc.onCaller)
			}
		})
	}
}
