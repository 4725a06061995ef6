package memory

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

var (
	_ cancellation.IdentifierStore   = (*Store)(nil)
	_ cancellation.ClosureQuotaStore = (*Store)(nil)
)

// identifiers holds the Store's kept identifier hashes.
type identifiers struct {
	mu     sync.Mutex
	hashes map[string]cancellation.IdentifierHash
}

// KeepIdentifiers stores identifier hashes; see
// cancellation.IdentifierStore.
func (s *Store) KeepIdentifiers(ctx context.Context, hashes []cancellation.IdentifierHash) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for i, h := range hashes {
		if h.Hash == "" || h.KeyID == "" {
			return fmt.Errorf("%w: memory: identifier hash %d has no hash or key id", cancellation.ErrInvalidInput, i)
		}
	}
	s.ids.mu.Lock()
	defer s.ids.mu.Unlock()
	if s.ids.hashes == nil {
		s.ids.hashes = map[string]cancellation.IdentifierHash{}
	}
	for _, h := range hashes {
		if cur, ok := s.ids.hashes[h.Hash]; ok && cur.ExpiresAt.After(h.ExpiresAt) {
			continue
		}
		s.ids.hashes[h.Hash] = h
	}
	return nil
}

// IdentifierKept looks identifier hashes up; see
// cancellation.IdentifierStore.
func (s *Store) IdentifierKept(ctx context.Context, hashes []string, now time.Time) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	s.ids.mu.Lock()
	defer s.ids.mu.Unlock()
	for _, h := range hashes {
		if cur, ok := s.ids.hashes[h]; ok && cur.ExpiresAt.After(now) {
			return true, nil
		}
	}
	return false, nil
}

// PurgeIdentifiers deletes expired identifier hashes; see
// cancellation.IdentifierStore.
func (s *Store) PurgeIdentifiers(ctx context.Context, before time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.ids.mu.Lock()
	defer s.ids.mu.Unlock()
	n := 0
	for k, h := range s.ids.hashes {
		if !h.ExpiresAt.After(before) {
			delete(s.ids.hashes, k)
			n++
		}
	}
	return n, nil
}

// IdentifierHashes returns the kept identifier hashes, for tests that
// check what the Store holds.
func (s *Store) IdentifierHashes() []cancellation.IdentifierHash {
	s.ids.mu.Lock()
	defer s.ids.mu.Unlock()
	out := make([]cancellation.IdentifierHash, 0, len(s.ids.hashes))
	for _, h := range s.ids.hashes {
		out = append(out, h)
	}
	return out
}

// closureQuota holds the organisation-quota admissions.
type closureQuota struct {
	mu   sync.Mutex
	rows []cancellation.ClosureAdmission
}

// AdmitClosures counts and records member closures atomically; see
// cancellation.ClosureQuotaStore.
func (s *Store) AdmitClosures(ctx context.Context, org ports.OrganizationID, accounts []ports.AccountID, since, now time.Time, limit int) (bool, []time.Time, error) {
	if err := ctx.Err(); err != nil {
		return false, nil, err
	}
	s.quota.mu.Lock()
	defer s.quota.mu.Unlock()
	var window []time.Time
	for _, a := range s.quota.rows {
		if a.Organization == org && a.At.After(since) {
			window = append(window, a.At)
		}
	}
	slices.SortFunc(window, time.Time.Compare)
	if len(window)+len(accounts) > limit {
		return false, window, nil
	}
	for _, acct := range accounts {
		s.quota.rows = append(s.quota.rows, cancellation.ClosureAdmission{Organization: org, Account: acct, At: now})
	}
	return true, window, nil
}

// ReleaseClosure deletes one admission; see
// cancellation.ClosureQuotaStore.
func (s *Store) ReleaseClosure(ctx context.Context, a cancellation.ClosureAdmission) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.quota.mu.Lock()
	defer s.quota.mu.Unlock()
	if i := slices.IndexFunc(s.quota.rows, func(r cancellation.ClosureAdmission) bool {
		return r.Organization == a.Organization && r.Account == a.Account && r.At.Equal(a.At)
	}); i >= 0 {
		s.quota.rows = slices.Delete(s.quota.rows, i, i+1)
	}
	return nil
}

