package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/accountkit/cancellation/ports"
)

// Compile-time checks: Platform implements these ports.
var (
	_ ports.AccountDirectory   = (*Platform)(nil)
	_ ports.OrderChecker       = (*Platform)(nil)
	_ ports.BalanceChecker     = (*Platform)(nil)
	_ ports.AuthorizationStore = (*Platform)(nil)
	_ ports.SubUserStore       = (*Platform)(nil)
	_ ports.APIKeyStore        = (*Platform)(nil)
	_ ports.DataInventory      = (*Platform)(nil)
	_ ports.ComplaintChecker   = (*Platform)(nil)
	_ ports.MatterChecker      = (*Platform)(nil)
	_ ports.AccountCloser      = (*Platform)(nil)
	_ ports.InProcess          = (*Platform)(nil)
)

// Port names one of the ports that Platform implements, for
// [Platform.SetOutage] and [Platform.FailNext].
type Port string

// The ports of a Platform.
const (
	PortAccountDirectory   Port = "AccountDirectory"
	PortOrderChecker       Port = "OrderChecker"
	PortBalanceChecker     Port = "BalanceChecker"
	PortAuthorizationStore Port = "AuthorizationStore"
	PortSubUserStore       Port = "SubUserStore"
	PortAPIKeyStore        Port = "APIKeyStore"
	PortDataInventory      Port = "DataInventory"
	PortComplaintChecker   Port = "ComplaintChecker"
	PortMatterChecker      Port = "MatterChecker"
	PortAccountCloser      Port = "AccountCloser"
)

// Platform is an in-memory host platform: its accounts and, per account, the
// obligations, unused rights, third-party authorizations, sub-users, API
// keys, data holdings, open cases and other matters that the eligibility
// rules look at. It implements [ports.AccountDirectory], the checker ports
// and [ports.AccountCloser]. It is for tests, examples and demos, not for
// production: nothing survives the process.
//
// The zero value is an empty platform ready to use; [NewPlatform] returns one
// too, for chaining. All methods are safe for concurrent use. The seeding and
// removal helpers return the Platform so that calls chain:
//
//	p := memory.NewPlatform().
//		AddAccount(ports.Account{ID: "a1", Kind: ports.Personal, RecoveryPhone: "+15550100999"}).
//		AddAPIKey("a1", ports.APIKey{ID: "AKID1"})
//
// Items are kept per account in the order they were added. Adding an item
// whose Ref (for API keys, ID) is already there for that account replaces it
// in place. A checker asked about an unknown account reports nothing.
type Platform struct {
	mu       sync.Mutex
	latency  atomic.Int64 // a time.Duration; read without mu by every call
	faults   map[Port]*faults
	accounts map[ports.AccountID]ports.Account

	obligations    ledger[ports.Obligation]
	rights         ledger[ports.Right]
	authorizations ledger[ports.Authorization]
	subUsers       ledger[ports.SubUser]
	apiKeys        ledger[ports.APIKey]
	holdings       ledger[ports.DataHolding]
	cases          ledger[ports.Case]
	matters        ledger[ports.Matter]

	closedBy   map[string]ports.AccountID // idempotency key -> account it closed
	closeCalls map[string]int             // idempotency key -> calls
}

// NewPlatform returns an empty Platform.
func NewPlatform() *Platform { return &Platform{} }

// locked runs f under the mutex and returns p, for the chaining helpers.
func (p *Platform) locked(f func()) *Platform {
	p.mu.Lock()
	defer p.mu.Unlock()
	f()
	return p
}

// AddAccount adds a, or replaces the account with the same ID.
func (p *Platform) AddAccount(a ports.Account) *Platform {
	return p.locked(func() {
		if p.accounts == nil {
			p.accounts = make(map[ports.AccountID]ports.Account)
		}
		p.accounts[a.ID] = a
	})
}

// Accounts returns every account, ordered by ID.
func (p *Platform) Accounts() []ports.Account {
	p.mu.Lock()
	defer p.mu.Unlock()
	all := make([]ports.Account, 0, len(p.accounts))
	for _, a := range p.accounts {
		all = append(all, a)
	}
	slices.SortFunc(all, func(a, b ports.Account) int { return cmp.Compare(a.ID, b.ID) })
	return all
}

