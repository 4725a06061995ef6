package cancellation_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/ports"
)

// spyStore counts the calls that reach a Store.
type spyStore struct {
	cancellation.Store
	calls, updates atomic.Int32
}

func (s *spyStore) Create(ctx context.Context, r *cancellation.Request) error {
	s.calls.Add(1)
	return s.Store.Create(ctx, r)
}

func (s *spyStore) Get(ctx context.Context, id string) (*cancellation.Request, error) {
	s.calls.Add(1)
	return s.Store.Get(ctx, id)
}

func (s *spyStore) ActiveFor(ctx context.Context, a ports.AccountID) (*cancellation.Request, error) {
	s.calls.Add(1)
	return s.Store.ActiveFor(ctx, a)
}

func (s *spyStore) Update(ctx context.Context, r *cancellation.Request) error {
	s.calls.Add(1)
	s.updates.Add(1)
	return s.Store.Update(ctx, r)
}

func (s *spyStore) List(ctx context.Context, q cancellation.Query) ([]*cancellation.Request, error) {
	s.calls.Add(1)
	return s.Store.List(ctx, q)
}

// withSpy wires a spyStore over the kit's Store and returns it.
func withSpy(spy *spyStore) option {
	return func(c *cancellation.Config) {
		spy.Store = c.Store
		c.Store = spy
	}
}

// malformedIDs are ids CheckID refuses, by what is wrong with them.
var malformedIDs = map[string]string{
	"empty":         "",
	"blank":         " \t\n",
	"invalid UTF-8": "acct-\xff\xfe",
	"NUL":           "acct-\x00x",
	"control":       "acct-\x1b[2J",
	"megabyte":      strings.Repeat("a", 1<<20),
	"one too long":  strings.Repeat("a", cancellation.MaxIDLength+1),
}

// requireInvalidField requires a ValidationError for the field that does
// not repeat the id.
func requireInvalidField(t *testing.T, err error, field, id, msg string) {
	t.Helper()
	require.ErrorIs(t, err, cancellation.ErrInvalidInput, msg)
	var ve *cancellation.ValidationError
	require.ErrorAs(t, err, &ve, msg)
	require.Equal(t, field, ve.Field, msg)
	if len(strings.TrimSpace(id)) > 0 {
		require.NotContains(t, err.Error(), id, "%s: the error does not echo the id", msg)
	}
}

// customerCalls are the customer entry points, called with an account and
// a request id.
func customerCalls(f *fixture) map[string]func(ports.AccountID, string) error {
	return map[string]func(ports.AccountID, string) error{
		"Get": func(a ports.AccountID, id string) error { _, err := f.svc.Get(f.ctx, a, id); return err },
		"Confirm": func(a ports.AccountID, id string) error {
			_, err := f.svc.Confirm(f.ctx, a, id, f.fullConfirmation("acct-ok"))
			return err
		},
		"Consent": func(a ports.AccountID, id string) error { _, err := f.svc.Consent(f.ctx, a, id, nil); return err },
		"SendCode": func(a ports.AccountID, id string) error {
			_, err := f.svc.SendCode(f.ctx, a, id)
			return err
		},
		"VerifyCode": func(a ports.AccountID, id string) error {
			_, err := f.svc.VerifyCode(f.ctx, a, id, "123456")
			return err
		},
		"UploadDocument": func(a ports.AccountID, id string) error {
			_, err := f.svc.UploadDocument(f.ctx, a, id, cancellation.DocumentPassport, bytes.NewReader(colourScan()))
			return err
		},
		"Submit":   func(a ports.AccountID, id string) error { _, err := f.svc.Submit(f.ctx, a, id); return err },
		"Withdraw": func(a ports.AccountID, id string) error { _, err := f.svc.Withdraw(f.ctx, a, id); return err },
	}
}

