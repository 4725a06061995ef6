package cancellation_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/internal/docfixtures"
	"github.com/accountkit/cancellation/ports"
)

// The property test drives random command sequences over a few accounts and
// checks the workflow's invariants after every command. A sequence is a
// byte string, so that go test -fuzz can search for one that breaks them:
// the first byte picks the closing mode, then every three bytes are one
// command (operation, account, argument).

// expectedErrors are the errors a command may return: the library's
// sentinels, less ErrConflict (the property test runs one command at a
// time) and ErrCorrupt (nothing here damages a record).
var expectedErrors = []error{
	cancellation.ErrInvalidInput, cancellation.ErrNotFound, cancellation.ErrUnknownAccount,
	cancellation.ErrAccountClosed, cancellation.ErrActiveRequestExists, cancellation.ErrInvalidTransition,
	cancellation.ErrNotEligible, cancellation.ErrConsentRequired, cancellation.ErrStaleNotes,
	cancellation.ErrNoRecoveryPhone, cancellation.ErrCodeMismatch, cancellation.ErrCodeExpired,
	cancellation.ErrCodeLocked, cancellation.ErrRateLimited, cancellation.ErrDelivery,
	cancellation.ErrDocumentsNotRequired, cancellation.ErrWrongDocumentKind, cancellation.ErrSelfReview,
	cancellation.ErrDocumentRejected,
}

// propertyReviewers decide requests; the second owns one of the accounts
// and the third another, so some decisions are self-reviews.
var propertyReviewers = []cancellation.Reviewer{
	{ID: "rev-1"},
	{ID: "rev-2", Account: "p-verified"},
	{ID: "rev-3", Account: "e-unverified"},
}

// world is one platform on which a command sequence runs, with what the
// checker remembers between commands.
type world struct {
	*fixture
	store    *watchedStore
	accounts []ports.Account
	commands int
}

// watchedStore is a Store that remembers, without decoding anything, the
// state of every request it wrote and which requests changed since the
// checker last looked, so that the checker decodes only those.
type watchedStore struct {
	cancellation.Store
	mu        sync.Mutex
	state     map[string]cancellation.State
	byAccount map[ports.AccountID][]string
	dirty     map[string]bool
	// leftFinal lists the writes that moved a request out of a final state.
	leftFinal []string
}

func (s *watchedStore) Create(ctx context.Context, r *cancellation.Request) error {
	err := s.Store.Create(ctx, r)
	if err == nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.byAccount[r.Account()] = append(s.byAccount[r.Account()], r.ID())
		s.state[r.ID()], s.dirty[r.ID()] = r.State(), true
	}
	return err
}

func (s *watchedStore) Update(ctx context.Context, r *cancellation.Request) error {
	err := s.Store.Update(ctx, r)
	if err == nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		if was := s.state[r.ID()]; was.Terminal() && was != r.State() {
			s.leftFinal = append(s.leftFinal, fmt.Sprintf("%s: %s -> %s", r.ID(), was, r.State()))
		}
		s.state[r.ID()], s.dirty[r.ID()] = r.State(), true
	}
	return err
}

// latest returns the account's newest request id and its state, or "".
func (s *watchedStore) latest(id ports.AccountID) (string, cancellation.State) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := s.byAccount[id]
	if len(ids) == 0 {
		return "", ""
	}
	return ids[len(ids)-1], s.state[ids[len(ids)-1]]
}

// changed returns and forgets the requests written since the last call,
// and counts the active requests per account.
func (s *watchedStore) changed() (ids []string, active map[ports.AccountID]int, leftFinal []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id := range s.dirty {
		ids = append(ids, id)
	}
	clear(s.dirty)
	active = map[ports.AccountID]int{}
	for acct, reqs := range s.byAccount {
		for _, id := range reqs {
			if cancellation.Active(s.state[id]) {
				active[acct]++
			}
		}
	}
	return ids, active, slices.Clone(s.leftFinal)
}

// finals returns the final states reached.
func (s *watchedStore) finals() map[cancellation.State]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[cancellation.State]bool{}
	for _, st := range s.state {
		if st.Terminal() {
			out[st] = true
		}
	}
	return out
}

