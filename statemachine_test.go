package cancellation_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/accountkit/cancellation"
	"github.com/accountkit/cancellation/adapters/memory"
	"github.com/accountkit/cancellation/ports"
)

// designEdges is the state machine of DESIGN.md, written out here apart
// from the library's own table.
var designEdges = map[cancellation.State][]cancellation.State{
	cancellation.StateStarted:           {cancellation.StateConfirmed, cancellation.StateWithdrawn, cancellation.StateExpired, cancellation.StateAwaitingApproval},
	cancellation.StateConfirmed:         {cancellation.StatePhoneVerified, cancellation.StateWithdrawn, cancellation.StateExpired},
	cancellation.StatePhoneVerified:     {cancellation.StateDocumentsUploaded, cancellation.StateInReview, cancellation.StateWithdrawn, cancellation.StateExpired},
	cancellation.StateDocumentsUploaded: {cancellation.StateInReview, cancellation.StateWithdrawn, cancellation.StateExpired},
	cancellation.StateInReview:          {cancellation.StateApproved, cancellation.StateRejected, cancellation.StateWithdrawn, cancellation.StateReturned},
	cancellation.StateReturned:          {cancellation.StateInReview, cancellation.StateWithdrawn, cancellation.StateExpired},
	cancellation.StateAwaitingApproval:  {cancellation.StateApproved, cancellation.StateRejected},
	cancellation.StateApproved:          {cancellation.StateScheduled, cancellation.StateCancelled, cancellation.StateRejected},
	cancellation.StateScheduled:         {cancellation.StateCancelled, cancellation.StateRejected, cancellation.StateWithdrawn},
}

func TestStateMachine_TransitionTable(t *testing.T) {
	t.Parallel()
	require.Len(t, cancellation.States, 13)
	for _, from := range cancellation.States {
		require.True(t, from.Valid(), from)
		for _, to := range cancellation.States {
			want := slices.Contains(designEdges[from], to)
			require.Equal(t, want, from.CanMoveTo(to), "%s -> %s", from, to)
		}
		require.Equal(t, len(designEdges[from]) == 0, from.Terminal(), "terminal %s", from)
		require.Equal(t, !from.Terminal(), cancellation.Active(from), "active %s", from)
	}
	for _, s := range []cancellation.State{cancellation.StateCancelled, cancellation.StateRejected, cancellation.StateWithdrawn, cancellation.StateExpired} {
		require.True(t, s.Terminal(), s)
	}
	for _, to := range append(slices.Clone(cancellation.States), "restored", "") {
		require.False(t, cancellation.StateCancelled.CanMoveTo(to), "nothing leaves cancelled: %q", to)
	}
	unknown := cancellation.State("restored")
	require.False(t, unknown.Valid())
	require.False(t, unknown.Terminal())
	require.False(t, cancellation.Active(unknown))
	require.False(t, unknown.CanMoveTo(cancellation.StateStarted))
}

// operation is a use case applied to a request, and the state it would
// lead to.
type operation struct {
	name string
	to   cancellation.State
	run  func(f *fixture, r *cancellation.Request) error
}