// TestHardening_MalformedAccountIDRefusedBeforeAnyStore: an account id
// with invalid UTF-8, a NUL, a control character or a megabyte of text is
// refused with a ValidationError naming "account" by every customer entry
// point, and the Store is never called.
func TestHardening_MalformedAccountIDRefusedBeforeAnyStore(t *testing.T) {
	spy := &spyStore{}
	f := setup(t, withSpy(spy))
	f.personal("acct-ok")
	r := f.start("acct-ok")
	calls := customerCalls(f)
	calls["Start"] = func(a ports.AccountID, _ string) error { _, err := f.svc.Start(f.ctx, a); return err }
	calls["Active"] = func(a ports.AccountID, _ string) error { _, err := f.svc.Active(f.ctx, a); return err }
	calls["CheckEligibility"] = func(a ports.AccountID, _ string) error {
		_, err := f.svc.CheckEligibility(f.ctx, a)
		return err
	}
	before := spy.calls.Load()
	for what, bad := range malformedIDs {
		for name, call := range calls {
			requireInvalidField(t, call(ports.AccountID(bad), r.ID()), "account", bad, name+" with "+what+" account")
		}
	}
	require.Equal(t, before, spy.calls.Load(), "no malformed account id reached the Store")
	// The limit is inclusive.
	longest := ports.AccountID(strings.Repeat("b", cancellation.MaxIDLength))
	f.personal(longest)
	f.start(longest)
}

// TestHardening_MalformedRequestIDRefusedBeforeAnyStore: a request id that
// CheckID refuses is refused with a ValidationError naming "id", by the
// customer and the reviewer entry points, before the Store is called.
func TestHardening_MalformedRequestIDRefusedBeforeAnyStore(t *testing.T) {
	spy := &spyStore{}
	f := setup(t, withSpy(spy))
	f.personal("acct-ok")
	calls := customerCalls(f)
	calls["Review"] = func(_ ports.AccountID, id string) error { _, err := f.svc.Review(f.ctx, staff, id); return err }
	calls["Approve"] = func(_ ports.AccountID, id string) error { _, err := f.svc.Approve(f.ctx, staff, id, ""); return err }
	calls["Reject"] = func(_ ports.AccountID, id string) error {
		_, err := f.svc.Reject(f.ctx, staff, id, []cancellation.ReasonCode{cancellation.ReasonIdentityMismatch}, "")
		return err
	}
	before := spy.calls.Load()
	for what, bad := range malformedIDs {
		for name, call := range calls {
			requireInvalidField(t, call("acct-ok", bad), "id", bad, name+" with "+what+" request id")
		}
	}
	require.Equal(t, before, spy.calls.Load(), "no malformed request id reached the Store")
}

// otherIDDirectory answers every lookup with an account of another id, as
// a faulty or hostile AccountDirectory might.
type otherIDDirectory struct {
	ports.AccountDirectory
	id ports.AccountID
}

func (d otherIDDirectory) Account(ctx context.Context, id ports.AccountID) (ports.Account, error) {
	a, err := d.AccountDirectory.Account(ctx, id)
	a.ID = d.id
	return a, err
}

// TestHardening_MalformedAccountIDFromDirectoryRefused: an account whose id
// the AccountDirectory returns different from the one asked (here with a
// NUL byte) starts nothing.
func TestHardening_MalformedAccountIDFromDirectoryRefused(t *testing.T) {
	spy := &spyStore{}
	f := setup(t, withSpy(spy), func(c *cancellation.Config) {
		c.Accounts = otherIDDirectory{AccountDirectory: c.Accounts, id: "acct-dir\x00"}
	})
	f.personal("acct-dir")
	_, err := f.svc.Start(f.ctx, "acct-dir")
	requireInvalidField(t, err, "account from the AccountDirectory", "", "Start")
	_, err = f.svc.CheckEligibility(f.ctx, "acct-dir")
	require.ErrorIs(t, err, cancellation.ErrInvalidInput)
	require.Zero(t, spy.calls.Load(), "nothing reached the Store")
}

// TestHardening_MalformedItemRefBlocks: an item whose ref (an id from a
// host port) is malformed makes its rule fail closed, naming the item in
// the reviewer's report; the customer's shows the code and remedy only.
func TestHardening_MalformedItemRefBlocks(t *testing.T) {
	f := setup(t)
	a := f.personal("acct-items")
	rules := cancellation.RuleSet{Rules: cancellation.DefaultRules(f.cfg.Checkers)}
	for what, ref := range map[string]string{"NUL": "v\x00", "invalid UTF-8": "v\xff", "megabyte": strings.Repeat("v", 1<<20)} {
		f.platform.DeleteRights(a.ID)
		f.platform.AddRight(a.ID, ports.Right{Kind: ports.RightVoucher, Ref: ref, Value: ports.Money{Amount: 100, Currency: "USD"}})
		rep, err := f.svc.CheckEligibility(f.ctx, a.ID)
		require.NoError(t, err)
		require.Equal(t, cancellation.OutcomeBlocked, rep.Outcome, what)
		fd, ok := rep.Finding(cancellation.RuleUnusedRights)
		require.True(t, ok)
		require.Equal(t, cancellation.FindingCheckerUnavailable, fd.Code, what)
		require.Empty(t, fd.Error, "the customer's report holds no raw error")
		fd, _ = rules.Evaluate(f.ctx, a, t0).Finding(cancellation.RuleUnusedRights)
		require.Contains(t, fd.Error, "items[0].ref", what)
		require.NotContains(t, fd.Error, ref, what)
	}
}