func newWorld(tb testing.TB, mode byte) *world {
	tb.Helper()
	modes := []cancellation.ClosingMode{cancellation.Immediate, cancellation.CoolingOff(2 * time.Hour), cancellation.Settlement(2 * time.Hour)}
	ws := &watchedStore{state: map[string]cancellation.State{}, byAccount: map[ports.AccountID][]string{}, dirty: map[string]bool{}}
	w := &world{store: ws, fixture: newFixture(tb, withMode(modes[int(mode)%len(modes)]), func(c *cancellation.Config) {
		ws.Store = c.Store
		c.Store = ws
	})}
	for _, rv := range propertyReviewers { // seniors: they decide without claiming
		w.staffMember(rv.ID, ports.RoleSenior, rv.Account)
	}
	w.accounts = []ports.Account{
		w.account("p-unverified", ports.Personal, false),
		w.account("p-verified", ports.Personal, true),
		w.account("e-verified", ports.Enterprise, true),
		w.account("e-unverified", ports.Enterprise, false),
	}
	return w
}

func (w *world) requestID(id ports.AccountID) string {
	if rid, _ := w.store.latest(id); rid != "" {
		return rid
	}
	return "can_missing"
}

var pdfScan = docfixtures.PDF()

// run carries out one command and checks its error.
func (w *world) run(op, acctByte, arg byte) {
	w.t.Helper()
	w.commands++
	a := w.accounts[int(acctByte)%len(w.accounts)]
	id := w.requestID(a.ID)
	var err error
	switch op % 26 {
	case 0:
		_, err = w.svc.Start(w.ctx, a.ID)
	case 1:
		c := cancellation.Confirmation{
			NotesVersion: w.svc.Notes().Version, Irreversible: true,
			Attestations: cancellation.Attestations{BackupDoneOrWaived: true, NotEvading: true, OtherMattersHandled: true},
		}
		if rep, rerr := w.svc.CheckEligibility(w.ctx, a.ID); rerr == nil {
			c.Consents = rep.Consents()
		}
		if arg >= 128 { // a confirmation with random pieces missing
			c.Irreversible = arg&1 == 0
			c.Attestations.BackupDoneOrWaived = arg&2 == 0
			c.Attestations.NotEvading = arg&4 == 0
			c.Attestations.OtherMattersHandled = arg&8 == 0
			if arg&16 != 0 {
				c.Consents = nil
			}
			if arg&32 != 0 {
				c.NotesVersion = "sha256:old"
			}
		}
		_, err = w.svc.Confirm(w.ctx, a.ID, id, c)
	case 2:
		_, err = w.svc.SendCode(w.ctx, a.ID, id)
	case 3:
		code, _ := w.kit.OTP.LastCode(a.RecoveryPhone)
		if code == "" {
			code = "000000"
		}
		_, err = w.svc.VerifyCode(w.ctx, a.ID, id, code)
	case 4:
		_, err = w.svc.VerifyCode(w.ctx, a.ID, id, fmt.Sprintf("%06d", int(arg)*3907%1000000))
	case 5:
		kinds := []cancellation.DocumentKind{cancellation.DocumentPassport, cancellation.DocumentDriversLicence, cancellation.DocumentBusinessLicence}
		body := colourScan()
		if arg&4 != 0 {
			body = pdfScan
		}
		_, err = w.svc.UploadDocument(w.ctx, a.ID, id, kinds[int(arg)%3], bytes.NewReader(body))
	case 6:
		_, err = w.svc.Submit(w.ctx, a.ID, id)
	case 7:
		_, err = w.svc.Approve(w.ctx, propertyReviewers[int(arg)%len(propertyReviewers)], id, "")
	case 8:
		note := "see file"
		if arg&16 != 0 {
			note = ""
		}
		_, err = w.svc.Reject(w.ctx, propertyReviewers[int(arg)%len(propertyReviewers)], id,
			[]cancellation.ReasonCode{cancellation.ReasonCodes[int(arg)%len(cancellation.ReasonCodes)]}, note)
	case 9:
		_, err = w.svc.Withdraw(w.ctx, a.ID, id)
	case 10:
		w.platform.AddAPIKey(a.ID, ports.APIKey{ID: fmt.Sprintf("AKID%d", arg%4)})
	case 11:
		w.platform.DeleteAPIKeys(a.ID)
	case 12:
		w.platform.AddRight(a.ID, ports.Right{Kind: ports.RightVoucher, Ref: fmt.Sprintf("v%d", arg%4), Value: usd(int64(arg) * 100)})
	case 13:
		w.platform.DeleteRights(a.ID)
	case 14:
		consents := []cancellation.Consent{}
		if rep, rerr := w.svc.CheckEligibility(w.ctx, a.ID); rerr == nil {
			consents = rep.Consents()
		}
		_, err = w.svc.Consent(w.ctx, a.ID, id, consents)
	case 15:
		w.clock.Advance([]time.Duration{time.Minute, time.Hour, 24 * time.Hour, 8 * 24 * time.Hour}[arg%4])
	case 16:
		_, err = w.svc.RunMaintenance(w.ctx)
		require.NoError(w.t, err, "maintenance")
	case 17:
		w.kit.Notifier.FailNext(1+int(arg)%3, nil)
	case 18:
		w.platform.FailNext(memory.PortAccountCloser, 1+int(arg)%3, nil)
	case 19:
		w.kit.OTP.FailNext(1, nil)
	default:
		err = w.nextStep(a)
	}
	if err != nil && !errAny(err, expectedErrors...) {
		w.t.Fatalf("command %d (op %d on %s): unexpected error %v", w.commands, op%26, a.ID, err)
	}
	w.check()
}

