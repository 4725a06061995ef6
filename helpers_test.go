package cancellation_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"go.uber.org/mock/gomock"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/internal/docfixtures"
	"github.com/accountkit/cancellation/ports"
)

// t0 is a Monday morning, so that three business days after it are easy to
// count.
var t0 = time.Date(2025, time.March, 3, 9, 0, 0, 0, time.UTC)

// staff is the reviewer of most tests. Its own customer account is not one
// the tests cancel.
var staff = cancellation.Reviewer{ID: "rev-ada", Account: "staff-ada"}

// colourScan is a valid colour scan of an identity document: a colour ID
// card of 640×480 pixels, one of the sizes the inspector's calibration
// accepts. The workflow's tests need an accepted scan, not a large one:
// under the race detector inspecting it costs about a third of
// doctest.ColourScan (1200×800), which doctest's and docinspect's own
// tests cover.
var colourScan = func() []byte { return bytes.Clone(smallScan()) }

var smallScan = sync.OnceValue(func() []byte { return docfixtures.JPEG(docfixtures.ColourIDCard(640, 480), 90) })

// fixtureStaff is the tests' StaffDirectory: the members put in the
// kit's directory, and any other id as a senior without an account of
// its own, so that tests about other things decide without claiming
// first; an id starting with "nobody" is unknown. Tests of roles and
// claims put their members in the kit's directory.
type fixtureStaff struct{ dir *memory.StaffDirectory }

func (d fixtureStaff) StaffMember(ctx context.Context, id string) (ports.StaffMember, error) {
	m, err := d.dir.StaffMember(ctx, id)
	if errors.Is(err, ports.ErrNotFound) && !strings.HasPrefix(id, "nobody") {
		return ports.StaffMember{ID: id, Roles: []ports.Role{ports.RoleSenior}}, nil
	}
	return m, err
}

// staffMember puts a member with role and own account into f's directory
// and returns the Reviewer that names them.
func (f *fixture) staffMember(id string, role ports.Role, account ports.AccountID) cancellation.Reviewer {
	f.kit.Staff.Put(ports.StaffMember{ID: id, Name: id, Roles: []ports.Role{role}, Account: account})
	return cancellation.Reviewer{ID: id}
}

// option adjusts the Config before the Service is built: a closing mode, a
// policy, a port replaced by a mock.
type option func(*cancellation.Config)

// fixture is one in-memory host platform with a Service wired to it.
type fixture struct {
	t        testing.TB
	ctx      context.Context
	kit      *memory.Kit
	platform *memory.Platform
	clock    *memory.Clock
	svc      *cancellation.Service
	cfg      cancellation.Config
}

// setup returns a fixture for a parallel test: memory adapters, the clock at
// t0, and a Service built from the kit's Config adjusted by opts.
func setup(t *testing.T, opts ...option) *fixture {
	t.Helper()
	t.Parallel()
	return newFixture(t, opts...)
}

// newFixture builds a fixture without marking the test parallel, for
// benchmarks and for tests that need several services.
func newFixture(tb testing.TB, opts ...option) *fixture {
	tb.Helper()
	kit := memory.NewKit(t0)
	kit.Staff.Put(ports.StaffMember{ID: staff.ID, Name: "Ada", Roles: []ports.Role{ports.RoleSenior}, Account: staff.Account})
	cfg := kit.Config()
	cfg.Staff = fixtureStaff{kit.Staff}
	for _, o := range opts {
		o(&cfg)
	}
	svc, err := cancellation.New(cfg)
	require.NoError(tb, err)
	return &fixture{t: tb, ctx: context.Background(), kit: kit, platform: kit.Platform, clock: kit.Clock, svc: svc, cfg: cfg}
}

// withMode sets the closing mode.
func withMode(m cancellation.ClosingMode) option {
	return func(c *cancellation.Config) { c.ClosingMode = m }
}

// mockController returns a gomock controller bound to t.
func mockController(t *testing.T) *gomock.Controller { return gomock.NewController(t) }

// phoneFor derives a stable recovery phone from an account id.
func phoneFor(id ports.AccountID) string {
	return fmt.Sprintf("+1555%07d", crc32.ChecksumIEEE([]byte(id))%10_000_000)
}

// account adds an account with a recovery phone and an email and returns
// it.
func (f *fixture) account(id ports.AccountID, kind ports.AccountKind, verified bool) ports.Account {
	a := ports.Account{
		ID: id, Kind: kind, IdentityVerified: verified,
		RecoveryPhone: phoneFor(id), Email: string(id) + "@example.com", Locale: "en",
	}
	f.platform.AddAccount(a)
	return a
}

// personal adds an unverified personal account.
func (f *fixture) personal(id ports.AccountID) ports.Account {
	return f.account(id, ports.Personal, false)
}