// TestHardening_BlankReviewerRefusedAtEveryEntryPoint: a blank, white-space
// or malformed reviewer id is refused by Queue, Review, ReviewDocument,
// Approve and Reject alike, and nothing changes.
func TestHardening_BlankReviewerRefusedAtEveryEntryPoint(t *testing.T) {
	f := setup(t)
	a := f.account("acct-blank-rv", ports.Personal, true)
	r := f.toReview(a.ID)
	before := f.storedJSON(r.ID())
	for _, id := range []string{"", " ", "\t\n", "rev\x00", "rev\xff", strings.Repeat("r", cancellation.MaxIDLength+1)} {
		rv := cancellation.Reviewer{ID: id}
		_, err := f.svc.Queue(f.ctx, rv, 10, 0)
		requireInvalidField(t, err, "reviewer", id, "Queue")
		_, err = f.svc.Review(f.ctx, rv, r.ID())
		requireInvalidField(t, err, "reviewer", id, "Review")
		_, _, err = f.svc.ReviewDocument(f.ctx, rv, r.ID(), cancellation.DocumentPassport)
		requireInvalidField(t, err, "reviewer", id, "ReviewDocument")
		_, err = f.svc.Approve(f.ctx, rv, r.ID(), "ok")
		requireInvalidField(t, err, "reviewer", id, "Approve")
		_, err = f.svc.Reject(f.ctx, rv, r.ID(), []cancellation.ReasonCode{cancellation.ReasonIdentityMismatch}, "")
		requireInvalidField(t, err, "reviewer", id, "Reject")
	}
	_, err := f.svc.Queue(f.ctx, cancellation.Reviewer{ID: "rev-ok", Account: "acct\x00"}, 10, 0)
	requireInvalidField(t, err, "reviewer account", "", "Queue with a malformed reviewer account")
	f.requireUnchanged(r.ID(), before)
}

// failingSender fails every send, after "sending" it: it counts what it
// was asked to deliver.
type failingSender struct{ sent atomic.Int32 }

func (s *failingSender) SendCode(context.Context, ports.OTPMessage) error {
	s.sent.Add(1)
	return errors.New("gateway timeout after handing the SMS over " + strings.Repeat("!", 10_000))
}

// TestHardening_FailedCodeSendsCount: a sender that fails (maybe after
// sending) consumes the cooldown and the daily cap like a successful send,
// so a caller cannot send past the limits, and the history grows by a
// bounded amount with short entries.
func TestHardening_FailedCodeSendsCount(t *testing.T) {
	sender := &failingSender{}
	f := setup(t, func(c *cancellation.Config) { c.OTP = sender })
	a := f.personal("acct-failing-sms")
	r := f.confirm(f.start(a.ID))
	events := len(f.stored(r.ID()).History())

	_, err := f.svc.SendCode(f.ctx, a.ID, r.ID())
	require.ErrorIs(t, err, cancellation.ErrDelivery)
	_, err = f.svc.SendCode(f.ctx, a.ID, r.ID())
	require.ErrorIs(t, err, cancellation.ErrRateLimited, "a failed send starts the cooldown")
	require.Equal(t, int32(1), sender.sent.Load())

	for range 60 { // an hour: the cap of 10 is reached within it
		f.clock.Advance(time.Minute)
		_, err = f.svc.SendCode(f.ctx, a.ID, r.ID())
		require.True(t, errAny(err, cancellation.ErrDelivery, cancellation.ErrRateLimited), "%v", err)
	}
	require.Equal(t, int32(10), sender.sent.Load(), "the daily cap counts failed sends")
	h := f.stored(r.ID()).History()
	require.LessOrEqual(t, len(h)-events, 2*10, "one sent and one failed event per send the limits allowed")
	for _, e := range h {
		require.LessOrEqual(t, len(e.Data["delivery"]), 256, "a sender's error is kept short")
	}
}