// AddObligation adds an open obligation to account id (seed note 1).
func (p *Platform) AddObligation(id ports.AccountID, o ports.Obligation) *Platform {
	return p.locked(func() { p.obligations.add(id, o.Ref, o) })
}

// AddRight adds an unused right to account id (seed note 2).
func (p *Platform) AddRight(id ports.AccountID, r ports.Right) *Platform {
	return p.locked(func() { p.rights.add(id, r.Ref, r) })
}

// AddAuthorization adds a third-party binding to account id (seed note 3).
func (p *Platform) AddAuthorization(id ports.AccountID, a ports.Authorization) *Platform {
	return p.locked(func() { p.authorizations.add(id, a.Ref, a) })
}

// AddSubUser adds a collaborator, sub-user or message recipient to account
// id (seed note 4).
func (p *Platform) AddSubUser(id ports.AccountID, s ports.SubUser) *Platform {
	return p.locked(func() { p.subUsers.add(id, s.Ref, s) })
}

// AddAPIKey adds an API key to account id (seed note 5).
func (p *Platform) AddAPIKey(id ports.AccountID, k ports.APIKey) *Platform {
	return p.locked(func() { p.apiKeys.add(id, k.ID, k) })
}

// AddDataHolding adds data held under account id (seed note 6).
func (p *Platform) AddDataHolding(id ports.AccountID, d ports.DataHolding) *Platform {
	return p.locked(func() { p.holdings.add(id, d.Ref, d) })
}

// AddCase opens a complaint, report, dispute or legal hold on account id
// (seed notes 7 and 8).
func (p *Platform) AddCase(id ports.AccountID, c ports.Case) *Platform {
	return p.locked(func() { p.cases.add(id, c.Ref, c) })
}

// AddMatter adds another matter to account id (seed note 9).
func (p *Platform) AddMatter(id ports.AccountID, m ports.Matter) *Platform {
	return p.locked(func() { p.matters.add(id, m.Ref, m) })
}

// RemoveObligation settles the obligation ref of account id. Unknown refs
// are ignored.
func (p *Platform) RemoveObligation(id ports.AccountID, ref string) *Platform {
	return p.locked(func() { p.obligations.remove(id, ref) })
}

// RemoveRight uses up the right ref of account id. Unknown refs are ignored.
func (p *Platform) RemoveRight(id ports.AccountID, ref string) *Platform {
	return p.locked(func() { p.rights.remove(id, ref) })
}

// RemoveAuthorization revokes the binding ref of account id. Unknown refs
// are ignored.
func (p *Platform) RemoveAuthorization(id ports.AccountID, ref string) *Platform {
	return p.locked(func() { p.authorizations.remove(id, ref) })
}

// RemoveSubUser deletes the sub-user ref of account id. Unknown refs are
// ignored.
func (p *Platform) RemoveSubUser(id ports.AccountID, ref string) *Platform {
	return p.locked(func() { p.subUsers.remove(id, ref) })
}

// RemoveAPIKey deletes the API key with ID keyID of account id. Unknown IDs
// are ignored.
func (p *Platform) RemoveAPIKey(id ports.AccountID, keyID string) *Platform {
	return p.locked(func() { p.apiKeys.remove(id, keyID) })
}

// RemoveDataHolding deletes the data holding ref of account id. Unknown refs
// are ignored.
func (p *Platform) RemoveDataHolding(id ports.AccountID, ref string) *Platform {
	return p.locked(func() { p.holdings.remove(id, ref) })
}

// RemoveCase closes the case ref of account id. Unknown refs are ignored.
func (p *Platform) RemoveCase(id ports.AccountID, ref string) *Platform {
	return p.locked(func() { p.cases.remove(id, ref) })
}

// RemoveMatter settles the matter ref of account id. Unknown refs are
// ignored.
func (p *Platform) RemoveMatter(id ports.AccountID, ref string) *Platform {
	return p.locked(func() { p.matters.remove(id, ref) })
}

// DeleteObligations settles every obligation of account id.
func (p *Platform) DeleteObligations(id ports.AccountID) *Platform {
	return p.locked(func() { p.obligations.clear(id) })
}