// PurgeClosures deletes old admissions; see
// cancellation.ClosureQuotaStore.
func (s *Store) PurgeClosures(ctx context.Context, before time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.quota.mu.Lock()
	defer s.quota.mu.Unlock()
	n := len(s.quota.rows)
	s.quota.rows = slices.DeleteFunc(s.quota.rows, func(r cancellation.ClosureAdmission) bool { return !r.At.After(before) })
	return n - len(s.quota.rows), nil
}

// Organizations is an in-memory ports.OrganizationDirectory: organisations
// with members and admins, set up by the test or demo. Safe for
// concurrent use; not for production.
type Organizations struct {
	mu   sync.RWMutex
	orgs map[ports.OrganizationID]*organization
	// Fail, if not nil, is returned by every call (an outage).
	fail error
}

type organization struct {
	members []ports.AccountID
	admins  map[ports.AccountID]bool
}

var _ ports.OrganizationDirectory = (*Organizations)(nil)

// NewOrganizations returns an empty directory.
func NewOrganizations() *Organizations {
	return &Organizations{orgs: map[ports.OrganizationID]*organization{}}
}

// Add adds account to org as a member, and as an admin when admin is true.
func (o *Organizations) Add(org ports.OrganizationID, account ports.AccountID, admin bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	g := o.orgs[org]
	if g == nil {
		g = &organization{admins: map[ports.AccountID]bool{}}
		o.orgs[org] = g
	}
	if !slices.Contains(g.members, account) {
		g.members = append(g.members, account)
	}
	if admin {
		g.admins[account] = true
	}
}

// SetFailure makes every call fail with err (nil: work again).
func (o *Organizations) SetFailure(err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.fail = err
}

// Members returns the organisation's members; see
// ports.OrganizationDirectory.
func (o *Organizations) Members(ctx context.Context, org ports.OrganizationID) ([]ports.AccountID, error) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.fail != nil {
		return nil, o.fail
	}
	g := o.orgs[org]
	if g == nil {
		return nil, fmt.Errorf("memory: organisation %s: %w", org, ports.ErrNotFound)
	}
	return slices.Clone(g.members), nil
}

// IsAdmin reports whether account is an admin of org; see
// ports.OrganizationDirectory.
func (o *Organizations) IsAdmin(ctx context.Context, org ports.OrganizationID, account ports.AccountID) (bool, error) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.fail != nil {
		return false, o.fail
	}
	g := o.orgs[org]
	return g != nil && g.admins[account], nil
}

// Exporter is an in-memory ports.DataExporter: it "prepares" an export
// under a link derived from the idempotency key, valid for TTL, and
// remembers the keys it prepared. Safe for concurrent use; not for
// production.
type Exporter struct {
	mu    sync.Mutex
	clock ports.Clock
	// TTL is how long a link is valid (default 7 days).
	TTL      time.Duration
	prepared map[string]ports.ExportRef
	fail     error
}

var _ ports.DataExporter = (*Exporter)(nil)

// NewExporter returns an Exporter whose links expire by clock.
func NewExporter(clock ports.Clock) *Exporter {
	return &Exporter{clock: clock, TTL: 7 * 24 * time.Hour, prepared: map[string]ports.ExportRef{}}
}

// SetFailure makes PrepareExport fail with err (nil: work again).
func (x *Exporter) SetFailure(err error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.fail = err
}

// PrepareExport returns the export for the key, the same on every retry;
// see ports.DataExporter.
func (x *Exporter) PrepareExport(ctx context.Context, account ports.AccountID, key string) (ports.ExportRef, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.fail != nil {
		return ports.ExportRef{}, x.fail
	}
	if ref, ok := x.prepared[key]; ok {
		return ref, nil
	}
	ref := ports.ExportRef{URL: "https://exports.example/" + string(account) + "/" + fmt.Sprint(len(x.prepared)+1), ExpiresAt: x.clock.Now().Add(x.TTL)}
	x.prepared[key] = ref
	return ref, nil
}

// Prepared returns how many distinct exports were prepared.
func (x *Exporter) Prepared() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return len(x.prepared)
}