// TestHardening_UnchangedConsentWritesNothing: 300 identical Consent calls
// (and a repeated Confirm) append nothing to the history and do not write.
func TestHardening_UnchangedConsentWritesNothing(t *testing.T) {
	spy := &spyStore{}
	f := setup(t, withSpy(spy))
	a := f.personal("acct-consent-noop")
	f.platform.AddRight(a.ID, ports.Right{Kind: ports.RightVoucher, Ref: "v-1", Value: ports.Money{Amount: 500, Currency: "USD"}})
	f.platform.AddDataHolding(a.ID, ports.DataHolding{Kind: ports.DataStorage, Ref: "b-1"})
	r := f.confirm(f.start(a.ID))
	consents := r.Consents()
	require.Len(t, consents, 2)
	before := f.storedJSON(r.ID())
	updates := spy.updates.Load()

	for i := range 300 {
		if i%2 == 1 { // the same consents in another order
			consents[0], consents[1] = consents[1], consents[0]
		}
		got, err := f.svc.Consent(f.ctx, a.ID, r.ID(), consents)
		require.NoError(t, err)
		require.Equal(t, r.Version(), got.Version())
	}
	_, err := f.svc.Confirm(f.ctx, a.ID, r.ID(), f.fullConfirmation(a.ID))
	require.ErrorIs(t, err, cancellation.ErrInvalidTransition, "confirming twice is refused, and writes nothing")
	require.Equal(t, updates, spy.updates.Load(), "no Store write")
	f.requireUnchanged(r.ID(), before)

	// A real change is still recorded.
	f.platform.AddRight(a.ID, ports.Right{Kind: ports.RightVoucher, Ref: "v-2", Value: ports.Money{Amount: 100, Currency: "USD"}})
	rep, err := f.svc.CheckEligibility(f.ctx, a.ID)
	require.NoError(t, err)
	got, err := f.svc.Consent(f.ctx, a.ID, r.ID(), rep.Consents())
	require.NoError(t, err)
	require.Equal(t, cancellation.EventConsented, lastEvent(got).Type)
}

// stallingNotifier hangs on notifications to the addresses in hang until
// released (or the call's deadline), and fails those to the addresses in
// fail once.
type stallingNotifier struct {
	ports.Notifier
	mu      sync.Mutex
	hang    map[string]bool
	fail    map[string]bool
	hung    atomic.Int32
	release chan struct{}
}

func (n *stallingNotifier) set(m *map[string]bool, addrs ...string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if *m == nil {
		*m = map[string]bool{}
	}
	for _, a := range addrs {
		(*m)[a] = true
	}
}