// nextStep does what the account's customer, or a reviewer, would do next,
// so that random sequences often get far.
func (w *world) nextStep(a ports.Account) error {
	id, state := w.store.latest(a.ID)
	if id == "" || state.Terminal() {
		_, err := w.svc.Start(w.ctx, a.ID)
		return err
	}
	var err error
	switch state {
	case cancellation.StateStarted:
		c := cancellation.Confirmation{
			NotesVersion: w.svc.Notes().Version, Irreversible: true,
			Attestations: cancellation.Attestations{BackupDoneOrWaived: true, NotEvading: true, OtherMattersHandled: true},
		}
		rep, err := w.svc.CheckEligibility(w.ctx, a.ID)
		if err != nil {
			return err
		}
		c.Consents = rep.Consents()
		_, err = w.svc.Confirm(w.ctx, a.ID, id, c)
		return err
	case cancellation.StateConfirmed:
		if _, err := w.svc.SendCode(w.ctx, a.ID, id); err != nil && !errors.Is(err, cancellation.ErrRateLimited) {
			return err
		}
		code, ok := w.kit.OTP.LastCode(a.RecoveryPhone)
		if !ok {
			return nil
		}
		_, err = w.svc.VerifyCode(w.ctx, a.ID, id, code)
	case cancellation.StatePhoneVerified, cancellation.StateDocumentsUploaded:
		if state == cancellation.StatePhoneVerified && a.IdentityVerified {
			kind := cancellation.RequiredDocuments(a)[0]
			_, err = w.svc.UploadDocument(w.ctx, a.ID, id, kind, bytes.NewReader(colourScan()))
			return err
		}
		_, err = w.svc.Submit(w.ctx, a.ID, id)
		if ce := (*cancellation.ConsentRequiredError)(nil); errors.As(err, &ce) && len(ce.Missing) == 0 {
			var cs []cancellation.Consent
			for _, f := range ce.Findings {
				cs = append(cs, cancellation.Consent{Rule: f.Rule, Fingerprint: f.Fingerprint})
			}
			_, err = w.svc.Consent(w.ctx, a.ID, id, cs)
		}
	case cancellation.StateInReview:
		_, err = w.svc.Approve(w.ctx, propertyReviewers[0], id, "")
	default:
		w.clock.Advance(time.Hour)
		_, err = w.svc.RunMaintenance(w.ctx)
		require.NoError(w.t, err, "maintenance")
	}
	return err
}

// transitionEvents are the events that change a request's state.
var transitionEvents = []cancellation.EventType{
	cancellation.EventConfirmed, cancellation.EventPhoneVerified, cancellation.EventDocumentsUploaded,
	cancellation.EventSubmitted, cancellation.EventApproved, cancellation.EventScheduled, cancellation.EventCancelled,
	cancellation.EventRejected, cancellation.EventWithdrawn, cancellation.EventExpired,
}

