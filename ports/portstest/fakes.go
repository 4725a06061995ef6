package portstest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/ports"
)

// The suites drive a Service over the Store under test with these small
// fakes of the other ports, so that the kit depends on no adapter and a
// host's conformance run pulls in none (TestKitImportsNoAdapter).

// fakeHost is every account-side port: the directory, the eight checkers
// and the closer. Only unused rights (balances) are ever non-empty.
type fakeHost struct {
	mu       sync.Mutex
	accounts map[ports.AccountID]ports.Account
	rights   map[ports.AccountID][]ports.Right
	// refuseClose makes CloseAccount fail for these accounts.
	refuseClose map[ports.AccountID]bool
}

func newFakeHost() *fakeHost {
	return &fakeHost{accounts: map[ports.AccountID]ports.Account{}, rights: map[ports.AccountID][]ports.Right{}, refuseClose: map[ports.AccountID]bool{}}
}

func (h *fakeHost) AddAccount(a ports.Account) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.accounts[a.ID] = a
}

func (h *fakeHost) AddRight(id ports.AccountID, r ports.Right) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.rights[id] = append(h.rights[id], r)
}

func (h *fakeHost) Account(_ context.Context, id ports.AccountID) (ports.Account, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	a, ok := h.accounts[id]
	if !ok {
		return ports.Account{}, fmt.Errorf("portstest: account %s: %w", id, ports.ErrNotFound)
	}
	return a, nil
}

func (h *fakeHost) UnusedRights(_ context.Context, id ports.AccountID) ([]ports.Right, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]ports.Right(nil), h.rights[id]...), nil
}

func (h *fakeHost) OpenObligations(context.Context, ports.AccountID) ([]ports.Obligation, error) {
	return nil, nil
}

func (h *fakeHost) Authorizations(context.Context, ports.AccountID) ([]ports.Authorization, error) {
	return nil, nil
}
func (h *fakeHost) SubUsers(context.Context, ports.AccountID) ([]ports.SubUser, error) {
	return nil, nil
}
func (h *fakeHost) APIKeys(context.Context, ports.AccountID) ([]ports.APIKey, error) {
	return nil, nil
}
func (h *fakeHost) DataHoldings(context.Context, ports.AccountID) ([]ports.DataHolding, error) {
	return nil, nil
}
func (h *fakeHost) OpenCases(context.Context, ports.AccountID) ([]ports.Case, error) {
	return nil, nil
}
func (h *fakeHost) OpenMatters(context.Context, ports.AccountID) ([]ports.Matter, error) {
	return nil, nil
}

// CloseAccount marks the account closed; it is idempotent.
func (h *fakeHost) CloseAccount(_ context.Context, id ports.AccountID, _ string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	a, ok := h.accounts[id]
	if !ok {
		return fmt.Errorf("portstest: close %s: %w", id, ports.ErrNotFound)
	}
	if h.refuseClose[id] {
		return fmt.Errorf("portstest: closing %s refused", id)
	}
	a.Closed = true
	h.accounts[id] = a
	return nil
}

// RefuseClose makes CloseAccount fail for the account (refuse true) or
// work again.
func (h *fakeHost) RefuseClose(id ports.AccountID, refuse bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.refuseClose[id] = refuse
}

// fakeStaff is a StaffDirectory of fixed members.
type fakeStaff map[string]ports.StaffMember

func (s fakeStaff) StaffMember(_ context.Context, id string) (ports.StaffMember, error) {
	m, ok := s[id]
	if !ok {
		return ports.StaffMember{}, fmt.Errorf("portstest: staff %s: %w", id, ports.ErrNotFound)
	}
	return m, nil
}

// kitDirectory is the StaffDirectory of the kit's Config: the members of
// kitStaff; any other id starting with "claimer-" is a reviewer, who
// claims before deciding, and any starting with "reviewer-" a senior (the
// suites' concurrent deciders, who decide without claiming).
type kitDirectory struct{}

func (kitDirectory) StaffMember(ctx context.Context, id string) (ports.StaffMember, error) {
	if m, err := kitStaff.StaffMember(ctx, id); err == nil {
		return m, nil
	}
	switch {
	case strings.HasPrefix(id, "claimer-"):
		return ports.StaffMember{ID: id, Roles: []ports.Role{ports.RoleReviewer}}, nil
	case strings.HasPrefix(id, "reviewer-"):
		return ports.StaffMember{ID: id, Roles: []ports.Role{ports.RoleSenior}}, nil
	}
	return kitStaff.StaffMember(ctx, id)
}