func operations() []operation {
	confirmation := func(f *fixture) cancellation.Confirmation {
		return cancellation.Confirmation{
			NotesVersion: f.svc.Notes().Version, Irreversible: true,
			Attestations: cancellation.Attestations{BackupDoneOrWaived: true, NotEvading: true, OtherMattersHandled: true},
		}
	}
	return []operation{
		{"confirm", cancellation.StateConfirmed, func(f *fixture, r *cancellation.Request) error {
			_, err := f.svc.Confirm(f.ctx, r.Account(), r.ID(), confirmation(f))
			return err
		}},
		{"consent", "", func(f *fixture, r *cancellation.Request) error {
			_, err := f.svc.Consent(f.ctx, r.Account(), r.ID(), nil)
			return err
		}},
		{"send_code", cancellation.StatePhoneVerified, func(f *fixture, r *cancellation.Request) error {
			_, err := f.svc.SendCode(f.ctx, r.Account(), r.ID())
			return err
		}},
		{"verify_code", cancellation.StatePhoneVerified, func(f *fixture, r *cancellation.Request) error {
			_, err := f.svc.VerifyCode(f.ctx, r.Account(), r.ID(), "000000")
			return err
		}},
		{"upload", cancellation.StateDocumentsUploaded, func(f *fixture, r *cancellation.Request) error {
			_, err := f.upload(r, cancellation.DocumentPassport, colourScan())
			return err
		}},
		{"submit", cancellation.StateInReview, func(f *fixture, r *cancellation.Request) error {
			_, err := f.svc.Submit(f.ctx, r.Account(), r.ID())
			return err
		}},
		{"withdraw", cancellation.StateWithdrawn, func(f *fixture, r *cancellation.Request) error {
			_, err := f.svc.Withdraw(f.ctx, r.Account(), r.ID())
			return err
		}},
		{"approve", cancellation.StateApproved, func(f *fixture, r *cancellation.Request) error {
			_, err := f.svc.Approve(f.ctx, staff, r.ID(), "")
			return err
		}},
		{"reject", cancellation.StateRejected, func(f *fixture, r *cancellation.Request) error {
			_, err := f.svc.Reject(f.ctx, staff, r.ID(), []cancellation.ReasonCode{cancellation.ReasonIdentityMismatch}, "")
			return err
		}},
		{"ask_for_more", cancellation.StateReturned, func(f *fixture, r *cancellation.Request) error {
			_, err := f.svc.AskForMore(f.ctx, staff, r.ID(), askPassport) // a senior: no claim needed
			return err
		}},
	}
}

// allowedOps are the operations that a request in each state accepts (or
// refuses for another reason than its state); every other one must fail
// with a TransitionError.
var allowedOps = map[cancellation.State][]string{
	cancellation.StateStarted:           {"confirm", "withdraw"},
	cancellation.StateConfirmed:         {"consent", "send_code", "verify_code", "withdraw"},
	cancellation.StatePhoneVerified:     {"consent", "upload", "withdraw"},
	cancellation.StateDocumentsUploaded: {"consent", "upload", "submit", "withdraw"},
	cancellation.StateInReview:          {"approve", "reject", "withdraw", "ask_for_more"},
	cancellation.StateReturned:          {"consent", "upload", "withdraw"},
	cancellation.StateScheduled:         {"withdraw"},
}

// requestIn takes a new request of a new identity-verified personal account
// to the state.
func requestIn(t *testing.T, f *fixture, cool *cancellation.Service, state cancellation.State, id ports.AccountID, verified bool) *cancellation.Request {
	t.Helper()
	f.account(id, ports.Personal, verified)
	if state == cancellation.StateAwaitingApproval {
		r, err := f.svc.StartStaffClosure(f.ctx, as(senior1), id, legalOrder)
		require.NoError(t, err)
		return r
	}
	r := f.start(id)
	steps := []struct {
		state cancellation.State
		do    func()
	}{
		{cancellation.StateConfirmed, func() { r = f.confirm(r) }},
		{cancellation.StatePhoneVerified, func() { r = f.verifyPhone(r) }},
		{cancellation.StateDocumentsUploaded, func() {
			if verified {
				f.uploadRequired(r)
				r = f.stored(r.ID())
			}
		}},
		{cancellation.StateInReview, func() { r = f.submit(r) }},
	}
	for _, s := range steps {
		if r.State() == state {
			return r
		}
		s.do()
	}
	var err error
	switch state {
	case cancellation.StateInReview:
	case cancellation.StateApproved:
		f.platform.FailNext(memory.PortAccountCloser, 1, nil)
		r = f.approve(r)
	case cancellation.StateScheduled:
		r, err = cool.Approve(f.ctx, staff, r.ID(), "")
	case cancellation.StateCancelled:
		r = f.approve(r)
	case cancellation.StateRejected:
		r, err = f.svc.Reject(f.ctx, staff, r.ID(), []cancellation.ReasonCode{cancellation.ReasonOther}, "no")
	case cancellation.StateWithdrawn:
		r, err = f.svc.Withdraw(f.ctx, id, r.ID())
	case cancellation.StateReturned:
		r, err = f.svc.AskForMore(f.ctx, staff, r.ID(), askPassport)
	default:
		t.Fatalf("no way to %s", state)
	}
	require.NoError(t, err)
	require.Equal(t, state, r.State())
	return r
}