// check verifies the invariants: over the requests written by the last
// command, and over the states of all.
func (w *world) check() {
	t := w.t
	t.Helper()
	ids, active, leftFinal := w.store.changed()
	require.Empty(t, leftFinal, "requests left a final state")
	for _, id := range ids {
		r := w.stored(id)
		require.NoError(t, verifyHistory(r.History()), "request %s", r.ID())
		if r.State() == cancellation.StateCancelled {
			w.checkCancelled(r)
		}
	}
	for _, a := range w.accounts {
		require.LessOrEqual(t, active[a.ID], 1, "active requests of %s", a.ID)
		acct, err := w.platform.Account(w.ctx, a.ID)
		require.NoError(t, err)
		if acct.Closed {
			id, state := w.store.latest(a.ID)
			require.Equal(t, cancellation.StateCancelled, state, "account %s is closed, its latest request %s is not cancelled", a.ID, id)
		}
	}
}

// checkCancelled verifies that a cancelled request went through every step
// in order.
func (w *world) checkCancelled(r *cancellation.Request) {
	t := w.t
	t.Helper()
	h := r.History()
	at := func(typ cancellation.EventType) int {
		i := slices.IndexFunc(h, func(e cancellation.Event) bool { return e.Type == typ })
		require.GreaterOrEqual(t, i, 0, "request %s was cancelled without a %s event: %v", r.ID(), typ, eventTypes(h))
		return i
	}
	steps := []cancellation.EventType{cancellation.EventConfirmed, cancellation.EventPhoneVerified}
	if r.IdentityVerified() {
		steps = append(steps, cancellation.EventDocumentsUploaded)
	}
	steps = append(steps, cancellation.EventSubmitted, cancellation.EventApproved, cancellation.EventCancelled)
	for i := 1; i < len(steps); i++ {
		require.Less(t, at(steps[i-1]), at(steps[i]), "%s before %s", steps[i-1], steps[i])
	}

	c, ok := r.Confirmation()
	require.True(t, ok)
	require.True(t, c.Irreversible && c.Attestations.BackupDoneOrWaived && c.Attestations.NotEvading && c.Attestations.OtherMattersHandled)

	approval := h[at(cancellation.EventApproved)]
	require.Equal(t, cancellation.ActorReviewer, approval.Actor.Kind)
	i := slices.IndexFunc(propertyReviewers, func(rv cancellation.Reviewer) bool { return rv.ID == approval.Actor.ID })
	require.GreaterOrEqual(t, i, 0)
	require.NotEqual(t, r.Account(), propertyReviewers[i].Account, "approved by the account's own reviewer")
	d, ok := r.Decision()
	require.True(t, ok)
	require.True(t, d.Approved)

	// The last evaluation (at approval, or at the end of a settlement or
	// cooling-off period) was not blocked, and the consents on record cover
	// every finding that needed one, with the fingerprint of its items.
	rep := r.Eligibility()
	require.NotEqual(t, cancellation.OutcomeBlocked, rep.Outcome, "cancelled although the last evaluation blocked: %v", findingRules(rep.Blocked()))
	for _, f := range rep.NeedsConsent() {
		require.Contains(t, r.Consents(), cancellation.Consent{Rule: f.Rule, Fingerprint: f.Fingerprint}, "cancelled without consent to the current %s", f.Rule)
	}

	closeEffect := effect(t, r, r.ID()+"/close_account")
	require.True(t, closeEffect.Done())
	require.True(t, w.closed(r.Account()), "a cancelled request's account is closed")
	for _, e := range h[at(cancellation.EventCancelled)+1:] {
		require.NotContains(t, transitionEvents, e.Type, "a transition after cancellation")
	}
}

// runWorkflow runs the sequence encoded in data and returns the world.
func runWorkflow(tb testing.TB, data []byte) *world {
	tb.Helper()
	if len(data) == 0 {
		data = []byte{0}
	}
	w := newWorld(tb, data[0])
	for cmd := data[1:]; len(cmd) >= 3 && w.commands < 80; cmd = cmd[3:] {
		w.run(cmd[0], cmd[1], cmd[2])
	}
	return w
}

// happyPath is a sequence that cancels the identity-verified personal
// account: start, confirm, send and verify a code, upload, submit, approve.
var happyPath = []byte{0, 0, 1, 0, 1, 1, 0, 2, 1, 0, 3, 1, 0, 5, 1, 0, 6, 1, 0, 7, 1, 0}