// DeleteRights uses up every unused right of account id.
func (p *Platform) DeleteRights(id ports.AccountID) *Platform {
	return p.locked(func() { p.rights.clear(id) })
}

// DeleteAuthorizations revokes every third-party binding of account id.
func (p *Platform) DeleteAuthorizations(id ports.AccountID) *Platform {
	return p.locked(func() { p.authorizations.clear(id) })
}

// DeleteSubUsers deletes every collaborator, sub-user and message recipient
// of account id, as the remedy of seed note 4 asks.
func (p *Platform) DeleteSubUsers(id ports.AccountID) *Platform {
	return p.locked(func() { p.subUsers.clear(id) })
}

// DeleteAPIKeys deletes every API key of account id, as the remedy of seed
// note 5 asks.
func (p *Platform) DeleteAPIKeys(id ports.AccountID) *Platform {
	return p.locked(func() { p.apiKeys.clear(id) })
}

// DeleteDataHoldings deletes every data holding of account id.
func (p *Platform) DeleteDataHoldings(id ports.AccountID) *Platform {
	return p.locked(func() { p.holdings.clear(id) })
}

// DeleteCases closes every case of account id.
func (p *Platform) DeleteCases(id ports.AccountID) *Platform {
	return p.locked(func() { p.cases.clear(id) })
}

// DeleteMatters settles every other matter of account id.
func (p *Platform) DeleteMatters(id ports.AccountID) *Platform {
	return p.locked(func() { p.matters.clear(id) })
}

// SetLatency makes every port call of the Platform (the directory, the
// checkers and the closer) wait d before it answers, as a remote system
// would; 0 removes the delay. A call whose context ends during the wait
// returns ctx.Err() at once.
func (p *Platform) SetLatency(d time.Duration) *Platform {
	p.latency.Store(int64(d))
	return p
}

// InProcess implements [ports.InProcess]: the Platform answers in the
// caller's process, holding its mutex only to copy what it returns, unless
// SetLatency made its calls wait; it reports true while the latency is 0.
// Injected outages and failures answer at once, and do not change it.
//
// A type that embeds *Platform inherits InProcess: if it overrides a
// checker with a call that may block (a database, a service), it must
// declare its own InProcess returning false, or the rule over that
// checker runs on the caller's goroutine, where a call that ignores its
// context holds the caller past the rules' deadline.
func (p *Platform) InProcess() bool { return p.latency.Load() == 0 }

// SetOutage makes every call of port fail with err until SetOutage is
// called again with a nil err. A lasting outage takes precedence over
// failures armed with FailNext, which wait for it to end.
func (p *Platform) SetOutage(port Port, err error) *Platform {
	return p.locked(func() { p.faultsOf(port).outage = err })
}

// FailNext makes the next n calls of port fail with err, or with
// [ErrInjected] when err is nil; the calls after them succeed again.
// FailNext(port, 0, nil) disarms. Calls whose context is already done do
// not count.
func (p *Platform) FailNext(port Port, n int, err error) *Platform {
	return p.locked(func() { p.faultsOf(port).failNext(n, err) })
}

// CloseCalls returns how many times CloseAccount was called with
// idempotencyKey, counting calls that failed (by an injected failure, an
// unknown account or a reused key) but not calls whose context was already
// done.
func (p *Platform) CloseCalls(idempotencyKey string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closeCalls[idempotencyKey]
}

// faultsOf returns the injected faults of port. p.mu must be held.
func (p *Platform) faultsOf(port Port) *faults {
	if p.faults == nil {
		p.faults = make(map[Port]*faults)
	}
	f, ok := p.faults[port]
	if !ok {
		f = new(faults)
		p.faults[port] = f
	}
	return f
}

// enter starts a port call: it returns ctx.Err() if ctx is done before or
// during the configured latency, and otherwise returns nil with p.mu held.
func (p *Platform) enter(ctx context.Context) error {
	if err := wait(ctx, time.Duration(p.latency.Load())); err != nil {
		return err
	}
	p.mu.Lock()
	return nil
}