func TestStateMachine_RefusedMovesChangeNothing(t *testing.T) {
	f := setup(t).withStaff()
	cfg := f.cfg
	cfg.ClosingMode = cancellation.CoolingOff(72 * time.Hour)
	cool, err := cancellation.New(cfg)
	require.NoError(t, err)

	type target struct {
		state    cancellation.State
		verified bool
	}
	reqs := map[target]*cancellation.Request{}
	// Expire one request first: moving the clock would expire the others.
	f.account("acct-sm-expired", ports.Personal, true)
	expired := f.confirm(f.start("acct-sm-expired"))
	f.clock.Advance(8 * 24 * time.Hour)
	require.Equal(t, 1, f.maintain().Expired)
	reqs[target{cancellation.StateExpired, true}] = f.stored(expired.ID())

	for _, s := range cancellation.States {
		if s == cancellation.StateExpired {
			continue
		}
		reqs[target{s, true}] = requestIn(t, f, cool, s, ports.AccountID("acct-sm-"+string(s)), true)
	}
	for _, s := range []cancellation.State{cancellation.StateCancelled, cancellation.StateRejected, cancellation.StateWithdrawn} {
		reqs[target{s, false}] = requestIn(t, f, cool, s, ports.AccountID("acct-sm-unverified-"+string(s)), false)
	}

	checked := 0
	for tg, r := range reqs {
		require.Equal(t, tg.state, f.stored(r.ID()).State())
		for _, op := range operations() {
			if slices.Contains(allowedOps[tg.state], op.name) {
				continue
			}
			before := f.storedJSON(r.ID())
			err := op.run(f, r)
			require.Error(t, err, "%s on %s", op.name, tg.state)
			var te *cancellation.TransitionError
			require.ErrorAs(t, err, &te, "%s on %s (verified %v)", op.name, tg.state, tg.verified)
			require.ErrorIs(t, err, cancellation.ErrInvalidTransition)
			require.Equal(t, tg.state, te.From, "%s on %s", op.name, tg.state)
			require.Equal(t, op.to, te.To, "%s on %s", op.name, tg.state)
			f.requireUnchanged(r.ID(), before)
			checked++
		}
	}
	require.Equal(t, 139, checked, "refused moves tried")

	t.Run("WithdrawAfterCoolingOffRefused", func(t *testing.T) {
		f := f.on(t)
		r := reqs[target{cancellation.StateScheduled, true}]
		before := f.storedJSON(r.ID())
		f.clock.Set(r.ScheduledFor())
		_, err := f.svc.Withdraw(f.ctx, r.Account(), r.ID())
		requireTransition(t, err, cancellation.StateScheduled, cancellation.StateWithdrawn)
		f.requireUnchanged(r.ID(), before)
	})
}

// tamper encodes the whole stored history of r as JSON, lets edit change
// it, and returns the error of verifying the result with the key.
func tamper(t *testing.T, r *cancellation.Request, edit func(history []any) []any) error {
	t.Helper()
	raw, err := json.Marshal(r.History())
	require.NoError(t, err)
	var h []any
	require.NoError(t, json.Unmarshal(raw, &h))
	raw, err = json.Marshal(edit(h))
	require.NoError(t, err)
	var events []cancellation.Event
	require.NoError(t, json.Unmarshal(raw, &events))
	return verifyHistory(events)
}