func TestWorkflowHappyPath(t *testing.T) {
	t.Parallel()
	for mode, want := range []cancellation.State{cancellation.StateCancelled, cancellation.StateScheduled, cancellation.StateScheduled} {
		w := runWorkflow(t, append([]byte{byte(mode)}, happyPath[1:]...))
		_, state := w.store.latest("p-verified")
		require.Equal(t, want, state, "mode %d", mode)
	}
}

func FuzzWorkflow(f *testing.F) {
	f.Add(happyPath)
	f.Add(append([]byte{1}, happyPath[1:]...))                             // cooling-off
	f.Add(append(append([]byte{2}, happyPath[1:]...), 15, 0, 3, 16, 0, 0)) // settlement, then its end
	f.Add([]byte{0, 20, 2, 0, 20, 2, 0, 20, 2, 0, 20, 2, 0, 20, 2, 0, 20, 2, 0, 20, 2, 0})
	f.Add([]byte{0, 0, 0, 0, 1, 0, 200, 4, 0, 9, 9, 0, 0})
	// Issue 7: a voucher, then the same consent again and again (7.6).
	f.Add([]byte{0, 12, 0, 1, 0, 0, 0, 1, 0, 0, 14, 0, 0, 14, 0, 0, 14, 0, 0, 14, 0, 0})
	// Issue 7: sends that fail, retried at once and after the cooldown (7.5).
	f.Add([]byte{0, 0, 0, 0, 1, 0, 0, 19, 0, 0, 2, 0, 0, 2, 0, 0, 15, 0, 0, 19, 0, 0, 2, 0, 0, 15, 0, 0, 2, 0, 0, 3, 0, 0})
	// Issue 7: approvals whose notifications and closings fail, then
	// maintenance (7.9).
	f.Add(append(append([]byte{0}, happyPath[1:19]...), 17, 1, 2, 18, 1, 1, 7, 1, 0, 15, 1, 1, 16, 0, 0, 15, 1, 1, 16, 0, 0))
	f.Fuzz(func(t *testing.T, data []byte) {
		runWorkflow(t, data)
	})
}

// randomSequence draws a sequence in which half the commands are the next
// step of one account's customer, so that many sequences get far, and the
// rest are any command on any account.
func randomSequence(seed uint64, commands int) []byte {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	data := []byte{byte(rng.UintN(3))}
	focus := byte(rng.UintN(4))
	for range commands {
		op, acct := byte(rng.UintN(256)), byte(rng.UintN(256))
		if rng.UintN(2) == 0 {
			op = 20
		}
		if rng.UintN(10) < 7 {
			acct = focus
		}
		data = append(data, op, acct, byte(rng.UintN(256)))
	}
	return data
}

func TestWorkflowRandomSequences(t *testing.T) {
	t.Parallel()
	// Under the race detector every command costs about ten times as much:
	// fewer sequences keep the run short, and FuzzWorkflow explores further.
	sequences, commands := 300, 40
	if raceEnabled {
		sequences, commands = 100, 32
	}
	var cancelled, rejected, withdrawn atomic.Int32
	t.Run("seeds", func(t *testing.T) {
		for seed := range uint64(sequences) {
			t.Run(fmt.Sprint(seed), func(t *testing.T) {
				t.Parallel()
				data := randomSequence(seed, commands)
				defer func() {
					if t.Failed() {
						t.Logf("reproduce with the fuzz input %q", data)
					}
				}()
				w := runWorkflow(t, data)
				seen := w.store.finals()
				for s, n := range map[cancellation.State]*atomic.Int32{
					cancellation.StateCancelled: &cancelled, cancellation.StateRejected: &rejected, cancellation.StateWithdrawn: &withdrawn,
				} {
					if seen[s] {
						n.Add(1)
					}
				}
			})
		}
	})
	t.Logf("sequences that reached cancelled: %d, rejected: %d, withdrawn: %d", cancelled.Load(), rejected.Load(), withdrawn.Load())
	require.Greater(t, int(cancelled.Load()), sequences/10, "the sequences must often get as far as cancellation")
	require.Greater(t, int(rejected.Load()), sequences/20)
	require.Greater(t, int(withdrawn.Load()), sequences/20)
}