func (f *fixture) start(id ports.AccountID) *cancellation.Request {
	f.t.Helper()
	r, err := f.svc.Start(f.ctx, id)
	require.NoError(f.t, err)
	require.Equal(f.t, cancellation.StateStarted, r.State())
	return r
}

// fullConfirmation is what a customer who agrees to everything sends: the
// current notes version, every acknowledgement and attestation, and a
// consent to every finding that needs one.
func (f *fixture) fullConfirmation(id ports.AccountID) cancellation.Confirmation {
	f.t.Helper()
	rep, err := f.svc.CheckEligibility(f.ctx, id)
	require.NoError(f.t, err)
	return cancellation.Confirmation{
		NotesVersion: f.svc.Notes().Version,
		Irreversible: true,
		Attestations: cancellation.Attestations{BackupDoneOrWaived: true, NotEvading: true, OtherMattersHandled: true},
		Consents:     rep.Consents(),
	}
}

func (f *fixture) confirm(r *cancellation.Request) *cancellation.Request {
	f.t.Helper()
	r, err := f.svc.Confirm(f.ctx, r.Account(), r.ID(), f.fullConfirmation(r.Account()))
	require.NoError(f.t, err)
	require.Equal(f.t, cancellation.StateConfirmed, r.State())
	return r
}

// sendCode asks for a code and returns the one the phone received.
func (f *fixture) sendCode(r *cancellation.Request) string {
	f.t.Helper()
	_, err := f.svc.SendCode(f.ctx, r.Account(), r.ID())
	require.NoError(f.t, err)
	code, ok := f.kit.OTP.LastCode(phoneFor(r.Account()))
	require.True(f.t, ok, "no code reached the recovery phone")
	return code
}

func (f *fixture) verifyPhone(r *cancellation.Request) *cancellation.Request {
	f.t.Helper()
	r, err := f.svc.VerifyCode(f.ctx, r.Account(), r.ID(), f.sendCode(r))
	require.NoError(f.t, err)
	require.Equal(f.t, cancellation.StatePhoneVerified, r.State())
	return r
}

func (f *fixture) upload(r *cancellation.Request, kind cancellation.DocumentKind, body []byte) (cancellation.Document, error) {
	return f.svc.UploadDocument(f.ctx, r.Account(), r.ID(), kind, bytes.NewReader(body))
}

// uploadRequired uploads the document the account's kind needs.
func (f *fixture) uploadRequired(r *cancellation.Request) {
	f.t.Helper()
	kind := cancellation.DocumentPassport
	if r.AccountKind() == ports.Enterprise {
		kind = cancellation.DocumentBusinessLicence
	}
	_, err := f.upload(r, kind, colourScan())
	require.NoError(f.t, err)
}

func (f *fixture) submit(r *cancellation.Request) *cancellation.Request {
	f.t.Helper()
	r, err := f.svc.Submit(f.ctx, r.Account(), r.ID())
	require.NoError(f.t, err)
	require.Equal(f.t, cancellation.StateInReview, r.State())
	return r
}

// untilVerified starts a request and takes it through confirmation and
// phone verification.
func (f *fixture) untilVerified(id ports.AccountID) *cancellation.Request {
	f.t.Helper()
	return f.verifyPhone(f.confirm(f.start(id)))
}

// toReview takes the account's new request up to review.
func (f *fixture) toReview(id ports.AccountID) *cancellation.Request {
	f.t.Helper()
	r := f.untilVerified(id)
	if r.IdentityVerified() {
		f.uploadRequired(r)
	}
	return f.submit(r)
}

func (f *fixture) approve(r *cancellation.Request) *cancellation.Request {
	f.t.Helper()
	r, err := f.svc.Approve(f.ctx, staff, r.ID(), "looks fine")
	require.NoError(f.t, err)
	return r
}

// stored returns the request as the Store has it, with its whole history
// verified. It reads as the request's customer does (Get), since a staff
// member's Review records that they opened it.
func (f *fixture) stored(id string) *cancellation.Request {
	f.t.Helper()
	head, err := f.cfg.Store.Get(f.ctx, id)
	require.NoError(f.t, err)
	r, err := f.svc.Get(f.ctx, head.Account(), id)
	require.NoError(f.t, err)
	return r
}

// history returns the request's whole stored history.
func (f *fixture) history(id string) []cancellation.Event {
	f.t.Helper()
	return f.stored(id).History()
}

// storedJSON returns the stored request decoded as generic JSON, for go-cmp.
func (f *fixture) storedJSON(id string) any {
	f.t.Helper()
	b, err := f.stored(id).MarshalBinary()
	require.NoError(f.t, err)
	var v any
	require.NoError(f.t, json.Unmarshal(b, &v))
	return v
}