func (n *stallingNotifier) Notify(ctx context.Context, msg ports.Notification) error {
	n.mu.Lock()
	hang, fail := n.hang[msg.To], n.fail[msg.To]
	delete(n.fail, msg.To)
	n.mu.Unlock()
	switch {
	case hang:
		n.hung.Add(1)
		select {
		case <-n.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	case fail:
		return errors.New("notifier down")
	}
	return n.Notifier.Notify(ctx, msg)
}

// TestHardening_HangingNotifierDoesNotDelayAnotherClosing: in maintenance,
// a notifier that hangs for one account does not delay the closing of
// another, whether maintenance works on several requests at once or on one
// (closings go first).
func TestHardening_HangingNotifierDoesNotDelayAnotherClosing(t *testing.T) {
	for _, workers := range []int{0, 1} {
		t.Run(fmt.Sprintf("workers=%d", workers), func(t *testing.T) { hangingNotifierCase(t, workers) })
	}
}

func hangingNotifierCase(t *testing.T, workers int) {
	{
		notifier := &stallingNotifier{release: make(chan struct{})}
		f := setup(t, func(c *cancellation.Config) {
			notifier.Notifier = c.Notifier
			c.Notifier = notifier
			c.MaintenanceConcurrency = workers
		})
		// A is cancelled, but its approval notice failed and waits for a
		// retry; B's closing failed and waits for one.
		a, b := f.personal("acct-hang-a"), f.personal("acct-hang-b")
		ra := f.toReview(a.ID)
		f.clock.Advance(time.Second) // A is listed first
		rb := f.toReview(b.ID)
		notifier.set(&notifier.fail, a.RecoveryPhone)
		require.Equal(t, cancellation.StateCancelled, f.approve(ra).State())
		f.platform.FailNext(memory.PortAccountCloser, 1, nil)
		require.Equal(t, cancellation.StateApproved, f.approve(rb).State())

		notifier.set(&notifier.hang, a.RecoveryPhone)
		f.clock.Advance(time.Hour)
		done := maintainInBackground(t, f)
		require.Eventually(t, func() bool {
			return notifier.hung.Load() > 0 && f.closed(b.ID) && f.stored(rb.ID()).State() == cancellation.StateCancelled
		}, 30*time.Second, 5*time.Millisecond, "workers=%d: B closes while A's notifier hangs", workers)
		select {
		case <-done:
			t.Fatalf("workers=%d: maintenance finished while a notifier hangs", workers)
		default:
		}
		close(notifier.release)
		rep := <-done
		require.Equal(t, 2, rep.Examined)
	}
}

// TestHardening_ClosingInALaterBatchDoesNotWaitForHangingNotifications:
// with more due requests than one List batch, a request whose closing is
// due (B: approved, its close failed once, so it wakes last) closes while
// the notifications of as many requests of an earlier batch as there are
// workers hang (seed step 6: the account is closed after approval).
func TestHardening_ClosingInALaterBatchDoesNotWaitForHangingNotifications(t *testing.T) {
	const workers = 2
	notifier := &stallingNotifier{release: make(chan struct{})}
	f := setup(t, func(c *cancellation.Config) {
		notifier.Notifier = c.Notifier
		c.Notifier = notifier
		c.MaintenanceConcurrency = workers
	})
	cancellation.SetMaintenanceBatch(f.svc, 2)
	// Three cancelled requests whose approval notice failed and waits for
	// a retry, listed (by wake) before B: the first batch is two of them.
	var hanging []ports.Account
	for i := range 3 {
		a := f.personal(ports.AccountID(fmt.Sprintf("acct-batch-hang-%d", i)))
		r := f.toReview(a.ID)
		notifier.set(&notifier.fail, a.RecoveryPhone)
		require.Equal(t, cancellation.StateCancelled, f.approve(r).State())
		hanging = append(hanging, a)
		f.clock.Advance(time.Second)
	}
	b := f.personal("acct-batch-close")
	rb := f.toReview(b.ID)
	f.platform.FailNext(memory.PortAccountCloser, 1, nil)
	require.Equal(t, cancellation.StateApproved, f.approve(rb).State())

	for _, a := range hanging {
		notifier.set(&notifier.hang, a.RecoveryPhone)
	}
	f.clock.Advance(time.Hour)
	done := maintainInBackground(t, f)
	// Each call of a hanging notifier lasts up to half the lease (30s), so
	// B closing within 10s means it did not wait for one.
	require.Eventually(t, func() bool {
		return f.closed(b.ID) && f.stored(rb.ID()).State() == cancellation.StateCancelled
	}, 10*time.Second, 5*time.Millisecond, "B closes while earlier requests' notifications hang")
	require.Eventually(t, func() bool { return notifier.hung.Load() >= workers }, 10*time.Second, 5*time.Millisecond,
		"every worker is held by a hanging notification")
	select {
	case <-done:
		t.Fatal("maintenance finished while notifications hang")
	default:
	}
	close(notifier.release)
	rep := <-done
	require.Equal(t, 4, rep.Examined, "each due request is examined once, over both passes")
	require.Zero(t, rep.EffectsFailed, "the released notifications are delivered")
}

// maintainInBackground runs one RunMaintenance pass on another goroutine
// and hands back its report, failing t if it returns an error.
func maintainInBackground(t *testing.T, f *fixture) <-chan cancellation.MaintenanceReport {
	done := make(chan cancellation.MaintenanceReport, 1)
	go func() {
		rep, err := f.svc.RunMaintenance(f.ctx)
		assert(t, err == nil, "maintenance: %v", err)
		done <- rep
	}()
	return done
}

// assert reports a failure from a goroutine other than the test's.
func assert(t *testing.T, ok bool, format string, args ...any) {
	t.Helper()
	if !ok {
		t.Errorf(format, args...)
	}
}

// TestHardening_EvaluateOneGoroutinePerRule: evaluating n rules starts at
// most n goroutines, and one deadline bounds the whole set even for rules
// that ignore their context.
func TestHardening_EvaluateOneGoroutinePerRule(t *testing.T) {
	const n = 12
	started := make(chan struct{}, n)
	release := make(chan struct{})
	rules := make([]cancellation.Rule, n)
	for i := range rules {
		rules[i] = cancellation.RuleFunc{RuleName: "r" + string(rune('a'+i)), Func: func(context.Context, ports.Account) (cancellation.Finding, error) {
			started <- struct{}{}
			<-release // ignores its context
			return cancellation.Finding{Outcome: cancellation.OutcomePass}, nil
		}}
	}
	rs := cancellation.RuleSet{Rules: rules, Concurrency: n, Timeout: time.Hour}
	base := runtime.NumGoroutine()
	done := make(chan cancellation.Report)
	go func() { done <- rs.Evaluate(context.Background(), ports.Account{ID: "acct-g"}, t0) }()
	for range n {
		<-started
	}
	// One goroutine per rule and the caller's, with a little slack for the
	// runtime's own (a timer firing); two per rule would be 2n.
	require.LessOrEqual(t, runtime.NumGoroutine()-base, n+4, "one goroutine per rule")
	close(release)
	require.Equal(t, cancellation.OutcomePass, (<-done).Outcome)

	// One deadline for the set: rules that never answer take the timeout
	// once, not once per rule (12 times 200ms), though one runs at a time.
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	stuck := make([]cancellation.Rule, n)
	for i := range stuck {
		stuck[i] = cancellation.RuleFunc{RuleName: "s" + string(rune('a'+i)), Func: func(context.Context, ports.Account) (cancellation.Finding, error) {
			<-stop // answers only after the test
			return cancellation.Finding{}, nil
		}}
	}
	start := time.Now()
	rep := cancellation.RuleSet{Rules: stuck, Concurrency: 1, Timeout: 200 * time.Millisecond}.Evaluate(context.Background(), ports.Account{ID: "acct-g"}, t0)
	require.Less(t, time.Since(start), 1200*time.Millisecond)
	require.Equal(t, cancellation.OutcomeBlocked, rep.Outcome)
	for _, fd := range rep.Findings {
		require.Contains(t, fd.Error, "within 200ms", fd.Rule)
	}
}

// FuzzCheckID: CheckID accepts exactly the ids ValidID accepts, never one
// that is empty, too long, not UTF-8 or holds a NUL, and a Store answers a
// lookup by any id CheckID refuses with ErrNotFound.
func FuzzCheckID(f *testing.F) {
	for _, id := range malformedIDs {
		f.Add(id)
	}
	f.Add("acct-ok")
	f.Add("can_0123456789abcdef01234567")
	f.Add(strings.Repeat("é", cancellation.MaxIDLength/2))
	store := memory.NewStore()
	f.Fuzz(func(t *testing.T, id string) {
		err := cancellation.CheckID("id", id)
		require.Equal(t, err == nil, cancellation.ValidID(id))
		if err != nil {
			require.ErrorIs(t, err, cancellation.ErrInvalidInput)
			_, gerr := store.Get(context.Background(), id)
			require.ErrorIs(t, gerr, cancellation.ErrNotFound)
			return
		}
		require.LessOrEqual(t, len(id), cancellation.MaxIDLength)
		require.True(t, utf8.ValidString(id))
		require.NotContains(t, id, "\x00")
		require.NotEmpty(t, strings.TrimSpace(id))
	})
}

// TestHardening_CloseDoesNotWaitForItsOwnNotification: a request's effects
// run at once, so the account is closed while the approval notice of the
// same request still hangs.
func TestHardening_CloseDoesNotWaitForItsOwnNotification(t *testing.T) {
	notifier := &stallingNotifier{release: make(chan struct{})}
	f := setup(t, func(c *cancellation.Config) {
		notifier.Notifier = c.Notifier
		c.Notifier = notifier
	})
	a := f.personal("acct-own-notice")
	r := f.toReview(a.ID)
	notifier.set(&notifier.hang, a.RecoveryPhone)
	done := make(chan *cancellation.Request)
	go func() {
		r, err := f.svc.Approve(f.ctx, staff, r.ID(), "ok")
		assert(t, err == nil, "approve: %v", err)
		done <- r
	}()
	require.Eventually(t, func() bool { return notifier.hung.Load() > 0 && f.closed(a.ID) },
		30*time.Second, 5*time.Millisecond, "the account closes while the notice hangs")
	close(notifier.release)
	require.Equal(t, cancellation.StateCancelled, (<-done).State())
}

// panickyStore panics on Update while armed.
type panickyStore struct {
	cancellation.Store
	armed atomic.Bool
}

func (s *panickyStore) Update(ctx context.Context, r *cancellation.Request) error {
	if s.armed.Load() {
		panic("store bug")
	}
	return s.Store.Update(ctx, r)
}

// TestHardening_MaintenanceWorkerPanicIsAnError: maintenance works on
// requests on other goroutines, where a panic would end the process; it
// comes back as the request's error instead.
func TestHardening_MaintenanceWorkerPanicIsAnError(t *testing.T) {
	store := &panickyStore{}
	f := setup(t, func(c *cancellation.Config) { store.Store = c.Store; c.Store = store })
	a := f.personal("acct-panic")
	r := f.toReview(a.ID)
	f.platform.FailNext(memory.PortAccountCloser, 1, nil)
	require.Equal(t, cancellation.StateApproved, f.approve(r).State())
	f.clock.Advance(time.Hour)
	store.armed.Store(true)
	rep, err := f.svc.RunMaintenance(f.ctx)
	require.ErrorContains(t, err, "maintenance panicked: store bug")
	require.Equal(t, 1, rep.Examined)
	store.armed.Store(false)
	f.maintain()
	require.Equal(t, cancellation.StateCancelled, f.stored(r.ID()).State())
}

// TestHardening_HangingRuleDoesNotMakeHealthyRulesUnavailable: the rules
// start one after another on one goroutine, so a rule that hangs there
// (ignoring its context) would hold every rule after it; those are
// spread over goroutines of their own and answer, and only the hanging
// rule is reported as not answering.
func TestHardening_HangingRuleDoesNotMakeHealthyRulesUnavailable(t *testing.T) {
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	pass := func(name string) cancellation.Rule {
		return cancellation.RuleFunc{RuleName: name, Func: func(context.Context, ports.Account) (cancellation.Finding, error) {
			return cancellation.Finding{Outcome: cancellation.OutcomePass}, nil
		}}
	}
	rules := []cancellation.Rule{pass("first"), cancellation.RuleFunc{RuleName: "hangs", Func: func(context.Context, ports.Account) (cancellation.Finding, error) {
		<-stop // ignores its context
		return cancellation.Finding{Outcome: cancellation.OutcomePass}, nil
	}}}
	for i := range 7 {
		rules = append(rules, pass(fmt.Sprintf("healthy-%d", i)))
	}
	rep := cancellation.RuleSet{Rules: rules, Concurrency: 4, Timeout: 2 * time.Second}.Evaluate(context.Background(), ports.Account{ID: "acct-g"}, t0)
	require.Equal(t, cancellation.OutcomeBlocked, rep.Outcome)
	require.Equal(t, []string{"hangs"}, findingRules(rep.Blocked()), "only the hanging rule is blocked")
	fd, _ := rep.Finding("hangs")
	require.Contains(t, fd.Error, "did not answer within 2s")
	for _, fd := range rep.Findings {
		if fd.Rule != "hangs" {
			require.Equal(t, cancellation.OutcomePass, fd.Outcome, fd.Rule)
		}
	}
}

// hangFirstNotifier hangs the first notification of a template until
// released, and delivers the rest.
type hangFirstNotifier struct {
	ports.Notifier
	template string
	hung     atomic.Pointer[ports.Notification]
	release  chan struct{}
}

func (n *hangFirstNotifier) Notify(ctx context.Context, msg ports.Notification) error {
	if msg.Template == n.template && n.hung.CompareAndSwap(nil, &msg) {
		select {
		case <-n.release:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return n.Notifier.Notify(ctx, msg)
}

// TestHardening_HangingNotificationDoesNotHoldTheOthers: a request's
// effects start one after another on the caller's goroutine; those not
// started when one hangs are spread over goroutines of their own, so the
// second success notice is delivered while the first still hangs.
func TestHardening_HangingNotificationDoesNotHoldTheOthers(t *testing.T) {
	notifier := &hangFirstNotifier{template: "cancelled", release: make(chan struct{})}
	f := setup(t, func(c *cancellation.Config) {
		notifier.Notifier = c.Notifier
		c.Notifier = notifier
	})
	a := f.personal("acct-hanging-notice")
	r := f.toReview(a.ID)
	done := make(chan *cancellation.Request)
	go func() {
		r, err := f.svc.Approve(f.ctx, staff, r.ID(), "ok")
		assert(t, err == nil, "approve: %v", err)
		done <- r
	}()
	other := func() string {
		if hung := notifier.hung.Load(); hung != nil && hung.Channel == ports.ChannelSMS {
			return r.ID() + "/cancelled/email"
		}
		return r.ID() + "/cancelled/sms"
	}
	require.Eventually(t, func() bool { return notifier.hung.Load() != nil && f.kit.Notifier.Deliveries(other()) == 1 },
		30*time.Second, 5*time.Millisecond, "the other notice is delivered while the first hangs")
	close(notifier.release)
	require.Equal(t, cancellation.StateCancelled, (<-done).State())
}

// TestCheckEligibility_ReportIsTheCallersOwnAndHidesRawErrors: the dry
// run's report leaves out the raw errors of failed checkers, and its items
// and remedies are the caller's own: changing them changes nothing a rule
// shares with the next evaluation.
func TestCheckEligibility_ReportIsTheCallersOwnAndHidesRawErrors(t *testing.T) {
	items := []cancellation.Item{{Kind: "voucher", Ref: "v-1", Description: "a voucher"}}
	remedy := &cancellation.Remedy{Action: "use or forfeit the voucher"}
	f := newFixture(t, func(c *cancellation.Config) {
		c.ExtraRules = []cancellation.Rule{
			cancellation.RuleFunc{RuleName: "host-voucher", Func: func(context.Context, ports.Account) (cancellation.Finding, error) {
				return cancellation.Finding{Outcome: cancellation.OutcomeNeedsConsent, Items: items, Remedy: remedy}, nil
			}},
			cancellation.RuleFunc{RuleName: "host-down", Func: func(context.Context, ports.Account) (cancellation.Finding, error) {
				return cancellation.Finding{}, errors.New("dial tcp 10.0.0.7:443: secret host detail")
			}},
		}
	})
	a := f.personal("acct-own-report")
	rep, err := f.svc.CheckEligibility(f.ctx, a.ID)
	require.NoError(t, err)
	down, ok := rep.Finding("host-down")
	require.True(t, ok)
	require.Equal(t, cancellation.FindingCheckerUnavailable, down.Code)
	require.Empty(t, down.Error, "the raw error is not the customer's")
	voucher, ok := rep.Finding("host-voucher")
	require.True(t, ok)
	require.Len(t, voucher.Items, 1)
	voucher.Items[0].Ref = "changed"
	voucher.Remedy.Action = "changed"
	require.Equal(t, "v-1", items[0].Ref)
	require.Equal(t, "use or forfeit the voucher", remedy.Action)
}

// TestEligibility_KeptReportIsTheRequestsOwn: confirmation, submission
// and approval evaluate into a buffer that later evaluations reuse; the
// report a request keeps must not be that buffer, whether its findings
// changed since the report before (they are copied) or not (the request
// keeps the findings it had). Another account's evaluations in between
// leave both the stored request and the one a change returned as they
// were.
func TestEligibility_KeptReportIsTheRequestsOwn(t *testing.T) {
	f := newFixture(t)
	voucher := func(id ports.AccountID, ref string) {
		f.platform.AddRight(id, ports.Right{Kind: ports.RightVoucher, Ref: ref, Value: ports.Money{Amount: 100, Currency: "USD"}})
	}
	eligibility := func(r *cancellation.Request) string {
		b, err := json.Marshal(r.Eligibility())
		require.NoError(t, err)
		return string(b)
	}
	a, b := f.personal("acct-kept-a"), f.personal("acct-kept-b")
	voucher(a.ID, "v-a")
	ra := f.start(a.ID)
	voucher(a.ID, "v-a2") // the confirmation finds more than the start did
	ra = f.confirm(ra)
	confirmed := eligibility(ra)
	require.Contains(t, confirmed, "v-a2")
	voucher(b.ID, "v-b")
	rb := f.confirm(f.start(b.ID)) // evaluated into the buffer a's confirmation was
	require.Equal(t, confirmed, eligibility(ra), "the request Confirm returned")
	require.Equal(t, confirmed, eligibility(f.stored(ra.ID())), "the stored request")

	ra = f.submit(f.verifyPhone(ra)) // finds what the confirmation did
	submitted := eligibility(ra)
	f.submit(f.verifyPhone(rb))
	require.Equal(t, submitted, eligibility(ra), "the request Submit returned")
	require.Equal(t, submitted, eligibility(f.stored(ra.ID())), "the stored request")
	require.Contains(t, submitted, "v-a2")
	require.NotContains(t, submitted, "v-b")
}