// kitStaff are the staff of the kit's Config: the suites' reviewer (a
// senior, so that the suites decide without claiming), an admin and a
// senior.
var kitStaff = fakeStaff{
	"reviewer-1": {ID: "reviewer-1", Name: "Reviewer One", Roles: []ports.Role{ports.RoleSenior}, Account: "reviewer-own-account"},
	"admin-1":    {ID: "admin-1", Name: "Admin One", Roles: []ports.Role{ports.RoleAdmin}},
	fakeSenior:   {ID: fakeSenior, Name: "Senior", Roles: []ports.Role{ports.RoleSenior}},
	// A staff id of unusual text (RoundTripKeepsUnusualText).
	"rev ✓ \U0001F600 <i>": {ID: "rev ✓ \U0001F600 <i>", Roles: []ports.Role{ports.RoleSenior}},
}

// fakeOTP keeps the last code sent to each phone.
type fakeOTP struct {
	mu   sync.Mutex
	last map[string]string
}

func (o *fakeOTP) SendCode(_ context.Context, msg ports.OTPMessage) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.last == nil {
		o.last = map[string]string{}
	}
	o.last[msg.Phone] = msg.Code
	return nil
}

func (o *fakeOTP) LastCode(phone string) (string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	c, ok := o.last[phone]
	return c, ok
}

// fakeNotifier accepts every notification.
type fakeNotifier struct{}

func (fakeNotifier) Notify(context.Context, ports.Notification) error { return nil }

// fakeDocuments keeps documents in a map.
type fakeDocuments struct {
	mu   sync.Mutex
	docs map[string][]byte
}

func (d *fakeDocuments) PutDocument(_ context.Context, key, _ string, data []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.docs == nil {
		d.docs = map[string][]byte{}
	}
	d.docs[key] = append([]byte(nil), data...)
	return nil
}

func (d *fakeDocuments) GetDocument(_ context.Context, key string) ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	b, ok := d.docs[key]
	if !ok {
		return nil, fmt.Errorf("portstest: document %s: %w", key, ports.ErrNotFound)
	}
	return append([]byte(nil), b...), nil
}

func (d *fakeDocuments) DeleteDocument(_ context.Context, key string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.docs, key)
	return nil
}

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fakeKit wires the fakes into a Config, as memory.Kit does for the
// bundled adapters.
type fakeKit struct {
	Platform  *fakeHost
	OTP       *fakeOTP
	Documents *fakeDocuments
	Clock     *fakeClock
}

func newFakeKit(now time.Time) *fakeKit {
	return &fakeKit{Platform: newFakeHost(), OTP: &fakeOTP{}, Documents: &fakeDocuments{}, Clock: &fakeClock{now: now}}
}

// Config returns a Config over the fakes, without a Store.
func (k *fakeKit) Config() cancellation.Config {
	p := k.Platform
	return cancellation.Config{
		Accounts: p,
		Checkers: cancellation.Checkers{
			Orders: p, Balances: p, Authorizations: p, SubUsers: p,
			APIKeys: p, Data: p, Complaints: p, Matters: p,
		},
		OTP: k.OTP, Notifier: fakeNotifier{}, Documents: k.Documents, Closer: p, Clock: k.Clock,
		Staff: kitDirectory{},
	}
}

// fakeSenior is the senior kitStaff knows.
const fakeSenior = "senior-1"

// createOnlyStore keeps nothing but accepts a new request: it lets a
// suite build a request that the Store under test has never seen.
type createOnlyStore struct{}

var _ cancellation.Store = createOnlyStore{}

func (createOnlyStore) Create(context.Context, *cancellation.Request) error { return nil }
func (createOnlyStore) Update(context.Context, *cancellation.Request) error {
	return cancellation.ErrNotFound
}
func (createOnlyStore) Get(context.Context, string) (*cancellation.Request, error) {
	return nil, cancellation.ErrNotFound
}
func (createOnlyStore) ActiveFor(context.Context, ports.AccountID) (*cancellation.Request, error) {
	return nil, cancellation.ErrNotFound
}
func (createOnlyStore) History(context.Context, string) ([]cancellation.Event, error) {
	return nil, cancellation.ErrNotFound
}
func (createOnlyStore) List(context.Context, cancellation.Query) ([]*cancellation.Request, error) {
	return nil, nil
}