func TestStateMachine_VerifyHistoryDetectsTampering(t *testing.T) {
	f := setup(t)
	r := f.stored(f.toReview(f.personal("acct-tamper").ID).ID())
	require.GreaterOrEqual(t, len(r.History()), 5)
	require.NoError(t, verifyHistory(r.History()))
	require.NoError(t, tamper(t, r, func(h []any) []any { return h }), "an untouched record decodes")

	field := func(i int, key string, v any) func([]any) []any {
		return func(h []any) []any { h[i].(map[string]any)[key] = v; return h }
	}
	for name, edit := range map[string]func([]any) []any{
		"EditedData": func(h []any) []any {
			h[1].(map[string]any)["data"].(map[string]any)["notes_version"] = "sha256:forged"
			return h
		},
		"AddedData": func(h []any) []any {
			h[0].(map[string]any)["data"].(map[string]any)["note"] = "added later"
			return h
		},
		"EditedActor": field(2, "actor", map[string]any{"kind": "reviewer", "id": "mallory"}),
		"EditedTime":  field(2, "at", t0.Add(-time.Hour).Format(time.RFC3339)),
		"EditedType":  field(1, "type", "withdrawn"),
		"RemovedEvent": func(h []any) []any {
			return slices.Delete(h, 1, 2)
		},
		"RemovedFirst": func(h []any) []any { return h[1:] },
		"Reordered": func(h []any) []any {
			h[1], h[2] = h[2], h[1]
			return h
		},
		"Renumbered": func(h []any) []any {
			h = slices.Delete(h, 1, 2)
			for i := range h {
				h[i].(map[string]any)["seq"] = i + 1
			}
			return h
		},
		"EditedState":   field(2, "state", "cancelled"),
		"EditedVersion": field(2, "version", 1),
		"EditedKeyID":   field(2, "key_id", "other"),
	} {
		err := tamper(t, r, edit)
		require.ErrorIs(t, err, cancellation.ErrCorrupt, name)
	}

	events := r.History()
	events[2].Data = map[string]string{"forged": "yes"}
	require.ErrorIs(t, cancellation.VerifyHistory(events), cancellation.ErrCorrupt)
	require.NotContains(t, r.History()[2].Data, "forged", "History returns a copy")
}

func TestStateMachine_UnmarshalValidates(t *testing.T) {
	f := setup(t)
	r := f.start(f.personal("acct-unmarshal").ID)
	raw, err := r.MarshalBinary()
	require.NoError(t, err)
	var back cancellation.Request
	require.NoError(t, back.UnmarshalBinary(raw))
	require.Equal(t, r.History(), back.History())

	for name, edit := range map[string]func(map[string]any){
		"UnknownState": func(d map[string]any) { d["state"] = "restored" },
		"NoID":         func(d map[string]any) { d["id"] = "" },
		"NoAccount":    func(d map[string]any) { d["account"] = "" },
		"VersionZero":  func(d map[string]any) { d["version"] = 0 },
	} {
		var doc map[string]any
		require.NoError(t, json.Unmarshal(raw, &doc))
		edit(doc)
		b, err := json.Marshal(doc)
		require.NoError(t, err)
		require.ErrorIs(t, new(cancellation.Request).UnmarshalBinary(b), cancellation.ErrCorrupt, name)
	}
	require.ErrorIs(t, new(cancellation.Request).UnmarshalBinary([]byte(`{"id": 7}`)), cancellation.ErrCorrupt)
}

// TestRequestJSONIsTheCustomerView: json.Marshal of a Request gives the
// customer-safe view, never the code hash, reviewer notes or leases that
// the storage encoding holds.
func TestRequestJSONIsTheCustomerView(t *testing.T) {
	f := setup(t)
	r := f.toReview(f.personal("acct-view").ID)
	r, err := f.svc.Reject(f.ctx, staff, r.ID(), []cancellation.ReasonCode{cancellation.ReasonOther}, "internal: looks like fraud ring 7")
	require.NoError(t, err)
	stored, err := r.MarshalBinary()
	require.NoError(t, err)
	require.Contains(t, string(stored), "fraud ring 7", "the storage encoding keeps the note")

	public, err := json.Marshal(r)
	require.NoError(t, err)
	for _, secret := range []string{"fraud ring 7", staff.ID, `"hash"`, "lease", r.ID() + "/review_rejected"} {
		require.NotContains(t, string(public), secret)
	}
	var v cancellation.RequestView
	require.NoError(t, json.Unmarshal(public, &v))
	require.Equal(t, cancellation.StateRejected, v.State)
	require.Equal(t, []cancellation.ReasonCode{cancellation.ReasonOther}, v.Decision.Reasons)
}