// Account implements [ports.AccountDirectory]. An unknown id returns an
// error wrapping [ports.ErrNotFound].
func (p *Platform) Account(ctx context.Context, id ports.AccountID) (ports.Account, error) {
	if err := p.enter(ctx); err != nil {
		return ports.Account{}, err
	}
	defer p.mu.Unlock()
	if err := p.faultsOf(PortAccountDirectory).take(); err != nil {
		return ports.Account{}, err
	}
	a, ok := p.accounts[id]
	if !ok {
		return ports.Account{}, fmt.Errorf("memory: account %q: %w", id, ports.ErrNotFound)
	}
	return a, nil
}

// OpenObligations implements [ports.OrderChecker].
func (p *Platform) OpenObligations(ctx context.Context, id ports.AccountID) ([]ports.Obligation, error) {
	return list(ctx, p, PortOrderChecker, &p.obligations, id)
}

// UnusedRights implements [ports.BalanceChecker].
func (p *Platform) UnusedRights(ctx context.Context, id ports.AccountID) ([]ports.Right, error) {
	return list(ctx, p, PortBalanceChecker, &p.rights, id)
}

// Authorizations implements [ports.AuthorizationStore].
func (p *Platform) Authorizations(ctx context.Context, id ports.AccountID) ([]ports.Authorization, error) {
	return list(ctx, p, PortAuthorizationStore, &p.authorizations, id)
}

// SubUsers implements [ports.SubUserStore].
func (p *Platform) SubUsers(ctx context.Context, id ports.AccountID) ([]ports.SubUser, error) {
	return list(ctx, p, PortSubUserStore, &p.subUsers, id)
}

// APIKeys implements [ports.APIKeyStore].
func (p *Platform) APIKeys(ctx context.Context, id ports.AccountID) ([]ports.APIKey, error) {
	return list(ctx, p, PortAPIKeyStore, &p.apiKeys, id)
}

// DataHoldings implements [ports.DataInventory].
func (p *Platform) DataHoldings(ctx context.Context, id ports.AccountID) ([]ports.DataHolding, error) {
	return list(ctx, p, PortDataInventory, &p.holdings, id)
}

// OpenCases implements [ports.ComplaintChecker].
func (p *Platform) OpenCases(ctx context.Context, id ports.AccountID) ([]ports.Case, error) {
	return list(ctx, p, PortComplaintChecker, &p.cases, id)
}

// OpenMatters implements [ports.MatterChecker].
func (p *Platform) OpenMatters(ctx context.Context, id ports.AccountID) ([]ports.Matter, error) {
	return list(ctx, p, PortMatterChecker, &p.matters, id)
}

// list answers a checker call from the ledger l, a field of p read only
// under p.mu.
func list[T any](ctx context.Context, p *Platform, port Port, l *ledger[T], id ports.AccountID) ([]T, error) {
	if err := p.enter(ctx); err != nil {
		return nil, err
	}
	defer p.mu.Unlock()
	if err := p.faultsOf(port).take(); err != nil {
		return nil, err
	}
	return l.items(id), nil
}

// CloseAccount implements [ports.AccountCloser]: it sets the account's
// Closed flag. It is idempotent: a repeated key, or an account already
// closed, returns nil. Reusing a key that closed another account is an
// error, and so is an unknown account (wrapping [ports.ErrNotFound]).
func (p *Platform) CloseAccount(ctx context.Context, id ports.AccountID, idempotencyKey string) error {
	if err := p.enter(ctx); err != nil {
		return err
	}
	defer p.mu.Unlock()
	if p.closeCalls == nil {
		p.closeCalls = make(map[string]int)
		p.closedBy = make(map[string]ports.AccountID)
	}
	p.closeCalls[idempotencyKey]++
	if err := p.faultsOf(PortAccountCloser).take(); err != nil {
		return err
	}
	if other, ok := p.closedBy[idempotencyKey]; ok && other != id {
		return fmt.Errorf("memory: idempotency key %q already closed account %q, not %q", idempotencyKey, other, id)
	}
	a, ok := p.accounts[id]
	if !ok {
		return fmt.Errorf("memory: close account %q: %w", id, ports.ErrNotFound)
	}
	a.Closed = true
	p.accounts[id] = a
	p.closedBy[idempotencyKey] = id
	return nil
}