// requireUnchanged fails when the stored request differs from before.
func (f *fixture) requireUnchanged(id string, before any) {
	f.t.Helper()
	if d := cmp.Diff(before, f.storedJSON(id)); d != "" {
		f.t.Fatalf("stored request changed (-before +after):\n%s", d)
	}
}

func (f *fixture) maintain() cancellation.MaintenanceReport {
	f.t.Helper()
	rep, err := f.svc.RunMaintenance(f.ctx)
	require.NoError(f.t, err)
	return rep
}

func (f *fixture) closed(id ports.AccountID) bool {
	f.t.Helper()
	a, err := f.platform.Account(f.ctx, id)
	require.NoError(f.t, err)
	return a.Closed
}

// requestCount is how many requests the Store holds for the account.
func (f *fixture) requestCount(id ports.AccountID) int {
	f.t.Helper()
	rs, err := f.kit.Store.List(f.ctx, cancellation.Query{Account: id})
	require.NoError(f.t, err)
	return len(rs)
}

// requireTransition asserts that err is a TransitionError from the state
// to the state given.
func requireTransition(t testing.TB, err error, from, to cancellation.State) {
	t.Helper()
	require.ErrorIs(t, err, cancellation.ErrInvalidTransition)
	var te *cancellation.TransitionError
	require.ErrorAs(t, err, &te)
	require.Equal(t, from, te.From, "TransitionError.From")
	require.Equal(t, to, te.To, "TransitionError.To")
}

// requireConsentMissing asserts a ConsentRequiredError and returns it.
func requireConsentMissing(t testing.TB, err error) *cancellation.ConsentRequiredError {
	t.Helper()
	require.ErrorIs(t, err, cancellation.ErrConsentRequired)
	var ce *cancellation.ConsentRequiredError
	require.ErrorAs(t, err, &ce)
	return ce
}

// requireNotEligible asserts a NotEligibleError and returns its report.
func requireNotEligible(t testing.TB, err error) cancellation.Report {
	t.Helper()
	require.ErrorIs(t, err, cancellation.ErrNotEligible)
	var ne *cancellation.NotEligibleError
	require.ErrorAs(t, err, &ne)
	return ne.Report
}

// findingRules lists the rules of findings.
func findingRules(fs []cancellation.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Rule)
	}
	return out
}

// eventTypes lists the types of a history.
func eventTypes(h []cancellation.Event) []cancellation.EventType {
	out := make([]cancellation.EventType, len(h))
	for i, e := range h {
		out[i] = e.Type
	}
	return out
}

// countEvents counts the events of a type.
func countEvents(h []cancellation.Event, typ cancellation.EventType) int {
	n := 0
	for _, e := range h {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// effect returns the effect with the key, failing when there is none.
func effect(t testing.TB, r *cancellation.Request, key string) cancellation.Effect {
	t.Helper()
	i := slices.IndexFunc(r.Effects(), func(e cancellation.Effect) bool { return e.Key == key })
	require.GreaterOrEqual(t, i, 0, "no effect %q among %v", key, r.Effects())
	return r.Effects()[i]
}

// notification matches a notification by template and channel.
type notification struct {
	template string
	channel  ports.Channel
}

func (m notification) Matches(x any) bool {
	n, ok := x.(ports.Notification)
	return ok && n.Template == m.template && n.Channel == m.channel
}

func (m notification) String() string {
	return fmt.Sprintf("a %s notification by %s", m.template, m.channel)
}

// sentTo lists the delivered notifications as "template/channel/to".
func sentTo(n *memory.Notifier) []string {
	var out []string
	for _, m := range n.Sent() {
		out = append(out, fmt.Sprintf("%s/%s/%s", m.Template, m.Channel, m.To))
	}
	return out
}

// errAny reports whether err matches any of the targets.
func errAny(err error, targets ...error) bool {
	return slices.ContainsFunc(targets, func(t error) bool { return errors.Is(err, t) })
}

// on returns a copy of f that reports to t, for subtests sharing f.
func (f *fixture) on(t testing.TB) *fixture {
	c := *f
	c.t = t
	return &c
}

// lastEvent returns the newest event of r's history.
func lastEvent(r *cancellation.Request) cancellation.Event {
	h := r.History()
	return h[len(h)-1]
}

// lastOf returns the newest event of the type, failing when there is none.
func lastOf(t testing.TB, r *cancellation.Request, typ cancellation.EventType) cancellation.Event {
	t.Helper()
	h := r.History()
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].Type == typ {
			return h[i]
		}
	}
	t.Fatalf("no %s event in %v", typ, eventTypes(h))
	return cancellation.Event{}
}

// verifyHistory checks a history with the memory kit's history key, which
// every fixture's Service signs with.
func verifyHistory(events []cancellation.Event) error {
	return cancellation.VerifyHistory(events, memory.NewKit(t0).HistoryKey)
}
